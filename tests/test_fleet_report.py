"""The fleet report, host names, operation names and the plan table, as a user meets them:
real `pyinfra … deploys/gpu.py` and `tfprov` runs on simulated hosts (pyinfra's @fake
connector, lab/fakehosts.py) and an unreachable loopback host; nothing is installed
anywhere and no traffic leaves loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from importlib.metadata import version

import tfprov
from lab.fakehosts import CAPTURED_HOSTNAME, closed_port, write_inventory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
TF_INSTALL = r"pip install -q .*tensorflow-cpu==2\.20\.0"
PIP_ERROR = "ERROR: No matching distribution found for tensorflow-cpu==2.20.0"


def pyinfra(inventory, report, *args, answer: str = ""):
    """`pyinfra INVENTORY deploys/gpu.py ARGS`; ``answer`` is typed at its prompt."""
    env = {**os.environ, "TFPROV_REPORT": str(report), "PYINFRA_PROGRESS": "off"}
    return subprocess.run(
        [os.path.join(BIN, "pyinfra"), str(inventory), "deploys/gpu.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        input=answer,
    )


def tfprov_cli(*args):
    return subprocess.run(
        [os.path.join(BIN, "tfprov"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def report_lines(stderr: str) -> dict[str, str]:
    """The printed fleet report: host → its line."""
    head = stderr.index("--> tfprov fleet report")
    body = stderr[head:].splitlines()[1:]
    return dict(line.strip().split(": ", 1) for line in body if not line.strip().startswith("("))


def test_every_host_gets_a_row_unreachable_and_failed_ones_too(tmp_path):
    port, port2 = closed_port(), closed_port()
    inv = write_inventory(
        tmp_path / "inv.py",
        [
            {"name": "good", "data": {"tensorflow": "2.21"}, "tensorflow": "2.21.0"},
            {
                "name": "bad",
                "data": {"tensorflow": "2.20"},
                "tensorflow": "2.20.0",
                "fail": {TF_INSTALL: PIP_ERROR},
            },
        ],
        [
            ("127.0.0.1", {"ssh_port": port, "ssh_connect_retries": 0}),
            ("down-2", {"ssh_hostname": "127.0.0.1", "ssh_port": port2, "ssh_connect_retries": 0}),
        ],
    )
    report = tmp_path / "report.json"
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    res = pyinfra(inv, report, "-y", "--json")
    t1 = datetime.now(timezone.utc)
    assert res.returncode == 1, res.stderr[-3000:]
    results = json.loads(res.stdout)["results"]
    assert sorted(results["failed_hosts"]) == ["127.0.0.1", "@fake/bad", "down-2"]
    # the good host went on: its TensorFlow was installed and verified
    ops = {o["names"][0]: o for o in results["operations"]}
    assert ops["tfprov: TensorFlow"]["success"] == ["@fake/good"]
    assert ops["tfprov: TensorFlow"]["error"] == ["@fake/bad"]
    assert ops["tfprov: verify TensorFlow"]["success"] == ["@fake/good"]

    # the printed report: one line per inventory host, under the run's facts
    assert re.search(
        r"--> tfprov fleet report \(ran at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, "
        rf"tfprov {re.escape(tfprov.__version__)}, pyinfra {re.escape(version('pyinfra'))}\)\n",
        res.stderr,
    )
    lines = report_lines(res.stderr)
    assert set(lines) == {"127.0.0.1", "down-2", "@fake/good", "@fake/bad"}
    assert lines["127.0.0.1"] == (
        f"NOT CONNECTED: Could not connect ([Errno None] Unable to connect to port {port} on "
        "127.0.0.1)"
    )
    assert lines["down-2"] == (
        f"NOT CONNECTED: Could not connect ([Errno None] Unable to connect to port {port2} on "
        "127.0.0.1)"
    )
    assert re.fullmatch(
        r"debian 12; CPU AVX-512; GPUs: no NVIDIA GPU; driver: no driver; CUDA: 13\.0\.88; "
        r"TF 2\.20\.0 CPU \(tensorflow-cpu\); env /opt/tfprov/envs/tf220; "
        r"FAILED at operation 'tfprov: TensorFlow'; \d+\.\d s",
        lines["@fake/bad"],
    )
    assert "verify: not run" not in lines["@fake/bad"]
    assert re.search(
        r"; env /opt/tfprov/envs/tf221; verify: ok: TF 2\.21\.0, 0 GPU\(s\), reduce_sum on CPU; "
        r"\d+\.\d s$",
        lines["@fake/good"],
    )
    # pyinfra printed the same connection error when it tried
    assert f"Unable to connect to port {port} on 127.0.0.1" in res.stderr.split("--> Preparing")[0]

    # the JSON: the same rows, with the existing keys and the new ones
    rows = {r["host"]: r for r in json.loads(report.read_text())}
    assert set(rows) == set(lines)
    for name, r in rows.items():
        assert r["line"] == lines[name]
        assert {
            "host",
            "profile",
            "tensorflow",
            "cuda",
            "cudnn",
            "driver",
            "ok",
            "error",
            "verify",
            "line",
            "remote_commands",
        } <= set(r)
        ran_at = datetime.strptime(r["ran_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert t0 <= ran_at <= t1
        assert r["tfprov_version"] == tfprov.__version__
        assert r["pyinfra_version"] == version("pyinfra")
    down = rows["127.0.0.1"]
    assert down["status"] == "not connected" and down["ok"] is False
    assert down["connect_error"].endswith(f"Unable to connect to port {port} on 127.0.0.1)")
    assert down["env"] is None and down["duration_s"] is None and down["profile"] is None
    bad = rows["@fake/bad"]
    assert bad["status"] == "failed" and bad["failed_operation"] == "tfprov: TensorFlow"
    assert bad["verify"] is None and bad["env"] == "/opt/tfprov/envs/tf220"
    good = rows["@fake/good"]
    assert good["status"] == "ok" and good["failed_operation"] is None
    assert good["verify"]["ok"] and good["verify"]["tensorflow"] == "2.21.0"
    assert good["env"] == "/opt/tfprov/envs/tf221"
    assert 0 <= good["duration_s"] < (t1 - t0).total_seconds() + 1
    assert good["remote_commands"] > 0


def test_a_refused_host_says_failed_at_its_refusal(tmp_path):
    inv = write_inventory(
        tmp_path / "inv.py",
        [{"name": "cpu", "data": {"gpu": "require"}, "tensorflow": "2.21.0"}],
    )
    res = pyinfra(inv, tmp_path / "r.json", "-y")
    assert res.returncode == 1
    line = report_lines(res.stderr)["@fake/cpu"]
    assert "REFUSED: gpu: require, but the host has no NVIDIA GPU" in line
    assert "FAILED at operation 'tfprov: no stack fits this host'" in line
    [row] = json.loads((tmp_path / "r.json").read_text())
    assert row["status"] == "refused"
    assert row["failed_operation"] == "tfprov: no stack fits this host"


def test_mixed_fleet_operations_are_named_by_step_kind_and_plans_shown_first(tmp_path):
    """A venv host on 2.21, another on 2.20 and a conda host on 2.20: pyinfra groups each
    step kind as one operation holding exactly the hosts that run it, and each host's
    plan table (what `tfprov plan` prints) comes before pyinfra's change list and prompt."""
    inv = write_inventory(
        tmp_path / "inv.py",
        [
            {"name": "a", "data": {"tensorflow": "2.21"}, "tensorflow": "2.21.0"},
            {"name": "b", "data": {"tensorflow": "2.20"}, "tensorflow": "2.20.0"},
            {
                "name": "c",
                "data": {"tensorflow": "2.20", "env_manager": "conda"},
                "tensorflow": "2.20.0",
            },
        ],
    )
    res = pyinfra(inv, tmp_path / "r.json", "-y", "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    ops = json.loads(res.stdout)["results"]["operations"]
    by_name = {}
    for op in ops:
        assert len(op["names"]) == 1, op  # one name per pyinfra operation
        by_name[op["names"][0]] = sorted(op["success"])
    assert by_name == {
        "tfprov: venv": ["@fake/a", "@fake/b"],
        "tfprov: TensorFlow": ["@fake/a", "@fake/b"],
        "tfprov: Miniforge": ["@fake/c"],
        "tfprov: .condarc": ["@fake/c"],
        "tfprov: conda env": ["@fake/c"],
        "tfprov: verify TensorFlow": ["@fake/a", "@fake/b", "@fake/c"],
    }

    # without -y: the plan tables, then pyinfra's detected changes and its prompt
    plan = tfprov_cli("plan", str(inv))
    assert plan.returncode == 0, plan.stderr
    tables = plan.stdout.strip().split("\n\n")
    assert [t.splitlines()[0].split(":")[0] for t in tables] == [
        "== @fake/a",
        "== @fake/b",
        "== @fake/c",
    ]
    res = pyinfra(inv, tmp_path / "r2.json", answer="no\n")  # the admin declines
    changes = res.stderr.index("--> Detected changes:")
    for table in tables:
        assert 0 <= res.stderr.index(table) < changes, table
    assert "tensorflow-cpu==2.21.0" in tables[0] and "venv 'tf221'" in tables[0]
    assert "tensorflow-cpu==2.20.0" in tables[1] and "venv 'tf220'" in tables[1]
    assert "conda 'tf220'" in tables[2]
    assert "Press enter to execute...    Unexpected user input: no" in res.stderr[changes:]
    assert res.returncode == 0 and "--> Beginning operation run" not in res.stderr


def test_plan_and_probe_name_hosts_by_their_inventory_names(tmp_path):
    inv = write_inventory(
        tmp_path / "inv.py", [{"name": "gpu-07", "data": {}, "tensorflow": "2.21.0"}]
    )
    res = tfprov_cli("plan", str(inv), "--json")
    assert res.returncode == 0, res.stderr
    [plan] = json.loads(res.stdout)
    assert plan["host"] == "@fake/gpu-07"
    res = tfprov_cli("plan", str(inv))
    assert res.stdout.startswith("== @fake/gpu-07: debian 12 x86_64; no NVIDIA GPU; no driver\n")
    out = tmp_path / "profiles"
    res = tfprov_cli("probe", str(inv), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("@fake/gpu-07: debian 12; CPU AVX-512")
    [path] = out.iterdir()
    assert path.name == "@fake_gpu-07.json"
    # the remote hostname stays what it is: a profile field
    assert json.loads(path.read_text())["hostname"] == CAPTURED_HOSTNAME
    # planning that saved profile has no inventory: the profile's hostname names it
    res = tfprov_cli("plan", "--profile", str(path), "--json")
    assert json.loads(res.stdout)[0]["host"] == CAPTURED_HOSTNAME


def test_every_step_has_a_step_kind_name():
    """No operation name carries a version or a path: every step of every example
    profile's plan is named by one of STEP_KINDS."""
    import glob

    from tfprov.apply.steps import STEP_KINDS, RefusedError, steps_for
    from tfprov.cli import load_profile
    from tfprov.model.hostdata import HostSettings
    from tfprov.model.sources import DEFAULTS, sources_for
    from tfprov.model.spec import StackSpec
    from tfprov.resolve import resolve

    seen = set()
    data = {
        "wheel_sha256": "0" * 64,
        "win_miniforge_url": "https://x/m.exe",
        "win_miniforge_sha256": "0" * 64,
    }
    for path in sorted(glob.glob(os.path.join(ROOT, "inventories", "profiles", "*.json"))):
        profile = load_profile(path)
        for spec in (StackSpec(), StackSpec(env_manager="venv"), StackSpec(tensorflow="2.13")):
            plan = resolve(profile, spec)
            if not plan.ok:
                continue
            try:
                steps = steps_for(
                    plan,
                    {**DEFAULTS, **sources_for(data)},
                    HostSettings(wheel_sha256=data["wheel_sha256"]),
                )
            except RefusedError:
                continue
            for s in steps:
                assert s.name in STEP_KINDS, s.name
                seen.add(s.name)
    assert len(seen) >= 4, seen
    assert not any(re.search(r"\d|/|\\", name) for name in STEP_KINDS)


def test_a_host_failed_while_its_operations_were_prepared(tmp_path):
    """A fact an operation needs fails in the deploy phase: pyinfra fails the host before
    anything runs on it; the report says so instead of "verify: not run"."""
    inv = write_inventory(
        tmp_path / "inv.py",
        [
            {"name": "ok", "data": {}, "tensorflow": "2.21.0"},
            {
                "name": "noenv",
                "data": {},
                "tensorflow": "2.21.0",
                # the env fact (read when the TensorFlow step is queued) fails; the probe does not
                "fail": {"@@tfprov-env": "sh: 1: cannot open /opt/tfprov/envs: Permission denied"},
            },
        ],
    )
    res = pyinfra(inv, tmp_path / "r.json", "-y")
    assert res.returncode == 1, res.stderr[-3000:]
    lines = report_lines(res.stderr)
    assert re.search(
        r"; env /opt/tfprov/envs/tf221; FAILED before its operations ran \(pyinfra's error is "
        r"above\); \d+\.\d s$",
        lines["@fake/noenv"],
    )
    assert "verify: ok: TF 2.21.0" in lines["@fake/ok"]
    rows = {r["host"]: r for r in json.loads((tmp_path / "r.json").read_text())}
    assert rows["@fake/noenv"]["status"] == "failed"
    assert rows["@fake/noenv"]["failed_operation"] is None


def test_an_unwritable_report_path_is_one_line_not_a_traceback(tmp_path):
    inv = write_inventory(tmp_path / "inv.py", [{"name": "a", "data": {}, "tensorflow": "2.21.0"}])
    res = pyinfra(inv, tmp_path / "missing" / "r.json", "-y")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "    @fake/a: debian 12; " in res.stderr  # the report is printed all the same
    assert (
        f"    tfprov: error: cannot write the fleet report to {tmp_path / 'missing' / 'r.json'}: "
        "No such file or directory\n"
    ) in res.stderr
    assert "Traceback" not in res.stderr
