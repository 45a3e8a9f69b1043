"""Plan → operations, for every plan kind and OS family (the deploy's pure half)."""

from tests.test_resolver import RTX4090, SSE42, WIN10, host  # noqa: F401
from tfprov.apply.steps import steps_for
from tfprov.model.hostdata import HostSettings
from tfprov.model.sources import DEFAULTS
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve


def steps(h, data=None, **spec):
    plan = resolve(h, StackSpec(**spec))
    assert plan.ok, plan.error
    return [
        (s.op.__name__ if hasattr(s.op, "__name__") else str(s.op), s.kwargs)
        for s in steps_for(plan, dict(DEFAULTS), HostSettings(**(data or {})))
    ], plan


def names(st):
    return [n for n, _ in st]


def test_cpu_venv_on_debian():
    st, _ = steps(
        host(
            distro="debian",
            version="12",
            pythons=[{"version": "3.11.2", "path": "/usr/bin/python3.11"}],
        )
    )
    assert names(st) == ["packages", "virtualenv", "tensorflow"]
    assert st[0][1] == {"packages": ["python3.11-venv"]}
    assert st[1][1]["path"] == "/opt/tfprov/envs/tf221"
    assert st[1][1]["python"] == "/usr/bin/python3.11"
    assert st[2][1] == {
        "env": "/opt/tfprov/envs/tf221",
        "package": "tensorflow-cpu",
        "version": "2.21.0",
        "requirement": None,
        "sha256": None,
        "repair": True,
    }


def test_cpu_venv_on_rocky_has_no_apt_step():
    st, _ = steps(host(distro="rocky", version="9.3", pythons=["3.11.5"]))
    assert names(st) == ["virtualenv", "tensorflow"]


def test_gpu_with_pip_cuda_installs_only_the_driver_system_wide():
    st, plan = steps(host(gpus=[RTX4090]), {"reboot": True})
    assert names(st) == ["nvidia_driver", "packages", "virtualenv", "tensorflow"]
    assert st[0][1]["branch"] == 595 and st[0][1]["allow_reboot"] is True
    assert st[-1][1]["package"] == "tensorflow[and-cuda]"


def test_wsl_never_installs_a_linux_driver():
    st, plan = steps(host(wsl=True, gpus=["NVIDIA GeForce RTX 3060"], driver="516.94"))
    assert plan.driver.action == "upgrade"
    assert "nvidia_driver" not in names(st)


def test_system_cuda_and_cudnn_for_a_venv():
    st, plan = steps(
        host(gpus=[RTX4090], driver="535.154.05"), tensorflow="2.13", env_manager="venv"
    )
    assert names(st) == [
        "nvidia_repo",
        "cuda_toolkit",
        "cudnn",
        "packages",
        "virtualenv",
        "tensorflow",
    ]
    assert st[1][1]["version"] == "11.8"
    assert st[2][1]["version"] == "8.6" and st[2][1]["cuda_version"] == "11.8"


def test_conda_recipe_conda_first_pip_after():
    st, plan = steps(host(gpus=[RTX4090], driver="535.154.05"), tensorflow="2.13")
    assert names(st) == ["miniforge", "condarc", "env"]
    env = st[2][1]
    assert env["conda_packages"] == ["cudatoolkit=11.8.0"]
    assert env["pip_packages"] == ["tensorflow==2.13.1", "nvidia-cudnn-cu11==8.6.0.163"]
    assert env["python"] == "3.11" and env["cuda_lib_hooks"] is True
    assert env["prefix"] == "/opt/tfprov/miniforge3"


def test_windows_style_conda_recipe_on_linux_is_cudatoolkit_and_cudnn():
    st, _ = steps(host(gpus=[RTX4090], driver="535.154.05"), tensorflow="2.10")
    env = st[-1][1]
    assert env["conda_packages"] == ["cudatoolkit=11.2", "cudnn=8.1.0"]
    assert env["pip_packages"] == ["tensorflow==2.10.1"]


def test_anaconda_build_uses_its_channel():
    h = host(gpus=["NVIDIA GeForce GTX 1080"], driver="418.226.00", pythons=["3.8.10"])
    st, plan = steps(h, driver="keep", gpu="require")
    env = st[-1][1]
    assert env["conda_packages"] == ["anaconda::tensorflow-gpu=2.4.1"]
    assert env["pip_packages"] == []


def test_non_avx_conda_forge_build():
    st, _ = steps(host(flags=SSE42, pythons=["3.11.2"]), allow_community_builds=True)
    assert st[-1][1]["conda_packages"] == ["tensorflow-sse3=2.19.1"]
    assert st[-1][1]["cuda_lib_hooks"] is False


def test_sources_from_inventory_reach_the_operations():
    src = dict(
        DEFAULTS,
        pip_find_links="http://10.0.0.1/wh/",
        pip_no_index=True,
        nvidia_repo_url="http://mirror.lab/cuda/repos",
        envs_dir="/srv/envs",
    )
    h = host(gpus=[RTX4090])
    plan = resolve(h, StackSpec())
    st = steps_for(plan, src, HostSettings())
    assert st[0].kwargs["nvidia_repo_url"] == "http://mirror.lab/cuda/repos"
    venv = next(s for s in st if s.name.startswith("tfprov: venv"))
    assert venv.kwargs["path"] == "/srv/envs/tf221"
    assert "find-links = http://10.0.0.1/wh/" in venv.kwargs["pip_config"]
    assert "no-index = true" in venv.kwargs["pip_config"]


