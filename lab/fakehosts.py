"""Simulated hosts for real `pyinfra` / `tfprov` runs that touch no machine.

pyinfra's ``@fake`` connector (pyinfra ≥ 3.10) answers every command from the host's
``fake_responses`` data and runs nothing.  A fake host here answers tfprov's one-command
probe with a real capture (the build machine's, from
``tests/facts/profile.HostProbe/build-machine-no-gpu.yaml``, whose hostname is ``vm``),
``uname -m`` with ``x86_64``, and tfprov's verify check with the line the check prints
for the TensorFlow version given; every other command succeeds with no output (so every
operation "changes" the host).  ``fail`` maps a regex to an error: a command matching it
fails with that stderr.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "tests" / "facts" / "profile.HostProbe" / "build-machine-no-gpu.yaml"
CAPTURED_HOSTNAME = "vm"


def verify_lines(tensorflow: str) -> list[str]:
    """What tfprov's verify check (tfprov/verify.py SCRIPT) prints on a CPU-only host."""
    out = {
        "ok": True,
        "python": "3.13.0",
        "tensorflow": tensorflow,
        "import_seconds": 2.1,
        "gpus": [],
        "built_with_cuda": False,
        "value": -312.5,
        "device": "/job:localhost/replica:0/task:0/device:CPU:0",
        "op_seconds": 0.012,
    }
    return ["@@tfprov-verify " + json.dumps(out), "@@tfprov-exit 0"]


def fake_host(name: str, data: dict, tensorflow: str, fail: dict | None = None):
    """An inventory entry ``("@fake/NAME", data)`` answering as described above."""
    responses: dict = {
        re.compile(p): {"success": False, "stderr": e} for p, e in (fail or {}).items()
    }
    responses["@@tfprov-section hostname"] = yaml.safe_load(CAPTURE.read_text())["output"]
    responses["uname -m"] = "x86_64"
    responses["@@tfprov-verify"] = verify_lines(tensorflow)
    return (
        f"@fake/{name}",
        {"fake_delay": 0, "fake_delay_jitter": 0, **data, "fake_responses": responses},
    )


def closed_port() -> int:
    """A loopback port nothing listens on (connecting is refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_inventory(path: Path, fakes: list[dict], real: list[tuple] = ()) -> Path:
    """An inventory file: ``fake_host(**f)`` for each of ``fakes``, then ``real`` hosts
    as (name, data)."""
    path.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from lab.fakehosts import fake_host\n"
        f"hosts = [fake_host(**f) for f in {fakes!r}] + {list(real)!r}\n"
    )
    return path
