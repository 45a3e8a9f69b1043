"""Deploy figures on the local fleet (needs root; builds/uses the cached fleet base).

    .venv/bin/python bench/deploy_bench.py

Prints, on 4 fresh hosts (lab/fleet.py) with CPU TensorFlow from a served wheelhouse:
  - cold-run wall time of deploys/gpu.py for 1 host, and for 3 hosts at once (ratio);
  - a converged re-run on the 3 hosts versus a bare pyinfra run of one trivial fact on
    the same hosts (ratio, same process, same fleet);
  - remote commands per host on the converged re-run (from the fleet report).
Figures are printed, not asserted.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.harness import (  # noqa: E402
    PYINFRA,
    ROOT,
    WheelhouseServer,
    fill_wheelhouse,
    lab_fleet,
    run_deploy,
    write_inventory,
)


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        lab_fleet("bench-fleet", "tfprovb0", "10.203.3.0/24") as fleet,
    ):
        tmp = Path(tmp)
        hosts = [h.name for h in fleet.up(4)]
        with WheelhouseServer(fleet, fill_wheelhouse(["2.21.0"])) as server:
            spec = {n: {"tensorflow": "2.21"} for n in hosts}
            one = write_inventory(
                tmp / "one.py", fleet.inventory_path, server.url, spec, only=hosts[:1]
            )
            three = write_inventory(
                tmp / "three.py", fleet.inventory_path, server.url, spec, only=hosts[1:]
            )
            _r, _rows, t_one = run_deploy(one, tmp / "r1.json")
            _r, _rows, t_three = run_deploy(three, tmp / "r3.json")
            res, rows, t_again = run_deploy(three, tmp / "r3b.json")
            t0 = time.perf_counter()
            subprocess.run(
                [str(PYINFRA), str(three), "fact", "server.Hostname", "-y"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
            t_fact = time.perf_counter() - t0
    print(f"cold deploy, 1 host:            {t_one:6.1f} s")
    print(f"cold deploy, 3 hosts at once:   {t_three:6.1f} s  (ratio 3/1: {t_three / t_one:.2f})")
    print(
        f"converged re-run, 3 hosts:      {t_again:6.1f} s  "
        f"(changes: {res['totals']['success']}, errors: {res['totals']['error']})"
    )
    print(
        f"bare pyinfra fact run, 3 hosts: {t_fact:6.1f} s  (re-run / bare: {t_again / t_fact:.2f})"
    )
    cmds = {r["host"]: r.get("remote_commands") for r in rows}
    print(f"remote commands per host on the converged re-run: {cmds}")


if __name__ == "__main__":
    main()
