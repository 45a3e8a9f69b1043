"""Candidate builds: the ways to get one TensorFlow release onto this platform (official
wheels, conda builds, a lab wheelhouse, community wheels), and the cheap checks that pass
over the ones that cannot fit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tfprov.catalog import TFRelease, runnable
from tfprov.catalog import models as m
from tfprov.model.plan import TensorflowChoice
from tfprov.model.spec import StackSpec
from tfprov.model.versions import V, cc_tuple, minor_of
from tfprov.resolve.context import Part

if TYPE_CHECKING:
    from tfprov.resolve.context import Ctx


_OS_OF_PLATFORM = {
    "linux_x86_64": "linux",
    "linux_aarch64": "linux",
    "linux_ppc64le": "linux",
    "windows": "windows",
    "macos_x86_64": "macos",
    "macos_arm64": "macos",
}
# --- builds: one way to get a given release onto the host --------------------------------


@dataclass(frozen=True)
class Build:
    release: TFRelease
    variant: str  # 'gpu' | 'cpu'
    origin: str  # 'pypi' | 'conda:<channel>' | 'community:<collection>' | 'wheelhouse'
    package: str
    version: str
    pythons: tuple[str, ...]
    needs_simd: str | None  # 'avx' for official x86 wheels since 1.6, else the build's level
    cuda: str | None = None
    cudnn: str | None = None
    targets: tuple[str, ...] = ()
    min_cc: str | None = None
    url: str | None = None
    sha256: str | None = None
    source_url: str | None = None
    conda_build: m.CondaBuild | None = None
    installable: bool = True  # False: a community archive that must be fetched by hand
    libc_floor: str | None = None  # glibc (Linux) / macOS version its wheels need
    # what :func:`gate_passes` reads of the build: the value its memo is keyed by
    gate_key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        key = (
            self.needs_simd,
            self.pythons,
            self.variant,
            self.targets,
            self.min_cc,
            self.libc_floor,
        )
        object.__setattr__(self, "gate_key", key)

    def describe(self) -> str:
        where = {"pypi": "official PyPI wheel"}.get(self.origin, self.origin)
        return f"TF {self.version} {self.variant.upper()} ({self.package}, {where})"


def minor_match(spec: StackSpec, rel: TFRelease) -> bool:
    """'2.15.0' asks for a patch of the 2.15 line: plan it with 2.15's facts."""
    t = spec.tensorflow
    return t[0].isdigit() and len(V(t).release) == 3 and minor_of(t) == rel.minor


def _requested_version(spec: StackSpec, rel: TFRelease, version: str) -> str:
    t = spec.tensorflow
    if t[0].isdigit() and len(V(t).release) == 3 and minor_of(t) == rel.minor:
        return t
    return version


# --- enumerate builds -------------------------------------------------------------------


def builds_of(ctx: Ctx, rel: TFRelease, variant: str) -> tuple[Build, ...]:
    """Ways to install ``rel``/``variant`` here, best first: official wheels, official conda
    builds, then (if allowed) a lab wheelhouse and community builds.

    The list depends only on the release, the platform and a few spec fields, so it is
    built once per process for each such combination (wheelhouse builds are added per call).
    """
    spec = ctx.spec
    cache = ctx.builds_memo
    if cache is None:
        group = (
            ctx.host.wheel_platform,
            spec.env_manager == "venv",
            spec.cuda_source,
            spec.allow_community_builds,
            spec.tensorflow,
        )
        ctx.build_group = group
        cache = ctx.builds_memo = ctx.cache.builds.setdefault(group, {})
    key = (rel.minor, variant)
    static = cache.get(key)
    if static is None:
        static = cache[key] = tuple(_make_builds(ctx, rel, variant))
    if not (spec.allow_community_builds and ctx.wheelhouse):
        return static
    official = [b for b in static if not b.origin.startswith("community:")]
    community = [b for b in static if b.origin.startswith("community:")]
    return (*official, *_wheelhouse_builds(ctx, rel, variant), *community)


def _wheelhouse_builds(ctx: Ctx, rel: TFRelease, variant: str):
    for w in ctx.wheelhouse:
        if w.minor == rel.minor and w.platform == ctx.host.wheel_platform and w.variant == variant:
            yield Build(
                release=rel,
                variant=variant,
                origin="wheelhouse",
                package=w.project,
                version=w.version,
                pythons=(w.python,),
                needs_simd=w.simd,
                cuda=w.cuda,
                cudnn=w.cudnn,
                targets=rel.targets if variant == "gpu" else (),
                min_cc=rel.documented_min_cc,
                url=w.location,
                sha256=w.sha256,
                source_url=w.location,
                libc_floor=_file_floor(w.filename),
            )


