"""Windows facts: the same subjects as the Linux facts, probed with PowerShell.

Each fact's ``command()`` is a PowerShell script (a Windows connector runs it as
``powershell.exe -EncodedCommand``).  Every script prints ONE line of compact JSON
(``ConvertTo-Json -Compress -Depth 4``); the ``parse_*`` functions read that JSON and,
where people paste them, the text forms too (``Format-List`` of ``Get-CimInstance`` /
``Get-WmiObject`` and ``wmic ... /format:list``).  Parsing of what the Linux facts also
read (nvidia-smi CSV, version.json/version.txt, nvcc, cuDNN defines, ``conda info
--json``) is delegated to the Linux facts' parsers.

:class:`WinHostProfile` runs every script in one command, each behind a marker line, and
feeds each section to the same parser, like :class:`tfprov.facts.profile.HostProfile`.

Instruction sets come from ``IsProcessorFeaturePresent`` (kernel32), never from the CPU
name.  The PF_* values (``winnt.h``; the same in ReactOS' ``sdk/include/xdk/ketypes.h``
and on learn.microsoft.com's IsProcessorFeaturePresent page) are listed in
:data:`PROCESSOR_FEATURES`.
"""

from __future__ import annotations

import json
import ntpath
import re

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact, split_marked
from tfprov.facts.conda import ENV_LIST_MARKER, INFO_MARKER, parse_conda
from tfprov.facts.cuda import (
    _vkey,
    parse_cuda_version_file,
    parse_cudnn_defines,
    parse_nvcc_version,
)
from tfprov.facts.gpu import SMI_QUERY, parse_nvidia_smi_csv
from tfprov.facts.profile import software_part

# IsProcessorFeaturePresent ids -> the /proc/cpuinfo flag name (SSE3 is 'pni' there).
PROCESSOR_FEATURES = {
    10: "sse2",  # PF_XMMI64_INSTRUCTIONS_AVAILABLE
    13: "pni",  # PF_SSE3_INSTRUCTIONS_AVAILABLE
    36: "ssse3",  # PF_SSSE3_INSTRUCTIONS_AVAILABLE
    37: "sse4_1",  # PF_SSE4_1_INSTRUCTIONS_AVAILABLE
    38: "sse4_2",  # PF_SSE4_2_INSTRUCTIONS_AVAILABLE
    39: "avx",  # PF_AVX_INSTRUCTIONS_AVAILABLE
    40: "avx2",  # PF_AVX2_INSTRUCTIONS_AVAILABLE
    41: "avx512f",  # PF_AVX512F_INSTRUCTIONS_AVAILABLE
}

# Win32_Processor.Architecture -> uname -m style
_WIN_ARCH = {0: "x86", 5: "arm", 6: "ia64", 9: "x86_64", 12: "aarch64"}
_ENV_ARCH = {"AMD64": "x86_64", "X86": "x86", "ARM64": "aarch64"}

NVIDIA_VENDOR_ID = "10de"
# AdapterRAM is a uint32: cards with >= 4 GiB all report 0xFFF00000 (or wrap around)
_ADAPTER_RAM_SATURATED = 0xFFF00000

MARKER = "@@tfprov-section "

_PS_HEAD = ps.OBSERVE_PRELUDE
ps_quote = ps.quote


# --- generic readers ------------------------------------------------------------------


def _json(lines: list[str]):
    """The first JSON value in *lines* (PowerShell may print a warning before it), or
    None when there is none."""
    text = "\n".join(lines).strip().lstrip("\ufeff")
    if not text:
        return None
    for start in [i for i, c in enumerate(text) if c in "{["]:
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[start:])
        except ValueError:
            continue
        return obj
    return None


def _as_list(value) -> list:
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


def _ci(record: dict, key: str):
    """*record*[key], matching the key case-insensitively (wmic prints 'PNPDeviceID',
    CIM 'PNPDeviceID', JSON whatever the script chose)."""
    if key in record:
        return record[key]
    low = key.lower()
    return next((v for k, v in record.items() if k.lower() == low), None)


