"""The deploy harness that the end-to-end tests, the deploy benchmark and the README demo
share: a local fleet on its own network, a wheelhouse filled once (pip download on the
controller) and served to the hosts over HTTP on the fleet bridge, inventories that add
tfprov's data to the fleet's hosts, ``pyinfra … deploys/gpu.py`` runs with their fleet
report, and testinfra hosts to check the result independently.
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYINFRA = Path(sys.executable).with_name("pyinfra")


def cache_dir() -> Path:
    """Kept out of the repository (and between runs on one machine)."""
    d = Path(os.environ.get("TFPROV_TEST_CACHE", "/var/tmp/tfprov-cache"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def download_wheels(requirements, dest: Path, deps: bool = True, timeout: int = 1800) -> Path:
    """Wheels of ``requirements`` (with their dependencies unless ``deps`` is false) into
    ``dest``; pip checks each file against PyPI's published hashes and skips those there."""
    dest.mkdir(parents=True, exist_ok=True)
    for req in requirements:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--only-binary=:all:",
                *([] if deps else ["--no-deps"]),
                "--dest",
                str(dest),
                req,
            ],
            check=True,
            timeout=timeout,
        )
    return dest


def fill_wheelhouse(versions) -> Path:
    """CPU TensorFlow of each version with every dependency, downloaded once."""
    return download_wheels([f"tensorflow-cpu=={v}" for v in versions], cache_dir() / "wheelhouse")


# the networks of the fleets the end-to-end tests bring up, when TFPROV_E2E_BRIDGE and
# TFPROV_E2E_SUBNET are not set; with them, each role takes its own quarter of that subnet
E2E_NETWORKS = {
    "deploy": ("tfprove0", "10.203.2.0/24"),
    "repair": ("tfprovd0", "10.203.13.0/24"),
    "lock": ("tfprovl0", "10.203.14.0/24"),
    "chaos": ("tfprovc0", "10.203.15.0/24"),
}


def e2e_network(role: str) -> tuple[str, str]:
    """(bridge, subnet) of an end-to-end fleet (``role``: a key of E2E_NETWORKS), so that
    checkouts side by side use their own (``TFPROV_E2E_BRIDGE`` / ``TFPROV_E2E_SUBNET``)."""
    bridge, subnet = os.environ.get("TFPROV_E2E_BRIDGE"), os.environ.get("TFPROV_E2E_SUBNET")
    if not (bridge and subnet):
        return E2E_NETWORKS[role]
    halves = list(ipaddress.ip_network(subnet).subnets(prefixlen_diff=2))
    index = list(E2E_NETWORKS).index(role)
    return (bridge if index == 0 else f"{bridge[:9]}{role[0]}"), str(halves[index])


def lab_fleet(name: str, bridge: str, subnet: str):
    """A fleet of its own (directory and network) sharing the cached base image with
    ``python -m lab.fleet up``."""
    from lab.fleet import DEFAULT_DIR, Fleet

    return Fleet(
        cache_dir() / f"{name}-{bridge}",
        base_dir=DEFAULT_DIR / "base",
        bridge=bridge,
        subnet=subnet,
    )


def remote(fleet, host):
    """A testinfra host over OpenSSH with the fleet's key and pinned known_hosts."""
    import testinfra

    cfg = fleet.dir / "ssh_config"
    cfg.write_text(
        "Host *\n  User root\n"
        f"  IdentityFile {fleet.key_path}\n  UserKnownHostsFile {fleet.known_hosts_path}\n"
        "  StrictHostKeyChecking yes\n  IdentitiesOnly yes\n"
    )
    return testinfra.get_host(f"ssh://{host.address}", ssh_config=str(cfg))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


class WheelhouseServer:
    """A directory over HTTP: on the controller's fleet address, open to the fleet's hosts
    only, or (``fleet`` None) on the loopback address."""

    def __init__(self, fleet, directory: Path):
        self.fleet, self.directory = fleet, directory

    def __enter__(self):
        handler = lambda *a, **kw: _Quiet(*a, directory=str(self.directory), **kw)  # noqa: E731
        address = self.fleet.gateway if self.fleet else "127.0.0.1"
        self.srv = http.server.ThreadingHTTPServer((address, 0), handler)
        if self.fleet:
            self.fleet.allow_controller_port(self.srv.server_address[1])
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://{address}:{self.srv.server_address[1]}/"
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()


def write_inventory(path: Path, fleet_inventory: Path, url: str, per_host: dict, only=None) -> Path:
    """An inventory that takes the fleet's hosts (or ``only`` those) and adds tfprov's
    data to each."""
    path.write_text(
        "import runpy\n"
        f"_fleet = runpy.run_path({str(fleet_inventory)!r})\n"
        f"_extra = {per_host!r}\n"
        f"_only = {list(only) if only else None!r}\n"
        "_common = {'pip_find_links': %r, 'pip_no_index': True}\n"
        % url
        + "fleet = [(name, {**data, **_common, **_extra.get(name, {})})\n"
        "         for name, data in _fleet['fleet'] if _only is None or name in _only]\n"
    )
    return path


def run_pyinfra(
    inventory: Path, report: Path, *extra: str, deploy: str = "deploys/gpu.py", capture: bool = True
) -> subprocess.CompletedProcess:
    """``pyinfra -y INVENTORY DEPLOY …`` with the report at ``report``."""
    env = {**os.environ, "TFPROV_REPORT": str(report)}
    cmd = [str(PYINFRA), str(inventory), deploy, "-y", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=capture, text=True, timeout=3600, env=env)


def run_deploy(
    inventory: Path,
    report: Path,
    *extra: str,
    deploy: str = "deploys/gpu.py",
    json_output: bool = True,
):
    """Run the deploy; returns (pyinfra's JSON results or None, report rows, seconds)."""
    run = deploy_run(inventory, report, *extra, deploy=deploy, json_output=json_output)
    return run.results, run.rows, run.seconds


@dataclass
class DeployRun:
    results: dict | None  # pyinfra's JSON results (with json_output)
    rows: list  # the fleet report's rows
    seconds: float
    stderr: str | None  # what pyinfra and tfprov printed (with json_output)


def deploy_run(
    inventory: Path,
    report: Path,
    *extra: str,
    deploy: str = "deploys/gpu.py",
    json_output: bool = True,
) -> DeployRun:
    """:func:`run_deploy`, keeping what the run printed."""
    t0 = time.perf_counter()
    res = run_pyinfra(
        inventory,
        report,
        *extra,
        *(["--json"] if json_output else []),
        deploy=deploy,
        capture=json_output,
    )
    seconds = time.perf_counter() - t0
    results = None
    if json_output:
        if not res.stdout.strip():
            raise RuntimeError(f"pyinfra printed no JSON:\n{res.stderr[-3000:]}")
        results = json.loads(res.stdout)["results"]
    rows = json.loads(report.read_text()) if report.exists() else []
    return DeployRun(results, rows, seconds, res.stderr)
