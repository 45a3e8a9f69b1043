"""Conda facts: conda installations, their versions and environments.

Parsers take what conda prints, from conda 3.x to today, Linux, macOS and Windows paths:
``conda info --json`` and ``conda env list --json``, whose ``envs`` left the root env out
in old versions (conda 3.x, 4.3).  The discovery loop
(:func:`conda_candidates_sh`) is shared with :mod:`tfprov.facts.tensorflow`.
:class:`WinConda` finds the installations of a Windows host and hands what they print to
the same :func:`parse_conda`.
"""

from __future__ import annotations

import ntpath
import posixpath
import re

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact, as_list, first_json, marked_sections

# Install directories looked for in root's and the user's home, and directly in /opt.
HOME_PREFIXES = (
    "miniforge3",
    "mambaforge",
    "miniconda3",
    "anaconda3",
    "miniconda2",
    "anaconda2",
    "miniconda",
    "anaconda",
)
OPT_PREFIXES = ("/opt/conda", "/opt/miniforge3", "/opt/miniconda3", "/opt/anaconda3")

# Marker lines of the command's output: ``<INFO_MARKER>\t<exe>\t<prefix>`` before what
# ``conda info --json`` printed, ``<ENV_LIST_MARKER>\t<exe>`` before ``conda env list --json``.
CONDA_MARKER = "#tfprov:conda-"
INFO_MARKER = CONDA_MARKER + "info"
ENV_LIST_MARKER = CONDA_MARKER + "env-list"

_WIN_PATH = re.compile(r"^[A-Za-z]:[\\/]|^\\\\")


def conda_candidates_sh(probe: str) -> str:
    """POSIX sh calling the shell function *probe* with every conda executable candidate:
    ``$CONDA_EXE``, ``conda`` on PATH, then ``bin/conda`` and ``condabin/conda`` of the usual
    install prefixes in ``$HOME``, ``/root`` and the sudo user's home, and in ``/opt``.
    Candidates that are not absolute paths or not executable files are skipped here;
    duplicates are left to *probe*."""
    homes = " ".join(f'"$tfc_h/{p}"' for p in HOME_PREFIXES)
    opts = " ".join(OPT_PREFIXES)
    return (
        "tfc_try() {\n"
        '  case "$1" in /*) ;; *) return 0 ;; esac\n'
        '  [ -f "$1" ] && [ -x "$1" ] || return 0\n'
        f'  {probe} "$1"\n'
        "}\n"
        'tfc_try "${CONDA_EXE:-}"\n'
        'tfc_try "$(command -v conda 2>/dev/null)"\n'
        "tfc_uh=\n"
        'if [ -n "${SUDO_USER:-}" ]; then\n'
        '  tfc_uh=$(getent passwd "$SUDO_USER" 2>/dev/null | cut -d: -f6)\n'
        "fi\n"
        'for tfc_h in "${HOME:-}" /root "$tfc_uh"; do\n'
        '  [ -n "$tfc_h" ] || continue\n'
        f"  for tfc_p in {homes}; do\n"
        '    tfc_try "$tfc_p/bin/conda"; tfc_try "$tfc_p/condabin/conda"\n'
        "  done\n"
        "done\n"
        f"for tfc_p in {opts}; do\n"
        '  tfc_try "$tfc_p/bin/conda"; tfc_try "$tfc_p/condabin/conda"\n'
        "done"
    )


# The prefix of the installation an executable belongs to (``<prefix>/bin/conda`` and
# ``<prefix>/condabin/conda`` alike, symlinks resolved), for ``tfc_ask`` and its users.
CONDA_PREFIX_SH = (
    '  tfc_r=$(readlink -f "$1" 2>/dev/null) || tfc_r=$1\n'
    "  tfc_r=${tfc_r:-$1}; tfc_x=${tfc_r%/*}; tfc_x=${tfc_x%/*}\n"
    '  case "$tfc_seen" in *":$tfc_x:"*) return 0 ;; esac\n'
    '  tfc_seen="$tfc_seen$tfc_x:"\n'
)


# -- path helpers (conda output may come from Windows) --------------------------------------


def _pathmod(path: str):
    return ntpath if _WIN_PATH.match(path) or ("\\" in path and "/" not in path) else posixpath


def norm_path(path: str) -> str:
    """A comparable form of *path*: trailing separators dropped; Windows paths lowercased
    with backslashes."""
    mod = _pathmod(path)
    if mod is ntpath:
        return ntpath.normpath(path).rstrip("\\").lower()
    return posixpath.normpath(path) if path else path


