"""Small, cached helpers around :mod:`packaging.version` for the version forms the
published tables use ("3.9-3.12", "2.7, 3.3-3.6", "12.2", "8", "535.104.05")."""

from __future__ import annotations

from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "V",
    "InvalidVersion",
    "cc_tuple",
    "expand_python_range",
    "minor_of",
    "spec_set",
]


@lru_cache(maxsize=4096)
def V(text: str) -> Version:
    """Parse a version once; every comparison in tfprov goes through here."""
    return Version(str(text).strip())


@lru_cache(maxsize=1024)
def spec_set(text: str) -> SpecifierSet:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:  # re-raised as ValueError for pydantic
        raise ValueError(f"not a version specifier: {text!r}") from exc


@lru_cache(maxsize=4096)
def minor_of(version: str) -> str:
    """'2.15.1' -> '2.15'; '12' -> '12.0'."""
    rel = V(version).release
    return f"{rel[0]}.{rel[1] if len(rel) > 1 else 0}"


@lru_cache(maxsize=512)
def expand_python_range(text: str) -> tuple[str, ...]:
    """Expand the Python column of TensorFlow's tables into minor versions.

    >>> expand_python_range("2.7, 3.3-3.6")
    ('2.7', '3.3', '3.4', '3.5', '3.6')
    """
    out: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = (V(p) for p in part.split("-", 1))
            if lo.major != hi.major or lo.minor > hi.minor:
                raise ValueError(f"unsupported Python range {part!r}")
            out.extend(f"{lo.major}.{m}" for m in range(lo.minor, hi.minor + 1))
        else:
            out.append(minor_of(part))
    return tuple(out)


@lru_cache(maxsize=256)
def cc_tuple(cc: str) -> tuple[int, int]:
    """'8.6' -> (8, 6); also accepts 'sm_86' / 'compute_86'."""
    cc = str(cc).strip()
    if cc.startswith(("sm_", "compute_")):
        digits = cc.split("_", 1)[1].rstrip("abf")
        return int(digits[:-1]), int(digits[-1])
    major, _, minor = cc.partition(".")
    return int(major), int(minor or 0)
