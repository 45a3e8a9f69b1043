"""The Windows machine itself: machine environment variables (``CUDA_PATH``), the machine
``PATH``, and the reboot a driver or toolkit install left pending.
"""

from __future__ import annotations

import re

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from tfprov import powershell as ps
from tfprov.facts.system import WinMachineEnv, WinSystem
from tfprov.operations.driver import runs_here

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_().-]*$")


def _norm_entry(entry: str) -> str:
    return entry.strip().rstrip("\\").lower()


def path_entries(value: str | None) -> list[str]:
    return [e for e in (value or "").split(";") if e.strip()]


def merged_path(current: str | None, entries: list[str], prepend: bool = True) -> list[str]:
    """The PATH entries after :func:`machine_path`: *entries* in their order at the front
    (``prepend``) or missing ones at the end; existing entries keep their order, ours are
    not repeated (compared case-insensitively, without a trailing backslash)."""
    have = path_entries(current)
    ours: list[str] = []
    for e in entries:
        if _norm_entry(e) not in {_norm_entry(o) for o in ours}:
            ours.append(e)
    keys = {_norm_entry(e) for e in ours}
    if prepend:
        return ours + [h for h in have if _norm_entry(h) not in keys]
    present = {_norm_entry(h) for h in have}
    return have + [e for e in ours if _norm_entry(e) not in present]


@operation()
def machine_path(entries: list[str], prepend: bool = True):
    """
    Put ``entries`` on the machine ``PATH`` (``[Environment]::SetEnvironmentVariable(
    'Path', …, 'Machine')``, which also tells running programs that the environment changed).

    + entries: directories, e.g. ``C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\
      v11.2\\bin``
    + prepend: put them first, in this order (moving them there if they are further back:
      the first CUDA ``bin`` wins); with False, only missing ones are appended

    No entry is added twice (compared case-insensitively, trailing ``\\`` ignored); other
    entries keep their order.  The new value is computed on the host from the value it has
    then; nothing is done when the WinMachineEnv fact shows the wanted order already.
    """
    if not entries or not all(isinstance(e, str) and e.strip() and ";" not in e for e in entries):
        raise OperationValueError(f"entries must be directories without ';': {entries!r}")
    current = host.get_fact(WinMachineEnv, variable="Path")
    merged = [_norm_entry(e) for e in merged_path(current, entries, prepend)]
    if merged == [_norm_entry(e) for e in path_entries(current)]:
        host.noop(f"machine PATH has {'; '.join(entries)}" + (" first" if prepend else ""))
        return
    lines = [
        f"$want = {ps.array(entries)}",
        "$current = [Environment]::GetEnvironmentVariable('Path', 'Machine')",
        "$have = @(($current -split ';') | Where-Object { $_.Trim() })",
        "function Get-Key([string]$Entry) { $Entry.Trim().TrimEnd('\\').ToLowerInvariant() }",
        "$ours = @()",
        "foreach ($w in $want) {",
        "    $seen = @($ours | ForEach-Object { Get-Key $_ })",
        "    if ($seen -notcontains (Get-Key $w)) { $ours += $w }",
        "}",
        "$keys = @($ours | ForEach-Object { Get-Key $_ })",
    ]
    if prepend:
        lines.append(
            "$new = @($ours) + @($have | Where-Object { $keys -notcontains (Get-Key $_) })"
        )
    else:
        lines += [
            "$present = @($have | ForEach-Object { Get-Key $_ })",
            "$new = @($have) + @($ours | Where-Object { $present -notcontains (Get-Key $_) })",
        ]
    lines.append("[Environment]::SetEnvironmentVariable('Path', ($new -join ';'), 'Machine')")
    yield ps.script(*lines)


@operation()
def machine_env(variable: str, value: str):
    """
    Set the machine environment variable ``variable`` (e.g. ``CUDA_PATH``) to ``value``.

    + variable: the variable (not ``Path``: use :func:`machine_path`); pyinfra reserves
      ``name`` for its global arguments
    + value: its value

    Nothing is done when the WinMachineEnv fact shows that value already.

    **Example:**

    .. code:: python

        windows.machine_env(variable="CUDA_PATH", value=r"C:\\...\\CUDA\\v11.2")
    """
    if not _VAR_NAME.match(variable or "") or variable.lower() == "path":
        raise OperationValueError(f"not a variable machine_env sets: {variable!r}")
    if host.get_fact(WinMachineEnv, variable=variable) == value:
        host.noop(f"machine variable {variable} is {value}")
        return
    yield ps.script(
        f"[Environment]::SetEnvironmentVariable({ps.quote(variable)}, {ps.quote(value)}, 'Machine')"
    )


@operation()
def reboot_if_needed(allow_reboot: bool = False):
    """
    Reboot (``Restart-Computer -Force``) when the WinSystem fact says a reboot is pending and
    ``allow_reboot`` is set; otherwise nothing, with the noop text ``reboot required: …``.
    Never reboots the machine pyinfra runs on.  The connection drops with the reboot: the
    connector must reconnect (pyinfra's ``server.reboot`` waiting is Linux-only).
    """
    system = host.get_fact(WinSystem) or {}
    if not system.get("pending_reboot"):
        host.noop("no reboot pending")
        return
    if not allow_reboot:
        host.noop("reboot required: a reboot is pending (allow_reboot is off)")
        return
    if runs_here():
        host.noop(
            "reboot required: a reboot is pending (not rebooting the machine pyinfra runs on)"
        )
        return
    yield ps.script("Restart-Computer -Force")