def _is_within(path: str, root: str) -> bool:
    """Whether *path* is *root* or lies below it."""
    if not path or not root:
        return False
    p, r = norm_path(path), norm_path(root)
    sep = "\\" if _pathmod(root) is ntpath else "/"
    return p == r or p.startswith(r.rstrip(sep) + sep)


def env_name(prefix: str, root_prefix: str | None = None, envs_dirs: list[str] | None = None):
    """The name conda shows for the env at *prefix*: ``base`` for the root prefix (called
    ``root`` before conda 4.4), the directory name for an env inside an envs directory
    (one of *envs_dirs*, or any directory called ``envs``), else None (an env made with
    ``conda create -p`` elsewhere has no name)."""
    mod = _pathmod(prefix)
    if root_prefix and norm_path(prefix) == norm_path(root_prefix):
        return "base"
    parent = mod.dirname(mod.normpath(prefix))
    dirs = {norm_path(d) for d in envs_dirs or []}
    if norm_path(parent) in dirs or mod.basename(parent).lower() == "envs":
        return mod.basename(mod.normpath(prefix))
    return None


def _named(prefixes: list[str], root_prefix: str | None, envs_dirs: list[str]) -> list[dict]:
    return [{"name": env_name(p, root_prefix, envs_dirs), "prefix": p} for p in prefixes]


def _infer_root(prefixes: list[str]) -> str | None:
    """The listed env that holds another listed env in its ``envs`` directory."""
    for p in prefixes:
        mod = _pathmod(p)
        envs = mod.join(p, "envs")
        if any(q != p and _is_within(q, envs) for q in prefixes):
            return p
    return None


def parse_conda_env_list_json(text: str, root_prefix: str | None = None) -> list[dict] | None:
    """Parse ``conda env list --json`` (``{"envs": [prefix, ...]}``) into
    ``[{"name", "prefix"}]`` in conda's order, exactly the envs listed: conda before 4.4
    left out the root env, and nothing is added for it here.

    Names as :func:`env_name`; the root (``base``) is *root_prefix* when given, else the
    listed env holding another listed env in its ``envs`` directory.  None when *text*
    holds no ``envs`` list (conda failed, or printed an error object).
    """
    obj = first_json(text, "{")
    if not obj or not isinstance(obj.get("envs"), list):
        return None
    prefixes = [p for p in obj["envs"] if isinstance(p, str) and p]
    root = root_prefix or _infer_root(prefixes)
    return _named(prefixes, root, [])


def _cuda_virtual_package(virtual_pkgs) -> str | None:
    for pkg in virtual_pkgs or []:
        if isinstance(pkg, (list, tuple)) and len(pkg) >= 2 and pkg[0] == "__cuda":
            return str(pkg[1])
    return None


def parse_conda_info_json(text: str) -> dict | None:
    """Parse ``conda info --json`` (conda 3.x to today) into ``{"version", "platform",
    "python_version", "root_prefix", "default_prefix", "active_prefix", "envs_dirs",
    "envs": [{"name", "prefix"}], "cuda_virtual_package"}``.

    ``envs`` is what conda listed, in its order (without the root env before conda 4.4);
    keys missing in old versions (``active_prefix`` came in 4.4, virtual packages in 4.6)
    are None.  ``cuda_virtual_package`` is the ``__cuda`` version conda detected from the
    driver.  None when *text* is no info object (e.g. conda's JSON error object).
    """
    obj = first_json(text, "{")
    if not obj or not obj.get("conda_version"):
        return None
    root = obj.get("root_prefix") or obj.get("conda_prefix") or obj.get("default_prefix")
    envs_dirs = [d for d in obj.get("envs_dirs") or [] if isinstance(d, str)]
    prefixes = [p for p in obj.get("envs") or [] if isinstance(p, str) and p]
    return {
        "version": str(obj["conda_version"]),
        "platform": obj.get("platform"),
        "python_version": obj.get("python_version"),
        "root_prefix": root,
        "default_prefix": obj.get("default_prefix"),
        "active_prefix": obj.get("active_prefix"),
        "envs_dirs": envs_dirs,
        "envs": _named(prefixes, root, envs_dirs),
        "cuda_virtual_package": _cuda_virtual_package(obj.get("virtual_pkgs")),
    }


