"""Shared by the catalog generators: read a data file's sections as lines, write one
entry as one flow mapping on one line (the files' style), and put sections back."""

from __future__ import annotations

import json
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "tfprov" / "catalog" / "data"

BARE = {"package", "source", "table"}  # identifier values written without quotes


def scalar(key: str | None, value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(scalar(None, v) for v in value) + "]"
    if isinstance(value, dict):
        return flow(value)
    if key in BARE and re.fullmatch(r"[A-Za-z0-9_.+-]+", value):
        return value
    return json.dumps(value, ensure_ascii=False)


def flow(entry: dict) -> str:
    return "{" + ", ".join(f"{k}: {scalar(k, v)}" for k, v in entry.items()) + "}"


def split_sections(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """(header comment lines, {top-level key: its lines}); a key's lines start with the
    comments just above it, then the key's own line."""
    header: list[str] = []
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+):", line)
        if m:
            lead: list[str] = []  # comments just above a key belong to that key
            prev = sections.get(current, header) if current else header
            while prev and prev[-1].startswith("#"):
                lead.insert(0, prev.pop())
            current = m.group(1)
            sections[current] = [*lead, line]
        elif current is None:
            header.append(line)
        else:
            sections[current].append(line)
    return header, sections


def join_sections(header: list[str], sections: dict[str, list[str]]) -> str:
    lines = list(header)
    for body in sections.values():
        lines.extend(body)
    return "\n".join(lines) + "\n"


def head(lines: list[str]) -> list[str]:
    """A section's comments and key line, to put a regenerated body under."""
    i = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    return lines[: i + 1]


def body(lines: list[str]) -> list[str]:
    return lines[len(head(lines)) :]
