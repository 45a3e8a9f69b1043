"""End to end on real SSH hosts: `pyinfra <fleet> deploys/gpu.py` installs a real CPU
TensorFlow in a venv on each host of a local fleet (network namespaces with their own
addresses and sshd, see lab/fleet.py), verifies it, changes nothing on a second run,
and converges to another TensorFlow version when the spec changes.

TensorFlow comes from a wheelhouse the controller fills once per run (pip download) and
serves over HTTP on the fleet bridge, as a lab's artifact server would (lab/harness.py).
"""

from __future__ import annotations

import json
import re

import pytest

from lab.harness import (
    WheelhouseServer,
    deploy_run,
    e2e_network,
    fill_wheelhouse,
    lab_fleet,
    remote,
    run_deploy,
    run_pyinfra,
    write_inventory,
)

pytestmark = pytest.mark.fleet

VERSIONS = ("2.21.0", "2.20.0")
HOSTS = 3


@pytest.fixture(scope="session")
def fleet():
    # its own directory and network (TFPROV_E2E_BRIDGE / TFPROV_E2E_SUBNET let two
    # checkouts run it side by side), sharing the cached base image with `lab.fleet up`
    with lab_fleet("e2e-fleet", *e2e_network("deploy")) as f:
        yield f, f.up(HOSTS)


@pytest.fixture(scope="session")
def served(fleet):
    f, _hosts = fleet
    with WheelhouseServer(f, fill_wheelhouse(VERSIONS)) as server:
        yield server.url


def test_deploy_verify_rerun_and_converge(fleet, served, tmp_path):
    f, hosts = fleet
    names = [h.name for h in hosts]
    inv = write_inventory(
        tmp_path / "inv.py", f.inventory_path, served, {n: {"tensorflow": "2.21"} for n in names}
    )

    # 1. a cold run installs TensorFlow 2.21.0 (CPU) in a venv on every host and verifies it
    results, rows, _ = run_deploy(inv, tmp_path / "r1.json")
    assert results["failed_hosts"] == [], rows
    assert results["totals"]["error"] == 0
    assert results["totals"]["success"] >= HOSTS
    assert sorted(r["host"] for r in rows) == sorted(names)
    for r in rows:
        assert r["verify"]["ok"], r
        assert r["verify"]["tensorflow"] == "2.21.0"
        assert r["verify"]["value"] == pytest.approx(r["verify"]["value"])  # a real number
        assert r["tensorflow"]["package"] == "tensorflow-cpu"
    # the fleet report's run facts and per-host env and duration
    for r in rows:
        assert r["status"] == "ok" and r["env"] == "/opt/tfprov/envs/tf221", r
        assert r["duration_s"] > 0 and r["ran_at"].endswith("Z") and r["pyinfra_version"]

    # the hosts' state, checked independently with testinfra over the same pinned SSH
    for h in hosts:
        ti = remote(f, h)
        conf = ti.file("/opt/tfprov/envs/tf221/pip.conf")
        assert conf.is_file and conf.contains("no-index = true")
        assert conf.contains(f"find-links = {served}")
        pkgs = {
            k.lower().replace("_", "-"): v
            for k, v in ti.pip.get_packages(pip_path="/opt/tfprov/envs/tf221/bin/pip").items()
        }
        assert pkgs["tensorflow-cpu"]["version"] == "2.21.0", sorted(pkgs)
        assert "tensorflow" not in pkgs and "tensorflow-gpu" not in pkgs

    # 2. a second run changes nothing anywhere, and verifies again (read-only)
    results, rows, _ = run_deploy(inv, tmp_path / "r2.json")
    assert results["totals"]["success"] == 0, results
    assert results["totals"]["error"] == 0 and results["failed_hosts"] == []
    assert all(r["verify"]["ok"] for r in rows)
    assert all(r["remote_commands"] and r["remote_commands"] < 20 for r in rows), rows

    # deploys/verify.py: verify only, no operation at all
    results, rows, _ = run_deploy(inv, tmp_path / "rv.json", deploy="deploys/verify.py")
    assert results["totals"]["success"] == 0 and results["totals"]["error"] == 0
    assert all(r["verify"]["ok"] and r["verify"]["tensorflow"] == "2.21.0" for r in rows)

    # 3. another version for one host: that host converges to it, the others stay
    inv = write_inventory(
        tmp_path / "inv2.py",
        f.inventory_path,
        served,
        {**{n: {"tensorflow": "2.21"} for n in names}, names[0]: {"tensorflow": "2.20"}},
    )
    run = deploy_run(inv, tmp_path / "r3.json")
    results, rows = run.results, run.rows
    assert results["failed_hosts"] == [] and results["totals"]["error"] == 0
    by = {r["host"]: r for r in rows}
    assert by[names[0]]["verify"]["tensorflow"] == "2.20.0"
    assert all(by[n]["verify"]["tensorflow"] == "2.21.0" for n in names[1:])
    changed = {h for op in results["operations"] for h in op["success"]}
    assert changed == {names[0]}
    # a mixed fleet: one pyinfra operation per step kind, its hosts the ones that ran it …
    ops = {}
    for op in results["operations"]:
        assert len(op["names"]) == 1, op
        ops[op["names"][0]] = op
    assert ops["tfprov: TensorFlow"]["success"] == [names[0]]
    assert ops["tfprov: TensorFlow"]["no_change"] == sorted(names[1:])
    assert ops["tfprov: venv"]["success"] == [names[0]]
    # … and each host's versions in its plan table, printed before the operations ran
    tables = dict(re.findall(r"^== (\S+): (.*?\n)\n", run.stderr, re.M | re.S))
    assert sorted(tables) == sorted(names)
    assert "tensorflow-cpu==2.20.0" in tables[names[0]] and "venv 'tf220'" in tables[names[0]]
    assert all("tensorflow-cpu==2.21.0" in tables[n] for n in names[1:])
    assert run.stderr.index(f"== {names[0]}: ") < run.stderr.index("--> Beginning operation run")