def parse_conda_info_text(text: str) -> dict | None:
    """Parse plain ``conda info`` (what conda 23.7.x printed even for ``--json``) into
    ``{"version", "root_prefix", "envs_dirs"}``, or None when there is no conda version."""
    fields: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        if " : " in line:
            k, _, v = line.partition(" : ")
            key = k.strip().lower()
            fields[key] = [v.strip()]
        elif key and line.startswith("  ") and line.strip():
            fields[key].append(line.strip())
        else:
            key = None
    version = (fields.get("conda version") or [None])[0]
    if not version:
        return None
    root = (fields.get("base environment") or fields.get("root environment") or [None])[0]
    if root:
        root = re.sub(r"\s+\((writable|read only)\)$", "", root)
    envs_dirs = fields.get("envs directories", [])
    return {"version": version, "root_prefix": root, "envs_dirs": envs_dirs}


def _sections(lines: list[str]) -> list[dict]:
    """The ``Conda`` command's output per installation: ``{"exe", "prefix", "info": [lines],
    "env_list": [lines] | None}`` from its marker lines."""
    found: list[dict] = []
    for key, body in marked_sections(lines, CONDA_MARKER):
        kind, _, rest = key.partition("\t")
        if kind == "info":
            exe, _, prefix = rest.partition("\t")
            found.append({"exe": exe, "prefix": prefix, "info": body, "env_list": None})
        elif kind == "env-list" and found:
            found[-1]["env_list"] = body
    return found


def parse_conda(lines: list[str]) -> dict | None:
    """Parse the ``Conda`` command's output (see :class:`Conda`)."""
    installs: list[dict] = []
    for sec in _sections(lines):
        info_text = "\n".join(sec["info"])
        info = parse_conda_info_json(info_text) or parse_conda_info_text(info_text) or {}
        root = info.get("root_prefix") or sec["prefix"]
        listed = None
        if sec["env_list"] is not None:
            listed = parse_conda_env_list_json("\n".join(sec["env_list"]), root)
        envs = info.get("envs", listed)
        if not info and listed is None:  # conda answered neither: a broken installation
            installs.append(_install(sec, root, None, []))
            continue
        envs_dirs = info.get("envs_dirs") or []
        prefixes = [e["prefix"] for e in envs or []]
        if not any(norm_path(p) == norm_path(root) for p in prefixes):
            prefixes.insert(0, root)
        installs.append(_install(sec, root, info.get("version"), _named(prefixes, root, envs_dirs)))

    unique: list[dict] = []
    for inst in installs:
        if not any(norm_path(u["prefix"]) == norm_path(inst["prefix"]) for u in unique):
            unique.append(inst)
    # conda lists every env it knows of (~/.conda/environments.txt), other installations'
    # too: each env goes to the installation whose prefix holds it, if one was found.
    for inst in unique:
        inst["envs"] = [e for e in inst["envs"] if _owner(e["prefix"], unique) in (None, inst)]
    return {"installations": unique} if unique else None


def _install(sec: dict, root: str, version: str | None, envs: list[dict]) -> dict:
    return {"prefix": root, "conda_exe": sec["exe"], "version": version, "envs": envs}


def _owner(prefix: str, installs: list[dict]):
    holders = [i for i in installs if _is_within(prefix, i["prefix"])]
    return max(holders, key=lambda i: len(norm_path(i["prefix"]))) if holders else None


class Conda(TfprovFact):
    """
    The host's conda installations::

        {"installations": [{"prefix": "/opt/miniforge3",
                            "conda_exe": "/opt/miniforge3/bin/conda",
                            "version": "24.1.2",
                            "envs": [{"name": "base", "prefix": "/opt/miniforge3"},
                                     {"name": "tf215", "prefix": "/opt/miniforge3/envs/tf215"}]}]}

    Found through ``$CONDA_EXE``, ``conda`` on PATH and the usual install prefixes
    (``~/miniforge3``, ``~/mambaforge``, ``~/miniconda3``, ``~/anaconda3`` … in root's, the
    login user's and the sudo user's home; ``/opt/conda``, ``/opt/miniforge3``,
    ``/opt/miniconda3``, ``/opt/anaconda3``); each installation asked once with ``conda info
    --json``, falling back to ``conda env list --json`` when that gives no info object.

    ``envs`` always starts with ``base`` (the installation prefix, which old conda did not
    list); an env's ``name`` is None when it lies outside any envs directory (``conda
    create -p``).  Envs that lie in another found installation are listed under that one
    only.  ``version`` is None and ``envs`` empty when conda answered neither command (e.g.
    a ``pip install conda``, which refuses to run).

    + default: ``None`` when no conda is found

    .. code:: python

        from tfprov.facts.conda import Conda
        conda = host.get_fact(Conda)
        if conda:
            names = [e["name"] for i in conda["installations"] for e in i["envs"]]
    """

    @staticmethod
    def default():
        return None

    def command(self) -> str:
        return (
            "tfc_seen=:\n"
            "tfc_ask() {\n" + CONDA_PREFIX_SH + f"  printf '%s\\t%s\\t%s\\n' '{INFO_MARKER}' "
            '"$1" "$tfc_x"\n'
            '  tfc_o=$("$1" info --json 2>/dev/null)\n'
            "  printf '%s\\n' \"$tfc_o\"\n"
            '  case "$tfc_o" in *\'"conda_version"\'*) return 0 ;; esac\n'
            f"  printf '%s\\t%s\\n' '{ENV_LIST_MARKER}' \"$1\"\n"
            '  "$1" env list --json 2>/dev/null\n'
            "  return 0\n"
            "}\n" + conda_candidates_sh("tfc_ask") + "\ntrue"
        )

    def process(self, output: list[str]):
        return parse_conda(output)


