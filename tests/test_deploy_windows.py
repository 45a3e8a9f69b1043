"""Plan → Windows operations, the Windows verify script, and their PowerShell syntax."""

import pytest

from tests.test_resolver import WIN10, host
from tfprov import verify
from tfprov.apply.steps import RefusedError, steps_for
from tfprov.model.hostdata import HostSettings
from tfprov.model.platform import Platform
from tfprov.model.sources import DEFAULTS
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve

SHA = "ab" * 32
LAPTOP = dict(
    **WIN10,
    gpus=["GeForce GTX 850M"],
    driver="456.71",
    pythons=[{"version": "3.7.9", "path": "C:\\Python37\\python.exe"}],
)


def sources(**kw):
    return {**DEFAULTS, **kw}


def ps_parses(text: str) -> bool:
    tree_sitter = pytest.importorskip("tree_sitter")
    tsp = pytest.importorskip("tree_sitter_powershell")
    parser = tree_sitter.Parser(tree_sitter.Language(tsp.language()))
    return not parser.parse(text.encode("utf-8")).root_node.has_error


def test_tf21_on_the_gtx850m_laptop_maps_to_cuda_cudnn_venv_and_pip():
    h = host(**LAPTOP)
    plan = resolve(h, StackSpec(tensorflow="2.1"))
    src = sources(
        win_cuda_installers={"10.1": {"url": "\\\\share\\cuda_10.1.exe", "sha256": SHA}},
        win_cudnn_zips={"7.6": {"url": "\\\\share\\cudnn-7.6.zip", "sha256": SHA}},
    )
    steps = steps_for(plan, src, HostSettings())
    assert [s.op.__name__ for s in steps] == [
        "cuda_toolkit",
        "machine_env",
        "machine_path",
        "cudnn",
        "virtualenv",
        "tensorflow_pip",
    ]
    assert steps[0].kwargs == {
        "version": "10.1",
        "installer_url": "\\\\share\\cuda_10.1.exe",
        "sha256": SHA,
    }
    assert steps[1].kwargs["value"].endswith("CUDA\\v10.1")
    assert steps[4].kwargs["path"] == "C:\\tfprov\\envs\\tf21"
    assert steps[4].kwargs["python_exe"] == "C:\\Python37\\python.exe"
    assert steps[5].kwargs == {
        "python_exe": "C:\\tfprov\\envs\\tf21\\Scripts\\python.exe",
        "package": "tensorflow",
        "version": "2.1.4",
        "repair": True,
    }


def test_missing_pinned_installer_is_refused_by_name():
    h = host(**LAPTOP)
    plan = resolve(h, StackSpec(tensorflow="2.1"))
    with pytest.raises(RefusedError, match="set win_cuda_installers"):
        steps_for(plan, sources(), HostSettings())


def test_windows_conda_recipe_needs_a_pinned_miniforge():
    h = host(**LAPTOP)
    plan = resolve(h, StackSpec())  # TF 2.10.1 GPU with conda cudatoolkit 11.2 / cudnn 8.1.0
    with pytest.raises(RefusedError, match="win_miniforge_url"):
        steps_for(plan, sources(), HostSettings())
    steps = steps_for(
        plan,
        sources(win_miniforge_url="\\\\share\\Miniforge3.exe", win_miniforge_sha256=SHA),
        HostSettings(),
    )
    assert [s.op.__name__ for s in steps] == ["miniconda", "condarc", "conda_env"]
    env = steps[-1].kwargs
    assert env["conda_packages"] == ["cudatoolkit=11.2", "cudnn=8.1.0"]
    assert env["pip_packages"] == ["tensorflow==2.10.1"] and env["python"] == "3.10"


def test_driver_from_the_pinned_table():
    h = host(**{**LAPTOP, "driver": None})
    plan = resolve(h, StackSpec(tensorflow="2.1"))
    assert plan.driver.branch == 580
    src = sources(
        win_driver_installers={
            "452.06": {"url": "u1", "sha256": SHA},
            "472.12": {"url": "u2", "sha256": SHA},
            "580.88": {"url": "u3", "sha256": SHA},
            "581.57": {"url": "u4", "sha256": SHA},
        },
        win_cuda_installers={"10.1": {"url": "c", "sha256": SHA}},
        win_cudnn_zips={"7.6": {"url": "d", "sha256": SHA}},
    )
    first = steps_for(plan, src, HostSettings(reboot=True))[0]
    assert first.op.__name__ == "nvidia_driver"
    assert first.kwargs == {
        "version": "581.57",
        "installer_url": "u4",
        "sha256": SHA,
        "allow_reboot": True,
    }


