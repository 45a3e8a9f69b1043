"""The search: try every (variant, release, build) in preference order and check the
first candidates in full; :class:`Fit` is a build with every component decided."""

from __future__ import annotations

from dataclasses import dataclass

from tfprov.catalog import TFRelease, runnable
from tfprov.model.plan import (
    Component,
    DriverChoice,
    EnvChoice,
    Plan,
    PythonChoice,
    TensorflowChoice,
    assemble,
)
from tfprov.model.platform import Platform
from tfprov.model.versions import cc_tuple
from tfprov.resolve.builds import (
    Build,
    builds_of,
    gate_passes,
    gate_table,
    minor_match,
    no_build_reason,
    tf_choice,
)
from tfprov.resolve.context import Ctx, Part, Unmet, fail
from tfprov.resolve.cuda import choose_cuda
from tfprov.resolve.driver import choose_driver, driver_need, with_driver_chain
from tfprov.resolve.env import choose_env, py_list
from tfprov.resolve.host_view import GpuView, gpu_labels


@dataclass
class Found:
    candidates: list[TFRelease]
    variants: list[str]
    first_failure: dict[str, str]
    plan: Fit | None = None
    build: Build | None = None
    variant: str | None = None
    gpu_passed_over: Build | None = None  # an older-major GPU build 'auto' did not take


def find_fit(ctx: Ctx, pool: list[TFRelease] | None = None) -> Found:
    """Try every (variant, release, build) in preference order; the first that fits wins.
    ``pool`` narrows the releases tried (newest first) below what the spec matches."""
    spec, cat = ctx.spec, ctx.cat
    cache = ctx.cache.candidates
    candidates = cache.get(spec.tensorflow)
    if candidates is None:
        candidates = cache[spec.tensorflow] = [
            r for r in cat.releases if spec.matches(r.version) or minor_match(spec, r)
        ]
    if pool is not None:
        candidates = [r for r in candidates if r in pool]
    if spec.gpu == "off" or not ctx.host.gpus:
        variants = ["cpu"] if spec.gpu != "require" else []
    else:
        variants = ["gpu"] if spec.gpu == "require" else ["gpu", "cpu"]
    found = Found(candidates=candidates, variants=variants or ["gpu"], first_failure={})
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
        for build in builds_of(ctx, pool[0], variant):
            try:
                return plan_build(ctx, build), build
            except Unmet as exc:
                failures.append(f"{build.describe()}: {exc}")
        text = "; ".join(dict.fromkeys(failures)) or no_build_reason(ctx, pool[0], variant)
        first_failure[variant] = text
        rest = pool[1:]
    ctx.explain = False
    for build in _passing(ctx, variant, rest):
        try:
            return plan_build(ctx, build), build
        except Unmet:
            continue
    return None


def _passing(ctx: Ctx, variant: str, pool) -> list[Build]:
    """The builds of ``pool``'s releases that pass :func:`gate_passes`, in order.  Without a
    wheelhouse this depends only on the spec group and the host's gate signature, so the
    list is memoized: hosts of the same kind skip straight to the builds worth checking."""
    if not pool:
        return []
    if ctx.wheelhouse and ctx.spec.allow_community_builds:
        return [b for rel in pool for b in builds_of(ctx, rel, variant) if gate_passes(ctx, b)]
    builds_of(ctx, pool[0], variant)  # makes sure ctx.build_group is set
    gate_table(ctx)
    key = (ctx.build_group, ctx.gate_sig, variant, tuple(r.minor for r in pool))
    memo = ctx.cache.passing
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = [
            b for rel in pool for b in builds_of(ctx, rel, variant) if gate_passes(ctx, b)
        ]
    return hit


# --- check one build -------------------------------------------------------------------


@dataclass
class Fit:
    """A build that fits the host, with every component decided."""

    tensorflow: Part
    python: Part
    cuda: Part
    cudnn: Part
    driver: Part
    env_manager: Part
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


def plan_build(ctx: Ctx, b: Build) -> Fit:
    host, spec = ctx.host, ctx.spec
    reasons: list[str] = []
    warnings: list[str] = []

    # CPU instruction set
    if b.needs_simd and host.is_x86 and not host.has_simd(b.needs_simd):
        have = host.simd or "no SSE/AVX flags"
        cpu = host.profile.cpu.model or "this CPU"
        if b.origin == "pypi":
            raise fail(
                ctx,
                lambda: (
                    f"official x86 wheels use AVX since TF "
                    f"{ctx.cat.rules.x86_wheels_require_avx_since.value}, but {cpu} has "
                    f"{have} (no AVX: 'Illegal instruction')"
                ),
            )
        raise fail(ctx, lambda: f"built for {b.needs_simd.upper()}, but {cpu} has only {have}")
    if b.needs_simd and host.is_x86:
        reasons.append(f"CPU: {b.needs_simd.upper()} present, as this build needs")

    # C library / macOS version the wheels are tagged for
    libc_why = host.libc_unmet(b)
    if libc_why:
        raise fail(ctx, lambda: libc_why)
    if b.libc_floor and host.libc is None:
        what = host.os.libc_label
        warnings.append(
            f"C library not probed: TF {b.release.minor}'s wheels need {what} ≥ "
            f"{b.libc_floor} (not checked)"
        )

    # Python
    if not b.pythons:
        raise fail(ctx, lambda: f"no wheels of TF {b.version} for {host.wheel_platform}")
    if spec.python and spec.python not in b.pythons:
        raise fail(
            ctx,
            lambda: (
                f"supports Python {py_list(b.pythons)} on {host.wheel_platform}, "
                f"not the requested {spec.python}"
            ),
        )

    cuda = cudnn = None
    if b.variant == "gpu":
        used = _check_gpus(ctx, b, reasons, warnings)
        need, need_why = driver_need(ctx, b.cuda, jit=any(k == "ptx" for k in used.values()))
        driver = choose_driver(ctx, b, need, need_why, [g for g in used], reasons, warnings)
        cuda, cudnn, cuda_origin = choose_cuda(ctx, b, reasons)
    else:
        cuda_origin = None
        driver = Part(
            action="none",
            version=host.profile.nvidia_driver,
            reason="CPU build: no driver needed",
        )

    env, python = choose_env(ctx, b, cuda_origin, reasons)
    tf = tf_choice(b, cuda_origin)
    return Fit(
        tensorflow=tf,
        python=python,
        cuda=cuda or Part(action="none", reason="CPU build: no CUDA needed"),
        cudnn=cudnn or Part(action="none", reason="CPU build: no cuDNN needed"),
        driver=driver,
        env_manager=env,
        reasons=reasons,
        warnings=list(dict.fromkeys(warnings)),
    )


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
        raise fail(ctx, str)  # the common case on the way down the releases: no strings
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
    problem_text = "; ".join(f"{gpu_labels(gs)} {why}" for why, gs in problems.items())
    if not used:
        raise fail(ctx, lambda: with_driver_chain(ctx, b, problem_text or "no usable GPU"))
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
    reasons.append(f"GPU: {gpu_labels(used)} runs {b.describe()} {how}")
    return used
