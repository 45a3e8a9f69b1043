"""The driver: the minimum driver a build's CUDA needs, the newest driver an architecture
runs, the branch to keep, pin or install, and how it is installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tfprov.catalog import models as m
from tfprov.model.plan import DriverPackages, assemble
from tfprov.model.versions import V
from tfprov.resolve.context import Ctx, Part, Unmet, fail
from tfprov.resolve.driver_packages import driver_packages, resolve_flavor
from tfprov.resolve.host_view import GpuView, gpu_labels

if TYPE_CHECKING:
    from tfprov.resolve.builds import Build


_PREFERRED_BRANCH_KINDS = ("production", "long-term", "lts", "legacy")


def with_driver_chain(ctx: Ctx, b: Build, text: str) -> str:
    """Add the driver side of the story when it fails too, so a refusal shows the whole
    chain: 'TF 2.15 needs CUDA 12.2 → driver ≥ 525.60.13, but GeForce GTX 680 … 470 branch'."""
    if not b.cuda:
        return text
    try:
        need, need_why = driver_need(ctx, b.cuda, jit=False)
    except Unmet:
        return text
    for g in ctx.host.gpus:
        if g.cc and need and not _driver_fits_arch(ctx, need, g):
            last, latest = _arch_ceiling(ctx, g)
            text += (
                f"; and TF {b.version} needs {need_why}, but {gpu_labels([g])} is supported "
                f"only up to the {last} branch" + (f" (newest {latest})" if latest else "")
            )
            break
    return text


def driver_need(ctx: Ctx, cuda: str | None, jit: bool) -> tuple[str | None, str]:
    """The minimum driver for software built with ``cuda`` on this host's OS."""
    if cuda is None:
        return None, ""
    col = ctx.host.os.driver_column
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
    raise fail(ctx, lambda: f"no published minimum {col} driver for CUDA {cuda}")


def _arch_ceiling(ctx: Ctx, g: GpuView) -> tuple[int | None, str | None]:
    if g.arch is None or g.arch.last_branch is None:
        return None, None
    b = ctx.cat.branch(g.arch.last_branch)
    return g.arch.last_branch, (b.latest if b else None)


def _driver_fits_arch(ctx: Ctx, need: str, g: GpuView) -> bool:
    last, latest = _arch_ceiling(ctx, g)
    if last is None:
        return True
    if ctx.host.os.linux_driver_numbers and latest:
        return V(need) <= V(latest)
    branch = ctx.cat.branch_of(need)
    return branch is None or branch <= last


