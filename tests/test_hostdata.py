"""Host data: one registry of the keys tfprov reads, one validation for CLI and deploy."""

import os
import re
from pathlib import Path

import pytest

from tfprov.apply.inventory import validate_hosts
from tfprov.cli import main
from tfprov.model.hostdata import HOST_KEYS
from tfprov.model.names import env_name_problem
from tfprov.model.sources import SOURCE_KEYS
from tfprov.model.spec import SPEC_KEYS, SpecError, StackSpec, spec_from_mapping

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "inventories" / "profiles" / "ubuntu2204-rtx4090.json"


class FakeHost:
    """What validate_hosts reads of a pyinfra host: its name and merged data."""

    def __init__(self, name, data):
        self.name, self.data = name, data


def check(data, name="gpu-07", base=None, **kw):
    """(settings, spec) of one host; ``base``: a spec file's keys."""
    base = StackSpec.model_validate(base) if base else None
    settings, spec, _sources = validate_hosts([FakeHost(name, data)], base, **kw)[name]
    return settings, spec


def error(data, name="gpu-07"):
    with pytest.raises(SpecError) as exc:
        check(data, name)
    return str(exc.value)


def test_every_key_the_code_reads_is_registered():
    # host data read anywhere in tfprov: host.data.get("x"), the deploy's data.get("x")
    # (its host data) or settings.x (apply and its step builders), the connector's
    # self.data["x"]
    read = set()
    for path in (ROOT / "tfprov").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"\b(?:host|h)\.data\.get\(\s*\"(\w+)\"", text))
        if path.name == "deploy.py":
            read |= set(re.findall(r"\bdata\.get\(\s*\"(\w+)\"", text))
        if "apply" in path.parts:  # the step builders read the host's HostSettings
            read |= set(re.findall(r"\bsettings\.(\w+)\b(?!\()", text))
        if path.parent.name == "connectors":
            read |= set(re.findall(r"self\.data\[\"(\w+)\"\]", text))
    assert {"profile", "reboot", "wheel_sha256", "winssh_port"} <= read, "stale pattern"
    assert read <= set(HOST_KEYS), sorted(read - set(HOST_KEYS))
    assert {*SPEC_KEYS, *SOURCE_KEYS, "repair"} <= set(HOST_KEYS)


def test_merge_order_spec_file_then_host_data_then_flags():
    settings, spec = check(
        {"tensorflow": "2.15", "gpu": "off", "reboot": True},
        base={"tensorflow": "2.10", "python": "3.11"},
        overrides={"gpu": "auto"},
    )
    assert (spec.tensorflow, spec.python, spec.gpu) == ("2.15", "3.11", "auto")
    assert settings.reboot is True and settings.repair is True  # repair defaults to on


@pytest.mark.parametrize(
    "data, line",
    [
        # strict booleans: a string is never read as its truthiness
        (
            {"reboot": "no"},
            "host gpu-07: field 'reboot': Input should be a valid boolean (got 'no')",
        ),
        (
            {"repair": "false"},
            "host gpu-07: field 'repair': Input should be a valid boolean (got 'false')",
        ),
        (
            {"pip_no_index": "yes"},
            "host gpu-07: field 'pip_no_index': Input should be a valid boolean (got 'yes')",
        ),
        (
            {"allow_community_builds": "no"},
            "host gpu-07: field 'allow_community_builds': Input should be a valid boolean "
            "(got 'no')",
        ),
        # download sources of the wrong type are an error here, not an AttributeError later
        (
            {"pip_find_links": 8080},
            "host gpu-07: field 'pip_find_links': Input should be a valid string (got 8080)",
        ),
        (
            {"nvidia_repo_url": ["http://a/", "http://b/"]},
            "host gpu-07: field 'nvidia_repo_url': Input should be a valid string "
            "(got ['http://a/', 'http://b/'])",
        ),
        (
            {"conda_channels": "conda-forge"},
            "host gpu-07: field 'conda_channels': Input should be a valid list (got 'conda-forge')",
        ),
        (
            {"pip_index_url": "pypi.org/simple"},
            "host gpu-07: field 'pip_index_url': must be an http(s):// or file:// URL "
            "(got 'pypi.org/simple')",
        ),
        (
            {"envs_dir": "envs"},
            "host gpu-07: field 'envs_dir': must be an absolute path such as /opt/tfprov/envs "
            "(got 'envs')",
        ),
        (
            {"win_cuda_installers": {"11.2": {"url": "http://lab/cuda.exe", "sha256": "abc"}}},
            "host gpu-07: field 'win_cuda_installers.11.2.sha256': must be a sha256: 64 "
            "lowercase hex digits (got 'abc')",
        ),
        (
            {"driver_flavor": "closed"},
            "host gpu-07: field 'driver_flavor': Input should be 'auto', 'proprietary', 'open' "
            "or 'server' (got 'closed')",
        ),
        (
            {"winssh_port": "22"},
            "host gpu-07: field 'winssh_port': Input should be a valid integer (got '22')",
        ),
    ],
)
def test_bad_values_are_one_line_naming_host_field_and_value(data, line):
    assert error(data) == line


