"""The catalog generators (scripts/catalog/) on recorded input: PyPI's JSON answers in
tests/fixtures/pypi/ and docs tables rendered in the docs' markdown format from the data."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "catalog"))
import gen_targets  # noqa: E402
import gen_tested_builds  # noqa: E402
import gen_wheels  # noqa: E402

DATA = ROOT / "tfprov" / "catalog" / "data"
PYPI = ROOT / "tests" / "fixtures" / "pypi"


def _projects() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(PYPI.glob("*.json"))}


# --- tf_wheels.yaml from PyPI ---------------------------------------------------------------


def test_the_committed_file_is_what_the_generator_makes_of_the_recorded_answers():
    text = (DATA / "tf_wheels.yaml").read_text()
    assert gen_wheels.update(text, _projects()) == text


def test_every_wheel_row_has_platform_tags_for_each_platform_it_lists():
    doc = yaml.safe_load((DATA / "tf_wheels.yaml").read_text())
    for row in doc["wheels"]:
        plats = [p for p in gen_wheels.PLATFORMS if row.get(p)]
        assert row.get("placeholder") or plats, row
        assert sorted(row.get("platform_tags", {})) == sorted(plats), row


def test_platform_tags_and_pythons_come_from_the_file_names():
    tf = _projects()["tensorflow"]
    rows = {r["minor"]: r for r in gen_wheels.wheel_rows(tf, "pypi-tensorflow")}
    r = rows["2.14"]
    assert r["version"] == "2.14.1"
    assert r["platform_tags"]["linux_x86_64"] == ["manylinux_2_17_x86_64.manylinux2014_x86_64"]
    assert r["platform_tags"]["windows"] == ["win_amd64"]
    assert r["linux_x86_64"] == ["3.9", "3.10", "3.11"]
    assert rows["2.21"]["platform_tags"]["linux_x86_64"] == ["manylinux_2_27_x86_64"]
    # 2.22 is only at release candidate on PyPI: not a row yet
    assert any(v.startswith("2.22.0rc") for v in tf["releases"]) and "2.22" not in rows
    # tensorflow-gpu 1.0.1's macOS py2.7 wheel is tagged macosx_10_11_intel (fat binary)
    gpu = {r["minor"]: r for r in gen_wheels.wheel_rows(_projects()["tensorflow-gpu"], "x")}
    assert "2.7" in gpu["1.0"]["macos_x86_64"]
    assert gpu["2.12"]["placeholder"] is True and "linux_x86_64" not in gpu["2.12"]


def test_platform_tags_set_the_libc_floor_the_resolver_reads():
    from tfprov.catalog import load_catalog

    w = {(r.package, r.minor): r for r in load_catalog().wheels.wheels}
    assert w[("tensorflow", "2.21")].libc_floor("linux_x86_64") == "2.27"
    assert w[("tensorflow", "2.14")].libc_floor("linux_x86_64") == "2.17"
    assert w[("tensorflow", "2.21")].libc_floor("macos_arm64") == "12.0"


def test_and_cuda_pins_are_read_from_requires_dist():
    meta = _projects()["tensorflow"]["requires_dist"]["2.21.0"]
    pins = gen_wheels.and_cuda_pins(meta["requires_dist"])
    doc = yaml.safe_load((DATA / "tf_wheels.yaml").read_text())
    row = next(r for r in doc["and_cuda"] if r["minor"] == "2.21")
    assert pins == row["requires"]
    assert "nvidia-nccl-cu12<3.0,>=2.27.7" in pins
    assert not any(p.startswith(("absl-py", "numpy")) for p in pins)  # not the extra


def _with_release_2_22(projects: dict) -> dict:
    """PyPI as it will be once 2.22.0 is final: its rc0 files under the final version."""
    p = copy.deepcopy(projects)
    rel = p["tensorflow"]["releases"]
    rel["2.22.0"] = [
        {**f, "filename": f["filename"].replace("2.22.0rc0", "2.22.0")} for f in rel["2.22.0rc0"]
    ]
    rd = p["tensorflow"]["requires_dist"]
    rd["2.22.0"] = rd["2.21.0"]
    return p


def test_a_new_release_is_one_run_plus_a_diff(tmp_path):
    text = (DATA / "tf_wheels.yaml").read_text()
    out = gen_wheels.update(text, _with_release_2_22(_projects()))
    added = [ln for ln in out.splitlines() if ln not in text.splitlines()]
    assert len(added) == 3, added  # the wheels row, its and_cuda row, its metadata source
    new = yaml.safe_load(out)
    row = next(r for r in new["wheels"] if r["package"] == "tensorflow" and r["minor"] == "2.22")
    assert row["version"] == "2.22.0" and "3.14" in row["linux_x86_64"]
    assert any(r["minor"] == "2.22" for r in new["and_cuda"])
    # the hand-curated parts are untouched
    old = yaml.safe_load(text)
    assert new["compute_capabilities"] == old["compute_capabilities"]
    assert {k: new["sources"][k] for k in old["sources"]} == old["sources"]


def test_hand_notes_and_unrecorded_projects_are_kept():
    text = (DATA / "tf_wheels.yaml").read_text()
    marker = '{package: tensorflow, minor: "2.15", version: "2.15.1"'
    i = text.index(marker)
    j = text.index("source: pypi-tensorflow}", i)
    noted = text[:j] + 'note: "checked by hand", ' + text[j:]
    projects = _projects()
    del projects["tensorflow-metal"]
    out = gen_wheels.update(noted, projects)
    assert out == noted


def test_wheels_generator_command(tmp_path):
    f = tmp_path / "tf_wheels.yaml"
    f.write_text((DATA / "tf_wheels.yaml").read_text())
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/catalog/gen_wheels.py"),
            "--from",
            str(PYPI),
            "--file",
            str(f),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"{f}: wheels of 9 project(s) from {PYPI}\n"
    assert f.read_text() == (DATA / "tf_wheels.yaml").read_text()


# --- tf_tested_builds.yaml from the docs ----------------------------------------------------

HEADERS = {
    "version": "Version",
    "python": "Python version",
    "compiler": "Compiler",
    "build_tools": "Build tools",
    "cudnn": "cuDNN",
    "cuda": "CUDA",
}


def _table(rows: list[dict]) -> str:
    """One table as tensorflow/docs prints them: <table>, a <th> row, one <tr> per line."""
    cols = [c for c in HEADERS if any(c in r for r in rows)]
    lines = ["<table>", "<tr>" + "".join(f"<th>{HEADERS[c]}</th>" for c in cols) + "</tr>"]
    lines += ["<tr>" + "".join(f"<td>{r[c]}</td>" for c in cols) + "</tr>" for r in rows]
    return "\n".join([*lines, "</table>"])


def _docs(tables: dict) -> tuple[str, str]:
    """source.md and source_windows.md, sections laid out as the docs lay them out."""
    t = tables
    source = "\n\n".join(
        [
            "# Build from source",
            "## Setup for Linux and macOS",
            "Install the build tools.",
            '<a name="tested_build_configurations"></a>',
            "## Tested build configurations",
            "### Linux",
            "#### CPU",
            _table(t["linux_cpu"]),
            "#### GPU",
            _table(t["linux_gpu"]),
            "### macOS",
            "#### CPU",
            _table(t["macos_cpu"]),
            "#### GPU",
            _table(t["macos_gpu"]),
            "## Next steps",
            "<table><tr><th>Version</th></tr><tr><td>not a build</td></tr></table>",
        ]
    )
    windows = "\n\n".join(
        [
            "# Build from source on Windows",
            "## Tested build configurations",
            "### CPU",
            _table(t["windows_cpu"]),
            "### GPU",
            _table(t["windows_gpu"]),
        ]
    )
    return source + "\n", windows + "\n"


def _regenerate(text: str, source: str, windows: str, commit=None) -> str:
    out = gen_tested_builds.update(
        text, gen_tested_builds.parse(source, "linux"), "tf-source-linux-macos", commit
    )
    return gen_tested_builds.update(
        out, gen_tested_builds.parse(windows, "windows"), "tf-source-windows", commit
    )


def test_docs_tables_round_trip_the_committed_rows():
    text = (DATA / "tf_tested_builds.yaml").read_text()
    source, windows = _docs(yaml.safe_load(text)["tested_builds"])
    tables = gen_tested_builds.parse(source, "linux")
    assert {k: len(v) for k, v in tables.items()} == {
        "linux_cpu": 38,
        "linux_gpu": 38,
        "macos_cpu": 34,
        "macos_gpu": 2,
    }
    assert _regenerate(text, source, windows) == text


def test_a_new_docs_row_and_commit_update_the_file_and_keep_corrections():
    text = (DATA / "tf_tested_builds.yaml").read_text()
    tables = copy.deepcopy(yaml.safe_load(text)["tested_builds"])
    tables["linux_gpu"].insert(
        0,
        {
            "version": "tensorflow-2.22.0",
            "python": "3.10-3.14",
            "compiler": "Clang 18.1.8",
            "build_tools": "Bazel 7.4.1",
            "cudnn": "9.3",
            "cuda": "12.5",
        },
    )
    source, windows = _docs(tables)
    commit = "0123456789abcdef0123456789abcdef01234567"
    out = _regenerate(text, source, windows, commit)
    new = yaml.safe_load(out)
    assert new["tested_builds"]["linux_gpu"][0] == {
        "version": "tensorflow-2.22.0",
        "python": "3.10-3.14",
        "compiler": "Clang 18.1.8",
        "build_tools": "Bazel 7.4.1",
        "cudnn": "9.3",
        "cuda": "12.5",
        "source": "tf-source-linux-macos",
    }
    assert new["corrections"] == yaml.safe_load(text)["corrections"]
    assert (
        f"/blob/{commit}/site/en/install/source.md"
        in new["sources"]["tf-source-linux-macos"]["url"]
    )
    assert (
        f"/blob/{commit}/site/en/install/source_windows.md"
        in new["sources"]["tf-source-windows"]["url"]
    )


def test_tested_builds_command_refuses_another_file(tmp_path):
    bad = tmp_path / "pip.md"
    bad.write_text("# pip\n")
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/catalog/gen_tested_builds.py"),
            str(bad),
            "--file",
            str(tmp_path / "x.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert res.stderr.strip().endswith(f"error: {bad}: expected source.md or source_windows.md")


def test_tested_builds_command_regenerates_from_a_docs_file(tmp_path):
    f = tmp_path / "tf_tested_builds.yaml"
    text = (DATA / "tf_tested_builds.yaml").read_text()
    f.write_text(text)
    docs = tmp_path / "source_windows.md"
    docs.write_text(_docs(yaml.safe_load(text)["tested_builds"])[1])
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/catalog/gen_tested_builds.py"),
            str(docs),
            "--file",
            str(f),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"{f}: windows_cpu 37 rows, windows_gpu 27 rows\n"
    assert f.read_text() == text


def test_docs_without_the_section_are_rejected():
    with pytest.raises(ValueError, match="no 'Tested build configurations' section"):
        gen_tested_builds.parse("# Build from source\n\n## Setup\n", "linux")


def _bazelrc() -> str:
    case = ROOT / "tests" / "fixtures" / "bazelrc" / "tensorflow-0071ad1d.yaml"
    return yaml.safe_load(case.read_text())["output"]


def test_targets_are_read_from_the_releases_bazelrc():
    assert gen_targets.targets(_bazelrc()) == ["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"]
    # older files list bare capabilities: X.Y means SASS and PTX for X.Y
    old = 'build:cuda --action_env TF_CUDA_COMPUTE_CAPABILITIES="3.5,7.0"\n'
    assert gen_targets.targets(old) == ["compute_35", "compute_70"]
    with pytest.raises(ValueError):
        gen_targets.targets("build:cuda --repo_env TF_NEED_CUDA=1\n")


def test_a_new_releases_targets_are_one_run():
    text = (DATA / "tf_wheels.yaml").read_text()
    commit = "0071ad1d1f9e35ead7169c50dbe754ce5c27cae1"
    out = gen_targets.update(text, "2.22", gen_targets.targets(_bazelrc()), commit)
    added = [ln for ln in out.splitlines() if ln not in text.splitlines()]
    assert len(added) == 2, added  # the row and its source
    new, old = yaml.safe_load(out), yaml.safe_load(text)
    row = new["compute_capabilities"][-1]
    assert row == {
        "minor": "2.22",
        "targets": ["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"],
        "source": "tf-bazelrc-0071ad1d",
    }
    assert new["sources"]["tf-bazelrc-0071ad1d"]["url"].endswith(f"/{commit}/.bazelrc")
    assert new["compute_capabilities"][:-1] == old["compute_capabilities"]
    # run again (or for a minor that has a row): the row is replaced, nothing added
    again = gen_targets.update(out, "2.22", ["sm_70", "compute_90"], commit)
    rows = [r for r in yaml.safe_load(again)["compute_capabilities"] if r["minor"] == "2.22"]
    assert [r["targets"] for r in rows] == [["sm_70", "compute_90"]]
    assert len(again.splitlines()) == len(out.splitlines())
