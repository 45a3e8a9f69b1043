"""Unit tests of the Python-environment facts' parsers (python, conda, tensorflow), on real
outputs: the fact cases in tests/facts/, the conda captures of the shared corpus copied to
tests/fixtures/conda_outputs.yaml, and real TensorFlow build_info.py texts in
tests/fixtures/tensorflow_build_info.yaml.  Two checks run the commands on this machine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tfprov.facts.conda import (
    Conda,
    env_name,
    parse_conda,
    parse_conda_env_list_json,
    parse_conda_info_json,
    parse_conda_info_text,
)
from tfprov.facts.python import PYTHON_DIRS, PYTHON_NAMES, Pythons, parse_pythons
from tfprov.facts.tensorflow import (
    TF_SCRIPT,
    Installed,
    gpu_build,
    parse_build_info,
    parse_env_line,
    parse_installed,
    tensorflow_entry,
)

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
CASES = HERE / "facts"


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


CONDA = {e["name"]: e for e in _load(FIXTURES / "conda_outputs.yaml")}
BUILD_INFO = _load(FIXTURES / "tensorflow_build_info.yaml")


def _case(fact_dir: str, name: str) -> dict:
    return _load(CASES / fact_dir / f"{name}.yaml")


def _run_sh(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=300, cwd="/"
    )


# -- Pythons -----------------------------------------------------------------------------


def test_parse_pythons_one_entry_per_executable_sorted():
    case = _case("python.Pythons", "live-pyenv-many-versions")
    got = parse_pythons(case["output"])
    # the command skips pyenv shims and asks each interpreter under ~/.pyenv/versions once
    assert len(case["output"]) == 9 and len(got) == 9
    assert [p["version"] for p in got] == [
        "3.6.15",
        "3.7.16",
        "3.8.18",
        "3.9.18",
        "3.10.13",
        "3.11.2",
        "3.11.7",
        "3.12.1",
        "3.13.0",
    ]
    assert {
        "version": "3.12.1",
        "path": "/root/.pyenv/versions/3.12.1/bin/python3",
        "distro_package": None,  # pyenv's own build: no package owns it
        "venv": True,
        "venv_package": None,
    } in got
    assert not any("/shims/" in p["path"] for p in got)
    # the same real executable reported twice (e.g. python3 and python3.12) counts once
    assert parse_pythons(case["output"] * 2) == got


def test_parse_pythons_python2_and_empty():
    got = parse_pythons(_case("python.Pythons", "live-python-is-python2")["output"])
    assert got[0] == {
        "version": "2.7.18",
        "path": "/root/.pyenv/versions/2.7.18/bin/python",
        "distro_package": None,
        "venv": False,  # Python 2 has no venv module
        "venv_package": None,
    }
    assert parse_pythons([]) == [] == Pythons.default()


def test_parse_pythons_distro_interpreter_and_its_venv_package():
    debian = next(
        p
        for p in parse_pythons(_case("python.Pythons", "live-pyenv-global-and-debian")["output"])
        if p["path"] == "/usr/bin/python3.11"
    )
    assert (debian["distro_package"], debian["venv"]) == ("python3.11-minimal", True)
    # Debian's python3.11 without python3.11-venv: venv fails; apt offers the package only
    # once its package lists are there
    with_lists = parse_pythons(
        _case("python.Pythons", "live-debian12-no-venv-candidate-python3.11-venv")["output"]
    )
    assert [(p["venv"], p["venv_package"]) for p in with_lists] == [(False, "python3.11-venv")]
    bare = parse_pythons(_case("python.Pythons", "live-debian12-no-venv-no-apt-lists")["output"])
    assert [(p["venv"], p["venv_package"]) for p in bare] == [(False, None)]
    # the four-field lines of the earlier command still parse, without the venv keys
    assert parse_pythons(
        ["/usr/bin/python3.11\t3.11.2\t/usr/bin/python3.11\t/usr/bin/python3.11"]
    ) == [{"version": "3.11.2", "path": "/usr/bin/python3.11"}]


def _interpreter(path: str) -> tuple[str, str] | None:
    """(version, real executable) of a working interpreter, asked independently."""
    try:
        res = subprocess.run(
            [
                path,
                "-c",
                "import os, sys; print('%d.%d.%d' % sys.version_info[:3]); "
                "print(os.path.realpath(sys.executable))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except OSError:
        return None
    lines = res.stdout.split("\n")
    return (lines[0], lines[1]) if res.returncode == 0 and len(lines) > 1 else None


def test_pythons_command_finds_this_machines_interpreters():
    res = _run_sh(Pythons().command())
    assert res.returncode == 0, res.stderr
    got = Pythons().process(res.stdout.splitlines())
    assert got, "no interpreter found on this machine"
    versions = [tuple(map(int, p["version"].split("."))) for p in got]
    assert versions == sorted(versions)

    found = {}
    for p in got:
        asked = _interpreter(p["path"])
        assert asked is not None, p
        assert asked[0] == p["version"], p
        assert asked[1] not in found, f"{p} is {found.get(asked[1])} again"
        found[asked[1]] = p

    # every candidate that works here, asked independently, is one of the interpreters found
    candidates = {shutil.which(n) for n in PYTHON_NAMES} | {
        f"{d}/{n}" for d in PYTHON_DIRS for n in PYTHON_NAMES
    }
    for cand in sorted(c for c in candidates if c and os.access(c, os.X_OK)):
        asked = _interpreter(cand)
        if asked:
            assert asked[1] in found, f"{cand} ({asked[0]}, {asked[1]}) not found"
    if os.access("/usr/bin/python3", os.X_OK):
        assert _interpreter("/usr/bin/python3")[1] in found


# -- Conda -------------------------------------------------------------------------------


def test_conda_info_json_old_conda_3_9():
    fx = CONDA["osx-anaconda-conda-3.9.0"]
    exp = fx["expected"]
    got = parse_conda_info_json(fx["text"])
    assert got["version"] == exp["conda_version"]
    for key in (
        "platform",
        "root_prefix",
        "default_prefix",
        "active_prefix",
        "envs_dirs",
        "python_version",
    ):
        assert got[key] == exp[key], key
    assert [e["prefix"] for e in got["envs"]] == exp["envs"]
    assert len(got["envs"]) == exp["envs_count"]
    assert [e["name"] for e in got["envs"]] == [p.rsplit("/", 1)[1] for p in exp["envs"]]
    assert got["cuda_virtual_package"] == exp["cuda_virtual_package"]
    assert not exp["has_virtual_pkgs"]


@pytest.mark.parametrize(
    "name",
    ["linux-anaconda2-empty", "macos-anaconda-root-omitted", "windows-miniconda3-with-base"],
)
def test_conda_env_list_json_corpus(name):
    fx = CONDA[name]
    exp = fx["expected"]
    got = parse_conda_env_list_json(fx["text"])
    assert [e["prefix"] for e in got] == exp["envs"]
    assert len(got) == exp["env_count"]
    assert [e["name"] for e in got] == exp["env_names"]
    assert any(e["name"] == "base" for e in got) == exp["root_prefix_listed"]


def test_conda_env_list_json_windows_with_known_root():
    text = CONDA["windows-miniconda3-with-base"]["text"]
    got = parse_conda_env_list_json(text, root_prefix="c:\\miniconda3\\")
    assert [e["name"] for e in got] == ["base", "my-first-env", "test_project"]
    assert env_name("C:\\Miniconda3\\envs\\test_project") == "test_project"


def test_conda_info_printed_as_text():
    fx = CONDA["linux-miniconda3-conda-23.7.0-info-json-as-text"]
    assert parse_conda_info_json(fx["text"]) is None
    got = parse_conda_info_text(fx["text"])
    assert got == fx["expected"]


def test_conda_not_json():
    assert parse_conda_info_json("") is None
    assert parse_conda_env_list_json("") is None
    # an env list is no info object, and JSON is no plain-text info
    assert parse_conda_info_json(CONDA["macos-anaconda-root-omitted"]["text"]) is None
    assert parse_conda_info_text(CONDA["osx-anaconda-conda-3.9.0"]["text"]) is None


def test_conda_fact_cases_agree_with_corpus_expected():
    for path in sorted((CASES / "conda.Conda").glob("corpus-*.yaml")):
        case = _load(path)
        exp = case["corpus_expected"]
        (inst,) = parse_conda(case["output"])["installations"]
        listed = exp.get("envs", [])
        # base comes first, then exactly what conda listed
        assert inst["envs"][0] == {"name": "base", "prefix": inst["prefix"]}, path.name
        assert [e["prefix"] for e in inst["envs"][1:]] == listed, path.name
        if "conda_version" in exp:
            assert inst["version"] == exp["conda_version"]
            assert inst["prefix"] == exp["root_prefix"]


def test_conda_command_here():
    res = _run_sh(Conda().command())
    assert res.returncode == 0, res.stderr
    parsed = parse_conda(res.stdout.splitlines())
    if res.stdout.strip():
        assert parsed["installations"]
    else:  # no conda on this machine: pyinfra then gives default()
        assert parsed is None and Conda.default() is None


# -- TensorFlow --------------------------------------------------------------------------


@pytest.mark.parametrize("fx", BUILD_INFO, ids=[b["name"] for b in BUILD_INFO])
def test_parse_build_info(fx):
    assert parse_build_info(fx["text"]) == fx["expected"]
    # the Installed script sends only the lines naming cuda, cudnn or rocm
    sent = [s.strip() for s in fx["text"].splitlines() if "cud" in s or "rocm" in s]
    assert parse_build_info(sent) == fx["expected"]


def test_gpu_build():
    by_text = {b["name"]: parse_build_info(b["text"]) for b in BUILD_INFO}
    # the build info decides; a plain 'tensorflow' wheel says nothing by its name
    assert gpu_build("tensorflow", by_text["tensorflow-2.15.1-linux-cuda"]) is True
    assert gpu_build("tensorflow", by_text["tf2-windows-cpu-ordereddict"]) is False
    assert gpu_build("tensorflow", None) is None
    assert gpu_build("tensorflow", parse_build_info(None)) is None
    # without build info, the name
    assert gpu_build("tensorflow-gpu", None) is True
    assert gpu_build("tf-nightly-gpu", None) is True
    assert gpu_build("tensorflow-rocm", None) is True
    assert gpu_build("tensorflow-cpu", None) is False
    assert gpu_build("tensorflow-cpu-aws", None) is False
    assert gpu_build("tensorflow-macos", None) is None


def test_parse_env_lines_live():
    case = _case("tensorflow.Installed", "live-venvs-tf1-tf2-cpu-gpu")
    envs = [parse_env_line(line) for line in case["output"]]
    assert all(envs)
    tf1 = next(e for e in envs if e["env"].endswith("/tf1-gpu"))
    assert tf1["dists"] == [["tensorflow-gpu", "1.15.0", True]]
    assert parse_build_info(tf1["build_info"])["cuda_version"] == "10"
    # envs without TensorFlow give no entry
    with_tf = {e["env"].rsplit("/", 1)[-1] for e in envs if tensorflow_entry(e)}
    assert with_tf == {"tf-cpu", "tf215", "tf1-gpu", "tf1-cpu"}
    assert tensorflow_entry(next(e for e in envs if e["env"].endswith("/no-tf"))) is None
    assert parse_env_line("") is None
    assert parse_env_line("pyenv: python3.6: command not found") is None


def test_tf_script_never_imports_tensorflow():
    assert not re.search(r"import\s+tensorflow|__import__|import_module", TF_SCRIPT)
    assert "'" not in TF_SCRIPT  # it is sent in single quotes
    res = subprocess.run(
        [sys.executable, "-c", TF_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    env = parse_env_line(f"{sys.executable}\t{res.stdout.strip()}")
    assert env["env"] == sys.prefix


def test_installed_command_here(tmp_path):
    envs_dir = tmp_path / "it's envs"
    envs_dir.mkdir()
    cmd = Installed().command(envs_dir=str(envs_dir))
    res = _run_sh(cmd)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert all(parse_env_line(line) for line in lines), lines
    assert isinstance(parse_installed(lines), list)