def test_refused_host_stops_alone_and_bad_data_stops_everything(fleet, served, tmp_path):
    f, hosts = fleet
    names = [h.name for h in hosts]
    # a host asking for a GPU it does not have is refused; the others still deploy
    inv = write_inventory(
        tmp_path / "inv.py",
        f.inventory_path,
        served,
        {
            **{n: {"tensorflow": "2.21"} for n in names},
            names[1]: {"tensorflow": "2.21", "gpu": "require"},
        },
    )
    res = run_pyinfra(inv, tmp_path / "r.json")
    out = res.stdout + res.stderr
    assert res.returncode == 1, out  # a host failed
    rows = json.loads((tmp_path / "r.json").read_text())
    by = {r["host"]: r for r in rows}
    assert "no NVIDIA GPU" in by[names[1]]["error"]
    assert by[names[1]]["failed_operation"] == "tfprov: no stack fits this host"
    assert all(by[n]["verify"]["ok"] for n in names if n != names[1])
    # pyinfra's own output for that host carries the resolver's explanation and alternatives
    assert (
        f"[{names[1]}] tfprov: no stack fits this host: gpu: require, but the host has no "
        "NVIDIA GPU\n"
    ) in out
    assert f"[{names[1]}] tfprov: alternatives:\n" in out
    assert f"[{names[1]}]     - with gpu: off: TF 2.21.0 CPU" in out
    assert "Traceback" not in out and "TypeError" not in out

    # a bad value in one host's data: one clear error naming host, field and value, nobody
    # touched (pyinfra has connected the hosts; no fact or operation ran)
    inv = write_inventory(
        tmp_path / "bad.py",
        f.inventory_path,
        served,
        {names[2]: {"tensorflow": "2.21", "gpu": "sometimes"}},
    )
    res = run_pyinfra(inv, tmp_path / "bad.json", "-v")
    out = res.stdout + res.stderr
    assert res.returncode == 2, out
    assert out.rstrip("\n").splitlines()[-1] == (
        f"--> pyinfra error: host {names[2]}: field 'gpu': Input should be 'auto', 'require' "
        "or 'off' (got 'sometimes')"
    )
    assert "Traceback" not in out and "Loaded fact" not in out
    assert not (tmp_path / "bad.json").exists()
