"""Unit tests of tfprov.facts.cuda's parsers on the real captures behind the fact cases in
tests/facts/cuda.CudaToolkits and tests/facts/cuda.Cudnn (provenance in each case's
``source``/``captured``), plus one end-to-end run of the commands on this machine.

The expected values of the nvcc and cuDNN captures are the ``expected`` blocks of their
shared-corpus meta files, read off the text by hand.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tfprov.facts.cuda import (
    CudaToolkits,
    Cudnn,
    parse_cuda_toolkits,
    parse_cuda_version_file,
    parse_cudnn_defines,
    parse_nvcc_version,
)

CASES = Path(__file__).parent / "facts"


def case(fact: str, name: str) -> dict:
    return yaml.safe_load((CASES / f"cuda.{fact}" / f"{name}.yaml").read_text())


def sections(lines: list[str]) -> list[tuple[str, str]]:
    """(marker path, text) of a case output: the text is the real capture, verbatim."""
    out: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("== "):
            out.append((line[3:], []))
        else:
            out[-1][1].append(line)
    return [(p, "\n".join(body)) for p, body in out]


def only_text(fact: str, name: str) -> str:
    ((_, text),) = sections(case(fact, name)["output"])
    return text


# corpus nvcc/<name>.meta.yaml "expected": release, nvcc_version, build_id, built_on
NVCC_EXPECTED = {
    "cuda-7.5": ("7.5", "7.5.17", None, "Tue_Aug_11_14:27:32_CDT_2015"),
    "cuda-10.0": ("10.0", "10.0.130", None, "Sat_Aug_25_21:08:01_CDT_2018"),
    "cuda-11.0.221": (
        "11.0",
        "11.0.221",
        "cuda_11.0_bu.TC445_37.28845127_0",
        "Wed_Jul_22_19:09:09_PDT_2020",
    ),
    "cuda-11.5-ubuntu-apt": (
        "11.5",
        "11.5.119",
        "cuda_11.5.r11.5/compiler.30672275_0",
        "Thu_Nov_18_09:45:30_PST_2021",
    ),
    "cuda-13.0-live-12h-clock": (
        "13.0",
        "13.0.88",
        "cuda_13.0.r13.0/compiler.36424714_0",
        "Wed_Aug_20_01:58:59_PM_PDT_2025",
    ),
}


@pytest.mark.parametrize("name", sorted(NVCC_EXPECTED))
def test_parse_nvcc_version_on_corpus_captures(name):
    release, version, build, built_on = NVCC_EXPECTED[name]
    got = parse_nvcc_version(only_text("CudaToolkits", f"nvcc-{name}"))
    assert got == {"version": version, "release": release, "build": build, "built_on": built_on}


def test_parse_nvcc_version_without_nvcc_text():
    assert parse_nvcc_version("") is None
    assert parse_nvcc_version("sh: 1: nvcc: not found") is None


@pytest.mark.parametrize(
    "name, version",
    [
        ("version-json-12.8.2-windows-toolkit", "12.8.2"),
        ("version-json-12.9.0-windows-toolkit", "12.9.0"),
    ],
)
def test_parse_cuda_version_file_version_json(name, version):
    text = only_text("CudaToolkits", name)
    assert '"cuda_nvcc"' in text  # the whole file, not just the "cuda" entry
    assert parse_cuda_version_file(text) == version


def test_parse_cuda_version_file_version_txt():
    (p1, t1), (p2, t2) = sections(
        case("CudaToolkits", "version-txt-10.2.89-and-10.0.130-one-host")["output"]
    )
    assert (p1, parse_cuda_version_file(t1)) == ("/usr/local/cuda/version.txt", "10.2.89")
    assert p2.endswith("/cuda-10.0/version.txt")
    assert parse_cuda_version_file(t2) == "10.0.130"


def test_parse_cuda_version_file_rejects_other_text():
    assert parse_cuda_version_file(only_text("CudaToolkits", "nvcc-cuda-10.0")) is None
    assert parse_cuda_version_file("") is None


# corpus cudnn/<name>.meta.yaml "expected": major, minor, patchlevel, version string
CUDNN_EXPECTED = {
    "cudnn_h-7.2.1": (7, 2, 1, "7.2.1"),
    "cudnn_version-8.2.1": (8, 2, 1, "8.2.1"),
    "cudnn_version-9.6.0": (9, 6, 0, "9.6.0"),
    "cudnn_h-7.6.4-home-toolkit": (7, 6, 4, "7.6.4"),  # read off the blog post's grep output
}


@pytest.mark.parametrize("name", sorted(CUDNN_EXPECTED))
def test_parse_cudnn_defines_on_real_headers(name):
    major, minor, patch, version = CUDNN_EXPECTED[name]
    assert parse_cudnn_defines(only_text("Cudnn", name)) == {
        "major": major,
        "minor": minor,
        "patchlevel": patch,
        "version": version,
    }


def test_parse_cudnn_defines_ignores_other_text():
    # the cuDNN >= 8 cudnn.h only includes cudnn_version.h: no version defines at all
    assert parse_cudnn_defines('#include "cudnn_version.h"') is None
    assert parse_cudnn_defines(only_text("CudaToolkits", "nvcc-cuda-10.0")) is None


def test_toolkits_one_entry_per_root():
    # the live capture's nvcc section seen twice (toolkit dir scan and nvcc on PATH)
    lines = case("CudaToolkits", "nvcc-cuda-13.0-live-12h-clock")["output"]
    assert parse_cuda_toolkits(lines + lines) == [
        {"version": "13.0.88", "path": "/usr/local/cuda-13.0"}
    ]


def test_toolkits_sorted_by_version_numerically():
    # two real captures concatenated (different hosts) to check the ordering rule:
    # 7.5.17 < 10.0.130 < 10.2.89 numerically, though not as strings
    lines = (
        case("CudaToolkits", "version-txt-10.2.89-and-10.0.130-one-host")["output"]
        + case("CudaToolkits", "nvcc-cuda-7.5")["output"]
    )
    assert [t["version"] for t in parse_cuda_toolkits(lines)] == ["7.5.17", "10.0.130", "10.2.89"]


def test_cudnn_newest_wins_and_all_lists_every_header():
    # two real header captures concatenated (different sources) to check the rule
    lines = (
        case("Cudnn", "cudnn_version-9.6.0")["output"] + case("Cudnn", "cudnn_h-7.2.1")["output"]
    )
    got = Cudnn().process(lines)
    assert got["version"] == "9.6.0"
    assert got["path"] == "/usr/local/cuda-12.6/include/cudnn_version.h"
    assert got["all"] == [
        {"version": "7.2.1", "path": "/usr/local/cuda/include/cudnn.h"},
        {"version": "9.6.0", "path": "/usr/local/cuda-12.6/include/cudnn_version.h"},
    ]


def test_nothing_installed():
    assert CudaToolkits.default() == [] and CudaToolkits().process([]) == []
    assert Cudnn.default() is None and Cudnn().process([]) is None


# --- end to end: the commands, run with sh -c on this machine -----------------------------


def _run(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="no nvcc on PATH")
def test_cuda_toolkits_command_finds_the_real_toolkit():
    nvcc = shutil.which("nvcc")
    own = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=60).stdout
    version = re.search(r"release \d+\.\d+, V(\d+(?:\.\d+)+)", own).group(1)

    res = _run(CudaToolkits().command())
    assert res.returncode == 0
    toolkits = CudaToolkits().process(res.stdout.splitlines())
    # the toolkit of the nvcc on PATH is there, with that nvcc's version, and its path is
    # a real toolkit root whose own bin/nvcc is the same compiler build
    match = [t for t in toolkits if t["version"] == version]
    assert match, toolkits
    for t in match:
        root_nvcc = Path(t["path"]) / "bin" / "nvcc"
        assert root_nvcc.is_file()
        same = subprocess.run(
            [str(root_nvcc), "--version"], capture_output=True, text=True, timeout=60
        ).stdout
        assert same == own
    # paths are unique (/usr/local/cuda -> cuda-X.Y and PATH's nvcc counted once)
    assert len({t["path"] for t in toolkits}) == len(toolkits)
    if Path("/usr/local/cuda-13.0/bin/nvcc").is_file():  # this build VM
        assert {"version": "13.0.88", "path": "/usr/local/cuda-13.0"} in toolkits


def test_cudnn_command_runs_cleanly():
    res = _run(Cudnn().command())
    assert res.returncode == 0
    got = Cudnn().process(res.stdout.splitlines())
    if got is not None:  # every header found is in "all", the newest one is reported
        assert {"version": got["version"], "path": got["path"]} in got["all"]
        assert all(Path(h["path"]).is_file() for h in got["all"])
