"""End to end: probe this very machine through pyinfra's @local connector, check the
profile against what the machine really has, then plan it."""

import json
import os
import platform
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TFPROV = os.path.join(os.path.dirname(sys.executable), "tfprov")


def run(*args, timeout=300):
    return subprocess.run(
        [TFPROV, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    out = tmp_path_factory.mktemp("profiles")
    res = run("probe", "@local", "--out", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    files = list(out.glob("*.json"))
    assert [f.name for f in files] == ["@local.json"]  # the inventory name
    return res.stdout, json.loads(files[0].read_text()), files[0]


def real_cpu_flags():
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    return set()


def test_profile_matches_this_machine(probed):
    summary, profile, _ = probed
    assert profile["hostname"] == platform.node()
    assert profile["os"]["family"] == "linux"
    assert profile["os"]["arch"] == platform.machine()
    with open("/etc/os-release") as fh:
        osr = dict(line.rstrip().split("=", 1) for line in fh if "=" in line)
    assert profile["os"]["distro"] == osr["ID"].strip('"')
    assert profile["os"]["version"] == osr.get("VERSION_ID", "").strip('"')
    flags = set(profile["cpu"]["flags"])
    assert flags == real_cpu_flags()
    for level in ("avx", "avx2", "fma", "avx512f"):
        assert (level in flags) == (level in real_cpu_flags())
    # no NVIDIA GPU and no driver on this machine
    has_nvidia = os.path.exists("/proc/driver/nvidia/version")
    assert bool(profile["gpus"]) == has_nvidia
    assert (profile["nvidia_driver"] is not None) == has_nvidia
    # the interpreter running these tests is one of the probed Pythons
    versions = {p["version"] for p in profile["pythons"]}
    assert platform.python_version() in versions or any(
        v.startswith(platform.python_version().rsplit(".", 1)[0]) for v in versions
    )
    # a CUDA toolkit with nvcc on PATH is found with the version nvcc reports
    nvcc = shutil.which("nvcc")
    if nvcc:
        text = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout
        release = text.split("release ", 1)[1].split(",", 1)[0]
        assert any(t["version"].startswith(release) for t in profile["cuda_toolkits"])
    # the raw per-fact results are kept for the deploy
    assert {"cpu", "nvidia_smi", "pci_gpus", "driver", "secure_boot"} <= set(profile["probe"])
    # one summary line per host
    lines = summary.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("@local: ")
    assert "no NVIDIA GPU" in lines[0] or has_nvidia


def test_probed_profile_plans(probed):
    _, profile, path = probed
    res = run("plan", "--profile", str(path), "--json")
    assert res.returncode == 0, res.stderr
    [plan] = json.loads(res.stdout)
    avx = "avx" in profile["cpu"]["flags"]
    assert plan["ok"]
    assert plan["tensorflow"]["variant"] == "cpu"  # no GPU here
    if avx:
        assert plan["tensorflow"]["version"] == "2.21.0"


def test_plan_inventory_probes_and_plans_in_one_go():
    res = run("plan", "@local", "--json")
    assert res.returncode == 0, res.stderr
    [plan] = json.loads(res.stdout)
    # named by the inventory name, as every command does; the hostname is a profile field
    assert plan["host"] == "@local" and plan["ok"]


def test_bad_inventory_data_stops_before_any_host_is_touched(tmp_path):
    inv = tmp_path / "inventory.py"
    inv.write_text("hosts = [('@local', {'gpu': 'sometimes'})]\n")
    res = run("plan", str(inv))
    assert res.returncode == 2
    assert "host @local: field 'gpu'" in res.stderr
    assert res.stdout == ""


def test_a_failing_host_does_not_stop_the_others(tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inv = tmp_path / "inventory.py"
    inv.write_text(
        "hosts = [\n"
        "    ('@local', {}),\n"
        f"    ('127.0.0.1', {{'ssh_port': {port}, 'ssh_connect_retries': 0}}),\n"
        "]\n"
    )
    res = run("probe", str(inv), timeout=120)
    assert res.returncode == 1
    lines = dict(line.split(": ", 1) for line in res.stdout.strip().splitlines())
    assert lines["@local"].startswith(("debian", "ubuntu", "linux"))
    assert lines["127.0.0.1"].startswith("PROBE FAILED: could not connect")
    res = run("probe", str(inv), "--limit", "@local")
    assert res.returncode == 0 and res.stdout.startswith("@local: ")
