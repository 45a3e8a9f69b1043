"""CUDA toolkit and cuDNN facts: which toolkits and cuDNN headers a host has installed.

On Windows (:class:`WinCudaToolkits`, :class:`WinCudnn`) a PowerShell script prints one
JSON line holding the same things — version files, ``nvcc --version``, cuDNN defines —
read by the same parsers.  On Linux both commands print each thing they read behind a
marker line ``== <path>`` so that ``process()`` knows where every piece came from:

* ``== <root>/version.json`` or ``== <root>/version.txt`` followed by that file of a toolkit
  root (``/usr/local/cuda*``, ``/opt/cuda*``; symlinks resolved, each root once);
* ``== <root>/bin/nvcc`` followed by what that nvcc prints for ``--version`` (every toolkit
  root's own nvcc, and the nvcc on ``PATH``: its real location comes from the ``_HERE_``
  line of ``nvcc -dryrun``, so wrapper scripts and symlinks lead to the real toolkit);
* ``== <header>`` followed by the ``#define CUDNN_MAJOR/MINOR/PATCHLEVEL/VERSION`` lines
  of one cuDNN header (not the whole header).
"""

from __future__ import annotations

import json
import ntpath
import posixpath
import re

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact, as_list, first_json, marked_sections, version_key

# The marker before each file or program output the Linux commands print (inside the
# whole-profile command's own sections, so a prefix of its own).
PATH_MARKER = "== "

_NVCC_RE = re.compile(r"release\s+(\d+\.\d+)\s*,\s*V(\d+(?:\.\d+)*)")
_NVCC_RELEASE_RE = re.compile(r"release\s+(\d+\.\d+)")
_BUILT_ON_RE = re.compile(r"^Built on\s+(\S+)", re.M)
_BUILD_RE = re.compile(r"^Build\s+(\S+)", re.M)
_VERSION_TXT_RE = re.compile(r"CUDA Version\s+(\d+(?:\.\d+)+)")
# the "cuda" object of a version.json that is cut short or otherwise not valid JSON
_VERSION_JSON_RE = re.compile(r'"cuda"\s*:\s*\{[^{}]*?"version"\s*:\s*"([^"]+)"', re.S)
_CUDNN_DEFINE_RE = re.compile(r"^\s*#\s*define\s+CUDNN_(MAJOR|MINOR|PATCHLEVEL)\s+(\d+)\b", re.M)


def _split_sections(lines: list[str]) -> list[tuple[str, str]]:
    """``[(path, text)]`` for every ``== <path>`` marker and the lines up to the next."""
    return [(p, "\n".join(body)) for p, body in marked_sections(lines, PATH_MARKER) if p]


def parse_nvcc_version(text: str) -> dict | None:
    """Parse ``nvcc --version`` (CUDA 7.x .. 13.x).

    Returns ``{"version": "12.2.140", "release": "12.2", "build": "cuda_12.2.r12.2/compiler.…"
    | None, "built_on": "Tue_Aug_15_22:02:13_PDT_2023" | None}`` or None when the text has no
    ``Cuda compilation tools, release X.Y, VX.Y.Z`` line.  ``build`` is the extra ``Build``
    line that nvcc prints since CUDA 11.0.
    """
    m = _NVCC_RE.search(text)
    if m:
        release, version = m.group(1), m.group(2)
    else:
        m = _NVCC_RELEASE_RE.search(text)
        if not m:
            return None
        release = version = m.group(1)
    built_on = _BUILT_ON_RE.search(text)
    build = _BUILD_RE.search(text)
    return {
        "version": version,
        "release": release,
        "build": build.group(1) if build else None,
        "built_on": built_on.group(1) if built_on else None,
    }


def _drop_date_patch(version: str) -> str:
    """Some installers write a build date where the update number belongs
    (``11.8.20220929``): keep major.minor only, the date says nothing about the update."""
    parts = version.split(".")
    if len(parts) >= 3 and re.fullmatch(r"20\d{6}", parts[2]):
        return ".".join(parts[:2])
    return version


