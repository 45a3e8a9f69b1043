"""Explanations of the choice, refusals, and the alternatives a refusal offers."""

from __future__ import annotations

from tfprov.model.plan import Alternative, Plan
from tfprov.model.spec import StackSpec
from tfprov.model.versions import V
from tfprov.resolve.builds import non_avx_minors
from tfprov.resolve.context import Ctx
from tfprov.resolve.search import Fit, Found, find_fit


def explain_choice(ctx: Ctx, found: Found) -> None:
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
            if V(r.version) > V(build.version) and r.minor in non_avx_minors(ctx)
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


def refusal(ctx: Ctx, host: str, error: str, alternatives: list[Alternative]) -> Plan:
    return Plan.model_construct(
        host=host,
        ok=False,
        platform=ctx.host.os_platform,
        error=error,
        alternatives=alternatives,
        warnings=ctx.warnings,
    )


def alternatives(ctx: Ctx, variant: str) -> list[Alternative]:
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
    return find_fit(sub, pool).plan
