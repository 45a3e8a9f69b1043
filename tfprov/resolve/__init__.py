"""resolve(profile, spec) -> Plan: a pure function, no I/O.

For one host it picks the newest TensorFlow release that satisfies the spec and every
constraint — platform and Python, CPU instruction set (official x86 wheels need AVX from
1.6 on), GPU compute capability against what the build was compiled for, the driver that
build's CUDA needs against the newest driver that still supports the GPU's architecture,
the driver policy, and native-Windows GPU support ending at 2.10 — then decides where
CUDA/cuDNN come from (pip wheels, conda, or a system toolkit), which Python and which
environment manager.  A refusal names the chain of constraints that failed and the best
alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace

from tfprov.catalog import X86_PLATFORMS, Catalog, TFRelease, load_catalog, runnable
from tfprov.catalog import models as m
from tfprov.model.plan import (
    Alternative,
    Component,
    DriverChoice,
    DriverPackages,
    EnvChoice,
    Plan,
    PythonChoice,
    TensorflowChoice,
    assemble,
)
from tfprov.model.platform import Platform
from tfprov.model.profile import HostProfile
from tfprov.model.spec import StackSpec
from tfprov.model.versions import V, cc_tuple, minor_of
from tfprov.resolve.cache import ResolverCache, cache_for
from tfprov.resolve.driver_packages import driver_packages, driver_target, resolve_flavor
from tfprov.resolve.platform import platform_of
from tfprov.resolve.venv_python import VenvPython, venv_pythons
from tfprov.resolve.wheelhouse import WheelhouseWheel

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
_OS_OF_PLATFORM = {
    "linux_x86_64": "linux",
    "linux_aarch64": "linux",
    "linux_ppc64le": "linux",
    "windows": "windows",
    "macos_x86_64": "macos",
    "macos_arm64": "macos",
}
_PREFERRED_BRANCH_KINDS = ("production", "long-term", "lts", "legacy")


# --- the host, as the resolver needs it --------------------------------------------------


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


def _labels(gpus) -> str:
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
    # what :func:`_gate` reads of the build: the value its memo is keyed by
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


class Unmet(Exception):
    """One constraint that a candidate build does not meet (message: the chain)."""


def _fail(ctx: Ctx, message) -> Unmet:
    """An Unmet whose message is only composed when someone will read it: most candidate
    builds fail silently on the way to the one that fits."""
    return Unmet(message() if ctx.explain else "")


@dataclass
class Ctx:
    cat: Catalog
    host: HostView
    spec: StackSpec
    wheelhouse: tuple[WheelhouseWheel, ...]
    cache: ResolverCache
    warnings: list[str] = field(default_factory=list)
    explain: bool = True  # compose failure messages (only for the release that is reported)
    quiet: bool = False  # searching for an alternative: no failure texts at all
    gate_memo: dict | None = None  # this call's table in cache.gate
    builds_memo: dict | None = None  # this call's table in cache.builds
    gate_sig: tuple = ()
    build_group: tuple = ()


# --- public entry point --------------------------------------------------------------------


def resolve(
    profile: HostProfile,
    spec: StackSpec,
    catalog: Catalog | None = None,
    wheelhouse: tuple[WheelhouseWheel, ...] | list[WheelhouseWheel] = (),
    cache: ResolverCache | None = None,
    host: str | None = None,
) -> Plan:
    """Plan the TensorFlow stack for one host. Pure: same inputs, same plan, whatever was
    resolved before (``cache`` holds only answers keyed by the values they depend on;
    default: the module's cache for the catalog).

    ``host`` names the plan (its ``host`` field): the inventory name where there is one,
    else the profile's hostname."""
    name = host or profile.hostname
    if cache is not None and catalog is not None and cache.catalog is not catalog:
        raise ValueError("resolve(): the cache belongs to another catalog")
    cat = catalog or (cache.catalog if cache is not None else load_catalog())
    cache = cache or cache_for(cat)
    host = HostView.of(profile, cat)
    ctx = Ctx(cat=cat, host=host, spec=spec, wheelhouse=tuple(wheelhouse), cache=cache)

    if spec.gpu == "require" and not host.gpus:
        return _refusal(
            ctx, name, "gpu: require, but the host has no NVIDIA GPU", _alternatives(ctx, "cpu")
        )
    found = _search(ctx)
    if not found.candidates:
        newest, oldest = cat.releases[0].version, cat.releases[-1].version
        return _refusal(
            ctx,
            name,
            f"no TensorFlow release matches tensorflow: {spec.tensorflow!r} "
            f"(the catalog knows {oldest} … {newest})",
            [],
        )
    if not host.flags_known and host.is_x86:
        ctx.warnings.append("CPU flags unknown: assuming the CPU has AVX")
    if found.plan is not None:
        if not found.build.installable:
            ctx.warnings.append(_fetch_by_hand(found.build))
        _explain_choice(ctx, found)
        return found.plan.to_plan(name, host.os_platform)
    ff, variants = found.first_failure, found.variants
    error = ff.get(variants[0]) or "no build fits"
    if len(variants) > 1 and variants[1] in ff:
        error += f"; and {ff[variants[1]]}"
    return _refusal(ctx, name, error, _alternatives(ctx, variants[0]))


@dataclass
class _Found:
    candidates: list[TFRelease]
    variants: list[str]
    first_failure: dict[str, str]
    plan: Fit | None = None
    build: Build | None = None
    variant: str | None = None
    gpu_passed_over: Build | None = None  # an older-major GPU build 'auto' did not take


def _search(ctx: Ctx, pool: list[TFRelease] | None = None) -> _Found:
    """Try every (variant, release, build) in preference order; the first that fits wins.
    ``pool`` narrows the releases tried (newest first) below what the spec matches."""
    spec, cat = ctx.spec, ctx.cat
    cache = ctx.cache.candidates
    candidates = cache.get(spec.tensorflow)
    if candidates is None:
        candidates = cache[spec.tensorflow] = [
            r for r in cat.releases if spec.matches(r.version) or _minor_match(spec, r)
        ]
    if pool is not None:
        candidates = [r for r in candidates if r in pool]
    if spec.gpu == "off" or not ctx.host.gpus:
        variants = ["cpu"] if spec.gpu != "require" else []
    else:
        variants = ["gpu"] if spec.gpu == "require" else ["gpu", "cpu"]
    found = _Found(candidates=candidates, variants=variants or ["gpu"], first_failure={})
    if not candidates:
        return found
    ff = found.first_failure
    if variants == ["gpu", "cpu"]:
        # 'auto': use the GPU when it can, but never at the price of a major version:
        # TF 1.x code does not run on 2.x, so an old GPU does not pull 'latest' back to 1.x.
        gpu = _first_fit(ctx, "gpu", candidates, ff)
        if gpu and gpu[1].release.key[0] == candidates[0].key[0]:
            found.plan, found.build, found.variant = gpu[0], gpu[1], "gpu"
            return found
        cpu = _first_fit(ctx, "cpu", candidates, ff)
        if gpu and (cpu is None or cpu[1].release.key[0] <= gpu[1].release.key[0]):
            found.plan, found.build, found.variant = gpu[0], gpu[1], "gpu"
        elif cpu:
            found.plan, found.build, found.variant = cpu[0], cpu[1], "cpu"
            found.gpu_passed_over = gpu[1] if gpu else None
        return found
    for variant in variants:
        hit = _first_fit(ctx, variant, candidates, ff)
        if hit:
            found.plan, found.build, found.variant = hit[0], hit[1], variant
            return found
    return found


def _first_fit(ctx: Ctx, variant: str, pool, first_failure: dict[str, str]):
    """The first build that fits, newest release first.  ``first_failure[variant]`` gets
    why the newest release did not fit: every build of it that was tried, or why it has
    none here."""
    rest = pool
    if pool and not ctx.quiet and variant not in first_failure:
        # the newest release is checked in full, so that its failure can be told
        ctx.explain = True
        failures = []
        for build in _builds(ctx, pool[0], variant):
            try:
                return _plan_build(ctx, build), build
            except Unmet as exc:
                failures.append(f"{build.describe()}: {exc}")
        text = "; ".join(dict.fromkeys(failures)) or _no_build_reason(ctx, pool[0], variant)
        first_failure[variant] = text
        rest = pool[1:]
    ctx.explain = False
    for build in _passing(ctx, variant, rest):
        try:
            return _plan_build(ctx, build), build
        except Unmet:
            continue
    return None


def _passing(ctx: Ctx, variant: str, pool) -> list[Build]:
    """The builds of ``pool``'s releases that pass :func:`_gate`, in order.  Without a
    wheelhouse this depends only on the spec group and the host's gate signature, so the
    list is memoized: hosts of the same kind skip straight to the builds worth checking."""
    if not pool:
        return []
    if ctx.wheelhouse and ctx.spec.allow_community_builds:
        return [b for rel in pool for b in _builds(ctx, rel, variant) if _gate(ctx, b)]
    _builds(ctx, pool[0], variant)  # makes sure ctx.build_group is set
    _gate_memo(ctx)
    key = (ctx.build_group, ctx.gate_sig, variant, tuple(r.minor for r in pool))
    memo = ctx.cache.passing
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = [b for rel in pool for b in _builds(ctx, rel, variant) if _gate(ctx, b)]
    return hit


def _minor_match(spec: StackSpec, rel: TFRelease) -> bool:
    """'2.15.0' asks for a patch of the 2.15 line: plan it with 2.15's facts."""
    t = spec.tensorflow
    return t[0].isdigit() and len(V(t).release) == 3 and minor_of(t) == rel.minor


def _requested_version(spec: StackSpec, rel: TFRelease, version: str) -> str:
    t = spec.tensorflow
    if t[0].isdigit() and len(V(t).release) == 3 and minor_of(t) == rel.minor:
        return t
    return version


# --- enumerate builds -------------------------------------------------------------------


def _builds(ctx: Ctx, rel: TFRelease, variant: str) -> tuple[Build, ...]:
    """Ways to install ``rel``/``variant`` here, best first: official wheels, official conda
    builds, then (if allowed) a lab wheelhouse and community builds.

    The list depends only on the release, the platform and a few spec fields, so it is
    built once per process for each such combination (wheelhouse builds are added per call).
    """
    spec = ctx.spec
    cache = ctx.builds_memo
    if cache is None:
        group = (
            ctx.host.platform,
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
        if w.minor == rel.minor and w.platform == ctx.host.platform and w.variant == variant:
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
    plat = host.platform
    pkgs = rel.gpu_packages if variant == "gpu" else rel.cpu_packages
    pkg = pkgs.get(plat)
    gpu_build = _gpu_build_facts(ctx, rel) if variant == "gpu" else None
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
                url=_community_url(cat, cw),
                sha256=cw.sha256,
                source_url=cat.builds.sources[cw.source].url,
                installable=cw.installable,
            )


def _fetch_by_hand(b: Build) -> str:
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


def _community_url(cat: Catalog, cw: m.CommunityWheel) -> str | None:
    return cw.url  # the catalog's direct link (its `source` is the page describing it)


def _gpu_build_facts(ctx: Ctx, rel: TFRelease):
    """The tested CUDA/cuDNN of rel's official GPU build on this platform, or None."""
    plat = ctx.host.platform
    if plat == "linux_x86_64":
        return rel.gpu.get("linux_gpu")
    if plat == "windows":
        if V(rel.minor) > V(ctx.cat.rules.windows_native_gpu_until.value):
            return None
        return rel.gpu.get("windows_gpu")
    if plat == "macos_x86_64":
        return rel.gpu.get("macos_gpu")
    return None


def _gate_memo(ctx: Ctx) -> dict:
    if ctx.gate_memo is None:
        h = ctx.host
        sig = (h.platform, h.simd, h.flags_known, ctx.spec.python, h.ccs, h.libc)
        ctx.gate_sig = sig
        ctx.gate_memo = ctx.cache.gate.setdefault(sig, {})
    return ctx.gate_memo


def _gate(ctx: Ctx, b: Build) -> bool:
    """The cheap, host-independent-of-software checks (CPU level, requested Python, GPU
    compute capability), memoized per (what the build needs, CPU level, Python, GPUs): a
    release that fails them is passed over with a dict look-up instead of a full check."""
    host = ctx.host
    memo = ctx.gate_memo if ctx.gate_memo is not None else _gate_memo(ctx)
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


def _no_build_reason(ctx: Ctx, rel: TFRelease, variant: str) -> str:
    plat = ctx.host.platform
    until = ctx.cat.rules.windows_native_gpu_until.value
    if variant == "gpu" and plat == "windows" and V(rel.minor) > V(until):
        return (
            f"TF {rel.version} has no GPU build for native Windows (GPU support there ended "
            f"with {until}); use WSL2 (the Linux build inside WSL) or tensorflow-cpu with "
            "the DirectML plugin"
        )
    if variant == "gpu" and plat not in ("linux_x86_64", "windows"):
        return f"TF {rel.version} has no official GPU build for {plat}"
    return f"TF {rel.version} has no official {variant.upper()} build for {plat}"


# --- check one build -------------------------------------------------------------------


class _Part(SimpleNamespace):
    """A plan component while the search runs; becomes a pydantic model only in the plan
    that is returned (building models for every candidate would dominate the cost)."""


@dataclass
class Fit:
    """A build that fits the host, with every component decided."""

    tensorflow: _Part
    python: _Part
    cuda: _Part
    cudnn: _Part
    driver: _Part
    env_manager: _Part
    reasons: list[str]
    warnings: list[str]

    def to_plan(self, host: str, platform: Platform) -> Plan:
        return assemble(
            Plan,
            {
                "host": host,
                "ok": True,
                "platform": platform,
                "tensorflow": assemble(TensorflowChoice, vars(self.tensorflow)),
                "python": assemble(PythonChoice, vars(self.python)),
                "cuda": assemble(Component, vars(self.cuda)),
                "cudnn": assemble(Component, vars(self.cudnn)),
                "driver": assemble(DriverChoice, vars(self.driver)),
                "env_manager": assemble(EnvChoice, vars(self.env_manager)),
                "reasons": self.reasons,
                "warnings": self.warnings,
            },
        )


def _plan_build(ctx: Ctx, b: Build) -> Fit:
    host, spec = ctx.host, ctx.spec
    reasons: list[str] = []
    warnings: list[str] = []

    # CPU instruction set
    if b.needs_simd and host.is_x86 and not host.has_simd(b.needs_simd):
        have = host.simd or "no SSE/AVX flags"
        cpu = host.profile.cpu.model or "this CPU"
        if b.origin == "pypi":
            raise _fail(
                ctx,
                lambda: (
                    f"official x86 wheels use AVX since TF "
                    f"{ctx.cat.rules.x86_wheels_require_avx_since.value}, but {cpu} has "
                    f"{have} (no AVX: 'Illegal instruction')"
                ),
            )
        raise _fail(ctx, lambda: f"built for {b.needs_simd.upper()}, but {cpu} has only {have}")
    if b.needs_simd and host.is_x86:
        reasons.append(f"CPU: {b.needs_simd.upper()} present, as this build needs")

    # C library / macOS version the wheels are tagged for
    libc_why = host.libc_unmet(b)
    if libc_why:
        raise _fail(ctx, lambda: libc_why)
    if b.libc_floor and host.libc is None:
        what = "macOS" if host.platform.startswith("macos") else "glibc"
        warnings.append(
            f"C library not probed: TF {b.release.minor}'s wheels need {what} ≥ "
            f"{b.libc_floor} (not checked)"
        )

    # Python
    if not b.pythons:
        raise _fail(ctx, lambda: f"no wheels of TF {b.version} for {host.platform}")
    if spec.python and spec.python not in b.pythons:
        raise _fail(
            ctx,
            lambda: (
                f"supports Python {_py_list(b.pythons)} on {host.platform}, "
                f"not the requested {spec.python}"
            ),
        )

    cuda = cudnn = None
    if b.variant == "gpu":
        used = _check_gpus(ctx, b, reasons, warnings)
        need, need_why = _driver_need(ctx, b.cuda, jit=any(k == "ptx" for k in used.values()))
        driver = _choose_driver(ctx, b, need, need_why, [g for g in used], reasons, warnings)
        cuda, cudnn, cuda_origin = _choose_cuda(ctx, b, reasons)
    else:
        cuda_origin = None
        driver = _Part(
            action="none",
            version=host.profile.nvidia_driver,
            reason="CPU build: no driver needed",
        )

    env, python = _choose_env(ctx, b, cuda_origin, reasons)
    tf = _tf_choice(b, cuda_origin)
    return Fit(
        tensorflow=tf,
        python=python,
        cuda=cuda or _Part(action="none", reason="CPU build: no CUDA needed"),
        cudnn=cudnn or _Part(action="none", reason="CPU build: no cuDNN needed"),
        driver=driver,
        env_manager=env,
        reasons=reasons,
        warnings=list(dict.fromkeys(warnings)),
    )


def _py_list(pys) -> str:
    pys = list(pys)
    if len(pys) > 2 and all(
        cc_tuple(b)[0] == cc_tuple(a)[0] and cc_tuple(b)[1] == cc_tuple(a)[1] + 1
        for a, b in zip(pys, pys[1:], strict=False)
    ):
        return f"{pys[0]}–{pys[-1]}"
    return ", ".join(pys)


def _check_gpus(ctx: Ctx, b: Build, reasons, warnings) -> dict[GpuView, str]:
    """Which GPUs can run this build, and how ('sass' or 'ptx'). Unmet if none."""
    hows = []
    for g in ctx.host.gpus:
        if g.cc is None:
            how = None
        elif b.targets:
            how = runnable(g.cc, b.targets)
        elif b.min_cc:
            how = "sass" if cc_tuple(g.cc) >= cc_tuple(b.min_cc) else None
        else:
            how = "sass"
        hows.append(how)
    if not ctx.explain and not any(hows):
        raise _fail(ctx, str)  # the common case on the way down the releases: no strings
    used: dict[GpuView, str] = {}
    problems: dict[str, list[GpuView]] = {}
    for g, how in zip(ctx.host.gpus, hows, strict=True):
        if how:
            used[g] = how
        elif g.cc is None and g.model is not None:  # a catalog GPU without CUDA (Curie)
            problems.setdefault("has no CUDA (no compute capability)", []).append(g)
        elif g.cc is None:
            problems.setdefault("compute capability unknown (not in the GPU catalog)", []).append(g)
        elif b.targets:
            problems.setdefault(
                f"cannot run it: the build targets {', '.join(b.targets)}", []
            ).append(g)
        else:
            problems.setdefault(f"is below the documented minimum CC {b.min_cc}", []).append(g)
    problem_text = "; ".join(f"{_labels(gs)} {why}" for why, gs in problems.items())
    if not used:
        raise _fail(ctx, lambda: _with_driver_chain(ctx, b, problem_text or "no usable GPU"))
    for g, how in used.items():
        if how == "ptx":
            warnings.append(
                f"{g.label()}: no native code in TF {b.version}'s build; it runs via PTX "
                "JIT compilation (slow first start, needs the full driver for its CUDA)"
            )
    if problems:
        warnings.append("GPUs TensorFlow will ignore: " + problem_text)
    archs = {g.arch.name for g in used if g.arch}
    if len(ctx.host.gpus) > 1 and len(archs) > 1:
        warnings.append(
            "mixed GPU architectures (" + ", ".join(sorted(archs)) + "): the plan fits all of "
            "them; TensorFlow spreads work across GPUs of unequal speed"
        )
    how = "natively" if all(k == "sass" for k in used.values()) else "(partly via PTX JIT)"
    reasons.append(f"GPU: {_labels(used)} runs {b.describe()} {how}")
    return used


def _with_driver_chain(ctx: Ctx, b: Build, text: str) -> str:
    """Add the driver side of the story when it fails too, so a refusal shows the whole
    chain: 'TF 2.15 needs CUDA 12.2 → driver ≥ 525.60.13, but GeForce GTX 680 … 470 branch'."""
    if not b.cuda:
        return text
    try:
        need, need_why = _driver_need(ctx, b.cuda, jit=False)
    except Unmet:
        return text
    for g in ctx.host.gpus:
        if g.cc and need and not _driver_fits_arch(ctx, need, g):
            last, latest = _arch_ceiling(ctx, g)
            text += (
                f"; and TF {b.version} needs {need_why}, but {_labels([g])} is supported "
                f"only up to the {last} branch" + (f" (newest {latest})" if latest else "")
            )
            break
    return text


def _driver_need(ctx: Ctx, cuda: str | None, jit: bool) -> tuple[str | None, str]:
    """The minimum driver for software built with ``cuda`` on this host's OS."""
    if cuda is None:
        return None, ""
    col = ctx.host.os_short
    ga = ctx.cat.toolkit_ga(cuda)
    ga_v = getattr(ga, col) if ga else None
    mc = ctx.cat.minor_compat(V(cuda).major)
    mc_v = getattr(mc, col) if mc else None
    if mc_v and not jit and (ga_v is None or V(mc_v) < V(ga_v)):
        return mc_v, (
            f"CUDA {cuda} → driver ≥ {mc_v} (CUDA {V(cuda).major}.x minor version compatibility)"
        )
    if ga_v:
        return ga_v, f"CUDA {cuda} → driver ≥ {ga_v} ({ga.release})"
    raise _fail(ctx, lambda: f"no published minimum {col} driver for CUDA {cuda}")


def _arch_ceiling(ctx: Ctx, g: GpuView) -> tuple[int | None, str | None]:
    if g.arch is None or g.arch.last_branch is None:
        return None, None
    b = ctx.cat.branch(g.arch.last_branch)
    return g.arch.last_branch, (b.latest if b else None)


def _driver_fits_arch(ctx: Ctx, need: str, g: GpuView) -> bool:
    last, latest = _arch_ceiling(ctx, g)
    if last is None:
        return True
    if ctx.host.os_short == "linux" and latest:
        return V(need) <= V(latest)
    branch = ctx.cat.branch_of(need)
    return branch is None or branch <= last


def _choose_driver(ctx, b: Build, need, need_why, used: list[GpuView], reasons, warnings):
    host, spec, cat = ctx.host, ctx.spec, ctx.cat
    installed = host.profile.nvidia_driver
    broken = host.profile.driver_error  # nvidia-smi could not talk to the driver
    if broken and spec.driver != "keep":
        hint = (
            "a reboot after a driver update usually clears this"
            if "mismatch" in broken.lower()
            else "the driver will be reinstalled"
        )
        warnings.append(f"nvidia-smi: {broken}: the installed driver is not usable; {hint}")
    # the driver is host-wide: it must also run every GPU that TF will use
    for g in used:
        if need and not _driver_fits_arch(ctx, need, g):
            last, latest = _arch_ceiling(ctx, g)
            raise _fail(
                ctx,
                lambda g=g, last=last, latest=latest: (
                    f"TF {b.version} needs {need_why}, but {_labels([g])} is supported only up "
                    f"to the {last} branch" + (f" (newest {latest})" if latest else "")
                ),
            )
    where = "on the Windows host (WSL uses the Windows driver)" if host.profile.os.wsl else ""
    floor = max((g.arch.first_branch for g in used if g.arch and g.arch.first_branch), default=None)
    too_old_for_gpu = bool(installed and floor and (cat.branch_of(installed) or 0) < floor)
    if spec.driver == "keep":
        if installed is None:
            raise _fail(ctx, lambda: "driver: keep, but no NVIDIA driver is installed")
        if broken:
            raise _fail(
                ctx,
                lambda: (
                    f"driver: keep, but the installed driver does not work (nvidia-smi: {broken})"
                ),
            )
        if too_old_for_gpu:
            raise _fail(
                ctx,
                lambda: (
                    f"driver: keep, but the installed {installed} predates the {floor} "
                    f"branch that {_labels(used)} needs"
                ),
            )
        if need and V(installed) < V(need):
            raise _fail(
                ctx, lambda: f"driver: keep, but the installed {installed} is older than {need_why}"
            )
        reasons.append(f"driver: keep {installed} (policy keep; {need_why})")
        return _Part(
            action="keep",
            version=installed,
            min_version=need,
            origin="host",
            reason=f"policy keep; {installed} satisfies {need_why}",
        )
    if isinstance(spec.driver, int):
        pin = cat.branch(spec.driver)
        if pin is None:
            known = ", ".join(str(x.branch) for x in cat.branches)
            raise _fail(
                ctx, lambda: f"driver: {spec.driver} is not a known driver branch ({known})"
            )
        for g in used:
            a = g.arch
            if a and (
                (a.last_branch and pin.branch > a.last_branch)
                or (a.first_branch and pin.branch < a.first_branch)
            ):
                raise _fail(
                    ctx,
                    lambda g=g, a=a: (
                        f"driver: {pin.branch} does not support {g.label()} "
                        f"(branches {a.first_branch or '?'}–{a.last_branch or 'current'})"
                    ),
                )
        if need and not _branch_meets(ctx, pin, need):
            raise _fail(
                ctx, lambda: f"driver: {pin.branch} (newest {pin.latest}) is older than {need_why}"
            )
        if (
            installed
            and not broken
            and cat.branch_of(installed) == pin.branch
            and (need is None or V(installed) >= V(need))
        ):
            reasons.append(f"driver: keep {installed} (pinned branch {pin.branch}; {need_why})")
            return _Part(
                action="keep",
                version=installed,
                min_version=need,
                branch=pin.branch,
                origin="host",
                reason=f"in the pinned {pin.branch} branch",
            )
        return _install_driver(
            ctx,
            pin.branch,
            installed,
            need,
            f"pinned; {need_why}",
            reasons,
            f"pinned branch {pin.branch}" + (f" {where}" if where else ""),
        )
    # auto
    if (
        installed
        and not broken
        and (need is None or V(installed) >= V(need))
        and not too_old_for_gpu
    ):
        reasons.append(f"driver: keep {installed} ({need_why})")
        return _Part(
            action="keep",
            version=installed,
            min_version=need,
            origin="host",
            reason=f"installed {installed} is new enough: {need_why}",
        )
    every = [g for g in host.gpus if g.arch]
    branch = _pick_branch(ctx, need, every) if len(every) > len(used) else None
    if branch is None:
        branch = _pick_branch(ctx, need, used)
        left = [g for g in every if g not in used]
        if branch is not None and left:
            warnings.append(
                f"driver branch {branch.branch} does not support "
                f"{_labels(left)}: those GPUs will be unusable"
            )
    if branch is None:
        raise _fail(
            ctx, lambda: f"no known driver branch supports {_labels(used)} and meets {need_why}"
        )
    why = f"{need_why}" + (f"; installed {installed} is older" if installed else "")
    if too_old_for_gpu:
        why = f"installed {installed} predates the {floor} branch these GPUs need; {need_why}"
    if host.profile.os.wsl:
        warnings.append(
            f"the NVIDIA driver must be upgraded {where}; tfprov cannot do it from inside WSL"
        )
    return _install_driver(ctx, branch.branch, installed, need, why, reasons, why)


def _install_driver(ctx, branch: int, installed, need, why: str, reasons, reason: str):
    """The driver component for installing (or upgrading to) ``branch``."""
    action = "upgrade" if installed else "install"
    reasons.append(f"driver: {action} branch {branch} ({why})")
    origin, flavor, packages, source = _driver_install(ctx, branch)
    return _Part(
        action=action,
        version=installed,
        min_version=need,
        branch=branch,
        origin=origin,
        flavor=flavor,
        packages=packages,
        source=source,
        reason=reason,
    )


def _branch_meets(ctx: Ctx, b: m.DriverBranch, need: str) -> bool:
    if ctx.host.os_short == "linux":
        return V(b.latest) >= V(need)
    nb = ctx.cat.branch_of(need)
    return nb is None or b.branch >= nb


def _pick_branch(ctx: Ctx, need: str | None, used: list[GpuView]) -> m.DriverBranch | None:
    """The newest production/long-term branch that runs every GPU in ``used`` and meets
    ``need`` (memoized: it depends only on the OS column, the need and the architectures)."""
    key = (ctx.host.os_short, need, tuple(sorted({g.arch.name for g in used if g.arch})))
    memo = ctx.cache.branch
    if key not in memo:
        memo[key] = _pick_branch_uncached(ctx, need, used)
    return memo[key]


def _pick_branch_uncached(ctx, need, used):
    fits = []
    for b in ctx.cat.branches:
        if need and not _branch_meets(ctx, b, need):
            continue
        ok = True
        for g in used:
            a = g.arch
            if a and (
                (a.last_branch and b.branch > a.last_branch)
                or (a.first_branch and b.branch < a.first_branch)
            ):
                ok = False
                break
        if ok:
            fits.append(b)
    if not fits:
        return None
    preferred = [b for b in fits if (b.kind or "") in _PREFERRED_BRANCH_KINDS]
    return (preferred or fits)[-1]


def _driver_install(ctx: Ctx, branch: int):
    """(origin, flavor, packages, source text) of installing ``branch`` on this host:
    the packages the driver operation installs, with the kernel-module flavor."""
    p = ctx.host.profile
    if p.os.wsl:
        return "host", None, None, "Windows host driver (manual)"
    if p.os.family == "windows":
        return "system", None, None, "NVIDIA Windows driver installer (configurable URL)"
    os_id, version = driver_target(p.os.distro, p.os.version)
    flavor = resolve_flavor(ctx.spec.driver_flavor, branch, list(ctx.host.ccs))
    pkgs = driver_packages(os_id, version, branch, flavor)
    if pkgs is None:
        what = f"none: tfprov installs no NVIDIA driver on {p.os.distro or 'this OS'}"
        return "none", flavor, None, what
    packages = assemble(DriverPackages, {**vars(pkgs), "components": list(pkgs.components)})
    return "system", flavor, packages, pkgs.describe()


# --- CUDA / cuDNN origin ------------------------------------------------------------------


def _pin_of(reqs, prefix: str) -> str | None:
    for r in reqs:
        if not r.startswith(prefix):
            continue
        mt = re.search(r"(==|>=|~=)\s*([0-9][0-9.]*)", r)
        if mt:
            return mt.group(2) if mt.group(1) == "==" else f">={mt.group(2)}"
    return None


def _conda_recipe(ctx: Ctx, b: Build) -> m.CondaRecipe | None:
    os_name = ctx.host.os_short if not ctx.host.profile.os.wsl else "linux"
    memo = ctx.cache.conda_recipe
    key = (os_name, b.release.version)
    if key not in memo:
        memo[key] = next(
            (
                r
                for r in ctx.cat.builds.conda_recipes
                if r.os == os_name and V(b.release.version) in _specifier(r.tensorflow)
            ),
            None,
        )
    return memo[key]


def _specifier(text):
    from tfprov.model.versions import spec_set

    return spec_set(text)


def _choose_cuda(ctx: Ctx, b: Build, reasons) -> tuple[Component, Component, str]:
    host, spec = ctx.host, ctx.spec
    want = spec.cuda_source
    is_linux = host.platform.startswith("linux")
    options: list[str] = []
    if b.origin.startswith("conda:"):
        options = ["conda-build"]
    else:
        if is_linux and b.release.and_cuda and b.origin == "pypi":
            options.append("pip")
        recipe = _conda_recipe(ctx, b)
        if recipe and spec.env_manager != "venv":
            options.append("conda")
        options.append("system")
    if want != "auto":
        allowed = {"pip": ["pip"], "conda": ["conda", "conda-build"], "system": ["system"]}[want]
        options = [o for o in options if o in allowed]
        if not options:
            why = {
                "pip": "CUDA pip wheels (tensorflow[and-cuda]) exist only for TF ≥ 2.14 on Linux",
                "conda": "no conda recipe for this release/OS (or env_manager: venv)",
                "system": "this build brings its own CUDA",
            }[want]
            raise _fail(ctx, lambda: f"cuda_source: {want} is not possible: {why}")
    elif (
        "system" in options
        and b.cuda
        and minor_of(b.cuda) in host.toolkits
        and ("pip" not in options)
    ):
        options.insert(0, "system")  # a matching toolkit is already there: use it
    choice = options[0]
    cudnn_have = host.cudnn
    if choice == "pip":
        reqs = b.release.and_cuda.requires
        cv = _pin_of(reqs, "nvidia-cuda-runtime") or b.cuda
        dv = _pin_of(reqs, "nvidia-cudnn") or b.cudnn
        reasons.append(f"CUDA {cv} and cuDNN {dv}: pip wheels pulled by tensorflow[and-cuda]")
        return (
            _Part(
                action="install",
                version=cv,
                origin="pip",
                source="pip: nvidia-*-cu wheels (and-cuda)",
                reason=f"TF {b.version} on Linux ships CUDA as pip wheels",
            ),
            _Part(
                action="install",
                version=dv,
                origin="pip",
                source="pip: nvidia-cudnn wheel (and-cuda)",
                reason="pinned by tensorflow[and-cuda]",
            ),
            "pip",
        )
    if choice == "conda-build":
        cb = b.conda_build
        chan = cb.channel if cb else "conda"
        reasons.append(
            f"CUDA {b.cuda} and cuDNN {b.cudnn}: pulled by conda {b.package}={b.version}"
        )
        return (
            _Part(
                action="install",
                version=b.cuda,
                origin="conda",
                channel=chan,
                source=f"conda:{chan} cudatoolkit",
                reason=f"dependency of {b.package}={b.version} on {chan}",
            ),
            _Part(
                action="install",
                version=b.cudnn,
                origin="conda",
                channel=chan,
                source=f"conda:{chan} cudnn",
                reason=f"dependency of {b.package}={b.version} on {chan}",
            ),
            "conda",
        )
    if choice == "conda":
        r = _conda_recipe(ctx, b)
        tk = next((x.split("=", 1)[1] for x in r.conda if x.startswith("cudatoolkit=")), b.cuda)
        dn = next((x.split("=", 1)[1] for x in r.conda if x.startswith("cudnn=")), None)
        dn = dn or _pin_of(r.pip, "nvidia-cudnn") or b.cudnn
        dn_conda = any(x.startswith("cudnn=") for x in r.conda)
        dn_src = f"conda:{r.channel} cudnn" if dn_conda else "pip: nvidia-cudnn wheel"
        tk_req = f"cudatoolkit={tk}" if tk else None
        dn_req = f"cudnn={dn}" if dn_conda else f"nvidia-cudnn-cu{V(tk).major}=={dn}"
        reasons.append(f"CUDA {tk} / cuDNN {dn}: the official conda recipe for TF {b.version}")
        return (
            _Part(
                action="install",
                version=tk,
                origin="conda",
                channel=r.channel,
                requirement=tk_req,
                source=f"conda:{r.channel} cudatoolkit",
                reason="TensorFlow's install guide for this release",
            ),
            _Part(
                action="install",
                version=dn,
                origin="conda" if dn_conda else "pip",
                channel=r.channel if dn_conda else None,
                requirement=dn_req,
                source=dn_src,
                reason="TensorFlow's install guide for this release",
            ),
            "conda",
        )
    # system toolkit
    have_tk = b.cuda and minor_of(b.cuda) in host.toolkits
    have_dn = cudnn_have and b.cudnn and _same_prefix(cudnn_have, b.cudnn)
    src = "NVIDIA CUDA repository" if is_linux else "NVIDIA CUDA installer (configurable URL)"
    reasons.append(f"CUDA {b.cuda} / cuDNN {b.cudnn}: system toolkit, as the build was tested")
    return (
        _Part(
            action="keep" if have_tk else "install",
            version=b.cuda,
            origin="host" if have_tk else "system",
            source=f"system: {src}",
            reason="installed toolkit matches" if have_tk else "tested build configuration",
        ),
        _Part(
            action="keep" if have_dn else "install",
            version=b.cudnn,
            origin="host" if have_dn else "system",
            source="system: NVIDIA cuDNN (configurable URL)",
            reason=("installed cuDNN matches" if have_dn else "tested build configuration"),
        ),
        "system",
    )


def _same_prefix(have: str, want: str) -> bool:
    w = V(want).release
    return V(have).release[: len(w)] == w


# --- environment and Python ---------------------------------------------------------------


def _choose_env(ctx: Ctx, b: Build, cuda_origin: str | None, reasons):
    host, spec = ctx.host, ctx.spec
    env_name = spec.env_name or f"tf{b.release.key[0]}{b.release.key[1]}"
    host_pys = [p for p in b.pythons if p in host.venv]  # those that can make a venv
    needs_conda = cuda_origin == "conda" or b.origin.startswith("conda:")
    manager = spec.env_manager
    if manager == "venv" and needs_conda:
        raise _fail(ctx, lambda: "env_manager: venv, but this build's CUDA comes from conda")
    if manager == "auto":
        manager = "conda" if needs_conda or not host_pys else "venv"
    if spec.python:
        py = spec.python
    elif manager == "venv":
        if not host_pys:
            raise _fail(
                ctx,
                lambda: (
                    f"env_manager: venv needs Python {_py_list(b.pythons)} that can make a "
                    f"venv; host has {_host_pythons(host)}"
                ),
            )
        py = _system_first(host, host_pys)
    else:
        py = b.pythons[-1]
    if manager == "venv":
        vp = host.venv.get(py)
        if vp is None:
            raise _fail(
                ctx,
                lambda: (
                    f"env_manager: venv needs Python {py} on the host that can make a venv; "
                    f"host has {_host_pythons(host)}"
                ),
            )
        preferred = vp.distro and any(V(p) > V(py) and not host.venv[p].distro for p in host_pys)
        python = _Part(
            action="keep",
            version=vp.version,
            origin="host",
            source="host",
            path=vp.path,
            venv_package=vp.package,
            reason=f"host Python {vp.version}"
            + (f" ({vp.path})" if vp.path else "")
            + f" is supported by TF {b.version}"
            + ("; the distro's interpreter, preferred for a system env" if preferred else "")
            + f"; {vp.why}",
        )
        env = _Part(
            action="install",
            manager="venv",
            name=env_name,
            reason="host Python fits" + ("" if spec.env_manager == "venv" else "; no conda needed"),
        )
    else:
        conda = host.profile.conda
        python = _Part(
            action="install",
            version=py,
            origin="conda",
            source="conda",
            reason=f"newest Python TF {b.version} supports here"
            if not spec.python
            else "requested",
        )
        why = (
            "CUDA comes from conda"
            if cuda_origin == "conda"
            else "the build comes from conda"
            if needs_conda
            else _no_host_python(host, b)
            if not host_pys
            else "requested"
        )
        env = _Part(
            action="keep" if conda and env_name in conda.envs else "install",
            manager="conda",
            name=env_name,
            reason=why + ("" if conda else "; conda will be installed (Miniforge)"),
        )
    reasons.append(f"Python {python.version} in {env.manager} env '{env.name}' ({env.reason})")
    if manager == "venv":
        reasons.append(f"Python: {python.reason}")
    return env, python


def _system_first(host: HostView, minors: list[str]) -> str:
    """The minor a system venv uses: the newest one the distro's interpreter has, else
    the newest."""
    distro = [p for p in minors if host.venv[p].distro]
    return (distro or minors)[-1]


def _host_pythons(host: HostView) -> str:
    """The host's interpreters for a refusal: the venv-capable ones, then why the others
    cannot."""
    have = [host.venv[p].version for p in sorted(host.venv, key=V)]
    have += [host.no_venv[p] for p in sorted(host.no_venv, key=V)]
    return "; ".join(have) or "none"


def _no_host_python(host: HostView, b: Build) -> str:
    unable = [host.no_venv[p] for p in b.pythons if p in host.no_venv]
    if unable:
        return "no host Python that TF supports can make a venv (" + "; ".join(unable) + ")"
    return "no host Python that TF supports"


def _tf_choice(b: Build, cuda_origin: str | None) -> TensorflowChoice:
    if b.origin == "pypi":
        pkg = b.package + ("[and-cuda]" if cuda_origin == "pip" else "")
        return _Part(
            version=b.version,
            package=pkg,
            variant=b.variant,
            source="pypi",
            requirement=f"{pkg}=={b.version}",
            reason=f"official wheel ({b.source_url})",
        )
    if b.origin.startswith("conda:"):
        return _Part(
            version=b.version,
            package=b.package,
            variant=b.variant,
            origin="conda",
            channel=b.origin.split(":", 1)[1],
            source=b.origin,
            requirement=f"{b.package}={b.version}",
            reason=f"conda build ({b.source_url})",
        )
    return _Part(
        version=b.version,
        package=b.package,
        variant=b.variant,
        source=b.origin,
        requirement=b.url or f"{b.package}=={b.version}",
        url=b.url,
        sha256=b.sha256,
        reason=f"{b.needs_simd or 'generic'} build ({b.source_url}); verify its sha256 on install",
    )


# --- explanations, refusals, alternatives ---------------------------------------------------


def _explain_choice(ctx: Ctx, found: _Found) -> None:
    plan, build, variant, ff = found.plan, found.build, found.variant, found.first_failure
    lead = []
    if build.release is found.candidates[0]:
        lead.append(
            f"TF {build.version}: newest release matching tensorflow: {ctx.spec.tensorflow!r}"
        )
    else:
        why = ff.get(variant, "")
        lead.append(f"TF {build.version}: newest that fits" + (f" ({why})" if why else ""))
    if build.origin != "pypi":
        lead.append(f"build: {build.describe()}")
    warnings = list(ctx.warnings)
    if (
        not ctx.spec.allow_community_builds
        and ctx.host.is_x86
        and not ctx.host.has_simd("avx")
        and build.release is not found.candidates[0]
    ):
        # only releases newer than the one chosen that have a non-AVX build here at all
        newer = [
            r
            for r in found.candidates
            if V(r.version) > V(build.version) and r.minor in _non_avx_minors(ctx)
        ]
        better = (
            _resolve_quiet(
                ctx, ctx.spec.model_copy(update={"allow_community_builds": True}), pool=newer
            )
            if newer
            else None
        )
        if better is not None and V(better.tensorflow.version) > V(build.version):
            warnings.append(
                f"this CPU has no AVX: allow_community_builds: true would plan TF "
                f"{better.tensorflow.version} ({better.tensorflow.source}) instead"
            )
    if variant == "cpu" and ctx.host.gpus and ctx.spec.gpu != "off":
        warnings.append("GPU not used: " + ff.get("gpu", "no GPU build fits"))
        older = found.gpu_passed_over
        if older is not None:
            warnings.append(
                f"gpu: require would plan TF {older.version} GPU instead (TF "
                f"{older.release.key[0]}.x, older than the TF {build.release.key[0]}.x asked for)"
            )
    plan.reasons = lead + plan.reasons
    plan.warnings = list(dict.fromkeys(warnings + plan.warnings))


def _refusal(ctx: Ctx, host: str, error: str, alternatives: list[Alternative]) -> Plan:
    return Plan.model_construct(
        host=host,
        ok=False,
        platform=ctx.host.os_platform,
        error=error,
        alternatives=alternatives,
        warnings=ctx.warnings,
    )


def _alternatives(ctx: Ctx, variant: str) -> list[Alternative]:
    """Best ways out: an older TF for the same variant, the CPU build, or community builds."""
    out: list[Alternative] = []
    spec = ctx.spec
    # Undo one restrictive choice at a time first (the likeliest fix), then widen the
    # version, then give up the GPU, then allow community builds.
    changes: list[dict] = []
    for name, default in (
        ("cuda_source", "auto"),
        ("driver", "auto"),
        ("env_manager", "auto"),
        ("python", None),
    ):
        if getattr(spec, name) != default:
            changes.append({name: default})
    if variant == "gpu":
        changes.append({"tensorflow": "latest"})
    changes += [{"gpu": "off"}, {"gpu": "off", "tensorflow": "latest"}]
    if not spec.allow_community_builds:
        changes += [
            {"allow_community_builds": True},
            {"allow_community_builds": True, "tensorflow": "latest"},
        ]
    tries = [spec.model_copy(update=c) for c in changes]
    seen = set()
    for alt in tries:
        if alt == spec or len(out) >= 3:  # the three best ways out are enough to act on
            continue
        p = _resolve_quiet(ctx, alt)
        if p is None:
            continue
        key = (p.tensorflow.version, p.tensorflow.variant, p.tensorflow.source)
        if key in seen:
            continue
        seen.add(key)
        changed = {
            k: getattr(alt, k)
            for k in type(alt).model_fields
            if getattr(alt, k) != getattr(spec, k)
        }
        how = ", ".join(f"{k}: {v}" for k, v in changed.items())
        out.append(
            Alternative.model_construct(
                tensorflow=p.tensorflow.version,
                variant=p.tensorflow.variant,
                summary=f"with {how}: TF {p.tensorflow.version} {p.tensorflow.variant.upper()} "
                f"({p.tensorflow.source}"
                + (
                    f", CUDA {p.cuda.version}, driver ≥ {p.driver.min_version}"
                    if p.tensorflow.variant == "gpu"
                    else ""
                )
                + ")",
            )
        )
    return out


def _resolve_quiet(ctx: Ctx, spec: StackSpec, pool=None) -> Fit | None:
    """Plan under another spec, without explanations or alternatives of its own."""
    if spec.gpu == "require" and not ctx.host.gpus:
        return None
    sub = Ctx(
        cat=ctx.cat,
        host=ctx.host,
        spec=spec,
        wheelhouse=ctx.wheelhouse,
        cache=ctx.cache,
        quiet=True,
    )
    return _search(sub, pool).plan


def _non_avx_minors(ctx: Ctx) -> set[str]:
    """Minor releases with a build below AVX on this platform (conda non-AVX packages,
    community wheels, this run's wheelhouse) — where allowing them could help."""
    plat = ctx.host.platform
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
