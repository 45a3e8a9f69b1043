"""CPU facts: architecture, vendor, model and instruction-set flags.

The x86 SIMD levels TensorFlow cares about (sse4_2, avx, avx2, fma, avx512f) are plain
members of ``flags``; on aarch64 ``flags`` holds the ``Features`` line (asimd, sve …),
on ppc64le the altivec/vsx capabilities named in the ``cpu`` line.
"""

from __future__ import annotations

from tfprov.facts.base import TfprovFact, kv_blocks

# The x86 levels that decide which TensorFlow build runs, lowest first.
X86_SIMD_FLAGS = ("sse2", "sse4_1", "sse4_2", "avx", "avx2", "fma", "avx512f")


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