def choose_driver(ctx, b: Build, need, need_why, used: list[GpuView], reasons, warnings):
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
            raise fail(
                ctx,
                lambda g=g, last=last, latest=latest: (
                    f"TF {b.version} needs {need_why}, but {gpu_labels([g])} is supported only up "
                    f"to the {last} branch" + (f" (newest {latest})" if latest else "")
                ),
            )
    where = _WHERE.get(host.os.driver_source, "")
    floor = max((g.arch.first_branch for g in used if g.arch and g.arch.first_branch), default=None)
    too_old_for_gpu = bool(installed and floor and (cat.branch_of(installed) or 0) < floor)
    if spec.driver == "keep":
        if installed is None:
            raise fail(ctx, lambda: "driver: keep, but no NVIDIA driver is installed")
        if broken:
            raise fail(
                ctx,
                lambda: (
                    f"driver: keep, but the installed driver does not work (nvidia-smi: {broken})"
                ),
            )
        if too_old_for_gpu:
            raise fail(
                ctx,
                lambda: (
                    f"driver: keep, but the installed {installed} predates the {floor} "
                    f"branch that {gpu_labels(used)} needs"
                ),
            )
        if need and V(installed) < V(need):
            raise fail(
                ctx, lambda: f"driver: keep, but the installed {installed} is older than {need_why}"
            )
        reasons.append(f"driver: keep {installed} (policy keep; {need_why})")
        return Part(
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
            raise fail(ctx, lambda: f"driver: {spec.driver} is not a known driver branch ({known})")
        for g in used:
            a = g.arch
            if a and (
                (a.last_branch and pin.branch > a.last_branch)
                or (a.first_branch and pin.branch < a.first_branch)
            ):
                raise fail(
                    ctx,
                    lambda g=g, a=a: (
                        f"driver: {pin.branch} does not support {g.label()} "
                        f"(branches {a.first_branch or '?'}–{a.last_branch or 'current'})"
                    ),
                )
        if need and not _branch_meets(ctx, pin, need):
            raise fail(
                ctx, lambda: f"driver: {pin.branch} (newest {pin.latest}) is older than {need_why}"
            )
        if (
            installed
            and not broken
            and cat.branch_of(installed) == pin.branch
            and (need is None or V(installed) >= V(need))
        ):
            reasons.append(f"driver: keep {installed} (pinned branch {pin.branch}; {need_why})")
            return Part(
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
        return Part(
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
                f"{gpu_labels(left)}: those GPUs will be unusable"
            )
    if branch is None:
        raise fail(
            ctx, lambda: f"no known driver branch supports {gpu_labels(used)} and meets {need_why}"
        )
    why = f"{need_why}" + (f"; installed {installed} is older" if installed else "")
    if too_old_for_gpu:
        why = f"installed {installed} predates the {floor} branch these GPUs need; {need_why}"
    if host.os.driver_source == "manual":
        warnings.append(
            f"the NVIDIA driver must be upgraded {where}; tfprov cannot do it from inside WSL"
        )
    return _install_driver(ctx, branch.branch, installed, need, why, reasons, why)


def _install_driver(ctx, branch: int, installed, need, why: str, reasons, reason: str):
    """The driver component for installing (or upgrading to) ``branch``."""
    action = "upgrade" if installed else "install"
    reasons.append(f"driver: {action} branch {branch} ({why})")
    origin, flavor, packages, source = _driver_install(ctx, branch)
    return Part(
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
    if ctx.host.os.linux_driver_numbers:
        return V(b.latest) >= V(need)
    nb = ctx.cat.branch_of(need)
    return nb is None or b.branch >= nb


def _pick_branch(ctx: Ctx, need: str | None, used: list[GpuView]) -> m.DriverBranch | None:
    """The newest production/long-term branch that runs every GPU in ``used`` and meets
    ``need`` (memoized: it depends only on the driver column, the need and the architectures)."""
    key = (ctx.host.os.driver_column, need, tuple(sorted({g.arch.name for g in used if g.arch})))
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
    return _DRIVER_INSTALL[ctx.host.os.driver_source](ctx, branch)


def _manual(ctx: Ctx, branch: int):
    return "host", None, None, "Windows host driver (manual)"


def _installer(ctx: Ctx, branch: int):
    return "system", None, None, "NVIDIA Windows driver installer (configurable URL)"


def _none(ctx: Ctx, branch: int):
    flavor = resolve_flavor(ctx.spec.driver_flavor, branch, list(ctx.host.ccs), ctx.cat)
    what = f"none: tfprov installs no NVIDIA driver on {ctx.host.profile.os.distro or 'this OS'}"
    return "none", flavor, None, what


def _packages(ctx: Ctx, branch: int):
    unsupported = ctx.host.os.unsupported
    if unsupported:
        raise fail(ctx, lambda: unsupported)
    plat = ctx.host.os_platform
    flavor = resolve_flavor(ctx.spec.driver_flavor, branch, list(ctx.host.ccs), ctx.cat)
    pkgs = driver_packages(plat.distro, plat.version, branch, flavor, plat.codename, ctx.cat)
    packages = assemble(DriverPackages, {**vars(pkgs), "components": list(pkgs.components)})
    return "system", flavor, packages, pkgs.describe()


# how a driver is installed, per OsView.driver_source
_DRIVER_INSTALL = {"manual": _manual, "installer": _installer, "none": _none, "packages": _packages}
# where the driver is upgraded when tfprov cannot do it (plan text)
_WHERE = {"manual": "on the Windows host (WSL uses the Windows driver)"}
