"""The text of a hashed requirement lock (``uv pip compile --generate-hashes`` output):
its logical lines, its pins, a subset of it."""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def logical_lines(text: str) -> list[str]:
    """The lock's requirement lines, continuations joined and comments dropped."""
    out: list[str] = []
    cur = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        if cur.strip():
            out.append(cur.strip())
        cur = ""
    if cur.strip():
        out.append(cur.strip())
    return out


def lock_subset(text: str, requirements: list[str]) -> str:
    """The lock's lines (with their hashes) pinning the distributions named in
    ``requirements`` (``name`` or ``name==version``), one per line."""
    names = {canonicalize_name(r.split("==", 1)[0]) for r in requirements}
    kept = [
        line
        for line in logical_lines(text)
        if (m := PIN.match(line)) and canonicalize_name(m.group(1)) in names
    ]
    return "".join(" ".join(line.split()) + "\n" for line in kept)
