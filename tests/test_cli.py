"""tfprov plan / matrix from the command line, on the bundled example profiles."""

import glob
import json
import os
import subprocess
import sys

import pytest

from tfprov.cli import main
from tfprov.model.plan import Plan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILES = sorted(glob.glob(os.path.join(ROOT, "inventories", "profiles", "*.json")))


def profile(name):
    return os.path.join(ROOT, "inventories", "profiles", name + ".json")


def run_json(capsys, *args):
    rc = main(["plan", *args, "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def test_examples_are_there():
    names = {os.path.basename(p)[:-5] for p in PROFILES}
    assert {
        "win10-laptop-gtx850m",
        "win-desktop-noavx-gtx650",
        "ubuntu2204-rtx4090",
        "centos7-tesla-k80",
        "debian12-cpu-only",
        "raspberry-pi4-aarch64",
        "win11-rtx3060",
    } <= names


def test_plan_all_examples_on_the_default_spec(capsys):
    rc, plans = run_json(capsys, "--profile", *PROFILES)
    assert rc == 0
    by_host = {p["host"]: p for p in plans}
    assert len(by_host) == len(PROFILES)
    for p in plans:  # the documented, stable keys
        assert set(p) >= {
            "host",
            "ok",
            "tensorflow",
            "python",
            "cuda",
            "cudnn",
            "driver",
            "env_manager",
            "reasons",
            "warnings",
            "error",
            "alternatives",
        }
        assert set(p["tensorflow"]) >= {"version", "package", "variant", "source"}
        assert set(p["driver"]) >= {"action", "version", "min_version"}
        Plan.model_validate(p)  # what the resolver assembled is a valid plan
    g = by_host["ubuntu2204-rtx4090"]
    assert (g["tensorflow"]["version"], g["tensorflow"]["variant"]) == ("2.21.0", "gpu")
    assert g["driver"]["action"] == "keep"
    k = by_host["centos7-tesla-k80"]
    assert (k["tensorflow"]["version"], k["tensorflow"]["variant"]) == ("2.14.1", "gpu")
    d = by_host["debian12-cpu-only"]  # Celeron N4505: no AVX, community builds not allowed
    assert (d["tensorflow"]["version"], d["tensorflow"]["source"]) == ("1.5.1", "pypi")
    assert any("allow_community_builds: true" in w for w in d["warnings"])
    r = by_host["raspberry-pi4-aarch64"]
    assert (r["tensorflow"]["version"], r["tensorflow"]["variant"]) == ("2.21.0", "cpu")
    w = by_host["win11-rtx3060"]  # latest asked; native Windows GPU ends at 2.10
    assert (w["tensorflow"]["version"], w["tensorflow"]["variant"]) == ("2.10.1", "gpu")
    assert any("WSL2" in x for x in w["reasons"])
    n = by_host["win-desktop-noavx-gtx650"]
    assert (n["tensorflow"]["version"], n["tensorflow"]["variant"]) == ("1.3.0", "gpu")


def test_gtx850m_with_tf21(capsys):
    rc, [p] = run_json(capsys, "--profile", profile("win10-laptop-gtx850m"), "--tensorflow", "2.1")
    assert rc == 0
    assert (p["tensorflow"]["version"], p["cuda"]["version"], p["cudnn"]["version"]) == (
        "2.1.4",
        "10.1",
        "7.6",
    )


def test_table_output_and_refusal_exit_code(capsys):
    rc = main(
        ["plan", "--profile", profile("win11-rtx3060"), "--tensorflow", "2.15", "--gpu", "require"]
    )
    out = capsys.readouterr().out
    assert rc == 1
    assert "== win11-rtx3060:" in out and "REFUSED:" in out and "alternatives:" in out
    rc = main(["plan", "--profile", profile("ubuntu2204-rtx4090")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "TensorFlow  2.21.0 GPU" in out and "why:" in out


def test_spec_file_and_flag_override(tmp_path, capsys):
    spec = tmp_path / "stack.yml"
    spec.write_text("tensorflow: 2.10\ngpu: off\n")
    rc, [p] = run_json(capsys, "--profile", profile("ubuntu2204-rtx4090"), "--spec", str(spec))
    assert (p["tensorflow"]["version"], p["tensorflow"]["variant"]) == ("2.10.1", "cpu")
    rc, [p] = run_json(
        capsys, "--profile", profile("ubuntu2204-rtx4090"), "--spec", str(spec), "--gpu", "auto"
    )
    assert p["tensorflow"]["variant"] == "gpu"


def test_every_spec_key_is_a_plan_flag():
    from tfprov.cli import build_parser
    from tfprov.model.spec import SPEC_KEYS

    plan = build_parser()._subparsers._group_actions[0].choices["plan"]
    flags = {a.dest: a for a in plan._actions if a.option_strings}
    assert set(SPEC_KEYS) <= set(flags), sorted(set(SPEC_KEYS) - set(flags))
    assert flags["driver_flavor"].option_strings == ["--driver-flavor"]
    assert list(flags["driver_flavor"].choices) == ["auto", "proprietary", "open", "server"]
    assert list(flags["gpu"].choices) == ["auto", "require", "off"]
    assert flags["allow_community_builds"].const is True


@pytest.mark.parametrize("flavor", ["open", "proprietary"])
def test_driver_flavor_flag_reaches_the_plan(capsys, flavor):
    rc, [p] = run_json(
        capsys,
        "--profile",
        profile("ubuntu2204-rtx4090"),
        "--driver",
        "570",
        "--driver-flavor",
        flavor,
    )
    assert rc == 0 and (p["driver"]["branch"], p["driver"]["flavor"]) == (570, flavor)


def test_bad_profile_is_reported_before_anything_is_planned(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    data = json.load(open(profile("ubuntu2204-rtx4090")))
    data["nvidia_driver"] = "five-thirty"
    bad.write_text(json.dumps(data))
    rc = main(["plan", "--profile", profile("centos7-tesla-k80"), "--profile", str(bad)])
    cap = capsys.readouterr()
    assert rc == 2
    assert cap.out == ""  # nothing planned, not even the good host
    assert "bad.json (host 'ubuntu2204-rtx4090'): field 'nvidia_driver'" in cap.err
    assert cap.err.count("\n") == 1  # one clear error


@pytest.mark.parametrize(
    "content, words",
    [
        ("{not json", "not valid JSON"),
        ('{"hostname": "x", "os": {"family": "beos"}}', "field 'os.family'"),
        ('{"hostname": "x", "os": {"family": "linux"}, "gpu": []}', "field 'gpu': unknown field"),
    ],
)
def test_bad_profiles(tmp_path, capsys, content, words):
    bad = tmp_path / "p.json"
    bad.write_text(content)
    assert main(["plan", "--profile", str(bad)]) == 2
    assert words in capsys.readouterr().err


def test_bad_spec_flag(capsys):
    assert main(["plan", "--profile", profile("ubuntu2204-rtx4090"), "--driver", "newest"]) == 2
    assert "command-line flags: field 'driver'" in capsys.readouterr().err


def test_missing_wheelhouse_is_bad_input(capsys, tmp_path):
    rc = main(
        [
            "plan",
            "--profile",
            profile("debian12-cpu-only"),
            "--wheelhouse",
            str(tmp_path / "none"),
            "--allow-community-builds",
        ]
    )
    assert rc == 2
    assert "not a directory" in capsys.readouterr().err


def test_wheelhouse_directory_is_listed_and_used(tmp_path, capsys):
    name = "tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl"
    (tmp_path / name).write_bytes(b"")
    rc, [p] = run_json(
        capsys,
        "--profile",
        profile("debian12-cpu-only"),
        "--wheelhouse",
        str(tmp_path),
        "--allow-community-builds",
        "--tensorflow",
        "2.15",
        "--env-manager",
        "venv",
    )
    assert rc == 0
    assert (p["tensorflow"]["source"], p["tensorflow"]["url"]) == (
        "wheelhouse",
        str(tmp_path / name),
    )


def test_matrix_queries(capsys):
    assert main(["matrix", "--tensorflow", "2.15"]) == 0
    out = capsys.readouterr().out
    assert "TF 2.15.1" in out and "CUDA 12.2 cuDNN 8.9" in out
    assert main(["matrix", "--cuda", "12.2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {
        "release": "CUDA 12.2 Update 2",
        "version": "12.2.2",
        "linux": "535.104.05",
        "windows": "537.13",
    } in data["releases"]
    assert "2.15.1" in data["tensorflow"]
    assert main(["matrix", "--gpu", "GM107M [GeForce GTX 850M]", "--json"]) == 0
    g = json.loads(capsys.readouterr().out)
    assert (g["compute_capability"], g["architecture"]) == ("5.0", "Maxwell")
    assert "2.16.2" in [x["tensorflow"] for x in g["tensorflow_gpu"]]
    assert "2.17.1" not in [x["tensorflow"] for x in g["tensorflow_gpu"]]
    assert main(["matrix", "--gpu", "Voodoo 5"]) == 1


def test_console_script_runs_the_readme_main_job():
    exe = os.path.join(os.path.dirname(sys.executable), "tfprov")
    res = subprocess.run(
        [exe, "plan", "--profile", *PROFILES], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("== ") == len(PROFILES)