def parse_cuda_version_file(text: str) -> str | None:
    """The toolkit version from a toolkit root's ``version.json`` (CUDA >= 11.1: the
    ``"cuda": {"name": "CUDA SDK", "version": ...}`` entry) or ``version.txt`` (older:
    ``CUDA Version 10.1.243``).  A build date in the third place (``11.8.20220929``, written
    by some installers) is dropped (-> ``11.8``).  None if neither form is found.
    """
    version = None
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("cuda"), dict):
            v = data["cuda"].get("version")
            version = str(v).strip() if v else None
        if version is None:
            m = _VERSION_JSON_RE.search(text)
            version = m.group(1).strip() if m else None
    if version is None:
        m = _VERSION_TXT_RE.search(text)
        version = m.group(1) if m else None
    if not version or not re.fullmatch(r"\d+(?:\.\d+)*", version):
        return None
    return _drop_date_patch(version)


def parse_cuda_toolkits(lines: list[str]) -> list[dict]:
    """Parse the output of :class:`CudaToolkits`' command (see the module docstring).

    One ``{"version", "path"}`` per toolkit root, sorted by version (then path).  The
    root of a ``version.json``/``version.txt`` is its directory, the root of an nvcc the
    directory above its ``bin``.  Sections with the same root are merged: the version file
    gives the toolkit release (``12.2.2``), nvcc's own ``V12.2.140`` is used where there is
    no version file or the file gave only major.minor.
    """
    found: dict[str, dict[str, str]] = {}
    for path, text in _split_sections(lines):
        name = posixpath.basename(path)
        if name in ("version.json", "version.txt"):
            root = posixpath.dirname(path)
            version = parse_cuda_version_file(text)
            kind = "file"
        else:
            root = posixpath.dirname(posixpath.dirname(path)) or "/"
            parsed = parse_nvcc_version(text)
            version = parsed["version"] if parsed else None
            kind = "nvcc"
        if version:
            found.setdefault(root, {}).setdefault(kind, version)
    toolkits = []
    for root, seen in found.items():
        file_v, nvcc_v = seen.get("file"), seen.get("nvcc")
        if file_v and (not nvcc_v or len(version_key(file_v)) >= 3):
            version = file_v
        else:
            version = nvcc_v or file_v
        toolkits.append({"version": version, "path": root})
    return sorted(toolkits, key=lambda t: (version_key(t["version"]), t["path"]))


def parse_cudnn_defines(text: str) -> dict | None:
    """Parse the ``#define CUDNN_MAJOR / CUDNN_MINOR / CUDNN_PATCHLEVEL`` lines of
    ``cudnn_version.h`` (cuDNN >= 8) or ``cudnn.h`` (older), whole header or just those lines.

    Returns ``{"major": 8, "minor": 9, "patchlevel": 7, "version": "8.9.7"}`` or None when
    there is no CUDNN_MAJOR (e.g. the ``cudnn.h`` of cuDNN >= 8, which only includes
    ``cudnn_version.h``).
    """
    values: dict[str, int] = {}
    for key, number in _CUDNN_DEFINE_RE.findall(text):
        values.setdefault(key, int(number))
    if "MAJOR" not in values:
        return None
    major, minor, patch = values["MAJOR"], values.get("MINOR", 0), values.get("PATCHLEVEL", 0)
    return {
        "major": major,
        "minor": minor,
        "patchlevel": patch,
        "version": f"{major}.{minor}.{patch}",
    }


def parse_cudnn(lines: list[str]) -> dict | None:
    """Parse the output of :class:`Cudnn`'s command: ``{"version", "path", "all"}`` (the
    newest header found, and every one sorted by version) or None."""
    headers: dict[str, tuple[str, str]] = {}
    for path, text in _split_sections(lines):
        parsed = parse_cudnn_defines(text)
        if parsed:
            headers.setdefault(path, (path, parsed["version"]))
    return cudnn_found(headers.values())


def cudnn_found(headers, path_key=str) -> dict | None:
    """:class:`Cudnn`'s value from ``(header path, version)`` pairs, each header once:
    the newest, and all sorted by version then ``path_key(path)``; None for none."""
    found = sorted(
        ({"version": v, "path": p} for p, v in headers),
        key=lambda h: (version_key(h["version"]), path_key(h["path"])),
    )
    if not found:
        return None
    newest = max(found, key=lambda h: version_key(h["version"]))
    return {"version": newest["version"], "path": newest["path"], "all": found}


# --- Windows ----------------------------------------------------------------------------

