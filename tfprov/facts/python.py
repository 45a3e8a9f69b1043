"""Python interpreter facts: which interpreters a host has, and where — on Linux
(:class:`Pythons`) and Windows (:class:`WinPythons`).

The discovery loop (:func:`python_candidates_sh`) is shared with
:mod:`tfprov.facts.tensorflow`, which asks the same interpreters what they have installed.
"""

from __future__ import annotations

import re

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact, as_list, first_json, version_key

# Versioned names first: when ``python3 -> python3.11`` is one interpreter, the path kept is
# the versioned one, which keeps naming that interpreter after ``python3`` moves on.
PYTHON_NAMES = tuple(f"python3.{n}" for n in range(6, 15)) + ("python3", "python")
# Looked in besides the first match on PATH.
PYTHON_DIRS = ("/usr/bin", "/usr/local/bin")

# Runs on any interpreter from 2.6 to 3.14: version, sys.executable, its real path, and
# 1 when ``python -m venv`` can work (venv and ensurepip import, ensurepip has its pip).
_VERSION_SCRIPT = (
    "import os, sys\n"
    "v = sys.version_info; e = sys.executable or str(); ok = 0\n"
    "try:\n"
    "    import venv, ensurepip\n"
    "    ok = ensurepip.version() and 1 or 0\n"
    "except Exception:\n"
    "    pass\n"
    'print("%d.%d.%d\\t%s\\t%s\\t%d" % (v[0], v[1], v[2], e, os.path.realpath(e) if e else e, ok))'
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
    path of sys.executable>\\t<venv 1|0>\\t<owning package>\\t<venv package>`` into
    ``[{"version", "path", "distro_package", "venv", "venv_package"}]`` (the owning package
    and the venv package None where empty).  Lines of the older four-field shape give
    ``{"version", "path"}``.

    One entry per interpreter: lines whose real executable was already seen (``python3``
    and ``python3.11``, or two pyenv shims of one version) are dropped, keeping the first
    path asked.  Sorted by version (stable, so equal versions keep their discovery order);
    lines that are not of that shape are ignored.
    """
    seen: set[str] = set()
    found: list[dict] = []
    for line in lines:
        parts = [p.strip() for p in line.rstrip("\r\n").split("\t")]
        if len(parts) not in (4, 7):
            continue
        path, version, executable, real = parts[:4]
        if not path.startswith("/") or not _VERSION_RE.match(version):
            continue
        key = real or executable or path
        if key in seen:
            continue
        seen.add(key)
        entry = {"version": version, "path": path}
        if len(parts) == 7:
            owner = parts[5].replace(",", " ").split()
            entry["distro_package"] = owner[0] if owner else None
            entry["venv"] = parts[4] == "1"
            entry["venv_package"] = parts[6] or None
        found.append(entry)
    found.sort(key=lambda p: tuple(int(x) for x in p["version"].split(".")))
    return found


class Pythons(TfprovFact):
    """
    The host's Python interpreters, one per distinct executable, sorted by version:
    ``[{"version": "3.11.2", "path": "/usr/bin/python3.11", "distro_package":
    "python3.11-minimal", "venv": True, "venv_package": None}]``.

    ``distro_package``: the package owning the interpreter's real file (``dpkg-query -S``
    or ``rpm -qf``), None for pyenv, /usr/local and other builds.  ``venv``: whether
    ``venv`` and ``ensurepip`` import and ensurepip has its pip wheel (what ``python -m
    venv`` needs).  ``venv_package``: for a distro interpreter without them on apt hosts,
    ``python3.X-venv`` when apt has a candidate for it, else None.

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
            "tfp_t=$(printf '\\t')\n"
            "tfp_ask() {\n"
            '  tfp_r=$(readlink -f "$1" 2>/dev/null) || tfp_r=$1\n'
            '  case "$tfp_seen" in *":${tfp_r:-$1}:"*) return 0 ;; esac\n'
            '  tfp_seen="$tfp_seen${tfp_r:-$1}:"\n'
            f"  tfp_o=$(\"$1\" -c '{_VERSION_SCRIPT}' 2>/dev/null) || return 0\n"
            "  tfp_own= tfp_vp=\n"
            "  if command -v dpkg-query >/dev/null 2>&1; then\n"
            "    tfp_own=$(dpkg-query -S \"${tfp_r:-$1}\" 2>/dev/null | sed -n '1s/: .*//p')\n"
            "  elif command -v rpm >/dev/null 2>&1; then\n"
            "    tfp_own=$(rpm -qf --qf '%{NAME} ' \"${tfp_r:-$1}\" 2>/dev/null) || tfp_own=\n"
            "  fi\n"
            '  case "$tfp_o" in *"${tfp_t}0")\n'
            '    if [ -n "$tfp_own" ] && command -v apt-cache >/dev/null 2>&1; then\n'
            "      tfp_m=$(printf '%s' \"$tfp_o\" | cut -d. -f1,2)\n"
            '      tfp_cv=$(apt-cache policy "python$tfp_m-venv" 2>/dev/null |'
            " sed -n 's/^ *Candidate: //p')\n"
            '      case "$tfp_cv" in ""|"(none)") ;; *) tfp_vp="python$tfp_m-venv" ;; esac\n'
            "    fi ;;\n"
            "  esac\n"
            '  printf \'%s\\t%s\\t%s\\t%s\\n\' "$1" "$tfp_o" "$tfp_own" "$tfp_vp"\n'
            "  return 0\n"
            "}\n" + python_candidates_sh("tfp_ask") + "\ntrue"
        )

    def process(self, output: list[str]) -> list[dict]:
        return parse_pythons(output)