def _make_builds(ctx: Ctx, rel: TFRelease, variant: str):
    host, cat, spec = ctx.host, ctx.cat, ctx.spec
    plat = host.wheel_platform
    pkgs = rel.gpu_packages if variant == "gpu" else rel.cpu_packages
    pkg = pkgs.get(plat)
    gpu_build = cat.gpu_build(rel, plat) if variant == "gpu" else None
    official_simd = "avx" if (rel.needs_avx and host.is_x86) else None
    if pkg is not None and (variant == "cpu" or gpu_build is not None):
        yield Build(
            release=rel,
            variant=variant,
            origin="pypi",
            package=pkg.name,
            version=_requested_version(spec, rel, pkg.version),
            pythons=pkg.pythons,
            needs_simd=official_simd,
            cuda=gpu_build.cuda if gpu_build else None,
            cudnn=gpu_build.cudnn if gpu_build else None,
            targets=rel.targets,
            min_cc=rel.documented_min_cc,
            source_url=pkg.source,
            libc_floor=_wheel_floor(ctx, pkg.name, rel.minor, plat),
        )
    os_name = _OS_OF_PLATFORM.get(plat)
    conda_plat = {"linux_x86_64": "linux-64", "windows": "win-64"}.get(plat)
    if conda_plat and spec.env_manager != "venv" and spec.cuda_source in ("auto", "conda"):
        for cb in cat.conda_by_minor.get(rel.minor, ()):
            if (
                cb.variant == variant
                and conda_plat in (cb.platforms or ["linux-64"])
                and cb.channel in ("anaconda", "defaults", "conda-forge")
            ):
                cuda = cb.cudatoolkit or cb.cuda
                if variant == "gpu" and not cuda:
                    continue
                simd = official_simd
                for suffix, level in (("-sse3", "sse3"), ("-avx2", "avx2")):
                    if cb.package.endswith(suffix) and host.is_x86:
                        simd = level
                if simd == "sse3" and not spec.allow_community_builds:
                    continue  # non-AVX builds only when the spec allows them
                yield Build(
                    release=rel,
                    variant=variant,
                    origin=f"conda:{cb.channel}",
                    package=cb.package,
                    version=cb.version,
                    pythons=tuple(cb.python) or (pkg.pythons if pkg else ()),
                    needs_simd=simd,
                    cuda=cuda,
                    cudnn=cb.cudnn,
                    targets=rel.targets,
                    min_cc=rel.documented_min_cc,
                    source_url=cat.builds.sources[cb.source].url,
                    conda_build=cb,
                )
    if not spec.allow_community_builds:
        return
    for cw in cat.community_by_minor.get(rel.minor, ()):
        if cw.os == os_name and cw.variant == variant:
            yield Build(
                release=rel,
                variant=variant,
                origin=f"community:{cw.collection}",
                package="tensorflow-gpu" if variant == "gpu" else "tensorflow",
                version=cw.version,
                pythons=(cw.python,),
                needs_simd=cw.simd,
                cuda=cw.cuda,
                cudnn=cw.cudnn,
                # "x.y" in a build config means SASS and PTX for x.y: compute_XY here
                targets=tuple(f"compute_{c.replace('.', '')}" for c in cw.compute_capabilities),
                url=cw.url,  # the direct link (its `source` is the page describing it)
                sha256=cw.sha256,
                source_url=cat.builds.sources[cw.source].url,
                installable=cw.installable,
            )


def fetch_by_hand(b: Build) -> str:
    return (
        f"{b.describe()} is a split 7-Zip archive that tfprov cannot install: fetch "
        f"{b.url} and its further parts (.002, ...) by hand, check them, unpack the wheel "
        "with 7-Zip, and put it with its .sha256 in the wheelhouse"
    )


def _wheel_floor(ctx: Ctx, package: str, minor: str, platform: str) -> str | None:
    """The glibc / macOS floor of ``package``'s ``minor`` wheels on ``platform``, from the
    platform tags the catalog records (None: none recorded)."""
    cache = ctx.cache
    key = (package, minor, platform)
    if key not in cache.libc_floor:
        if cache.wheel_rows is None:
            cache.wheel_rows = {(w.package, minor_of(w.minor)): w for w in ctx.cat.wheels.wheels}
        row = cache.wheel_rows.get((package, minor))
        cache.libc_floor[key] = row.libc_floor(platform) if row else None
    return cache.libc_floor[key]