_CUDA_ENV = re.compile(r"^CUDA_PATH(?:_V(\d+)_(\d+))?$", re.I)
_DIR_VERSION = re.compile(r"^v(\d+\.\d+)$", re.I)


def _norm_win(path: str) -> str:
    return ntpath.normpath(path).rstrip("\\").lower()


def parse_win_cuda_toolkits(lines: list[str]) -> list[dict]:
    """Parse :class:`WinCudaToolkits`' JSON: ``{"toolkits": [{"path", "file", "text",
    "nvcc"}], "env": {name: value}}``.

    One ``{"version", "path"}`` per toolkit directory (compared case-insensitively),
    sorted by version.  Version from the directory's version.json/version.txt
    (:func:`parse_cuda_version_file`), else its ``bin\\nvcc.exe
    --version``, else the ``CUDA_PATH_Vx_y`` variable naming it, else the ``vX.Y``
    directory name.
    """
    data = first_json(lines)
    if not isinstance(data, dict):
        return []
    env_versions: dict[str, str] = {}
    env = data.get("env") if isinstance(data.get("env"), dict) else {}
    for name, value in env.items():
        m = _CUDA_ENV.match(str(name))
        if m and m.group(1) and isinstance(value, str) and value:
            env_versions[_norm_win(value)] = f"{m.group(1)}.{m.group(2)}"
    found: dict[str, dict] = {}
    for tk in as_list(data.get("toolkits")):
        if not isinstance(tk, dict) or not tk.get("path"):
            continue
        path = str(tk["path"]).rstrip("\\")
        key = _norm_win(path)
        if key in found:
            continue
        version = parse_cuda_version_file(tk.get("text") or "") if tk.get("text") else None
        if not version and tk.get("nvcc"):
            nvcc = parse_nvcc_version("\n".join(as_list(tk["nvcc"])))
            version = nvcc["version"] if nvcc else None
        if not version:
            version = env_versions.get(key)
        if not version:
            m = _DIR_VERSION.match(ntpath.basename(path))
            version = m.group(1) if m else None
        if version:
            found[key] = {"version": version, "path": path}
    return sorted(found.values(), key=lambda t: (version_key(t["version"]), t["path"].lower()))


def parse_win_cudnn(lines: list[str]) -> dict | None:
    """Parse :class:`WinCudnn`'s JSON (``[{"path": <header>, "defines": [lines]}]``) into
    :class:`Cudnn`'s shape ``{"version", "path", "all"}`` or None."""
    data = first_json(lines)
    headers: dict[str, tuple[str, str]] = {}
    for h in as_list(data):
        if not isinstance(h, dict) or not h.get("path"):
            continue
        parsed = parse_cudnn_defines("\n".join(str(x) for x in as_list(h.get("defines"))))
        if parsed:
            headers.setdefault(_norm_win(h["path"]), (h["path"], parsed["version"]))
    return cudnn_found(headers.values(), str.lower)


# $dirs: every toolkit directory: CUDA\v* under Program Files, and CUDA_PATH* (machine)
_TOOLKIT_DIRS_PS = (
    "$cudaEnv = [ordered]@{}\n"
    "$machine = [Environment]::GetEnvironmentVariables('Machine')\n"
    "foreach ($k in @($machine.Keys | Sort-Object)) {\n"
    "  if ($k -match '^CUDA_PATH(_V\\d+_\\d+)?$') { $cudaEnv[$k] = $machine[$k] }\n"
    "}\n"
    "$dirs = New-Object System.Collections.Generic.List[string]\n"
    "$base = Join-Path $env:ProgramFiles 'NVIDIA GPU Computing Toolkit\\CUDA'\n"
    "foreach ($d in @(Get-ChildItem -LiteralPath $base -Directory -Filter 'v*')) {"
    " $dirs.Add($d.FullName) }\n"
    "foreach ($v in @($cudaEnv.Values)) { if ($v) { $dirs.Add(([string]$v).TrimEnd('\\')) } }\n"
)

