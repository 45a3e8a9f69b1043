"""The fleet report of a deploy: one row for every host the pyinfra run was given.

A row is filled while the deploy file runs on the host (profile, plan, verify) and
completed from pyinfra's state at the end: a host that never connected gets its
connection error, a host pyinfra failed gets the operation that failed.  Every row also
says when the run started, tfprov's and pyinfra's versions, the env path and how long
the host took (first tfprov command to its last operation).

The JSON is a list of rows; the printed report is one line per host.  The run's rows
live here (:data:`ROWS`); :func:`start_run` arranges for :func:`write_report` to print
and write them (``$TFPROV_REPORT`` or ``./tfprov-report.json``) when the run ends.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import version

from tfprov import __version__, verify
from tfprov.model.redact import redact

ROWS: dict[str, dict] = {}  # host name -> its row, filled while the deploy file runs
COMMANDS: dict[str, int] = {}  # remote commands run per host in this pyinfra run
_RUN: dict = {}  # the pyinfra state of this run and when it started
_STARTED: dict[str, float] = {}  # host name -> when the deploy file began on it
_LAST: dict[str, float] = {}  # host name -> when its last tfprov command or operation ended


def new_row(host_name: str, profile_line: str | None, plan) -> dict:
    ok = bool(plan and plan.ok)
    return {
        "host": host_name,
        "status": None,
        "profile": profile_line,
        "tensorflow": plan.tensorflow.model_dump() if ok else None,
        "cuda": plan.cuda.version if ok else None,
        "cudnn": plan.cudnn.version if ok else None,
        "driver": plan.driver.model_dump() if ok else None,
        "ok": ok,
        "error": plan.error if plan and not plan.ok else None,
        "env": None,
        "verify": None,
        "connect_error": None,
        "failed_operation": None,
        "duration_s": None,
        "line": "",
    }


def line(row: dict) -> str:
    if row.get("connect_error"):
        return f"NOT CONNECTED: {row['connect_error']}"
    tf = row["tensorflow"]
    parts = [row["profile"] or "not probed"]
    if tf:
        parts.append(f"TF {tf['version']} {tf['variant'].upper()} ({tf['package']})")
        if tf["variant"] == "gpu":
            parts.append(f"plan: CUDA {row['cuda'] or '-'}, cuDNN {row['cudnn'] or '-'}")
    if row.get("env"):
        parts.append(f"env {row['env']}")
    if row["error"]:
        parts.append(f"REFUSED: {row['error']}")
    v = row["verify"]
    failed = row.get("failed_operation")
    if v:
        parts.append("verify: " + verify.summary(v))
    elif failed:
        parts.append(f"FAILED at operation '{failed}'")
    elif row.get("status") == "failed":
        parts.append("FAILED before its operations ran (pyinfra's error is above)")
    else:
        parts.append("verify: not run")
    if row.get("duration_s") is not None:
        parts.append(f"{row['duration_s']:.1f} s")
    return "; ".join(parts)


def host_started(host_name: str) -> None:
    now = time.monotonic()
    _STARTED.setdefault(host_name, now)
    _LAST[host_name] = now


def host_touched(host_name: str) -> None:
    _LAST[host_name] = time.monotonic()


def track_operations(state) -> None:
    """Note when each host's operations end (pyinfra's callbacks), for ``duration_s``."""
    from pyinfra.api.state import BaseStateCallback

    class _Clock(BaseStateCallback):
        @staticmethod
        def operation_host_success(state, host, op_hash, retry_count=0):
            host_touched(host.name)

        @staticmethod
        def operation_host_error(state, host, op_hash, retry_count=0, max_retries=0):
            host_touched(host.name)

    if not any(type(h).__name__ == "_Clock" for h in state.callback_handlers):
        state.add_callback_handler(_Clock())


def run_info(started_at: float) -> dict:
    return {
        "ran_at": datetime.fromtimestamp(started_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tfprov_version": __version__,
        "pyinfra_version": version("pyinfra"),
    }


def failed_operation(state, host) -> str | None:
    """The name of the first operation that failed on ``host`` (errors it ignored aside)."""
    for op_hash in host.op_hash_order:
        data = state.ops.get(host, {}).get(op_hash)
        if data is None or data.global_arguments.get("_ignore_errors"):
            continue
        meta = data.operation_meta
        if meta.is_complete() and not meta.did_succeed():
            return ", ".join(sorted(state.get_op_meta(op_hash).names))
    return None


def connect_error(host) -> str:
    """pyinfra prints a connection error but keeps no copy: connect once more, with the
    host's own connector and data, and name what that attempt raised."""
    from pyinfra.api.exceptions import ConnectError

    try:
        host.connect(show_errors=False, raise_exceptions=True)
    except ConnectError as exc:
        return str(exc.args[0]) if exc.args else "could not connect"
    except Exception as exc:  # a connector may raise anything
        return f"could not connect: {type(exc).__name__}: {exc}"
    if host.connected:
        host.disconnect()
    return "could not connect when the run started (a later attempt succeeded)"