def _file_floor(filename: str) -> str | None:
    """The floor a wheel file's own platform tags set (``…-manylinux_2_27_x86_64.whl``)."""
    tags = filename.removesuffix(".whl").rsplit("-", 1)[-1].split(".")
    floors = [m.tag_floor(t) for t in tags]
    if not floors or any(f is None for f in floors):
        return None
    return min(floors, key=V)


def gate_table(ctx: Ctx) -> dict:
    if ctx.gate_memo is None:
        h = ctx.host
        sig = (h.wheel_platform, h.simd, h.flags_known, ctx.spec.python, h.ccs, h.libc)
        ctx.gate_sig = sig
        ctx.gate_memo = ctx.cache.gate.setdefault(sig, {})
    return ctx.gate_memo


def gate_passes(ctx: Ctx, b: Build) -> bool:
    """The cheap, host-independent-of-software checks (CPU level, requested Python, GPU
    compute capability), memoized per (what the build needs, CPU level, Python, GPUs): a
    release that fails them is passed over with a dict look-up instead of a full check."""
    host = ctx.host
    memo = ctx.gate_memo if ctx.gate_memo is not None else gate_table(ctx)
    key = b.gate_key
    hit = memo.get(key)
    if hit is None:
        hit = True
        if b.needs_simd and host.is_x86 and not host.has_simd(b.needs_simd):
            hit = False
        elif host.libc_unmet(b):
            hit = False
        elif not b.pythons or (ctx.spec.python and ctx.spec.python not in b.pythons):
            hit = False
        elif b.variant == "gpu" and b.targets:
            hit = any(cc and runnable(cc, b.targets) for cc in host.ccs)
        elif b.variant == "gpu" and b.min_cc:
            hit = any(cc and cc_tuple(cc) >= cc_tuple(b.min_cc) for cc in host.ccs)
        memo[key] = hit
    return hit


def no_build_reason(ctx: Ctx, rel: TFRelease, variant: str) -> str:
    plat = ctx.host.wheel_platform
    until = ctx.cat.gpu_until(plat)
    if variant == "gpu" and until is not None and V(rel.minor) > V(until):
        return (
            f"TF {rel.version} has no GPU build for native Windows (GPU support there ended "
            f"with {until}); use WSL2 (the Linux build inside WSL) or tensorflow-cpu with "
            "the DirectML plugin"
        )
    return f"TF {rel.version} has no official {variant.upper()} build for {plat}"


def tf_choice(b: Build, cuda_origin: str | None) -> TensorflowChoice:
    if b.origin == "pypi":
        pkg = b.package + ("[and-cuda]" if cuda_origin == "pip" else "")
        return Part(
            version=b.version,
            package=pkg,
            variant=b.variant,
            source="pypi",
            requirement=f"{pkg}=={b.version}",
            reason=f"official wheel ({b.source_url})",
        )
    if b.origin.startswith("conda:"):
        return Part(
            version=b.version,
            package=b.package,
            variant=b.variant,
            origin="conda",
            channel=b.origin.split(":", 1)[1],
            source=b.origin,
            requirement=f"{b.package}={b.version}",
            reason=f"conda build ({b.source_url})",
        )
    return Part(
        version=b.version,
        package=b.package,
        variant=b.variant,
        source=b.origin,
        requirement=b.url or f"{b.package}=={b.version}",
        url=b.url,
        sha256=b.sha256,
        reason=f"{b.needs_simd or 'generic'} build ({b.source_url}); verify its sha256 on install",
    )


def non_avx_minors(ctx: Ctx) -> set[str]:
    """Minor releases with a build below AVX on this platform (conda non-AVX packages,
    community wheels, this run's wheelhouse) — where allowing them could help."""
    plat = ctx.host.wheel_platform
    memo = ctx.cache.non_avx
    if plat not in memo:
        os_name = _OS_OF_PLATFORM.get(plat)
        found = {
            minor_of(cb.version) for cb in ctx.cat.builds.conda if cb.package.endswith("-sse3")
        }
        found |= {
            minor_of(cw.version)
            for cw in ctx.cat.builds.community
            if cw.os == os_name and cw.simd not in ("avx", "avx2", "avx512")
        }
        memo[plat] = found
    return memo[plat] | {w.minor for w in ctx.wheelhouse if w.platform == plat}