WIN_CUDA_SCRIPT = (
    ps.OBSERVE_PRELUDE + _TOOLKIT_DIRS_PS + "$seen = @{}\n"
    "$toolkits = @(foreach ($d in $dirs) {\n"
    "  $key = $d.ToLowerInvariant()\n"
    "  if ($seen.ContainsKey($key) -or -not (Test-Path -LiteralPath $d -PathType Container)) {"
    " continue }\n"
    "  $seen[$key] = $true\n"
    "  $file = $null; $text = $null; $nvcc = $null\n"
    "  foreach ($n in @('version.json', 'version.txt')) {\n"
    "    $f = Join-Path $d $n\n"
    "    if (Test-Path -LiteralPath $f) { $file = $n; $text = Get-Content -LiteralPath $f -Raw;"
    " break }\n"
    "  }\n"
    "  $exe = Join-Path $d 'bin\\nvcc.exe'\n"
    "  if (-not $text -and (Test-Path -LiteralPath $exe)) {\n"
    "    $nvcc = @(& $exe '--version' 2>&1 | ForEach-Object { \"$_\" })\n"
    "  }\n"
    "  [ordered]@{ path = $d; file = $file; text = $text; nvcc = $nvcc }\n"
    "})\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject ([ordered]@{ toolkits = $toolkits; env ="
    " $cudaEnv })\n"
)

WIN_CUDNN_SCRIPT = (
    ps.OBSERVE_PRELUDE
    + _TOOLKIT_DIRS_PS
    + "$inc = New-Object System.Collections.Generic.List[string]\n"
    "foreach ($d in $dirs) { $inc.Add((Join-Path $d 'include')) }\n"
    "$cudnnBase = Join-Path $env:ProgramFiles 'NVIDIA\\CUDNN'\n"
    "foreach ($v in @(Get-ChildItem -LiteralPath $cudnnBase -Directory -Filter 'v*')) {\n"
    "  $i = Join-Path $v.FullName 'include'\n"
    "  $inc.Add($i)\n"
    "  foreach ($s in @(Get-ChildItem -LiteralPath $i -Directory)) { $inc.Add($s.FullName) }\n"
    "}\n"
    "$seen = @{}\n"
    "$headers = @(foreach ($i in $inc) {\n"
    "  foreach ($n in @('cudnn_version.h', 'cudnn.h')) {\n"
    "    $h = Join-Path $i $n\n"
    "    $key = $h.ToLowerInvariant()\n"
    "    if ($seen.ContainsKey($key) -or -not (Test-Path -LiteralPath $h -PathType Leaf)) {"
    " continue }\n"
    "    $seen[$key] = $true\n"
    "    $defs = @(Select-String -LiteralPath $h "
    "-Pattern '^\\s*#\\s*define\\s+CUDNN_(MAJOR|MINOR|PATCHLEVEL|VERSION)\\b' "
    "| ForEach-Object { $_.Line })\n"
    "    if ($defs.Count -gt 0) { [ordered]@{ path = $h; defines = $defs } }\n"
    "  }\n"
    "})\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject $headers\n"
)