def _intval(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    m = re.match(r"^\s*(\d+)", str(value))
    return int(m.group(1)) if m else None


# --- CPU ----------------------------------------------------------------------------------


def parse_win_processor(lines: list[str]) -> dict:
    """Parse :class:`WinCpuFeatures`' JSON, or ``Win32_Processor`` as ``Format-List`` /
    ``wmic cpu ... /format:list`` text.

    Returns ``{"arch", "vendor", "model", "flags", "processors"}`` like
    :func:`tfprov.facts.cpu.parse_cpuinfo`: flags only from ``IsProcessorFeaturePresent``
    results (the JSON's ``features``), so ``[]`` for the text forms — Win32_Processor has
    no instruction-set information and the name is never used to guess it.  ``processors``
    is the number of logical processors (summed over sockets), else the number of
    Win32_Processor records.  ``{}`` when there is no processor in the output.
    """
    data = _json(lines)
    if isinstance(data, dict) and "processors" in data:
        procs = _as_list(data.get("processors"))
        features = data.get("features") or {}
        env_arch = data.get("env_arch")
    else:
        procs = parse_wmi_records(lines)
        features, env_arch = {}, None
    procs = [p for p in procs if isinstance(p, dict) and (_ci(p, "Name") or _ci(p, "Manufacturer"))]
    if not procs:
        return {}
    first = procs[0]
    arch_code = _intval(_ci(first, "Architecture"))
    arch = _WIN_ARCH.get(arch_code) if arch_code is not None else None
    if arch is None and env_arch:
        arch = _ENV_ARCH.get(str(env_arch).upper())
    if arch is None:
        caption = _ci(first, "Caption") or ""
        if caption.startswith(("Intel64", "AMD64", "EM64T")):
            arch = "x86_64"
        elif caption.startswith(("ARMv8", "ARM64")):
            arch = "aarch64"
    flags: set[str] = set()
    if isinstance(features, dict):
        names = set(PROCESSOR_FEATURES.values())
        flags = {
            str(k).lower() for k, v in features.items() if v is True and str(k).lower() in names
        }
    logical = [_intval(_ci(p, "NumberOfLogicalProcessors")) for p in procs]
    model = _ci(first, "Name")
    return {
        "arch": arch,
        "vendor": _ci(first, "Manufacturer"),
        "model": model.strip() if model else None,
        "flags": sorted(flags),
        "processors": sum(n for n in logical if n) if all(logical) else len(procs),
    }


def _feature_table() -> str:
    return "; ".join(f"{name} = {num}" for num, name in PROCESSOR_FEATURES.items())


CPU_SCRIPT = (
    _PS_HEAD + "$procs = @(Get-CimInstance -ClassName Win32_Processor | ForEach-Object {\n"
    "  [ordered]@{ Name = $_.Name; Manufacturer = $_.Manufacturer; Caption = $_.Caption;\n"
    "    Architecture = $_.Architecture; NumberOfCores = $_.NumberOfCores;\n"
    "    NumberOfLogicalProcessors = $_.NumberOfLogicalProcessors }\n"
    "})\n"
    f"$ids = [ordered]@{{ {_feature_table()} }}\n"
    "$features = [ordered]@{}\n"
    "try {\n"
    "  if (-not ('Tfprov.Cpu' -as [type])) {\n"
    "    Add-Type -Namespace Tfprov -Name Cpu -MemberDefinition "
    '\'[DllImport("kernel32.dll")] public static extern bool '
    "IsProcessorFeaturePresent(uint ProcessorFeature);'\n"
    "  }\n"
    "  foreach ($k in $ids.Keys) {\n"
    "    $features[$k] = [bool][Tfprov.Cpu]::IsProcessorFeaturePresent([uint32]$ids[$k])\n"
    "  }\n"
    "} catch { $features = $null }\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject ([ordered]@{\n"
    "  processors = $procs; features = $features; env_arch = $env:PROCESSOR_ARCHITECTURE })\n"
)


class WinCpuFeatures(TfprovFact):
    """
    The Windows host's CPU, in :class:`tfprov.facts.cpu.CpuFeatures`' shape:
    ``{"arch", "vendor", "model", "flags", "processors"}``.  Name and vendor from
    ``Win32_Processor``; ``flags`` from ``IsProcessorFeaturePresent`` (P/Invoke through
    ``Add-Type``) named as in /proc/cpuinfo: ``sse2``, ``pni`` (SSE3), ``ssse3``,
    ``sse4_1``, ``sse4_2``, ``avx``, ``avx2``, ``avx512f`` (no ``fma``: Windows has no
    feature id for it).  ``flags`` is ``[]`` when the call failed (e.g. Add-Type blocked
    by Constrained Language Mode): unknown, not "no SIMD".

    + default: ``{}``
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return CPU_SCRIPT

    def process(self, output: list[str]) -> dict:
        return parse_win_processor(output)


# --- GPUs -----------------------------------------------------------------------------------

_PNP_IDS = re.compile(r"VEN_(?P<ven>[0-9A-Fa-f]{4})&DEV_(?P<dev>[0-9A-Fa-f]{4})")


def parse_windows_driver_version(text: str | None) -> str | None:
    """NVIDIA's driver number from the Windows (WDDM) driver version of an NVIDIA display
    driver: the last five digits of the last two fields, a dot before the final two —
    ``27.21.14.5671`` -> ``456.71``, ``32.0.15.6590`` -> ``565.90``.  Also accepts the
    zero-padded form dxdiag prints (``30.00.0014.7242``).  None for anything that is not
    four numeric fields."""
    if not text:
        return None
    parts = text.strip().split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    digits = str(int(parts[2])) + str(int(parts[3])).zfill(4)
    if len(digits) < 5:
        return None
    tail = digits[-5:]
    return f"{int(tail[:3])}.{tail[3:]}"


def _controllers(data, lines: list[str]) -> list[dict]:
    if isinstance(data, dict):
        return [c for c in _as_list(data.get("controllers")) if isinstance(c, dict)]
    if isinstance(data, list):
        return [c for c in data if isinstance(c, dict)]
    return parse_wmi_records(lines)


def _is_nvidia(ctrl: dict) -> bool:
    pnp = _ci(ctrl, "PNPDeviceID") or ""
    m = _PNP_IDS.search(pnp)
    if m:
        return m.group("ven").lower() == NVIDIA_VENDOR_ID
    compat = (_ci(ctrl, "AdapterCompatibility") or "").strip()
    return compat.upper().startswith("NVIDIA") or (_ci(ctrl, "Name") or "").startswith("NVIDIA")


def parse_win_gpu_probe(lines: list[str]) -> dict:
    """Parse :class:`WinGpus`' JSON (``{"controllers": [...], "smi": [lines] | null}``),
    or ``Win32_VideoController`` as ``Format-List`` / ``wmic /format:list`` text.

    Returns ``{"gpus": [...], "smi_error": str | None, "smi_state": str | None}``: one
    entry per NVIDIA adapter (``VEN_10DE`` in PNPDeviceID, else AdapterCompatibility
    NVIDIA), merged by name with nvidia-smi's rows; nvidia-smi rows without a display
    adapter (TCC-mode cards are no Win32_VideoController) are added after them.
    """
    data = _json(lines)
    smi_lines = [str(x) for x in _as_list(data.get("smi"))] if isinstance(data, dict) else []
    smi = parse_nvidia_smi_csv(smi_lines) if smi_lines else []
    smi_error = next((r for r in smi if "error" in r), None)
    rows = [r for r in smi if "error" not in r]

    gpus: list[dict] = []
    for ctrl in _controllers(data, lines):
        if not _is_nvidia(ctrl):
            continue
        m = _PNP_IDS.search(_ci(ctrl, "PNPDeviceID") or "")
        win_driver = _ci(ctrl, "DriverVersion")
        ram = _intval(_ci(ctrl, "AdapterRAM"))
        name = (_ci(ctrl, "Name") or _ci(ctrl, "Caption") or "").strip() or None
        gpu = {
            "name": name,
            "compute_capability": None,
            "memory_mib": ram // (1024 * 1024) if ram and ram < _ADAPTER_RAM_SATURATED else None,
            "pci_device_id": m.group("dev").lower() if m else None,
            "driver_version": parse_windows_driver_version(win_driver),
            "windows_driver_version": win_driver,
        }
        row = next(
            (r for r in rows if name and (r.get("name") or "").lower() == name.lower()), None
        )
        if row is not None:
            rows.remove(row)
            _merge_smi(gpu, row)
        gpus.append(gpu)
    for row in rows:
        gpu = {
            "name": row.get("name"),
            "compute_capability": None,
            "memory_mib": None,
            "pci_device_id": None,
            "driver_version": None,
            "windows_driver_version": None,
        }
        _merge_smi(gpu, row)
        gpus.append(gpu)
    return {
        "gpus": gpus,
        "smi_error": smi_error["error"] if smi_error else None,
        "smi_state": smi_error["state"] if smi_error else None,
    }


def _merge_smi(gpu: dict, row: dict) -> None:
    gpu["compute_capability"] = row.get("compute_capability") or gpu["compute_capability"]
    gpu["memory_mib"] = row.get("memory_mib") or gpu["memory_mib"]
    gpu["driver_version"] = row.get("driver_version") or gpu["driver_version"]


def _fill_from_catalog(gpus: list[dict]) -> None:
    missing = [g for g in gpus if g.get("compute_capability") is None]
    if not missing:
        return
    from tfprov.catalog import load_catalog

    cat = load_catalog()
    for g in missing:
        model = cat.gpu(g["name"]) if g.get("name") else None
        if model is None and g.get("pci_device_id"):
            model = cat.gpu_by_pci_id(g["pci_device_id"])
        g["compute_capability"] = model.cc if model else None


_SMI_FULL = f"'--query-gpu={SMI_QUERY},compute_cap'"
_SMI_FALLBACK = f"'--query-gpu={SMI_QUERY}'"

GPU_SCRIPT = (
    _PS_HEAD + "$ctrls = @(Get-CimInstance -ClassName Win32_VideoController | ForEach-Object {\n"
    "  [ordered]@{ Name = $_.Name; AdapterCompatibility = $_.AdapterCompatibility;\n"
    "    PNPDeviceID = $_.PNPDeviceID; DriverVersion = $_.DriverVersion; AdapterRAM ="
    " $_.AdapterRAM }\n"
    "})\n"
    "$smi = $null\n"
    "$exe = (Get-Command -Name 'nvidia-smi.exe' -CommandType Application | Select-Object -First"
    " 1).Source\n"
    "if (-not $exe) {\n"
    "  foreach ($c in @((Join-Path $env:SystemRoot 'System32\\nvidia-smi.exe'),\n"
    "      (Join-Path $env:ProgramFiles 'NVIDIA Corporation\\NVSMI\\nvidia-smi.exe'))) {\n"
    "    if (Test-Path -LiteralPath $c) { $exe = $c; break }\n"
    "  }\n"
    "}\n"
    "if ($exe) {\n"
    f"  $smi = @(& $exe {_SMI_FULL} '--format=csv' 2>&1 | ForEach-Object {{ \"$_\" }})\n"
    '  if (($smi -join "`n") -like \'*"compute_cap" is not a valid field*\') {\n'
    f"    $smi += @(& $exe {_SMI_FALLBACK} '--format=csv' 2>&1 | ForEach-Object {{ \"$_\" }})\n"
    "  }\n"
    "}\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject ([ordered]@{ controllers = $ctrls; smi ="
    " $smi })\n"
)


class WinGpus(TfprovFact):
    """
    The NVIDIA GPUs of a Windows host::

        [{"name": "NVIDIA GeForce RTX 3050 Ti Laptop GPU", "compute_capability": "8.6",
          "memory_mib": 4096, "pci_device_id": "25a0", "driver_version": "565.90",
          "windows_driver_version": "32.0.15.6590"}]

    From ``Win32_VideoController`` (Name, PNPDeviceID ``VEN_10DE&DEV_xxxx``,
    DriverVersion, AdapterRAM) and, when installed, ``nvidia-smi.exe --query-gpu``
    (parsed by :func:`tfprov.facts.gpu.parse_nvidia_smi_csv`), whose compute capability,
    memory and driver version win.  ``driver_version`` is in NVIDIA's numbering (converted
    from the Windows one without nvidia-smi); ``memory_mib`` is None when only the
    saturated uint32 AdapterRAM (>= 4 GiB cards) is known; compute capability falls back
    to tfprov's GPU catalog (by name, then PCI id).

    + default: ``[]``
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return GPU_SCRIPT

    def process(self, output: list[str]) -> list[dict]:
        gpus = parse_win_gpu_probe(output)["gpus"]
        _fill_from_catalog(gpus)
        return gpus