def test_secrets_are_never_printed():
    msg = error({"winssh_password": ["s3cret"], "pip_index_url": "https://u:pw0rd@mirror/ x"})
    assert "s3cret" not in msg and "pw0rd" not in msg
    assert "field 'winssh_password': Input should be a valid string (got a hidden value)" in msg
    assert "(got 'https://u:***@mirror/ x')" in msg


@pytest.mark.parametrize(
    "key, close",
    [
        ("tensorflw", "tensorflow"),
        ("TensorFlow", "tensorflow"),
        ("env-name", "env_name"),
        ("gpus", "gpu"),
        ("pip_find_link", "pip_find_links"),
        ("reboots", "reboot"),
        ("winssh_usr", "winssh_user"),
        ("repiar", "repair"),
    ],
)
def test_a_misspelt_tfprov_key_is_an_error_with_a_hint(key, close):
    assert error({key: "x"}) == (
        f"host gpu-07: field '{key}': unknown tfprov key (did you mean '{close}'?)"
    )


def test_pyinfra_keys_and_unrelated_user_keys_pass():
    data = {
        "ssh_user": "root",
        "ssh_hostname": "192.0.2.7",
        "ssh_usr": "typo, but pyinfra's business",
        "_sudo": True,
        "_sudo_user": "admin",
        "docker_identifier": "c1",
        "app_port": 8080,
        "rack": "b7",
        "python_path": "/usr/bin/python3",
        "tensorflow": "2.15",
    }
    _settings, spec = check(data)
    assert spec.tensorflow == "2.15"


def test_every_host_is_checked_and_every_problem_listed():
    hosts = [
        FakeHost("a", {"gpu": "sometimes"}),
        FakeHost("b", {"tensorflw": "2.15"}),
        FakeHost("c", {"tensorflow": "2.15"}),
    ]
    with pytest.raises(SpecError) as exc:
        validate_hosts(hosts)
    lines = str(exc.value).splitlines()
    assert [x.split(":", 1)[0] for x in lines] == ["host a", "host b"]