class WinCudaToolkits(TfprovFact):
    """
    The CUDA toolkits of a Windows host, like :class:`CudaToolkits`:
    ``[{"version": "12.1.1", "path": "C:\\\\Program Files\\\\NVIDIA GPU Computing
    Toolkit\\\\CUDA\\\\v12.1"}, ...]`` — every ``CUDA\\v*`` directory under Program Files
    and every directory the machine variables ``CUDA_PATH`` / ``CUDA_PATH_Vx_y`` name.

    + default: ``[]``
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return WIN_CUDA_SCRIPT

    def process(self, output: list[str]) -> list[dict]:
        return parse_win_cuda_toolkits(output)


class WinCudnn(TfprovFact):
    """
    cuDNN on a Windows host, like :class:`Cudnn`: ``{"version", "path",
    "all"}`` from ``cudnn_version.h`` / ``cudnn.h`` in each CUDA toolkit's ``include``
    (cuDNN zip copied into the toolkit) and in ``C:\\Program Files\\NVIDIA\\CUDNN\\v*\\include``
    and its per-CUDA subdirectories (the cuDNN 9 installer), or None.

    + default: ``None``
    """

    @staticmethod
    def default() -> None:
        return None

    def command(self) -> str:
        return WIN_CUDNN_SCRIPT

    def process(self, output: list[str]) -> dict | None:
        return parse_win_cudnn(output)


# --- commands -------------------------------------------------------------------------

_TOOLKIT_GLOBS = "/usr/local/cuda* /opt/cuda*"

# conda / mamba install prefixes: base env + envs/* may hold cudnn headers, from the conda
# cudnn package (<prefix>/include) or from the nvidia-cudnn-cu* pip wheel (site-packages)
_CONDA_PREFIXES = (
    '"${CONDA_PREFIX:-/nonexistent}"',
    '"${VIRTUAL_ENV:-/nonexistent}"',
    '"$HOME"/.local',
    '"$HOME"/miniforge3',
    '"$HOME"/miniconda3',
    '"$HOME"/anaconda3',
    '"$HOME"/mambaforge',
    '"$HOME"/micromamba',
    '"$HOME"/.conda',
    "/opt/conda",
    "/opt/miniforge3",
    "/opt/miniconda3",
    "/opt/anaconda3",
    "/opt/mambaforge",
    "/usr/local/miniconda3",
    "/usr/local/anaconda3",
)
_CUDNN_DIRS = (
    "/usr/include",
    "/usr/include/*-linux-gnu",
    "/usr/local/cuda*/include",
    "/opt/cuda*/include",
    "/usr/lib/cuda/include",
    '${t:+"$t"/include}',  # $t: the toolkit of the nvcc on PATH
    "/usr/local/lib/python3*/dist-packages/nvidia/cudnn/include",
)

# The real directory of the nvcc on PATH ($h), from the _HERE_ line nvcc -dryrun prints
# (follows wrapper scripts too), else from readlink -f; $t = its toolkit root.
_NVCC_ON_PATH = (
    "n=$(command -v nvcc 2>/dev/null); h=; t=; "
    'if [ -n "$n" ]; then '
    'h=$(cd / && "$n" -dryrun -E -x cu /dev/null 2>&1 '
    "| sed -n 's/^#\\$ _HERE_=//p' | head -n 1); "
    '[ -n "$h" ] && [ -x "$h/nvcc" ] '
    '|| h=$(dirname "$(readlink -f "$n" 2>/dev/null || echo "$n")"); '
    'h=$(cd -P "$h" 2>/dev/null && pwd); t=$(dirname "$h"); '
    "fi"
)

_TOOLKITS_COMMAND = (
    "seen=:; "
    f"for d in {_TOOLKIT_GLOBS}; do "
    '[ -d "$d" ] || continue; r=$(cd -P "$d" 2>/dev/null && pwd) || continue; '
    'case "$seen" in *":$r:"*) continue;; esac; seen="$seen$r:"; '
    'if [ -f "$r/version.json" ]; then echo "== $r/version.json"; cat "$r/version.json"; echo; '
    'elif [ -f "$r/version.txt" ]; then echo "== $r/version.txt"; cat "$r/version.txt"; echo; fi; '
    'if [ -x "$r/bin/nvcc" ]; then echo "== $r/bin/nvcc"; "$r/bin/nvcc" --version 2>&1; fi; '
    "done; "
    f"{_NVCC_ON_PATH}; "
    'if [ -n "$h" ] && [ -x "$h/nvcc" ]; then case "$seen" in *":$t:"*) ;; '
    '*) echo "== $h/nvcc"; "$h/nvcc" --version 2>&1;; esac; fi; '
    "true"
)

# _tfprov_cudnn DIR: print the version defines of DIR's cudnn headers (each real file once)
_CUDNN_COMMAND = (
    f"{_NVCC_ON_PATH}; seen=:; "
    "S='lib/python3*/site-packages/nvidia/cudnn/include'; "
    '_tfprov_cudnn() { for f in "$1"/cudnn_version*.h "$1"/cudnn.h; do [ -f "$f" ] || continue; '
    'r=$(readlink -f "$f" 2>/dev/null || echo "$f"); '
    'case "$seen" in *":$r:"*) continue;; esac; seen="$seen$r:"; '
    "l=$(grep -E '^[[:space:]]*#[[:space:]]*define[[:space:]]+"
    "CUDNN_(MAJOR|MINOR|PATCHLEVEL|VERSION)' "
    '"$r" 2>/dev/null); '
    '[ -n "$l" ] && { echo "== $r"; printf \'%s\\n\' "$l"; }; done; }; '
    f'for d in {" ".join(_CUDNN_DIRS)}; do _tfprov_cudnn "$d"; done; '
    f"for p in {' '.join(_CONDA_PREFIXES)}; do "
    'for d in "$p"/include "$p"/envs/*/include "$p"/$S "$p"/envs/*/$S; do _tfprov_cudnn "$d"; '
    "done; done; true"
)


class CudaToolkits(TfprovFact):
    """
    The CUDA toolkits installed on the host, one per toolkit root, sorted by version:
    ``[{"version": "12.2.2", "path": "/usr/local/cuda-12.2"}, ...]``.

    Found in every ``/usr/local/cuda*`` and ``/opt/cuda*`` directory (symlinks resolved, so
    ``/usr/local/cuda -> cuda-12.2`` counts once) from ``version.json`` (CUDA >= 11.1),
    ``version.txt`` (older) or its ``bin/nvcc --version``, and from the ``nvcc`` on PATH
    (path = the toolkit root above its ``bin``).  The version file's toolkit release wins
    over nvcc's compiler version (``12.2.2`` vs ``12.2.140``) where both exist.

    + default: ``[]`` (no CUDA toolkit)

    .. code:: python

        from tfprov.facts.cuda import CudaToolkits
        for tk in host.get_fact(CudaToolkits):
            print(tk["version"], tk["path"])  # 11.8.0 /usr/local/cuda-11.8
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return _TOOLKITS_COMMAND

    def process(self, output: list[str]) -> list[dict]:
        return parse_cuda_toolkits(output)


