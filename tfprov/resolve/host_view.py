"""The host as the resolver sees it: CPU level, GPUs with their catalog model and
architecture, Pythons, toolkits, C library and the platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tfprov.catalog import X86_PLATFORMS, Catalog
from tfprov.catalog import models as m
from tfprov.model.platform import Platform
from tfprov.model.profile import HostProfile
from tfprov.model.versions import V, minor_of
from tfprov.resolve.platform import platform_of
from tfprov.resolve.venv_python import VenvPython, venv_pythons

if TYPE_CHECKING:
    from tfprov.resolve.builds import Build


SIMD_LEVELS = ("sse2", "sse3", "sse4.1", "sse4.2", "avx", "avx2", "avx512")
_SIMD_RANK = {level: i for i, level in enumerate(SIMD_LEVELS)}
_FLAG_TO_LEVEL = {
    "sse2": "sse2",
    "pni": "sse3",  # /proc/cpuinfo calls SSE3 'pni'
    "sse3": "sse3",
    "sse4_1": "sse4.1",
    "sse4_2": "sse4.2",
    "avx": "avx",
    "avx2": "avx2",
    "avx512f": "avx512",
}


@dataclass(frozen=True, eq=False)
class GpuView:
    name: str
    cc: str | None
    arch: m.Architecture | None
    model: m.GpuModel | None

    def label(self) -> str:
        parts = [
            p
            for p in (
                self.arch.name if self.arch else None,
                f"CC {self.cc}" if self.cc else "CC unknown",
            )
            if p
        ]
        return f"{self.name} ({', '.join(parts)})"


def gpu_labels(gpus) -> str:
    """'4× Tesla K80 (Kepler, CC 3.7)' rather than the same label four times."""
    counts: dict[str, int] = {}
    for g in gpus:
        counts[g.label()] = counts.get(g.label(), 0) + 1
    return ", ".join(f"{n}× {lbl}" if n > 1 else lbl for lbl, n in counts.items())


@dataclass
class HostView:
    profile: HostProfile
    platform: str
    os_short: str  # 'linux' | 'windows' (driver/CUDA table column; WSL -> windows)
    simd: str | None  # best x86 level, None when unknown or not x86
    flags_known: bool
    gpus: list[GpuView]
    pythons: dict[str, str]  # minor -> full version
    toolkits: set[str]  # CUDA minors installed system-wide
    cudnn: str | None
    ccs: tuple[str | None, ...] = ()
    # what wheel platform tags are checked against: ('glibc', '2.36'), ('musl', '1.2.4'),
    # ('macos', '14.4'); None when not probed
    libc: tuple[str, str | None] | None = None
    os_platform: Platform | None = None  # the OS, as the plan carries it
    venv: dict[str, VenvPython] = field(default_factory=dict)  # minor -> venv interpreter
    no_venv: dict[str, str] = field(default_factory=dict)  # minor -> why none can

    @classmethod
    def of(cls, p: HostProfile, cat: Catalog) -> HostView:
        levels = [_FLAG_TO_LEVEL[f] for f in p.cpu.flags if f in _FLAG_TO_LEVEL]
        simd = max(levels, key=SIMD_LEVELS.index) if levels else None
        gpus = []
        for g in p.gpus:
            model = cat.gpu(g.name)
            if model is None and g.pci_device_id:
                model = cat.gpu_by_pci_id(g.pci_device_id)
            cc = g.compute_capability or (model.cc if model else None)
            arch = None
            if model is not None and model.cc == cc:
                arch = cat.architectures.get(model.arch)
            elif cc:
                arch = cat.arch_for_cc(cc)
            gpus.append(GpuView(name=g.name, cc=cc, arch=arch, model=model))
        venv, no_venv = venv_pythons(p)
        pythons: dict[str, str] = {}
        for py in p.pythons:
            mi = minor_of(py.version)
            if mi not in pythons or V(py.version) > V(pythons[mi]):
                pythons[mi] = py.version
        return cls(
            profile=p,
            os_platform=platform_of(p, cat),
            platform=p.platform,
            os_short=p.os_short,
            simd=simd,
            flags_known=bool(p.cpu.flags),
            gpus=gpus,
            pythons=pythons,
            toolkits={minor_of(t.version) for t in p.cuda_toolkits},
            cudnn=p.cudnn.version if p.cudnn else None,
            ccs=tuple(g.cc for g in gpus),
            libc=_host_libc(p),
            venv=venv,
            no_venv=no_venv,
        )

    def libc_unmet(self, b: Build) -> str | None:
        """Why pip cannot install ``b``'s wheels on this C library / macOS, or None (also
        when either side is unknown)."""
        floor = b.libc_floor
        if floor is None or self.libc is None:
            return None
        name, have = self.libc
        minor = b.release.minor
        if name == "musl":
            return (
                f"TF {minor}'s wheels are manylinux (glibc ≥ {floor}); this host's C library "
                f"is musl {have or ''}".rstrip()
            )
        if have is None or V(have) >= V(floor):
            return None
        what = "macOS" if name == "macos" else name
        return f"TF {minor} needs {what} ≥ {floor}; this host has {have}"

    @property
    def is_x86(self) -> bool:
        return self.platform in X86_PLATFORMS

    def has_simd(self, level: str) -> bool:
        if not self.is_x86:
            return False
        if self.simd is None:
            return not self.flags_known  # unknown flags: assume a modern CPU (warned)
        return _SIMD_RANK[self.simd] >= _SIMD_RANK[level]


def _host_libc(p: HostProfile) -> tuple[str, str | None] | None:
    if p.os.family == "darwin":
        return ("macos", p.os.version) if p.os.version else None
    if p.os.family == "linux" and p.libc is not None:
        return (p.libc.name, p.libc.version)
    return None
