"""Probe hosts over pyinfra: one :class:`~tfprov.facts.profile.HostProbe` fact per host.

``probe_inventory("inventory.py")`` connects to every host of any pyinfra inventory
(a file, ``@local``, ``@ssh/host``, a comma list …), runs the single-command profile
fact on all of them in parallel and returns a result per host: the validated
:class:`tfprov.model.profile.HostProbe`, or the error that host had.  One host failing never
stops the others.

The connector decides only how the probe command runs: a host reached through tfprov's
Windows connector (``@winssh/HOST``, :func:`is_windows`) is probed with the PowerShell
profile fact, every other host with the POSIX sh one (:func:`profile_fact_for`, the one
place that looks at the connector).  What the host *is* comes from the probed profile:
later stages read the plan's ``Platform``, never the connector.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass, field

from pydantic import ValidationError

from tfprov.model.profile import HostProfile
from tfprov.model.spec import SpecError


class ProbeError(Exception):
    pass


@dataclass
class ProbeResult:
    name: str  # the inventory name of the host
    profile: HostProfile | None = None
    error: str | None = None
    data: dict = field(default_factory=dict)  # the host's inventory data (spec keys)


def load_inventory(inventory: str, limit: list[str] | None = None):
    """A pyinfra Inventory and the hosts selected by ``limit`` (names, groups, globs).

    Loaded as pyinfra's own CLI does: an inventory file is Python executed with a pyinfra
    state in context (and ``group_data/`` beside it applied)."""
    import os

    from pyinfra.api import State
    from pyinfra.context import ctx_inventory, ctx_state
    from pyinfra_cli.inventory import make_inventory

    state = State()
    state.cwd = os.getcwd()
    ctx_state.set(state)
    try:
        inv = make_inventory(inventory, cwd=state.cwd)
        ctx_inventory.set(inv)
    except Exception as exc:  # pyinfra raises several CLI error types here
        raise ProbeError(f"inventory {inventory}: {exc}") from None
    hosts = list(inv)
    if limit:
        chosen = []
        for pattern in limit:
            group = inv.get_group(pattern, None) if hasattr(inv, "get_group") else None
            matched = (
                list(group) if group else [h for h in hosts if fnmatch.fnmatch(h.name, pattern)]
            )
            if not matched:
                raise ProbeError(f"--limit {pattern}: no host or group of that name")
            chosen += [h for h in matched if h not in chosen]
        hosts = chosen
    return inv, hosts


def is_windows(host) -> bool:
    """A host reached through tfprov's Windows connector (``@winssh/HOST``): how to run the
    probe on it (:func:`profile_fact_for`), not what the host is (the plan's platform)."""
    return host.name.startswith("@winssh/") or host.data.get("winssh_hostname") is not None


def profile_fact_for(host):
    """The one-command profile fact for this host's connector: PowerShell through
    ``@winssh``, POSIX sh otherwise."""
    from tfprov.facts.profile import HostProbe, WinHostProbe

    return WinHostProbe if is_windows(host) else HostProbe


def probe_hosts(inv, hosts, *, timeout: int = 60) -> list[ProbeResult]:
    from pyinfra.api import Config, State
    from pyinfra.api.connect import connect_all, disconnect_all
    from pyinfra.api.facts import get_facts
    from pyinfra.context import ctx_state

    logging.getLogger("pyinfra").setLevel(logging.CRITICAL)
    config = Config(CONNECT_TIMEOUT=timeout)
    state = ctx_state.get() if ctx_state.isset() else State()
    state.init(inv, config, initial_limit=hosts)
    results = {h.name: ProbeResult(name=h.name) for h in hosts}
    connect_all(state)
    try:
        for h in hosts:
            if not h.connected:
                results[h.name].error = "could not connect"
        facts: dict = {}
        by_kind = {}
        for h in hosts:
            by_kind.setdefault(profile_fact_for(h), []).append(h)
        active = set(state.active_hosts)
        try:
            for fact, group in by_kind.items():
                # pyinfra gets a fact on every active host: narrow them to this kind
                state.active_hosts = active & set(group)
                if state.active_hosts:
                    facts.update(
                        get_facts(
                            state, fact, kwargs={"_ignore_errors": True}, apply_failed_hosts=False
                        )
                    )
        finally:
            state.active_hosts = active
        for h, data in facts.items():
            r = results[h.name]
            if not data:
                r.error = r.error or "the probe returned nothing"
                continue
            try:
                r.profile = HostProfile.model_validate(data)
            except ValidationError as exc:
                r.error = f"probe output does not validate: {exc.errors()[0]['msg']}"
    finally:
        disconnect_all(state)
    return [results[h.name] for h in hosts]


__all__ = ["ProbeError", "ProbeResult", "load_inventory", "probe_hosts", "SpecError"]