# --- CUDA toolkits and cuDNN -----------------------------------------------------------------

_CUDA_ENV = re.compile(r"^CUDA_PATH(?:_V(\d+)_(\d+))?$", re.I)
_DIR_VERSION = re.compile(r"^v(\d+\.\d+)$", re.I)


def _norm_win(path: str) -> str:
    return ntpath.normpath(path).rstrip("\\").lower()


def parse_win_cuda_toolkits(lines: list[str]) -> list[dict]:
    """Parse :class:`WinCudaToolkits`' JSON: ``{"toolkits": [{"path", "file", "text",
    "nvcc"}], "env": {name: value}}``.

    One ``{"version", "path"}`` per toolkit directory (compared case-insensitively),
    sorted by version.  Version from the directory's version.json/version.txt
    (:func:`tfprov.facts.cuda.parse_cuda_version_file`), else its ``bin\\nvcc.exe
    --version``, else the ``CUDA_PATH_Vx_y`` variable naming it, else the ``vX.Y``
    directory name.
    """
    data = _json(lines)
    if not isinstance(data, dict):
        return []
    env_versions: dict[str, str] = {}
    env = data.get("env") if isinstance(data.get("env"), dict) else {}
    for name, value in env.items():
        m = _CUDA_ENV.match(str(name))
        if m and m.group(1) and isinstance(value, str) and value:
            env_versions[_norm_win(value)] = f"{m.group(1)}.{m.group(2)}"
    found: dict[str, dict] = {}
    for tk in _as_list(data.get("toolkits")):
        if not isinstance(tk, dict) or not tk.get("path"):
            continue
        path = str(tk["path"]).rstrip("\\")
        key = _norm_win(path)
        if key in found:
            continue
        version = parse_cuda_version_file(tk.get("text") or "") if tk.get("text") else None
        if not version and tk.get("nvcc"):
            nvcc = parse_nvcc_version("\n".join(_as_list(tk["nvcc"])))
            version = nvcc["version"] if nvcc else None
        if not version:
            version = env_versions.get(key)
        if not version:
            m = _DIR_VERSION.match(ntpath.basename(path))
            version = m.group(1) if m else None
        if version:
            found[key] = {"version": version, "path": path}
    return sorted(found.values(), key=lambda t: (_vkey(t["version"]), t["path"].lower()))


