"""The inventory's input, checked once: every host's settings, stack spec and download
sources, before any host is touched.

One merge (:func:`tfprov.model.hostdata.merged_data`: ``--spec`` file < host/group data <
flags) and one validation (:class:`~tfprov.model.hostdata.HostSettings`, then the spec
against the catalog) serve ``tfprov plan`` and the deploy.  Keys that are pyinfra's own
(``ssh_*``, ``_sudo`` …) or the user's pass — except an unknown key close to one of
tfprov's (``tensorflw``), which is an error with a "did you mean".
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from pyinfra.api.exceptions import PyinfraError
from pyinfra_cli.exceptions import CliError

from tfprov.model.hostdata import HOST_KEYS, HostSettings, merged_data, settings_from_mapping
from tfprov.model.spec import SpecError, StackSpec, close_key, load_spec_file, spec_from_mapping
from tfprov.resolve.spec_catalog import catalog_problems


class InventoryError(CliError, PyinfraError):
    """Bad host/group data.  pyinfra's CLI passes a PyinfraError raised in a deploy file up
    unchanged and shows a CliError as one ``--> pyinfra error: …`` line, no traceback."""

    exit_code = 2  # bad input, as for ``tfprov plan``


class HostInput(NamedTuple):
    """One host's checked input: what apply and the resolver read, computed once."""

    settings: HostSettings
    spec: StackSpec
    sources: dict  # the download sources (tfprov.model.sources.DEFAULTS overridden)


def check_catalog(spec: StackSpec, where: str) -> StackSpec:
    """``spec``, if the catalog knows the release and driver branch it names; else
    :class:`SpecError`, one line per field."""
    problems = catalog_problems(spec)
    if problems:
        raise SpecError("\n".join(f"{where}: field '{f}': {msg}" for f, msg in problems))
    return spec


def checked_spec(data: dict, where: str) -> StackSpec:
    """A mapping of spec keys, validated and checked against the catalog."""
    return check_catalog(spec_from_mapping(data, where), where)


def load_spec(path: str) -> StackSpec:
    """A ``--spec FILE.yml``, validated and checked against the catalog."""
    return check_catalog(load_spec_file(path), path)


def spec_for(base: StackSpec | None, overrides: dict, where: str) -> StackSpec:
    """The spec of hosts given as profiles (no host data): the merge without its middle."""
    base_keys = base.model_dump(exclude_unset=True) if base else {}
    return checked_spec(merged_data(base_keys, {}, overrides), where)


@cache
def _pyinfra_keys() -> tuple[frozenset, tuple]:
    """(pyinfra's own data keys and operation arguments, its connectors' key prefixes)."""
    from pyinfra.api.arguments import all_argument_meta
    from pyinfra.api.connectors import get_all_connectors

    keys = set(all_argument_meta)
    for connector in get_all_connectors().values():
        keys |= {k for k in getattr(connector, "data_meta", None) or {} if k not in HOST_KEYS}
    prefixes = {k.split("_", 1)[0] + "_" for k in keys if not k.startswith("_") and "_" in k}
    return frozenset(keys), tuple(sorted(prefixes))


def is_pyinfra_key(key: str) -> bool:
    keys, prefixes = _pyinfra_keys()
    return key.startswith("_") or key in keys or key.startswith(prefixes)


def unknown_key_errors(data: dict, where: str) -> list[str]:
    """One line per key that is not tfprov's but looks like a misspelling of one."""
    out = []
    for key in data:
        if not isinstance(key, str) or key in HOST_KEYS or is_pyinfra_key(key):
            continue
        close = close_key(key, HOST_KEYS)
        if close:
            out.append(f"{where}: field '{key}': unknown tfprov key (did you mean '{close}'?)")
    return out


def host_data(host) -> dict:
    data = host.data
    return data.dict() if hasattr(data, "dict") else dict(data)


def validate_hosts(
    hosts, base: StackSpec | None = None, overrides: dict | None = None
) -> dict[str, HostInput]:
    """Each host's :class:`HostInput`: ``base`` (a spec file) < the host's data <
    ``overrides`` (command-line flags), validated for every host before any is touched.
    Raises :class:`SpecError` with one line per problem, over all hosts."""
    base_keys = base.model_dump(exclude_unset=True) if base else {}
    out, errors = {}, []
    for h in hosts:
        where = f"host {h.name}"
        data = host_data(h)
        errors += unknown_key_errors(data, where)
        try:
            settings = settings_from_mapping(merged_data(base_keys, data, overrides), where)
            spec = check_catalog(settings.stack_spec(), where)
        except SpecError as exc:
            errors.append(str(exc))
            continue
        out[h.name] = HostInput(settings, spec, settings.sources())
    if errors:
        raise SpecError("\n".join(errors))
    return out


_CHECKED: dict[str, HostInput] = {}
_INPUT_ERROR: list[str] = []


def validate_inventory(state) -> dict[str, HostInput]:
    """Every host's input (:func:`validate_hosts`), checked on the first call of a pyinfra
    run, before any fact or operation runs on any host (pyinfra has connected them by
    then).  Bad data raises :class:`InventoryError` on that call and every later one."""
    if not _CHECKED and not _INPUT_ERROR:
        try:
            _CHECKED.update(validate_hosts(state.inventory))
        except SpecError as exc:
            _INPUT_ERROR.append(str(exc))
    if _INPUT_ERROR:
        raise InventoryError(_INPUT_ERROR[0])
    return _CHECKED