def test_wheelhouse_wheel_needs_a_sha256(tmp_path):
    import pytest

    from tfprov.apply.steps import RefusedError
    from tfprov.apply.wheelhouse_index import list_wheelhouse

    name = "tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl"
    (tmp_path / name).write_bytes(b"")
    h = host(flags=SSE42, pythons=[{"version": "3.11.2", "path": "/usr/bin/python3.11"}])
    spec = StackSpec(tensorflow="2.15", allow_community_builds=True, env_manager="venv")
    plan = resolve(h, spec, wheelhouse=list_wheelhouse(str(tmp_path)))
    assert plan.tensorflow.source == "wheelhouse" and plan.tensorflow.sha256 is None
    with pytest.raises(RefusedError, match=r"no sha256 .*\.whl\.sha256"):
        steps_for(plan, dict(DEFAULTS), HostSettings())
    digest = "9f" * 32
    (tmp_path / (name + ".sha256")).write_text(f"{digest}  {name}\n")
    plan = resolve(h, spec, wheelhouse=list_wheelhouse(str(tmp_path)))
    assert plan.tensorflow.sha256 == digest
    tf_step = steps_for(plan, dict(DEFAULTS), HostSettings())[-1]
    assert tf_step.kwargs["sha256"] == digest
    assert tf_step.kwargs["requirement"] == str(tmp_path / name)


def test_a_wheel_sha256_pin_wins_and_a_served_hash_that_disagrees_is_refused(tmp_path):
    import pytest

    from tfprov.apply.steps import RefusedError
    from tfprov.apply.wheelhouse_index import list_wheelhouse

    name = "tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl"
    pin, served = "ab" * 32, "9f" * 32
    (tmp_path / name).write_bytes(b"")
    h = host(flags=SSE42, pythons=[{"version": "3.11.2", "path": "/usr/bin/python3.11"}])
    spec = StackSpec(tensorflow="2.15", allow_community_builds=True, env_manager="venv")
    # no served hash: the pin is what pip checks
    plan = resolve(h, spec, wheelhouse=list_wheelhouse(str(tmp_path)))
    assert (
        steps_for(plan, dict(DEFAULTS), HostSettings(wheel_sha256=pin))[-1].kwargs["sha256"] == pin
    )
    # a served hash that disagrees with the pin: refused, naming both
    (tmp_path / (name + ".sha256")).write_text(f"{served}  {name}\n")
    plan = resolve(h, spec, wheelhouse=list_wheelhouse(str(tmp_path)))
    with pytest.raises(RefusedError) as exc:
        steps_for(plan, dict(DEFAULTS), HostSettings(wheel_sha256=pin))
    assert str(exc.value) == (
        f"{tmp_path / name}: the host's wheel_sha256 pin is {pin}, but the sha256 the "
        f"wheelhouse serves in {name}.sha256 is {served}; not installing it: check the "
        "wheel, then correct the pin or the served hash"
    )
    # the same hash served and pinned (the served file's case does not matter)
    (tmp_path / (name + ".sha256")).write_text(f"{pin.upper()}  {name}\n")
    plan = resolve(h, spec, wheelhouse=list_wheelhouse(str(tmp_path)))
    step = steps_for(plan, dict(DEFAULTS), HostSettings(wheel_sha256=pin))[-1]
    assert step.kwargs["sha256"] == pin


def test_host_data_repair_false_reaches_the_tensorflow_operation():
    h = host(
        distro="debian",
        version="12",
        pythons=[{"version": "3.11.2", "path": "/usr/bin/python3.11"}],
    )
    plan = resolve(h, StackSpec(tensorflow="2.21"))
    assert steps_for(plan, dict(DEFAULTS), HostSettings(repair=False))[-1].kwargs["repair"] is False
    assert steps_for(plan, dict(DEFAULTS), HostSettings(repair=True))[-1].kwargs["repair"] is True
    default = steps_for(plan, dict(DEFAULTS), HostSettings())[-1]
    assert default.kwargs["repair"] is True


def test_an_air_gapped_conda_env_installs_pip_packages_from_find_links_only():
    # the defect: the conda env's pip got only --index-url/--extra-index-url, so an
    # air-gapped host (pip_no_index, pip_find_links) still went to the index
    src = dict(DEFAULTS, pip_find_links="http://10.0.0.1/wh/", pip_no_index=True)
    plan = resolve(host(gpus=[RTX4090], driver="535.154.05"), StackSpec(tensorflow="2.13"))
    env = steps_for(plan, src, HostSettings())[-1]
    assert env.name == "tfprov: conda env"
    args = env.kwargs["pip_index"].args()
    assert "--no-index" in args and "--index-url" not in args
    assert args[args.index("--find-links") + 1] == "http://10.0.0.1/wh/"
