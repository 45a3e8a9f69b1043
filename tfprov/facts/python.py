"""Python interpreter facts: which interpreters a host has, and where.

The discovery loop (:func:`python_candidates_sh`) is shared with
:mod:`tfprov.facts.tensorflow`, which asks the same interpreters what they have installed.
"""

from __future__ import annotations

import re

from .base import TfprovFact

# Versioned names first: when ``python3 -> python3.11`` is one interpreter, the path kept is
# the versioned one, which keeps naming that interpreter after ``python3`` moves on.
PYTHON_NAMES = tuple(f"python3.{n}" for n in range(6, 15)) + ("python3", "python")
# Looked in besides the first match on PATH.
PYTHON_DIRS = ("/usr/bin", "/usr/local/bin")

# Runs on any interpreter from 2.6 to 3.14: version, sys.executable and its real path.
_VERSION_SCRIPT = (
    "import os, sys; v = sys.version_info; e = sys.executable or str(); "
    'print("%d.%d.%d\\t%s\\t%s" % (v[0], v[1], v[2], e, os.path.realpath(e) if e else e))'
)

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


def python_candidates_sh(probe: str) -> str:
    """POSIX sh calling the shell function *probe* with the path of every Python candidate:
    for each of :data:`PYTHON_NAMES`, the first match on PATH, then the same name in each of
    :data:`PYTHON_DIRS`.  Candidates that are not absolute paths or not executable files
    are skipped here; duplicates are left to *probe*."""
    names = " ".join(PYTHON_NAMES)
    dirs = " ".join(f'"{d}/$tfp_n"' for d in PYTHON_DIRS)
    return (
        f"for tfp_n in {names}; do\n"
        f'  for tfp_c in "$(command -v "$tfp_n" 2>/dev/null)" {dirs}; do\n'
        '    case "$tfp_c" in /*) ;; *) continue ;; esac\n'
        # pyenv shims are slow wrappers and fail for versions not selected: the real
        # interpreters under $PYENV_ROOT/versions are asked below instead
        '    case "$tfp_c" in */.pyenv/shims/*|*/pyenv/shims/*) continue ;; esac\n'
        '    [ -f "$tfp_c" ] && [ -x "$tfp_c" ] || continue\n'
        f'    {probe} "$tfp_c"\n'
        "  done\n"
        "done\n"
        'for tfp_c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/python3; do\n'
        '  [ -f "$tfp_c" ] && [ -x "$tfp_c" ] || continue\n'
        f'  {probe} "$tfp_c"\n'
        "done"
    )


def parse_pythons(lines: list[str]) -> list[dict]:
    """Parse the ``Pythons`` command's lines ``<path>\\t<X.Y.Z>\\t<sys.executable>\\t<real
    path of sys.executable>`` into ``[{"version", "path"}]``.

    One entry per interpreter: lines whose real executable was already seen (``python3``
    and ``python3.11``, or two pyenv shims of one version) are dropped, keeping the first
    path asked.  Sorted by version (stable, so equal versions keep their discovery order);
    lines that are not of that shape are ignored.
    """
    seen: set[str] = set()
    found: list[dict] = []
    for line in lines:
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != 4:
            continue
        path, version, executable, real = (p.strip() for p in parts)
        if not path.startswith("/") or not _VERSION_RE.match(version):
            continue
        key = real or executable or path
        if key in seen:
            continue
        seen.add(key)
        found.append({"version": version, "path": path})
    found.sort(key=lambda p: tuple(int(x) for x in p["version"].split(".")))
    return found


class Pythons(TfprovFact):
    """
    The host's Python interpreters, one per distinct executable, sorted by version:
    ``[{"version": "3.11.2", "path": "/usr/bin/python3.11"}]``.

    Candidates are ``python3.6`` … ``python3.14``, ``python3`` and ``python``, each the first
    on PATH and in ``/usr/bin`` and ``/usr/local/bin``; each is run once (symlinks to one
    file are asked once) with a ``-c`` printing its version and ``sys.executable``.  Names
    resolving to one executable are one interpreter, listed under the first path asked
    (versioned names are asked first).  pyenv shims count with the version they select;
    pyenv versions not selected are not on PATH and not listed.

    + default: ``[]`` when no interpreter is found

    .. code:: python

        from tfprov.facts.python import Pythons
        pythons = host.get_fact(Pythons)
        py311 = [p["path"] for p in pythons if p["version"].startswith("3.11.")]
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return (
            "tfp_seen=:\n"
            "tfp_ask() {\n"
            '  tfp_r=$(readlink -f "$1" 2>/dev/null) || tfp_r=$1\n'
            '  case "$tfp_seen" in *":${tfp_r:-$1}:"*) return 0 ;; esac\n'
            '  tfp_seen="$tfp_seen${tfp_r:-$1}:"\n'
            f"  tfp_o=$(\"$1\" -c '{_VERSION_SCRIPT}' 2>/dev/null) &&\n"
            '    printf \'%s\\t%s\\n\' "$1" "$tfp_o"\n'
            "  return 0\n"
            "}\n" + python_candidates_sh("tfp_ask") + "\ntrue"
        )

    def process(self, output: list[str]) -> list[dict]:
        return parse_pythons(output)