# --- Windows ----------------------------------------------------------------------------

WIN_CONDA_DIRS = ("miniforge3", "mambaforge", "miniconda3", "anaconda3")

WIN_CONDA_SCRIPT = (
    ps.OBSERVE_PRELUDE + "$cands = New-Object System.Collections.Generic.List[string]\n"
    "if ($env:CONDA_EXE) { $cands.Add($env:CONDA_EXE) }\n"
    "foreach ($c in @(Get-Command -Name 'conda.exe' -CommandType Application -All)) {"
    " $cands.Add($c.Source) }\n"
    f"foreach ($n in @({', '.join(ps.quote(d) for d in WIN_CONDA_DIRS)})) {{\n"
    "  foreach ($root in @($env:USERPROFILE, $env:ProgramData, $env:LOCALAPPDATA)) {\n"
    '    if ($root) { $cands.Add((Join-Path $root "$n\\Scripts\\conda.exe")) }\n'
    "  }\n"
    "}\n"
    "$seen = @{}\n"
    "$found = @(foreach ($c in $cands) {\n"
    "  if (-not (Test-Path -LiteralPath $c -PathType Leaf)) { continue }\n"
    "  $prefix = Split-Path -Parent (Split-Path -Parent $c)\n"
    "  $key = $prefix.ToLowerInvariant()\n"
    "  if ($seen.ContainsKey($key)) { continue }\n"
    "  $seen[$key] = $true\n"
    "  $info = (@(& $c 'info' '--json' 2>$null) -join \"`n\")\n"
    "  $envs = $null\n"
    "  if ($info -notlike '*\"conda_version\"*') {\n"
    "    $envs = (@(& $c 'env' 'list' '--json' 2>$null) -join \"`n\")\n"
    "  }\n"
    "  [ordered]@{ exe = $c; prefix = $prefix; info = $info; env_list = $envs }\n"
    "})\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject $found\n"
)


def parse_win_conda(lines: list[str]) -> dict | None:
    """Parse :class:`WinConda`'s JSON (``[{"exe", "prefix", "info", "env_list"}]``) by
    handing it to :func:`parse_conda` in the Linux command's format."""
    replay: list[str] = []
    for inst in as_list(first_json(lines)):
        if not isinstance(inst, dict) or not inst.get("exe"):
            continue
        replay.append(f"{INFO_MARKER}\t{inst['exe']}\t{inst.get('prefix') or ''}")
        replay += str(inst.get("info") or "").splitlines()
        if inst.get("env_list") is not None:
            replay.append(f"{ENV_LIST_MARKER}\t{inst['exe']}")
            replay += str(inst.get("env_list") or "").splitlines()
    return parse_conda(replay) if replay else None


class WinConda(TfprovFact):
    """
    The conda installations of a Windows host, in :class:`Conda`'s
    shape — ``%CONDA_EXE%``, ``conda.exe`` on PATH and ``Scripts\\conda.exe`` of
    miniforge3 / mambaforge / miniconda3 / anaconda3 in ``%USERPROFILE%``,
    ``%ProgramData%`` (all-users installs) and ``%LOCALAPPDATA%``; each asked ``conda info
    --json`` (``conda env list --json`` when that gives no info object).

    + default: ``None``
    """

    @staticmethod
    def default():
        return None

    def command(self) -> str:
        return WIN_CONDA_SCRIPT

    def process(self, output: list[str]):
        return parse_win_conda(output)
