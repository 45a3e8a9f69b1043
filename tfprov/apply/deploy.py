"""The deploy of one host inside a pyinfra run: probe → plan → apply → verify.

``deploys/gpu.py`` calls :func:`deploy_host` for every host.  The first call checks every
host's input (:mod:`tfprov.apply.inventory`), so bad data stops the run before any host is
probed.  Each host's plan table is printed while its operations are queued (before
pyinfra's change list and prompt).  A refused plan fails that host with the resolver's
explanation; the others go on.  Every host gets a row in the fleet report
(:mod:`tfprov.apply.fleet_report`), printed and written when the run ends.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from pyinfra.api import OperationError

from tfprov.apply import fleet_report
from tfprov.apply.inventory import InventoryError, validate_inventory
from tfprov.apply.steps import STEP_KINDS, RefusedError, env_location, steps_for
from tfprov.apply.verify_step import verify_env
from tfprov.apply.wheelhouse_index import list_wheelhouse
from tfprov.catalog import load_catalog
from tfprov.model.hostdata import HostSettings
from tfprov.model.plan import Plan
from tfprov.model.profile import HostProfile
from tfprov.model.redact import redact_text
from tfprov.model.spec import SpecError
from tfprov.operations import fail as fail_ops
from tfprov.probe import profile_fact_for
from tfprov.report import render_plan, summary_line
from tfprov.resolve import resolve


def refusal_text(plan: Plan) -> str:
    """The resolver's explanation and its alternatives, as pyinfra prints them for the host."""
    lines = [f"tfprov: no stack fits this host: {plan.error}"]
    if plan.alternatives:
        lines.append("tfprov: alternatives:")
        lines += [f"    - {a.summary}" for a in plan.alternatives]
    return redact_text("\n".join(lines))


def deploy_host(host, state, verify_only: bool = False) -> None:
    """Queue this host's deploy (``verify_only``: only the check, changing nothing)."""
    checked = validate_inventory(state)[host.name]
    fleet_report.start_run(host.state)  # the State itself (the `state` given is a proxy)
    fleet_report.host_started(host.name)
    spec = checked.spec
    profile = HostProfile.model_validate(host.get_fact(profile_fact_for(host)))
    wheels = list_wheelhouse(spec.wheelhouse) if spec.wheelhouse else []
    plan = resolve(profile, spec, load_catalog(), wheels, host=host.name)
    row = fleet_report.ROWS[host.name] = fleet_report.new_row(
        host.name, summary_line(profile), plan
    )
    # what the admin approves before pyinfra's prompt: this host's versions, not op names
    sys.stderr.write(render_plan(profile, plan) + "\n")
    if not plan.ok:
        fail_ops.fail(name="tfprov: no stack fits this host", reason=refusal_text(plan))
        return
    try:
        row["env"], env_python, ops = apply_plan(
            host, plan, checked.sources, checked.settings, dry=verify_only
        )
    except RefusedError as exc:
        row["error"] = str(exc)
        fail_ops.fail(
            name="tfprov: the plan cannot be carried out",
            reason=redact_text(f"tfprov: the plan cannot be carried out: {exc}"),
        )
        return
    verify_env(host, plan, env_python, ops)


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
    "InventoryError",
    "RefusedError",
    "SpecError",
    "deploy_host",
]
