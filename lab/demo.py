"""A lab on this machine: the local fleet, a wheelhouse served to it, and deploy runs.

Shared by the end-to-end tests, the deploy benchmark and the README's demo:

    python -m lab demo [--hosts 3] [--tensorflow 2.21] [--keep]

brings up the fleet (lab/fleet.py), fills a wheelhouse with CPU TensorFlow once
(pip download on the controller), serves it to the hosts over HTTP on the fleet bridge,
runs ``pyinfra <inventory> deploys/gpu.py`` and prints the fleet report, then takes the
fleet down (unless --keep).
"""

from __future__ import annotations

import argparse
import http.server
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


def fill_wheelhouse(versions) -> Path:
    """CPU TensorFlow of each version with every dependency, downloaded once (pip checks
    each file against PyPI's published hashes)."""
    wh = cache_dir() / "wheelhouse"
    wh.mkdir(exist_ok=True)
    for v in versions:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--only-binary=:all:",
                "--dest",
                str(wh),
                f"tensorflow-cpu=={v}",
            ],
            check=True,
            timeout=1800,
        )
    return wh


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


class WheelhouseServer:
    """The wheelhouse over HTTP on the controller's fleet address, open to the hosts only."""

    def __init__(self, fleet, directory: Path):
        self.fleet, self.directory = fleet, directory

    def __enter__(self):
        handler = lambda *a, **kw: _Quiet(*a, directory=str(self.directory), **kw)  # noqa: E731
        self.srv = http.server.ThreadingHTTPServer((self.fleet.gateway, 0), handler)
        self.fleet.allow_controller_port(self.srv.server_address[1])
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://{self.fleet.gateway}:{self.srv.server_address[1]}/"
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


def demo(n: int, tensorflow: str, keep: bool) -> int:
    from lab.fleet import Fleet

    fleet = Fleet()
    try:
        hosts = fleet.up(n)
        print(f"--> fleet up: {', '.join(f'{h.name} ({h.address})' for h in hosts)}")
        print("--> filling the wheelhouse (pip download, once per machine)")
        wh = fill_wheelhouse([f"{tensorflow}.*" if tensorflow.count(".") == 1 else tensorflow])
        with WheelhouseServer(fleet, wh) as server:
            inv = write_inventory(
                fleet.dir / "demo-inventory.py",
                fleet.inventory_path,
                server.url,
                {h.name: {"tensorflow": tensorflow} for h in hosts},
            )
            report = fleet.dir / "tfprov-report.json"
            print(f"--> pyinfra {inv} deploys/gpu.py")
            _r, rows, seconds = run_deploy(inv, report, json_output=False)
        print(f"--> deploy finished in {seconds:.0f} s; report: {report}")
        return 0 if rows and all(r.get("verify") and r["verify"].get("ok") for r in rows) else 1
    finally:
        if not keep:
            fleet.down()


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m lab")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="fleet up, deploy TensorFlow on it, report, fleet down")
    d.add_argument("--hosts", type=int, default=3)
    d.add_argument("--tensorflow", default="2.21")
    d.add_argument("--keep", action="store_true", help="leave the fleet up afterwards")
    args = ap.parse_args()
    return demo(args.hosts, args.tensorflow, args.keep)


if __name__ == "__main__":
    sys.exit(main())
