"""The NVIDIA driver step: the plan's branch, flavor and packages on Linux; the newest
lab-pinned installer of the planned branch on Windows.  Only a driver tfprov installs
(origin ``system``) gets a step; a WSL host uses the Windows host's (origin ``host``)."""

from __future__ import annotations

from tfprov.apply.steps.base import RefusedError, Step, installs
from tfprov.catalog import load_catalog
from tfprov.model.hostdata import HostSettings
from tfprov.model.plan import Plan
from tfprov.model.versions import V
from tfprov.operations import driver as driver_ops
from tfprov.operations import driver_windows

NAME = "tfprov: NVIDIA driver"


def driver_steps(plan: Plan, sources: dict, settings: HostSettings) -> list[Step]:
    if not installs(plan.driver):
        return []
    if plan.platform.windows:
        return [_windows(plan, sources, settings)]
    return [_linux(plan, sources, settings)]


def _linux(plan: Plan, sources: dict, settings: HostSettings) -> Step:
    drv = plan.driver
    kwargs = {
        "branch": drv.branch,
        "flavor": drv.flavor,
        "packages": drv.packages,
        "platform": plan.platform,
        "nvidia_repo_url": sources["nvidia_repo_url"],
        "signing_key": settings.secure_boot_signing_key,
        "allow_reboot": settings.reboot,
    }
    return Step(driver_ops.nvidia_driver, kwargs, NAME)


def _windows(plan: Plan, sources: dict, settings: HostSettings) -> Step:
    table = sources.get("win_driver_installers") or {}
    version = _pinned_driver(table, plan.driver.branch, plan.driver.min_version)
    entry = table[version]
    kwargs = {
        "version": version,
        "installer_url": entry["url"],
        "sha256": entry["sha256"],
        "allow_reboot": settings.reboot,
    }
    return Step(driver_windows.nvidia_driver, kwargs, NAME)


def windows_driver_branch(version: str) -> int | None:
    """The branch of a Windows driver version (``472.12`` → 470): the newest branch of the
    catalog's ``windows_branches`` at or below its major number whose newest Windows
    release is not older than it; None when no branch covers it."""
    v = V(version)
    for b in sorted(load_catalog().drivers.windows_branches, key=lambda b: -b.branch):
        if b.branch <= v.major:
            return b.branch if v <= V(b.latest_windows) else None
    return None


def _pinned_driver(table: dict, branch: int | None, min_version: str | None) -> str:
    """The newest pinned Windows driver of the planned ``branch`` (and ≥ ``min_version``),
    or RefusedError naming the key, the branch and what is pinned."""
    ok = [v for v in table if windows_driver_branch(v) == branch and V(v) >= V(min_version or "0")]
    if not ok:
        pinned = ", ".join(
            f"{v} (branch {windows_driver_branch(v) or 'unknown'})" for v in sorted(table, key=V)
        )
        raise RefusedError(
            f"the plan needs NVIDIA driver branch {branch} (≥ {min_version}) on this Windows "
            f"host: no win_driver_installers entry of branch {branch} is pinned (pinned: "
            f"{pinned or 'none'}); set win_driver_installers = "
            "{'<version>': {'url': ..., 'sha256': ...}} with a driver of that branch"
        )
    return max(ok, key=V)
