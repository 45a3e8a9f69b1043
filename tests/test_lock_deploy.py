"""``requirements_lock`` wired through the deploy (issue 10, one reproducible env per spec):
the controller resolves the planned TensorFlow once per lock key with uv from the host's
own sources (a find-links dir of tiny real wheels here, ``--no-index``), every host with
that key gets the same hashed lock, and pip installs exactly it with ``--require-hashes``.
Real ``pyinfra … deploys/gpu.py`` runs on simulated hosts (``@fake``), nothing installed.
"""

from __future__ import annotations

import hashlib
import json
import re

from lab.fakehosts import write_inventory
from tests.test_fleet_report import pyinfra, report_lines
from tests.test_lockfile import _tiny_wheel
from tests.test_resolver import host
from tfprov.apply import lockfile
from tfprov.apply.steps import steps_for
from tfprov.model.hostdata import HostSettings
from tfprov.model.sources import DEFAULTS
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve


def _wheelhouse(tmp_path, package="tensorflow-cpu", version="2.21.0"):
    wh = tmp_path / "wh"
    wh.mkdir()
    tf = _tiny_wheel(wh, package.replace("-", "_"), version, "T = 1\n", requires="tinydep>=1")
    dep = _tiny_wheel(wh, "tinydep", "1.0", "X = 1\n")
    return wh, tf, dep


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_resolve_gives_every_host_of_a_key_the_same_lock_and_uv_runs_once(tmp_path, monkeypatch):
    wh, tf, dep = _wheelhouse(tmp_path)
    monkeypatch.setenv("TFPROV_CACHE_DIR", str(tmp_path / "cache"))
    src = dict(DEFAULTS, pip_find_links=str(wh), pip_no_index=True)
    plan = resolve(host(), StackSpec())
    assert (plan.tensorflow.package, plan.tensorflow.version) == ("tensorflow-cpu", "2.21.0")
    step = steps_for(plan, src, HostSettings(requirements_lock="resolve"))[-1]
    pins = lockfile.parse_lock(step.kwargs["lock"])
    assert pins == {"tensorflow-cpu": ("2.21.0", (_sha(tf),)), "tinydep": ("1.0", (_sha(dep),))}
    assert step.kwargs["lock_sha256"] == lockfile.lock_sha256(step.kwargs["lock"])

    def no_uv(*a, **k):
        raise AssertionError("uv ran again for a cached key")

    monkeypatch.setattr(lockfile.subprocess, "run", no_uv)
    again = steps_for(plan, src, HostSettings(requirements_lock="resolve"))[-1]
    assert again.kwargs["lock"] == step.kwargs["lock"]
    # no lock asked for: the install is as before (no lock kwargs)
    plain = steps_for(plan, src, HostSettings())[-1]
    assert "lock" not in plain.kwargs and "lock_sha256" not in plain.kwargs


def test_fleet_installs_one_hashed_lock_and_bad_locks_refuse_their_host_alone(
    tmp_path, monkeypatch
):
    wh, tf, dep = _wheelhouse(tmp_path)
    monkeypatch.setenv("TFPROV_CACHE_DIR", str(tmp_path / "cache"))
    unhashed = tmp_path / "unhashed.txt"
    unhashed.write_text("tensorflow-cpu==2.21.0\n")
    src = {"pip_find_links": str(wh), "pip_no_index": True}
    inv = write_inventory(
        tmp_path / "inv.py",
        [
            {"name": "a", "data": {**src, "requirements_lock": "resolve"}, "tensorflow": "2.21.0"},
            {"name": "b", "data": {**src, "requirements_lock": "resolve"}, "tensorflow": "2.21.0"},
            {
                "name": "nohash",
                "data": {**src, "requirements_lock": str(unhashed)},
                "tensorflow": "2.21.0",
            },
            {
                "name": "gone",
                "data": {"pip_no_index": True, "requirements_lock": "resolve"},
                "tensorflow": "2.21.0",
            },
        ],
    )
    res = pyinfra(inv, tmp_path / "r.json", "-y", "-vv")
    assert res.returncode == 1, res.stderr[-3000:]
    err = res.stderr
    for name in ("a", "b"):
        ran = [ln for ln in err.splitlines() if re.match(rf"\[@fake/{name}\] +>>> ", ln)]
        assert any(
            "--require-hashes --no-deps -r /opt/tfprov/envs/tf221/tfprov-lock.txt" in ln
            for ln in ran
        ), ran
    assert err.count(f"--hash=sha256:{_sha(dep)}") >= 2  # one lock, on both hosts
    bad = f"requirements_lock {unhashed}: lock pin tensorflow-cpu==2.21.0 has no --hash=sha256"
    said = r"    \[@fake/{}\] +tfprov: the plan cannot be carried out: {}\n"
    assert re.search(said.format("nohash", re.escape(bad)), err)
    none = (
        "requirements_lock resolve: pip_no_index is set with no pip_find_links/wheelhouse: "
        "nothing to resolve the lock from; set requirements_lock to a lock file"
    )
    assert re.search(said.format("gone", re.escape(none)), err)
    lines = report_lines(err)
    assert f"REFUSED: {bad};" in lines["@fake/nohash"]
    rows = {r["host"]: r for r in json.loads((tmp_path / "r.json").read_text())}
    assert rows["@fake/gone"]["status"] == "refused"
    assert rows["@fake/a"]["status"] != "refused"