def parse_win_cudnn(lines: list[str]) -> dict | None:
    """Parse :class:`WinCudnn`'s JSON (``[{"path": <header>, "defines": [lines]}]``) into
    :class:`tfprov.facts.cuda.Cudnn`'s shape ``{"version", "path", "all"}`` or None."""
    data = _json(lines)
    headers: dict[str, tuple[str, str]] = {}
    for h in _as_list(data):
        if not isinstance(h, dict) or not h.get("path"):
            continue
        parsed = parse_cudnn_defines("\n".join(str(x) for x in _as_list(h.get("defines"))))
        if parsed:
            headers.setdefault(_norm_win(h["path"]), (h["path"], parsed["version"]))
    if not headers:
        return None
    found = sorted(
        ({"version": v, "path": p} for p, v in headers.values()),
        key=lambda h: (_vkey(h["version"]), h["path"].lower()),
    )
    newest = max(found, key=lambda h: _vkey(h["version"]))
    return {"version": newest["version"], "path": newest["path"], "all": found}


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

CUDA_SCRIPT = (
    _PS_HEAD + _TOOLKIT_DIRS_PS + "$seen = @{}\n"
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

CUDNN_SCRIPT = (
    _PS_HEAD + _TOOLKIT_DIRS_PS + "$inc = New-Object System.Collections.Generic.List[string]\n"
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
    The CUDA toolkits of a Windows host, like :class:`tfprov.facts.cuda.CudaToolkits`:
    ``[{"version": "12.1.1", "path": "C:\\\\Program Files\\\\NVIDIA GPU Computing
    Toolkit\\\\CUDA\\\\v12.1"}, ...]`` — every ``CUDA\\v*`` directory under Program Files
    and every directory the machine variables ``CUDA_PATH`` / ``CUDA_PATH_Vx_y`` name.

    + default: ``[]``
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return CUDA_SCRIPT

    def process(self, output: list[str]) -> list[dict]:
        return parse_win_cuda_toolkits(output)


class WinCudnn(TfprovFact):
    """
    cuDNN on a Windows host, like :class:`tfprov.facts.cuda.Cudnn`: ``{"version", "path",
    "all"}`` from ``cudnn_version.h`` / ``cudnn.h`` in each CUDA toolkit's ``include``
    (cuDNN zip copied into the toolkit) and in ``C:\\Program Files\\NVIDIA\\CUDNN\\v*\\include``
    and its per-CUDA subdirectories (the cuDNN 9 installer), or None.

    + default: ``None``
    """

    @staticmethod
    def default() -> None:
        return None

    def command(self) -> str:
        return CUDNN_SCRIPT

    def process(self, output: list[str]) -> dict | None:
        return parse_win_cudnn(output)


# --- Pythons ------------------------------------------------------------------------------

# No quotes in it: Windows PowerShell 5.1 mangles double quotes in native arguments.
_PY_PROBE = "import sys; v = sys.version_info; print(v[0], v[1], v[2], sys.executable, sep=chr(9))"

PYTHONS_SCRIPT = (
    _PS_HEAD + "$cands = New-Object System.Collections.Generic.List[string]\n"
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
    f"  $out = @(& $c '-c' {ps_quote(_PY_PROBE)} 2>$null | ForEach-Object {{ \"$_\" }})\n"
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
    for entry in _as_list(_json(lines)):
        if not isinstance(entry, dict) or not entry.get("path"):
            continue
        for line in _as_list(entry.get("out")):
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
    return sorted(found, key=lambda p: _vkey(p["version"]))


class WinPythons(TfprovFact):
    """
    The Python interpreters of a Windows host, like :class:`tfprov.facts.python.Pythons`:
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
        return PYTHONS_SCRIPT

    def process(self, output: list[str]) -> list[dict]:
        return parse_win_pythons(output)


# --- conda --------------------------------------------------------------------------------

WIN_CONDA_DIRS = ("miniforge3", "mambaforge", "miniconda3", "anaconda3")

CONDA_SCRIPT = (
    _PS_HEAD + "$cands = New-Object System.Collections.Generic.List[string]\n"
    "if ($env:CONDA_EXE) { $cands.Add($env:CONDA_EXE) }\n"
    "foreach ($c in @(Get-Command -Name 'conda.exe' -CommandType Application -All)) {"
    " $cands.Add($c.Source) }\n"
    f"foreach ($n in @({', '.join(ps_quote(d) for d in WIN_CONDA_DIRS)})) {{\n"
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
    handing it to :func:`tfprov.facts.conda.parse_conda` in the Linux command's format."""
    replay: list[str] = []
    for inst in _as_list(_json(lines)):
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
    The conda installations of a Windows host, in :class:`tfprov.facts.conda.Conda`'s
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
        return CONDA_SCRIPT

    def process(self, output: list[str]):
        return parse_win_conda(output)


# --- system ---------------------------------------------------------------------------------

SYSTEM_SCRIPT = (
    _PS_HEAD + "$os = Get-CimInstance -ClassName Win32_OperatingSystem\n"
    "$cv = Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'\n"
    "$wslExit = $null\n"
    "if (Get-Command -Name 'wsl.exe' -CommandType Application) {\n"
    "  $null = & wsl.exe '--status' 2>&1\n"
    "  $wslExit = $LASTEXITCODE\n"
    "}\n"
    "$feature = Get-CimInstance -ClassName Win32_OptionalFeature "
    "-Filter \"Name='Microsoft-Windows-Subsystem-Linux'\"\n"
    "$reasons = @()\n"
    "if (Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component"
    " Based "
    "Servicing\\RebootPending') { $reasons += 'cbs' }\n"
    "if (Test-Path -LiteralPath"
    " 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto "
    "Update\\RebootRequired') { $reasons += 'windows-update' }\n"
    "$sm = Get-ItemProperty -LiteralPath 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session"
    " Manager' "
    "-Name 'PendingFileRenameOperations'\n"
    "if ($sm -and $sm.PendingFileRenameOperations) { $reasons += 'file-rename' }\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject ([ordered]@{\n"
    "  caption = $os.Caption; version = $os.Version; build = $os.BuildNumber;\n"
    "  os_arch = $os.OSArchitecture; edition = $cv.EditionID; display_version ="
    " $cv.DisplayVersion;\n"
    "  wsl_status_exit = $wslExit; wsl_feature_state = $feature.InstallState;\n"
    "  reboot_reasons = $reasons; hostname = $env:COMPUTERNAME })\n"
)


def parse_win_system(lines: list[str]) -> dict:
    """Parse :class:`WinSystem`'s JSON, or ``Win32_OperatingSystem`` as Format-List /
    wmic list text, into ``{"build": int, "version", "edition", "wsl_available",
    "pending_reboot"}`` (``{}`` without a version or build).

    ``wsl_available``: ``wsl.exe --status`` exited 0, or the optional feature
    Microsoft-Windows-Subsystem-Linux is enabled (Win32_OptionalFeature InstallState 1).
    ``pending_reboot``: any of CBS RebootPending, Windows Update RebootRequired,
    Session Manager PendingFileRenameOperations.  The text forms know neither: False.
    """
    data = _json(lines)
    if not isinstance(data, dict):
        recs = parse_wmi_records(lines)
        data = {k.lower(): v for k, v in (recs[0] if recs else {}).items()}
        data["build"] = data.pop("buildnumber", None)
    build = _intval(data.get("build"))
    version = data.get("version")
    if build is None and version:
        m = re.match(r"^\d+\.\d+\.(\d+)", str(version))
        build = int(m.group(1)) if m else None
    if build is None and not version:
        return {}
    return {
        "build": build,
        "version": str(version) if version else None,
        "edition": data.get("edition") or data.get("caption"),
        "wsl_available": data.get("wsl_status_exit") == 0
        or _intval(data.get("wsl_feature_state")) == 1,
        "pending_reboot": bool(_as_list(data.get("reboot_reasons"))),
    }


class WinSystem(TfprovFact):
    """
    The Windows system: ``{"build": 22631, "version": "10.0.22631", "edition":
    "Professional", "wsl_available": bool, "pending_reboot": bool}`` (see
    :func:`parse_win_system`).

    + default: ``{}``
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return SYSTEM_SCRIPT

    def process(self, output: list[str]) -> dict:
        return parse_win_system(output)


# --- the whole profile ------------------------------------------------------------------------

HOSTNAME_SCRIPT = "Write-Output $env:COMPUTERNAME\n"

# (section, script, parser) in the order they run on the host
SECTIONS = (
    (
        "hostname",
        HOSTNAME_SCRIPT,
        lambda lines: next((s.strip() for s in lines if s.strip()), None),
    ),
    ("system", SYSTEM_SCRIPT, parse_win_system),
    ("cpu", CPU_SCRIPT, parse_win_processor),
    ("gpus", GPU_SCRIPT, parse_win_gpu_probe),
    ("cuda_toolkits", CUDA_SCRIPT, parse_win_cuda_toolkits),
    ("cudnn", CUDNN_SCRIPT, parse_win_cudnn),
    ("pythons", PYTHONS_SCRIPT, parse_win_pythons),
    ("conda", CONDA_SCRIPT, parse_win_conda),
)


def combined_script(sections=SECTIONS) -> str:
    """One PowerShell script printing every section behind its marker line; each
    section runs in its own script block (its own variables) and a failing one prints
    nothing instead of stopping the rest."""
    parts = []
    for key, script, _ in sections:
        parts.append(
            f"Write-Output {ps_quote(MARKER + key)}\ntry {{ & {{\n{script}}} }} catch {{ }}\n"
        )
    return "".join(parts)


def windows_distro(build: int | None) -> str | None:
    """'Windows 11' from build 22000 on, else 'Windows 10' (older Windows is 'Windows 10'
    too: tfprov targets nothing older)."""
    if build is None:
        return None
    return "Windows 11" if build >= 22000 else "Windows 10"


def profile_from_sections(lines: list[str]) -> dict:
    """The host profile JSON (:mod:`tfprov.model.profile`) from :func:`combined_script`'s output."""
    raw = split_marked(lines, MARKER)
    facts: dict = {}
    for key, _, parser in SECTIONS:
        text = raw.get(key, [])
        facts[key] = parser(text) if any(t.strip() for t in text) else None
    system = facts.get("system") or {}
    cpu = facts.get("cpu") or {}
    probe = facts.get("gpus") or {"gpus": [], "smi_error": None}
    gpus = probe["gpus"]
    _fill_from_catalog(gpus)
    driver = next((g["driver_version"] for g in gpus if g.get("driver_version")), None)
    return {
        "hostname": facts.get("hostname") or system.get("hostname") or "unknown",
        "os": {
            "family": "windows",
            "distro": windows_distro(system.get("build")),
            "version": system.get("version"),
            "arch": cpu.get("arch") or "x86_64",
            "wsl": False,
        },
        "cpu": {
            "vendor": cpu.get("vendor"),
            "model": cpu.get("model"),
            "flags": cpu.get("flags") or [],
        },
        "gpus": [
            {
                "name": g["name"] or f"NVIDIA {g.get('pci_device_id')}",
                "compute_capability": g.get("compute_capability"),
                "memory_mib": g.get("memory_mib"),
                "pci_device_id": g.get("pci_device_id"),
            }
            for g in gpus
        ],
        "nvidia_driver": driver,
        "driver_error": probe.get("smi_error"),
        **software_part(facts),
    }


class WinHostProfile(TfprovFact):
    """
    The host profile JSON of :mod:`tfprov.model.profile` for a Windows host — the same keys as
    :class:`tfprov.facts.profile.HostProfile` (``os.family`` ``windows``, ``os.distro``
    ``Windows 10`` / ``Windows 11`` by build, ``nvidia_driver`` in NVIDIA's numbering,
    ``driver_error`` from nvidia-smi, ``probe`` every section's parsed result) — from ONE
    PowerShell script (:func:`combined_script`).

    + default: ``{}``
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return combined_script()

    def process(self, output: list[str]) -> dict:
        return profile_from_sections(output)
