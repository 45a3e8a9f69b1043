"""CPU facts: architecture, vendor, model and instruction-set flags, on Linux
(:class:`CpuFeatures`, ``/proc/cpuinfo``) and Windows (:class:`WinCpuFeatures`).

The x86 SIMD levels TensorFlow cares about (sse4_2, avx, avx2, fma, avx512f) are plain
members of ``flags``; on aarch64 ``flags`` holds the ``Features`` line (asimd, sve …),
on ppc64le the altivec/vsx capabilities named in the ``cpu`` line.  On Windows they come
from ``IsProcessorFeaturePresent`` (kernel32), never from the CPU name, named as in
/proc/cpuinfo.  The PF_* values (``winnt.h``; the same in ReactOS'
``sdk/include/xdk/ketypes.h`` and on learn.microsoft.com's IsProcessorFeaturePresent
page) are listed in :data:`PROCESSOR_FEATURES`.
"""

from __future__ import annotations

from tfprov import powershell as ps
from tfprov.facts.base import (
    TfprovFact,
    as_list,
    first_json,
    get_ci,
    kv_blocks,
    leading_int,
    parse_wmi_records,
)


def parse_cpuinfo(lines: list[str]) -> dict:
    """Parse ``/proc/cpuinfo`` of x86_64, aarch64 or ppc64le, one or many processors.

    Returns ``{"arch", "vendor", "model", "flags", "processors"}``: vendor and model from
    the first processor block (None where the kernel prints none, as on aarch64), flags
    sorted and lowercase, processors the number of processor blocks.
    """
    blocks = kv_blocks(lines)
    procs = [b for b in blocks if "processor" in b]
    first = procs[0] if procs else (blocks[0] if blocks else {})
    # aarch64 prints the per-CPU blocks, then a trailing block with Hardware/Revision
    head = {k: v for b in blocks for k, v in b.items() if k not in first} | first

    if "flags" in first or "vendor_id" in first:
        arch = "x86_64"
        flags = first.get("flags", "").split()
    elif "Features" in first or "CPU implementer" in first:
        arch = "aarch64"
        flags = first.get("Features", "").split()
    elif "cpu" in first and ("POWER" in first["cpu"] or "altivec" in first["cpu"]):
        arch = "ppc64le"
        flags = [
            w.strip(",").lower()
            for w in first["cpu"].split()
            if w.strip(",").lower() in ("altivec", "vsx")
        ]
        if "supported" not in first["cpu"]:
            flags = []
    else:
        arch = None
        flags = []
    return {
        "arch": arch,
        "vendor": head.get("vendor_id"),
        "model": head.get("model name"),
        "flags": sorted({f.lower() for f in flags}),
        "processors": len(procs) or (1 if blocks else 0),
    }


class CpuFeatures(TfprovFact):
    """
    The host's CPU: ``{"arch", "vendor", "model", "flags": [sorted, lowercase],
    "processors"}`` from ``/proc/cpuinfo`` (x86_64, aarch64, ppc64le).

    + default: ``{}`` where there is no /proc/cpuinfo (not Linux)

    .. code:: python

        from tfprov.facts.cpu import CpuFeatures
        cpu = host.get_fact(CpuFeatures)
        if "avx" not in cpu.get("flags", []):
            ...  # official TensorFlow >= 1.6 wheels die with 'Illegal instruction'
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return "cat /proc/cpuinfo 2>/dev/null || true"

    def process(self, output: list[str]) -> dict:
        return parse_cpuinfo(output)


# --- Windows ----------------------------------------------------------------------------

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


def parse_win_processor(lines: list[str]) -> dict:
    """Parse :class:`WinCpuFeatures`' JSON, or ``Win32_Processor`` as ``Format-List`` /
    ``wmic cpu ... /format:list`` text.

    Returns ``{"arch", "vendor", "model", "flags", "processors"}`` like
    :func:`parse_cpuinfo`: flags only from ``IsProcessorFeaturePresent``
    results (the JSON's ``features``), so ``[]`` for the text forms — Win32_Processor has
    no instruction-set information and the name is never used to guess it.  ``processors``
    is the number of logical processors (summed over sockets), else the number of
    Win32_Processor records.  ``{}`` when there is no processor in the output.
    """
    data = first_json(lines)
    if isinstance(data, dict) and "processors" in data:
        procs = as_list(data.get("processors"))
        features = data.get("features") or {}
        env_arch = data.get("env_arch")
    else:
        procs = parse_wmi_records(lines)
        features, env_arch = {}, None
    procs = [
        p for p in procs if isinstance(p, dict) and (get_ci(p, "Name") or get_ci(p, "Manufacturer"))
    ]
    if not procs:
        return {}
    first = procs[0]
    arch_code = leading_int(get_ci(first, "Architecture"))
    arch = _WIN_ARCH.get(arch_code) if arch_code is not None else None
    if arch is None and env_arch:
        arch = _ENV_ARCH.get(str(env_arch).upper())
    if arch is None:
        caption = get_ci(first, "Caption") or ""
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
    logical = [leading_int(get_ci(p, "NumberOfLogicalProcessors")) for p in procs]
    model = get_ci(first, "Name")
    return {
        "arch": arch,
        "vendor": get_ci(first, "Manufacturer"),
        "model": model.strip() if model else None,
        "flags": sorted(flags),
        "processors": sum(n for n in logical if n) if all(logical) else len(procs),
    }


def _feature_table() -> str:
    return "; ".join(f"{name} = {num}" for num, name in PROCESSOR_FEATURES.items())


WIN_CPU_SCRIPT = (
    ps.OBSERVE_PRELUDE
    + "$procs = @(Get-CimInstance -ClassName Win32_Processor | ForEach-Object {\n"
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
    The Windows host's CPU, in :class:`CpuFeatures`' shape:
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
        return WIN_CPU_SCRIPT

    def process(self, output: list[str]) -> dict:
        return parse_win_processor(output)