# A Tesla K40 (Kepler): the last branch supporting it is 470; 551.61 dropped Kepler.
K40 = dict(
    **WIN10,
    gpus=["Tesla K40c"],
    driver=None,
    pythons=[{"version": "3.7.9", "path": "C:\\Python37\\python.exe"}],
)
K40_SRC = dict(
    win_cuda_installers={"10.1": {"url": "c", "sha256": SHA}},
    win_cudnn_zips={"7.6": {"url": "d", "sha256": SHA}},
)


def test_windows_driver_versions_map_to_their_branch():
    from tfprov.apply.steps import windows_driver_branch

    assert windows_driver_branch("472.12") == 470
    assert windows_driver_branch("475.14") == 470  # the branch's last Windows release
    assert windows_driver_branch("551.61") == 550
    assert windows_driver_branch("539.72") == 535
    assert windows_driver_branch("456.71") is None  # R455: not a branch of the catalog


def test_k40_gets_the_newest_pinned_installer_of_its_planned_branch():
    h = host(**K40)
    plan = resolve(h, StackSpec(tensorflow="2.1"))
    assert plan.driver.branch == 470
    table = {v: {"url": f"u{v}", "sha256": SHA} for v in ("452.06", "472.12", "475.14", "551.61")}
    first = steps_for(plan, sources(win_driver_installers=table, **K40_SRC), HostSettings())[0]
    assert first.op.__name__ == "nvidia_driver"
    assert first.kwargs["version"] == "475.14" and first.kwargs["installer_url"] == "u475.14"
    assert first.name == "tfprov: NVIDIA driver"  # one name per step kind; the version is a kwarg


def test_no_pinned_installer_of_the_planned_branch_is_refused_by_name():
    h = host(**K40)
    plan = resolve(h, StackSpec(tensorflow="2.1"))
    table = {v: {"url": f"u{v}", "sha256": SHA} for v in ("551.61", "539.72")}
    with pytest.raises(RefusedError) as exc:
        steps_for(plan, sources(win_driver_installers=table, **K40_SRC), HostSettings())
    assert str(exc.value) == (
        "the plan needs NVIDIA driver branch 470 (≥ 418.96) on this Windows host: no "
        "win_driver_installers entry of branch 470 is pinned (pinned: 539.72 (branch 535), "
        "551.61 (branch 550)); set win_driver_installers = {'<version>': {'url': ..., "
        "'sha256': ...}} with a driver of that branch"
    )


def test_windows_verify_script_parses_and_reports_crashes():
    text = verify.command("C:\\tfprov\\envs\\tf21\\Scripts\\python.exe", Platform(family="windows"))
    assert ps_parses(text)
    assert verify.SCRIPT.strip() in text
    res = verify.parse(["@@tfprov-exit -1073741795"], expect_gpu=False)
    assert not res["ok"] and "Illegal instruction" in res["error"]


def test_windows_virtualenv_script_parses():
    from pyinfra.context import ctx_host, ctx_state
    from pyinfra_testing.util import FakeState, create_host  # the harness's fake host

    from tfprov.operations import venv_windows

    state = FakeState()
    fake = create_host(
        state,
        facts={"files.WinFileExists": {"path=C:\\tfprov\\envs\\tf21\\Scripts\\python.exe": False}},
    )
    with ctx_state.use(state), ctx_host.use(fake):
        cmds = list(
            venv_windows.virtualenv._inner(
                path="C:\\tfprov\\envs\\tf21",
                python_exe="C:\\Python37\\python.exe",
                pip_config="[global]\nno-index = true\n",
            )
        )
    assert len(cmds) == 1 and ps_parses(str(cmds[0]))
    assert "'-m', 'venv', 'C:\\tfprov\\envs\\tf21'" in str(cmds[0])


def test_host_data_repair_false_reaches_the_windows_tensorflow_operation():
    h = host(**LAPTOP)
    plan = resolve(h, StackSpec(tensorflow="2.1"))
    src = sources(
        win_cuda_installers={"10.1": {"url": "c", "sha256": SHA}},
        win_cudnn_zips={"7.6": {"url": "d", "sha256": SHA}},
    )
    tf_step = steps_for(plan, src, HostSettings(repair=False))[-1]
    assert tf_step.op.__name__ == "tensorflow_pip" and tf_step.kwargs["repair"] is False
