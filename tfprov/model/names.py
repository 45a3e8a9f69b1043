"""The one rule for env names, used by the stack spec and by every env operation.

An env name becomes the last part of a path (``/opt/tfprov/envs/NAME``,
``C:\\tfprov\\envs\\NAME``, ``PREFIX/envs/NAME``), so it must be a single, ordinary
directory name on Linux and Windows: letters, digits, ``_``, ``.`` and ``-``, starting
with a letter, digit or ``_`` (so never ``.``, ``..`` or an option such as ``-rf``), at
most 64 characters, and neither conda's own ``base``/``root`` nor a Windows device name.
"""

from __future__ import annotations

import re

ENV_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_RESERVED = {"base", "root", "con", "prn", "aux", "nul"} | {
    f"{d}{i}" for d in ("com", "lpt") for i in range(1, 10)
}


def env_name_problem(name) -> str | None:
    """Why ``name`` is not an env name, or None when it is one."""
    if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
        return (
            f"{name!r} is not an env name: use letters, digits, '_', '.' and '-' "
            "(at most 64), starting with a letter, digit or '_'"
        )
    if name.endswith("."):
        return f"{name!r} ends with '.', which Windows drops from directory names"
    if name.lower().split(".", 1)[0] in _RESERVED:
        return f"{name!r} is reserved (by conda or Windows): choose another env name"
    return None