class Cudnn(TfprovFact):
    """
    The cuDNN found from its headers: ``{"version": "8.9.7", "path": "<header>", "all":
    [{"version", "path"}, ...]}`` — ``version``/``path`` the newest, ``all`` every header
    found (sorted by version), or None.

    Reads ``cudnn_version*.h`` (cuDNN >= 8) and ``cudnn.h`` (older) in /usr/include,
    /usr/include/*-linux-gnu, each CUDA toolkit's include dir (``/usr/local/cuda*``,
    ``/opt/cuda*``, /usr/lib/cuda and the toolkit of the nvcc on PATH), conda environments
    (``$CONDA_PREFIX`` and base + ``envs/*`` of ~/miniforge3, ~/miniconda3, ~/anaconda3,
    ~/mambaforge, /opt/conda, … ) and the include dir of the ``nvidia-cudnn-cu*`` pip wheel
    in those environments, ``$VIRTUAL_ENV`` and ~/.local.  Only the version ``#define``
    lines are printed; headers reached through symlinks are read once.

    + default: ``None`` (no cuDNN headers; a runtime-only cuDNN is not seen)

    .. code:: python

        from tfprov.facts.cuda import Cudnn
        cudnn = host.get_fact(Cudnn)
        if cudnn and cudnn["version"].startswith("8."):
            ...
    """

    @staticmethod
    def default() -> None:
        return None

    def command(self) -> str:
        return _CUDNN_COMMAND

    def process(self, output: list[str]) -> dict | None:
        return parse_cudnn(output)


# -- Windows -------------------------------------------------------------------------------


_CUDNN_DEFINE = re.compile(r"#\s*define\s+CUDNN_(MAJOR|MINOR|PATCHLEVEL)\s+(\d+)")


class WinCudnnAt(TfprovFact):
    """The cuDNN version (``8.1.1``) of the headers in ``PATH\\include``
    (``cudnn_version.h``, else ``cudnn.h``), or None."""

    @staticmethod
    def default() -> None:
        return None

    def command(self, path: str) -> str:
        inc = ps.quote(path.rstrip("\\") + "\\include")
        return (
            f"foreach ($h in @('cudnn_version.h', 'cudnn.h')) {{\n"
            f"    $f = Join-Path {inc} $h\n"
            "    if (Test-Path -LiteralPath $f) {\n"
            "        Select-String -LiteralPath $f -Pattern '#\\s*define\\s+CUDNN_(MAJOR|MINOR|"
            "PATCHLEVEL)\\s' | ForEach-Object { $_.Line }\n"
            "        break\n"
            "    }\n"
            "}"
        )

    def process(self, output: list[str]) -> str | None:
        found = dict(m.groups() for m in map(_CUDNN_DEFINE.search, output) if m)
        if "MAJOR" not in found or "MINOR" not in found:
            return None
        return ".".join(found[k] for k in ("MAJOR", "MINOR", "PATCHLEVEL") if k in found)