# --- Windows ----------------------------------------------------------------------------

# No quotes in it: Windows PowerShell 5.1 mangles double quotes in native arguments.
_PY_PROBE = "import sys; v = sys.version_info; print(v[0], v[1], v[2], sys.executable, sep=chr(9))"

WIN_PYTHONS_SCRIPT = (
    ps.OBSERVE_PRELUDE + "$cands = New-Object System.Collections.Generic.List[string]\n"
    "$py = (Get-Command -Name 'py.exe' -CommandType Application | Select-Object -First 1).Source\n"
    "if ($py) {\n"
    "  foreach ($l in @(& $py '-0p' 2>$null)) {\n"
    "    if (\"$l\" -match '([A-Za-z]:\\\\.*?\\.exe)\\s*$') { $cands.Add($Matches[1]) }\n"
    "  }\n"
    "}\n"
    "foreach ($c in @(Get-Command -Name 'python.exe' -CommandType Application -All)) {\n"
    "  if ($c.Source -notlike '*\\WindowsApps\\*') { $cands.Add($c.Source) }\n"
    "}\n"
    "foreach ($root in @((Join-Path $env:LOCALAPPDATA 'Programs\\Python'), $env:ProgramFiles)) {\n"
    "  foreach ($d in @(Get-ChildItem -LiteralPath $root -Directory -Filter 'Python3*')) {\n"
    "    $cands.Add((Join-Path $d.FullName 'python.exe'))\n"
    "  }\n"
    "}\n"
    "$seen = @{}\n"
    "$found = @(foreach ($c in $cands) {\n"
    "  $key = $c.ToLowerInvariant()\n"
    "  if ($seen.ContainsKey($key) -or -not (Test-Path -LiteralPath $c -PathType Leaf)) {"
    " continue }\n"
    "  $seen[$key] = $true\n"
    f"  $out = @(& $c '-c' {ps.quote(_PY_PROBE)} 2>$null | ForEach-Object {{ \"$_\" }})\n"
    "  [ordered]@{ path = $c; out = $out }\n"
    "})\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject $found\n"
)

_PY_OUT = re.compile(r"^(\d+)\t(\d+)\t(\d+)\t(.*)$")


def parse_win_pythons(lines: list[str]) -> list[dict]:
    """Parse :class:`WinPythons`' JSON
    (``[{"path", "out": ["3<TAB>12<TAB>1<TAB><sys.executable>"]}]``) into
    ``[{"version", "path"}]`` sorted by version; an interpreter reached twice (same
    ``sys.executable``) is listed once, under the first path asked."""
    seen: set[str] = set()
    found: list[dict] = []
    for entry in as_list(first_json(lines)):
        if not isinstance(entry, dict) or not entry.get("path"):
            continue
        for line in as_list(entry.get("out")):
            m = _PY_OUT.match(str(line).strip("\r\n"))
            if not m:
                continue
            exe = (m.group(4).strip() or entry["path"]).lower()
            if exe in seen:
                break
            seen.add(exe)
            found.append(
                {"version": ".".join(m.group(i) for i in (1, 2, 3)), "path": entry["path"]}
            )
            break
    return sorted(found, key=lambda p: version_key(p["version"]))


class WinPythons(TfprovFact):
    """
    The Python interpreters of a Windows host, like :class:`Pythons`:
    ``[{"version": "3.11.9", "path": "C:\\\\Python311\\\\python.exe"}]``
    — what the ``py`` launcher lists (``py -0p``), every ``python.exe`` on PATH (not the
    Microsoft Store alias stubs in ``WindowsApps``), and ``Python3*`` in
    ``%LOCALAPPDATA%\\Programs\\Python`` and Program Files; each asked for its version.

    + default: ``[]``
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return WIN_PYTHONS_SCRIPT

    def process(self, output: list[str]) -> list[dict]:
        return parse_win_pythons(output)
