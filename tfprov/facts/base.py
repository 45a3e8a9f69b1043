"""Shared pieces of tfprov's facts: the fact base class, quoting, and the readers every
subject uses — the one section splitter (:func:`split_sections`, :data:`MARKER`), the one
first-JSON-value scanner (:func:`first_json`), and the readers of Windows' text forms."""

from __future__ import annotations

import json
import re

from pyinfra.api import FactBase

# The marker line before each section of a command that prints several things at once
# (the whole-profile facts, Linux and Windows).  Nested commands use their own prefixes
# (``== <path>`` in the CUDA facts, ``@@tfprov-env `` in the env facts).
MARKER = "@@tfprov-section "


class TfprovFact(FactBase):
    """A fact whose command never fails: absent tools print nothing (-> ``default()``) and
    tool errors are printed on stdout for ``process()`` to interpret.

    Subclasses set ``command()`` and ``process()``; ``process`` must accept the lines of
    exactly what ``command()`` prints, because the whole-profile facts of
    :mod:`tfprov.facts.profile` replay them section by section.
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


def marked_sections(lines: list[str], marker: str = MARKER) -> list[tuple[str, list[str]]]:
    """``[(key, lines)]`` in output order for every ``<marker><key>`` line and the lines up
    to the next marker line (lines before the first are dropped; keys are stripped)."""
    out: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith(marker):
            out.append((line[len(marker) :].strip(), []))
        elif out:
            out[-1][1].append(line)
    return out


def split_sections(lines: list[str], marker: str = MARKER) -> dict[str, list[str]]:
    """:func:`marked_sections` by key (a repeated key keeps its last section)."""
    return dict(marked_sections(lines, marker))


def first_json(text: str | list[str], starts: str = "{["):
    """The first JSON value in *text* (lines are joined) that begins at one of the
    characters *starts* — tools print warnings around their JSON — or None."""
    if isinstance(text, list):
        text = "\n".join(text)
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch not in starts:
            continue
        try:
            value, _ = decoder.raw_decode(text, i)
        except ValueError:
            continue
        return value
    return None


def version_key(version: str) -> tuple[int, ...]:
    """The numbers of a version string, for sorting: ``"12.2.140"`` -> ``(12, 2, 140)``."""
    return tuple(int(p) for p in re.findall(r"\d+", version))


# --- Windows' output forms ----------------------------------------------------------------


def as_list(value) -> list:
    """PowerShell 5.1's ConvertTo-Json turns a one-element array into the element and an
    empty one into null: always a list here."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_REC_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w]*)\s*(?P<sep>[:=])\s?(?P<value>.*)$")


def parse_wmi_records(lines: list[str]) -> list[dict[str, str]]:
    """Records of ``Format-List`` output (``Key   : value``; ``Get-CimInstance`` and
    ``Get-WmiObject``) or of ``wmic ... /format:list`` (``Key=value``), separated by blank
    lines.  Values wrapped by Format-List onto indented continuation lines are joined back
    (the console wraps mid-word, so with nothing in between); empty values become None."""
    records: list[dict[str, str | None]] = []
    cur: dict[str, str | None] = {}
    last = None
    for raw in lines:
        line = raw.rstrip("\r\n").rstrip()
        if not line.strip():
            if cur:
                records.append(cur)
                cur, last = {}, None
            continue
        if line[:1].isspace():
            if last is not None:
                cur[last] = (cur[last] or "") + line.strip()
            continue
        m = _REC_KEY.match(line)
        if not m:
            continue
        last = m.group("key")
        cur[last] = m.group("value").strip() or None
    if cur:
        records.append(cur)
    return records


def get_ci(record: dict, key: str):
    """*record*[key], matching the key case-insensitively (wmic prints 'PNPDeviceID',
    CIM 'PNPDeviceID', JSON whatever the script chose)."""
    if key in record:
        return record[key]
    low = key.lower()
    return next((v for k, v in record.items() if k.lower() == low), None)


def leading_int(value) -> int | None:
    """An int, or the digits a string starts with; None for anything else (bools too)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    m = re.match(r"^\s*(\d+)", str(value))
    return int(m.group(1)) if m else None
