"""resolve(profile, spec) -> Plan: no I/O; same inputs, same plan.

For one host it picks the newest TensorFlow release that satisfies the spec and every
constraint — platform and Python, CPU instruction set (official x86 wheels need AVX from
1.6 on), GPU compute capability against what the build was compiled for, the driver that
build's CUDA needs against the newest driver that still supports the GPU's architecture,
the driver policy, and native-Windows GPU support ending at 2.10 — then decides where
CUDA/cuDNN come from (pip wheels, conda, or a system toolkit), which Python and which
environment manager.  A refusal names the chain of constraints that failed and the best
alternatives.

By concern: :mod:`.host_view` (the host as the resolver sees it), :mod:`.builds`
(candidate builds of a release), :mod:`.search` (the search and :class:`Fit`),
:mod:`.driver`, :mod:`.cuda`, :mod:`.env`, :mod:`.explain` (explanations, refusals,
alternatives); :mod:`.platform` derives the plan's platform.
"""

from __future__ import annotations

from tfprov.catalog import Catalog, load_catalog
from tfprov.model.plan import Plan
from tfprov.model.profile import HostProfile
from tfprov.model.spec import StackSpec
from tfprov.resolve.builds import fetch_by_hand
from tfprov.resolve.cache import ResolverCache, cache_for
from tfprov.resolve.context import Ctx
from tfprov.resolve.explain import alternatives, explain_choice, refusal
from tfprov.resolve.host_view import _FLAG_TO_LEVEL, HostView  # noqa: F401 - re-exported
from tfprov.resolve.search import find_fit
from tfprov.resolve.wheelhouse import WheelhouseWheel

__all__ = ["resolve"]


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
    host = HostView.of(profile, cache)
    ctx = Ctx(cat=cat, host=host, spec=spec, wheelhouse=tuple(wheelhouse), cache=cache)

    if spec.gpu == "require" and not host.gpus:
        return refusal(
            ctx, name, "gpu: require, but the host has no NVIDIA GPU", alternatives(ctx, "cpu")
        )
    found = find_fit(ctx)
    if not found.candidates:
        newest, oldest = cat.releases[0].version, cat.releases[-1].version
        return refusal(
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
            ctx.warnings.append(fetch_by_hand(found.build))
        explain_choice(ctx, found)
        return found.plan.to_plan(name, host.os_platform)
    ff, variants = found.first_failure, found.variants
    error = ff.get(variants[0]) or "no build fits"
    if len(variants) > 1 and variants[1] in ff:
        error += f"; and {ff[variants[1]]}"
    return refusal(ctx, name, error, alternatives(ctx, variants[0]))
