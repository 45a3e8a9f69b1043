"""The host as the resolver sees it: CPU level, GPUs with their catalog model and
architecture, Pythons, toolkits, C library and the platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tfprov.catalog import X86_PLATFORMS, Catalog
from tfprov.catalog import models as m
from tfprov.model.platform import Platform
from tfprov.model.profile import GPUInfo, HostProfile
from tfprov.model.versions import V, minor_of
from tfprov.resolve.platform import OsView, host_os
from tfprov.resolve.venv_python import VenvPython, venv_pythons

if TYPE_CHECKING:
    from tfprov.resolve.builds import Build
    from tfprov.resolve.cache import ResolverCache


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
    os: OsView  # the OS: the plan's platform and what the resolver reads of it
    os_platform: Platform  # the OS, as the plan carries it (os.platform)
    wheel_platform: str  # linux_x86_64, linux_aarch64, windows, macos_x86_64, ... (os's)
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
    venv: dict[str, VenvPython] = field(default_factory=dict)  # minor -> venv interpreter
    no_venv: dict[str, str] = field(default_factory=dict)  # minor -> why none can

    @classmethod
    def of(cls, p: HostProfile, cache: ResolverCache) -> HostView:
        cat = cache.catalog
        levels = [_FLAG_TO_LEVEL[f] for f in p.cpu.flags if f in _FLAG_TO_LEVEL]
        simd = max(levels, key=SIMD_LEVELS.index) if levels else None
        gpus = [gpu_view(cat, g) for g in p.gpus]
        os = host_os(p, cache)
        venv, no_venv = venv_pythons(p, cat.venv_package(os.platform.distro))
        pythons: dict[str, str] = {}
        for py in p.pythons:
            mi = minor_of(py.version)
            if mi not in pythons or V(py.version) > V(pythons[mi]):
                pythons[mi] = py.version
        return cls(
            profile=p,
            os=os,
            os_platform=os.platform,
            wheel_platform=os.wheel_platform,
            simd=simd,
            flags_known=bool(p.cpu.flags),
            gpus=gpus,
            pythons=pythons,
            toolkits={minor_of(t.version) for t in p.cuda_toolkits},
            cudnn=p.cudnn.version if p.cudnn else None,
            ccs=tuple(g.cc for g in gpus),
            libc=_host_libc(p, os),
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
        what = _LIBC_LABEL.get(name, name)
        return f"TF {minor} needs {what} ≥ {floor}; this host has {have}"

    @property
    def is_x86(self) -> bool:
        return self.wheel_platform in X86_PLATFORMS

    def has_simd(self, level: str) -> bool:
        if not self.is_x86:
            return False
        if self.simd is None:
            return not self.flags_known  # unknown flags: assume a modern CPU (warned)
        return _SIMD_RANK[self.simd] >= _SIMD_RANK[level]


_LIBC_LABEL = {"macos": "macOS"}  # how a refusal names the platform floor


def _host_libc(p: HostProfile, os: OsView) -> tuple[str, str | None] | None:
    if os.libc_from == "os":  # macOS wheels are tagged with the macOS version
        return ("macos", p.os.version) if p.os.version else None
    if os.libc_from == "libc" and p.libc is not None:
        return (p.libc.name, p.libc.version)
    return None


def gpu_view(cat: Catalog, g: GPUInfo) -> GpuView:
    """A probed GPU with what the catalog derives from it: the model (by name, else by
    PCI device id), the compute capability (nvidia-smi's, else the model's) and the
    architecture.  The one place a probed GPU meets the GPU catalog."""
    model = cat.gpu_model(g.name, g.pci_device_id)
    cc = g.compute_capability or (model.cc if model else None)
    arch = None
    if model is not None and model.cc == cc:
        arch = cat.architectures.get(model.arch)
    elif cc:
        arch = cat.arch_for_cc(cc)
    return GpuView(name=g.name, cc=cc, arch=arch, model=model)
