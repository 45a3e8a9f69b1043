"""The deploy: probe → plan → apply → verify, per host, inside a pyinfra run.

``deploys/gpu.py`` calls :func:`deploy_host` for every host.  The first call validates
every host's stack spec (inventory data) so bad input stops the run before any host is
probed.  Each host's plan table is printed while its operations are queued (before
pyinfra's change list and prompt).  A refused plan fails that host with the resolver's
explanation; the others go on.  When the run ends, the fleet report
(:mod:`tfprov.apply.fleet_report`: every host of the run, one line each) is printed and written
as JSON (``$TFPROV_REPORT`` or ``./tfprov-report.json``).
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from contextlib import contextmanager

from pyinfra.api import OperationError
from pyinfra.api.exceptions import PyinfraError
from pyinfra.operations import python
from pyinfra_cli.exceptions import CliError

from tfprov import verify
from tfprov.apply import fleet_report
from tfprov.apply.steps import STEP_KINDS, RefusedError, env_location, steps_for
from tfprov.apply.wheelhouse_index import list_wheelhouse
from tfprov.catalog import load_catalog
from tfprov.model.hostdata import HostSettings, validate_hosts
from tfprov.model.plan import Plan
from tfprov.model.platform import Platform
from tfprov.model.profile import HostProfile
from tfprov.model.sources import sources_for
from tfprov.model.spec import SpecError
from tfprov.model.versions import minor_of
from tfprov.operations import fail as fail_ops
from tfprov.probe import profile_fact_for
from tfprov.report import render_plan, summary_line
from tfprov.resolve import resolve

REPORT: dict[str, dict] = {}
_SPECS: dict[str, object] = {}
_SETTINGS: dict[str, HostSettings] = {}
_REGISTERED = False
_STATE = None  # the pyinfra state of this run, read again when the report is written
_STARTED_AT: float | None = None
COMMANDS: dict[str, int] = {}  # remote commands run per host in this pyinfra run


def _count_remote_commands() -> None:
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


class VerifyError(Exception):
    """TensorFlow does not work on the host after the deploy."""


class InventoryError(CliError, PyinfraError):
    """Bad host/group data.  pyinfra's CLI passes a PyinfraError raised in a deploy file up
    unchanged and shows a CliError as one ``--> pyinfra error: …`` line, no traceback."""

    exit_code = 2  # bad input, as for ``tfprov plan``


_INPUT_ERROR: list[str] = []


def validate_inventory(state) -> dict:
    """Every host's spec, validated (:func:`tfprov.model.hostdata.validate_hosts`) on the first
    call, before any fact or operation runs on any host (pyinfra has connected them by
    then).  Bad data raises :class:`InventoryError` on that call and every later one."""
    if not _SPECS and not _INPUT_ERROR:
        try:
            checked = validate_hosts(state.inventory)
        except SpecError as exc:
            _INPUT_ERROR.append(str(exc))
        else:
            _SPECS.update({name: spec for name, (_s, spec) in checked.items()})
            _SETTINGS.update({name: settings for name, (settings, _) in checked.items()})
    if _INPUT_ERROR:
        raise InventoryError(_INPUT_ERROR[0])
    return _SPECS


def _register_report(state) -> None:
    global _REGISTERED, _STATE, _STARTED_AT
    if not _REGISTERED:
        _STATE, _STARTED_AT = state, time.time()
        fleet_report.track_operations(state)
        atexit.register(write_report)
        _REGISTERED = True


def write_report(path: str | None = None, stream=None) -> None:
    """Print the fleet report (every host of the run) and write it as JSON."""
    if not REPORT and _STATE is None:
        return
    rows = fleet_report.final_rows(REPORT, _STATE, COMMANDS, _STARTED_AT or time.time())
    if rows:
        path = path or os.environ.get("TFPROV_REPORT", "tfprov-report.json")
        fleet_report.write(rows, path, stream or sys.stderr)


def _record_verify(host_name: str, result: dict) -> None:
    row = REPORT.get(host_name)
    if row is not None:
        row["verify"] = result
    fleet_report.host_touched(host_name)


def _verify_now(
    state, host, host_name: str, python: str, expect_gpu: bool, platform: Platform
) -> bool:
    """Run the check at execution time (after the env was changed); a failed check fails
    the host with its summary (pyinfra passes ``state``/``host`` and takes the result as
    the operation's status)."""
    _status, output = host.run_shell_command(verify.command(python, platform))
    result = verify.parse(output.stdout_lines, expect_gpu)
    _record_verify(host_name, result)
    if not result["ok"]:
        return fail_ops.fail_host(host, f"{VERIFY_FAILED}: {verify.summary(result)}")
    return True


VERIFY_FAILED = "tfprov: TensorFlow does not work on this host"


def refusal_text(plan: Plan) -> str:
    """The resolver's explanation and its alternatives, as pyinfra prints them for the host."""
    lines = [f"tfprov: no stack fits this host: {plan.error}"]
    if plan.alternatives:
        lines.append("tfprov: alternatives:")
        lines += [f"    - {a.summary}" for a in plan.alternatives]
    return "\n".join(lines)


def host_python(profile: HostProfile, version: str) -> str:
    for p in profile.pythons:
        if p.version == version and p.path:
            return p.path
    return f"python{minor_of(version)}"


def deploy_host(host, state, verify_only: bool = False) -> None:
    specs = validate_inventory(state)
    _register_report(host.state)  # the State itself (the `state` given is a context proxy)
    _count_remote_commands()
    fleet_report.host_started(host.name)
    spec = specs[host.name]
    sources = sources_for(host.data)
    profile = HostProfile.model_validate(host.get_fact(profile_fact_for(host)))
    wheels = list_wheelhouse(spec.wheelhouse) if spec.wheelhouse else []
    plan = resolve(profile, spec, load_catalog(), wheels, host=host.name)
    row = REPORT[host.name] = fleet_report.new_row(host.name, summary_line(profile), plan)
    # what the admin approves before pyinfra's prompt: this host's versions, not op names
    sys.stderr.write(render_plan(profile, plan) + "\n")
    if not plan.ok:
        fail_ops.fail(name="tfprov: no stack fits this host", reason=refusal_text(plan))
        return
    try:
        row["env"], env_python, ops = apply_plan(
            host, plan, sources, _SETTINGS[host.name], dry=verify_only
        )
    except RefusedError as exc:
        row["error"] = str(exc)
        fail_ops.fail(
            name="tfprov: the plan cannot be carried out",
            reason=f"tfprov: the plan cannot be carried out: {exc}",
        )
        return
    expect_gpu = plan.tensorflow.variant == "gpu"
    if ops and any(op.will_change for op in ops):
        python.call(
            name="tfprov: verify TensorFlow",
            function=_verify_now,
            host_name=host.name,
            python=env_python,
            expect_gpu=expect_gpu,
            platform=plan.platform,
        )
        return
    # nothing changes: verify now, as a read-only check (no change is reported)
    _status, output = host.run_shell_command(verify.command(env_python, plan.platform))
    result = verify.parse(output.stdout_lines, expect_gpu)
    _record_verify(host.name, result)
    if not result["ok"]:
        fail_ops.fail(
            name="tfprov: verify TensorFlow", reason=f"{VERIFY_FAILED}: {verify.summary(result)}"
        )


def apply_plan(host, plan: Plan, sources: dict, settings: HostSettings, dry: bool = False):
    """Queue the operations of :func:`tfprov.apply.steps.steps_for`; returns (env path, env
    python, ops).  Each operation's checks run now (``pyinfra -y`` would defer them to
    execution): one that refuses this host's state (e.g. a broken env with ``repair:
    false``) raises RefusedError, so that host fails alone, before any change."""
    env, python = env_location(plan, sources)
    if dry:
        return env, python, []
    ops = []
    for s in steps_for(plan, sources, settings):
        refused: list[OperationError] = []
        try:
            with _step_kind_position(host, s.name):
                # a refused operation stays queued (pyinfra registers it first): _if skips it
                op = s.op(name=s.name, _if=lambda refused=refused: not refused, **s.kwargs)
            op.will_change  # noqa: B018 - runs the operation's generator (its checks)
        except OperationError as exc:
            refused.append(exc)
            raise RefusedError(f"{s.name}: {exc}") from exc
        ops.append(op)
    return env, python, ops


@contextmanager
def _step_kind_position(host, name: str):
    """pyinfra identifies an operation by its call site plus ``host.loop`` positions, and
    every step is queued from the same line above: the step kind's position is added the
    way ``host.loop`` adds one, so the same kind is the same pyinfra operation on every
    host and different kinds never share one (conda on one host, venv on another)."""
    host.loop_position.append(STEP_KINDS.index(name))
    try:
        yield
    finally:
        host.loop_position.pop()


__all__ = [
    "REPORT",
    "InventoryError",
    "RefusedError",
    "SpecError",
    "VerifyError",
    "deploy_host",
    "write_report",
]
