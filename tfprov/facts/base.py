"""Shared pieces of tfprov's facts."""

from __future__ import annotations

from pyinfra.api import FactBase


class TfprovFact(FactBase):
    """A fact whose command never fails: absent tools print nothing (-> ``default()``) and
    tool errors are printed on stdout for ``process()`` to interpret.

    Subclasses set ``command()`` and ``process()``; ``process`` must accept the lines of
    exactly what ``command()`` prints, because :class:`~tfprov.facts.profile.HostProfile`
    replays them section by section.
    """

    abstract = True


def sh_quote(text: str) -> str:
    """Single-quote for POSIX sh."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def kv_blocks(lines: list[str], sep: str = ":") -> list[dict[str, str]]:
    """Split 'key<sep> value' lines into blocks separated by blank lines (the shape of
    /proc/cpuinfo and of many ``-v`` outputs).  Keys keep their original spelling."""
    blocks: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            if cur:
                blocks.append(cur)
                cur = {}
            continue
        if sep not in line:
            continue
        key, _, value = line.partition(sep)
        cur[key.strip()] = value.strip()
    if cur:
        blocks.append(cur)
    return blocks


def split_marked(lines: list[str], marker: str) -> dict[str, list[str]]:
    """Split output into sections that start with ``<marker><key>`` lines: the format of
    every tfprov command that prints several things at once."""
    out: dict[str, list[str]] = {}
    current = None
    for line in lines:
        if line.startswith(marker):
            current = line[len(marker) :].strip()
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out