def final_rows(report: dict[str, dict], state, commands: dict[str, int], started_at: float):
    """Every host of the run (its ``--limit``) as a row, sorted by name."""
    rows = dict(report)
    failed = set(state.failed_hosts) if state is not None else set()
    hosts = [h for h in state.inventory if state.is_host_in_limit(h)] if state is not None else []
    down = [h for h in hosts if h.name not in rows and h not in state.activated_hosts]
    errors = _in_parallel(connect_error, down)
    for host in hosts:
        row = rows.get(host.name)
        if row is None:
            row = rows[host.name] = new_row(host.name, None, None)
            row["connect_error"] = errors.get(host)
        if host in failed and not row["connect_error"]:
            row["failed_operation"] = failed_operation(state, host)
    info = run_info(started_at)
    for name, row in rows.items():
        row["remote_commands"] = commands.get(name)
        if name in _STARTED:
            row["duration_s"] = round(_LAST[name] - _STARTED[name], 2)
        row["status"] = _status(row, any(h.name == name for h in failed))
        row.update(info)
        row["line"] = line(row)
    return [rows[k] for k in sorted(rows)]


def _in_parallel(func, hosts) -> dict:
    """``{host: func(host)}``, run at once for all hosts (as pyinfra connects them)."""
    import gevent

    greenlets = {h: gevent.spawn(func, h) for h in hosts}
    gevent.joinall(list(greenlets.values()))
    return {h: g.get() for h, g in greenlets.items()}


def _status(row: dict, failed: bool) -> str:
    if row["connect_error"]:
        return "not connected"
    if row["error"]:
        return "refused"
    if failed or (row["verify"] and not row["verify"].get("ok")):
        return "failed"
    return "ok" if row["verify"] else "not run"


def write(rows: list[dict], path: str, stream) -> None:
    rows = redact(rows)  # URL credentials never printed nor written
    info = {k: rows[0][k] for k in ("ran_at", "tfprov_version", "pyinfra_version")}
    stream.write(
        f"\n--> tfprov fleet report (ran at {info['ran_at']}, tfprov {info['tfprov_version']}, "
        f"pyinfra {info['pyinfra_version']})\n"
    )
    for r in rows:
        stream.write(f"    {r['host']}: {r['line']}\n")
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2, default=str)
            fh.write("\n")
    except OSError as exc:  # printed above all the same; no traceback at exit
        stream.write(
            f"    tfprov: error: cannot write the fleet report to {path}: {exc.strerror}\n"
        )
        return
    stream.write(f"    (written to {path})\n")


def start_run(state) -> None:
    """On a run's first host: keep its ``state`` (read again when the report is written),
    start the clocks and the command count, and write the report at exit."""
    if _RUN:
        return
    _RUN.update(state=state, started_at=time.time())
    track_operations(state)
    count_remote_commands()
    atexit.register(write_report)


def count_remote_commands() -> None:
    """Count every command pyinfra runs on each host (facts and operations alike), so the
    fleet report shows what a converged re-run costs."""
    from pyinfra.api.host import Host

    if getattr(Host, "_tfprov_counting", False):
        return
    real = Host.run_shell_command

    def counted(self, *args, **kwargs):
        COMMANDS[self.name] = COMMANDS.get(self.name, 0) + 1
        return real(self, *args, **kwargs)

    Host.run_shell_command = counted
    Host._tfprov_counting = True


def record_verify(host_name: str, result: dict) -> None:
    row = ROWS.get(host_name)
    if row is not None:
        row["verify"] = result
    host_touched(host_name)


def write_report(path: str | None = None, stream=None) -> None:
    """Print the fleet report (every host of the run) and write it as JSON."""
    if not ROWS and not _RUN:
        return
    rows = final_rows(ROWS, _RUN.get("state"), COMMANDS, _RUN.get("started_at") or time.time())
    if rows:
        path = path or os.environ.get("TFPROV_REPORT", "tfprov-report.json")
        write(rows, path, stream or sys.stderr)
