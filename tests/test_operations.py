"""Operation tests in pyinfra's own style: facts in → exact commands out.

Each directory ``tests/operations/<module>.<operation>/`` holds YAML cases (``args``,
``kwargs``, ``facts``, and the expected ``commands`` or ``noop_description`` or
``exception``) and becomes one generated TestCase through ``pyinfra-testing``.
"""

from pathlib import Path

from pyinfra_testing.operations import make_operation_tests

BASE_IMPORT_PATH = "tfprov.operations"
TESTS_BASE = Path(__file__).parent / "operations"

for _op_path in sorted(d.name for d in TESTS_BASE.iterdir() if d.is_dir()):
    locals()[f"Test_{_op_path.replace('.', '_')}"] = make_operation_tests(
        BASE_IMPORT_PATH, _op_path, TESTS_BASE / _op_path
    )


# -- what a YAML case cannot express -------------------------------------------------------
# (pyinfra-testing's fake host has no connector)


def test_nvidia_driver_never_reboots_the_machine_pyinfra_runs_on():
    import yaml
    from pyinfra.connectors.local import LocalConnector
    from pyinfra.context import ctx_host, ctx_state
    from pyinfra_testing.util import FakeState, create_host

    from tfprov.operations.driver import nvidia_driver

    case = TESTS_BASE / "driver.nvidia_driver" / "ubuntu-22.04-auto-open-570-reboot.yaml"
    data = yaml.safe_load(case.read_text())
    state = FakeState()
    host = create_host(state, facts=data["facts"])
    host.connector_cls = LocalConnector  # what pyinfra's @local inventory gives a host
    with ctx_state.use(state), ctx_host.use(host):
        commands = list(nvidia_driver._inner(**data["kwargs"]))
    assert "( sleep 1 && reboot ) </dev/null >/dev/null 2>&1 &" in data["commands"]
    assert len(commands) == len(data["commands"]) - 5  # server.reboot's five commands
    assert host.noop_description.startswith("reboot required: NVIDIA 570 (nvidia-driver-570-open)")
    assert host.noop_description.endswith("(not rebooting the machine pyinfra runs on)")


def test_held_packages_parses_apt_mark_and_dnf_versionlock():
    from tfprov.operations.cuda import is_held, parse_holds

    # `apt-mark showhold`: one name a line
    assert parse_holds(["nvidia-driver-535", "libcudnn8"]) == [
        {"name": "nvidia-driver-535", "version": None},
        {"name": "libcudnn8", "version": None},
    ]
    # `dnf versionlock list`: the specs `dnf versionlock '*nvidia*575*'` adds in NVIDIA's
    # driver installation guide ("Version locking"), an exclude and a raw pattern
    holds = parse_holds(
        [
            "kmod-nvidia-open-dkms-3:575.51-1.fc41.*",
            "nvidia-driver-cuda-libs-3:575.51-1.fc41.*",
            "!cuda-toolkit-13-0-0:13.0.2-1.*",
            "cuda-toolkit-12-*",
        ]
    )
    assert holds == [
        {"name": "kmod-nvidia-open-dkms", "version": "575.51"},
        {"name": "nvidia-driver-cuda-libs", "version": "575.51"},
        {"name": "cuda-toolkit-12-*", "version": None},
    ]
    assert is_held(holds, "nvidia-driver-cuda-libs", "575.")
    assert not is_held(holds, "nvidia-driver-cuda-libs", "570.")
    assert is_held(holds, "cuda-toolkit-12-4")
    assert not is_held(holds, "cuda-toolkit-13-0")


def test_pip_conf_trusts_only_plain_http_sources():
    from tfprov.operations.venv import pip_conf

    text = pip_conf(find_links="http://10.203.0.1:8731/", no_index=True)
    assert text.splitlines() == [
        "[global]",
        "no-index = true",
        "find-links = http://10.203.0.1:8731/",
        "trusted-host = 10.203.0.1",
        "disable-pip-version-check = true",
    ]
    text = pip_conf(index_url="https://pypi.org/simple", find_links="https://wheels.lab/tf/")
    assert "trusted-host" not in text and "index-url = https://pypi.org/simple" in text
