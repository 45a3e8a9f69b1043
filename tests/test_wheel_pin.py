"""A host's ``wheel_sha256`` pin against a wheelhouse's served ``<wheel>.sha256``, as a user
meets it: real ``pyinfra … deploys/gpu.py`` runs on simulated hosts (pyinfra's ``@fake``
connector, lab/fakehosts.py), nothing installed anywhere.

The wheelhouse holds a tampered wheel and a ``.sha256`` that matches it (whoever replaced
the wheel replaced its hash file too); the admin pinned the genuine hash.  The pinned host
is refused, naming both hashes, and fails alone; a host without a pin installs against the
served hash; a pin equal to the served hash is what pip checks.
"""

from __future__ import annotations

import hashlib
import json
import re

from lab.fakehosts import write_inventory
from tests.test_fleet_report import pyinfra, report_lines

WHEEL = "tensorflow-2.15.1+sse42.cpu-cp313-cp313-linux_x86_64.whl"
GENUINE = hashlib.sha256(b"the genuine wheel").hexdigest()


def test_a_pin_that_disagrees_with_the_served_hash_refuses_that_host_alone(tmp_path):
    wh = tmp_path / "wheelhouse"
    wh.mkdir()
    (wh / WHEEL).write_bytes(b"a tampered wheel")
    served = hashlib.sha256(b"a tampered wheel").hexdigest()
    (wh / f"{WHEEL}.sha256").write_text(f"{served}  {WHEEL}\n")
    # TF 2.15 has no official wheel for Python 3.13: the wheelhouse build is the plan
    data = {
        "tensorflow": "2.15",
        "python": "3.13",
        "allow_community_builds": True,
        "env_manager": "venv",
        "wheelhouse": str(wh),
    }
    inv = write_inventory(
        tmp_path / "inv.py",
        [
            {"name": "pinned", "data": {**data, "wheel_sha256": GENUINE}, "tensorflow": "2.15.1"},
            {"name": "served", "data": data, "tensorflow": "2.15.1"},
            {"name": "same", "data": {**data, "wheel_sha256": served}, "tensorflow": "2.15.1"},
        ],
    )
    res = pyinfra(inv, tmp_path / "r.json", "-y", "-vv")
    assert res.returncode == 1, res.stderr[-3000:]
    refusal = (
        f"{wh / WHEEL}: the host's wheel_sha256 pin is {GENUINE}, but the sha256 the "
        f"wheelhouse serves in {WHEEL}.sha256 is {served}; not installing it: check the "
        "wheel, then correct the pin or the served hash"
    )
    assert f"    [@fake/pinned] tfprov: the plan cannot be carried out: {refusal}\n" in res.stderr
    # nothing ran on the refused host; the others installed the wheel against its hash
    ran = [ln for ln in res.stderr.splitlines() if re.match(r"\[@fake/pinned\] +>>> ", ln)]
    assert ran and not [ln for ln in ran if "@@tfprov" not in ln], ran  # facts only
    checked = re.escape(f"printf '%s --hash=sha256:%s\\n' {wh / WHEEL} {served} >")
    assert re.search(rf"\[@fake/served\] +>>> {checked}", res.stderr)
    assert re.search(rf"\[@fake/same\] +>>> {checked}", res.stderr)

    lines = report_lines(res.stderr)
    assert (
        f"REFUSED: {refusal}; FAILED at operation 'tfprov: the plan cannot be carried out'"
        in (lines["@fake/pinned"])
    )
    assert "verify: ok: TF 2.15.1" in lines["@fake/served"]
    assert "verify: ok: TF 2.15.1" in lines["@fake/same"]
    rows = {r["host"]: r for r in json.loads((tmp_path / "r.json").read_text())}
    assert rows["@fake/pinned"]["status"] == "refused"
    assert rows["@fake/pinned"]["error"] == refusal
