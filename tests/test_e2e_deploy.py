"""End to end on real SSH hosts: `pyinfra <fleet> deploys/gpu.py` installs a real CPU
TensorFlow in a venv on each host of a local fleet (network namespaces with their own
addresses and sshd, see tests/fleet.py), verifies it, changes nothing on a second run,
and converges to another TensorFlow version when the spec changes.

TensorFlow comes from a wheelhouse the controller fills once per run (pip download) and
serves over HTTP on the fleet bridge, as a lab's artifact server would.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.fleet

ROOT = Path(__file__).resolve().parent.parent
PYINFRA = Path(sys.executable).with_name("pyinfra")
VERSIONS = ("2.21.0", "2.20.0")
HOSTS = 3


def _cache_dir() -> Path:
    """Kept out of the repository (and between runs on one machine)."""
    d = Path(os.environ.get("TFPROV_TEST_CACHE", "/var/tmp/tfprov-cache"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """tensorflow-cpu of both versions and every dependency, downloaded once."""
    wh = _cache_dir() / "wheelhouse"
    wh.mkdir(exist_ok=True)
    for v in VERSIONS:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:",
             "--dest", str(wh), f"tensorflow-cpu=={v}"],
            check=True, timeout=1800,
        )
    return wh


@pytest.fixture(scope="session")
def fleet():
    from tests.fleet import DEFAULT_DIR, Fleet

    # its own directory and bridge, sharing the cached base image with `tests.fleet up`
    with Fleet(_cache_dir() / "e2e-fleet", base_dir=DEFAULT_DIR / "base", bridge="tfprove0",
               subnet="10.203.2.0/24") as f:
        hosts = f.up(HOSTS)
        yield f, hosts


@pytest.fixture(scope="session")
def served(fleet, wheelhouse):
    """The wheelhouse over HTTP on the controller's fleet address, for the hosts only."""
    f, hosts = fleet
    handler = lambda *a, **kw: _Quiet(*a, directory=str(wheelhouse), **kw)  # noqa: E731
    srv = http.server.ThreadingHTTPServer((f.gateway, 0), handler)
    f.allow_controller_port(srv.server_address[1])  # hosts reach only this port of ours
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://{f.gateway}:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def write_inventory(path: Path, fleet_inventory: Path, url: str, per_host: dict) -> Path:
    """An inventory that takes the fleet's hosts and adds tfprov's data to each."""
    path.write_text(
        "import runpy\n"
        f"_fleet = runpy.run_path({str(fleet_inventory)!r})\n"
        f"_extra = {per_host!r}\n"
        "_common = {'pip_find_links': %r, 'pip_no_index': True}\n" % url
        + "fleet = [(name, {**data, **_common, **_extra.get(name, {})})\n"
        "         for name, data in _fleet['fleet']]\n"
    )
    return path


def deploy(inventory: Path, report: Path) -> tuple[dict, list[dict]]:
    env = {**os.environ, "TFPROV_REPORT": str(report)}
    res = subprocess.run(
        [str(PYINFRA), str(inventory), "deploys/gpu.py", "-y", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=3600, env=env,
    )
    assert res.stdout.strip(), res.stderr[-3000:]
    out = json.loads(res.stdout)
    rows = json.loads(report.read_text())
    return out["results"], rows


def test_deploy_verify_rerun_and_converge(fleet, served, tmp_path):
    f, hosts = fleet
    names = [h.name for h in hosts]
    inv = write_inventory(tmp_path / "inv.py", f.inventory_path, served,
                          {n: {"tensorflow": "2.21"} for n in names})

    # 1. a cold run installs TensorFlow 2.21.0 (CPU) in a venv on every host and verifies it
    results, rows = deploy(inv, tmp_path / "r1.json")
    assert results["failed_hosts"] == [], rows
    assert results["totals"]["error"] == 0
    assert results["totals"]["success"] >= HOSTS
    for r in rows:
        assert r["verify"]["ok"], r
        assert r["verify"]["tensorflow"] == "2.21.0"
        assert r["tensorflow"]["package"] == "tensorflow-cpu"

    # 2. a second run changes nothing anywhere, and verifies again (read-only)
    results, rows = deploy(inv, tmp_path / "r2.json")
    assert results["totals"]["success"] == 0, results
    assert results["totals"]["error"] == 0 and results["failed_hosts"] == []
    assert all(r["verify"]["ok"] for r in rows)

    # 3. another version for one host: that host converges to it, the others stay
    inv = write_inventory(tmp_path / "inv2.py", f.inventory_path, served,
                          {**{n: {"tensorflow": "2.21"} for n in names},
                           names[0]: {"tensorflow": "2.20"}})
    results, rows = deploy(inv, tmp_path / "r3.json")
    assert results["failed_hosts"] == [] and results["totals"]["error"] == 0
    by = {r["host"]: r for r in rows}
    assert by[names[0]]["verify"]["tensorflow"] == "2.20.0"
    assert all(by[n]["verify"]["tensorflow"] == "2.21.0" for n in names[1:])
    changed = {h for op in results["operations"] for h in op["success"]}
    assert changed == {names[0]}