@pytest.mark.parametrize(
    "data, line",
    [
        (
            {"tensorflow": "9.9"},
            "host gpu-07: field 'tensorflow': no TensorFlow release in the catalog matches "
            "'9.9' (it knows 1.0.1 … 2.21.0)",
        ),
        (
            {"tensorflow": ">=3"},
            "host gpu-07: field 'tensorflow': no TensorFlow release in the catalog matches "
            "'>=3' (it knows 1.0.1 … 2.21.0)",
        ),
        (
            {"tensorflow": "2.15.9"},
            "host gpu-07: field 'tensorflow': no TensorFlow release in the catalog matches "
            "'2.15.9' (the newest 2.15 release it knows is 2.15.1)",
        ),
        (
            {"driver": 536},
            "host gpu-07: field 'driver': 536 is not a known NVIDIA driver branch (the catalog "
            "knows 304 … 615; nearest: 535)",
        ),
        (
            {"driver": "9"},
            "host gpu-07: field 'driver': 9 is not an NVIDIA driver branch (e.g. 470, 535, 550) "
            "(got '9')",
        ),
        (
            {"tensorflow": 2.1},  # what Python and pyinfra's --data make of 2.10
            "host gpu-07: field 'tensorflow': 2.1 is a number, not a version (2.10 reads as 2.1 "
            'too): write it as a string, tensorflow: "2.10" or tensorflow: "2.1"',
        ),
        (
            {"python": 3.1},
            "host gpu-07: field 'python': 3.1 is a number, not a version (3.10 reads as 3.1 "
            'too): write it as a string, python: "3.10" or python: "3.1"',
        ),
    ],
)
def test_versions_and_branches_the_catalog_does_not_know_are_bad_input(data, line):
    assert error(data) == line


def test_known_versions_and_branches_pass():
    for data in ({"tensorflow": "2.15.0"}, {"tensorflow": "2.15"}, {"driver": "535"}):
        check(data)


@pytest.mark.parametrize(
    "name, ok",
    [
        ("tf215", True),
        ("course", True),
        ("my_env-2.15", True),
        ("_tf", True),
        (".", False),
        ("..", False),
        ("-rf", False),
        ("a/b", False),
        ("tf 2", False),
        ("tf215\n", False),
        ("base", False),
        ("NUL", False),
        ("com1.tf", False),
        ("tf.", False),
        ("x" * 65, False),
    ],
)
def test_one_env_name_rule(name, ok):
    assert (env_name_problem(name) is None) == ok
    if not ok:  # the spec applies the same rule
        with pytest.raises(SpecError, match="host h: field 'env_name'"):
            spec_from_mapping({"env_name": name}, "host h")


def _inventory(tmp_path, data):
    inv = tmp_path / "inventory.py"
    inv.write_text(f"hosts = [('ws-4090', {{'profile': {str(PROFILE)!r}, **{data!r}}})]\n")
    return str(inv)


def test_tfprov_plan_inventory_refuses_a_misspelt_key(tmp_path, capsys):
    cwd = os.getcwd()
    try:
        rc = main(["plan", _inventory(tmp_path, {"tensorflw": "2.15"})])
    finally:
        os.chdir(cwd)
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    assert cap.err == (
        "tfprov: error: host ws-4090: field 'tensorflw': unknown tfprov key "
        "(did you mean 'tensorflow'?)\n"
    )


@pytest.mark.parametrize(
    "flags, line",
    [
        (
            ["--driver", "9"],
            "tfprov: error: command-line flags: field 'driver': 9 is not an NVIDIA driver "
            "branch (e.g. 470, 535, 550) (got '9')\n",
        ),
        (
            ["--tensorflow", "9.9"],
            "tfprov: error: command-line flags: field 'tensorflow': no TensorFlow release in "
            "the catalog matches '9.9' (it knows 1.0.1 … 2.21.0)\n",
        ),
        (
            ["--env-name", ".."],
            "tfprov: error: command-line flags: field 'env_name': '..' is not an env name: use "
            "letters, digits, '_', '.' and '-' (at most 64), starting with a letter, digit or "
            "'_'\n",
        ),
    ],
)
def test_tfprov_plan_flags_are_checked_against_the_catalog(capsys, flags, line):
    assert main(["plan", "--profile", str(PROFILE), *flags]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == line


def test_tfprov_plan_flags_over_inventory_data_are_validated_together(tmp_path, capsys):
    inv = _inventory(tmp_path, {"driver": "keep"})
    assert main(["plan", inv, "--driver", "536"]) == 2
    assert capsys.readouterr().err == (
        "tfprov: error: host ws-4090: field 'driver': 536 is not a known NVIDIA driver branch "
        "(the catalog knows 304 … 615; nearest: 535)\n"
    )
