"""``python -m lab demo``: the README's main job.

    python -m lab demo [--hosts 3] [--tensorflow 2.21] [--keep]

brings up the local fleet (lab/fleet.py), fills a wheelhouse with CPU TensorFlow once,
serves it to the hosts over HTTP on the fleet bridge, runs ``pyinfra <inventory>
deploys/gpu.py`` and prints the fleet report, then takes the fleet down (unless --keep).
``TFPROV_E2E_BRIDGE`` / ``TFPROV_E2E_SUBNET`` (or ``--bridge`` / ``--subnet``) put the
fleet on another bridge and subnet, in a directory of its own.
"""

from __future__ import annotations

import argparse
import os
import sys

from lab.harness import WheelhouseServer, fill_wheelhouse, lab_fleet, run_deploy, write_inventory


def demo(n: int, tensorflow: str, keep: bool, bridge: str | None, subnet: str | None) -> int:
    from lab.fleet import DEFAULT_BRIDGE, DEFAULT_SUBNET, Fleet

    if bridge or subnet:
        fleet = lab_fleet("demo-fleet", bridge or DEFAULT_BRIDGE, subnet or DEFAULT_SUBNET)
    else:
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
    d.add_argument("--bridge", default=os.environ.get("TFPROV_E2E_BRIDGE"))
    d.add_argument("--subnet", default=os.environ.get("TFPROV_E2E_SUBNET"))
    args = ap.parse_args()
    return demo(args.hosts, args.tensorflow, args.keep, args.bridge, args.subnet)


if __name__ == "__main__":
    sys.exit(main())
