"""The platform of a host, decided once from its profile and the catalog's distro table
(``catalog/data/distros.yaml``); the plan carries it to apply.

This is the resolver's one dispatch on the OS: :func:`os_view_of` turns the platform into
the values the rest of the resolver reads (the wheel platform, the driver/CUDA table
column, where the driver and a system CUDA come from), so no other resolver module
tests the OS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tfprov.catalog import Catalog
from tfprov.model.platform import Platform
from tfprov.model.profile import HostProfile

if TYPE_CHECKING:
    from tfprov.resolve.cache import ResolverCache

DriverSource = Literal["packages", "installer", "manual", "none"]


@dataclass(frozen=True)
class OsView:
    """What the resolver reads of the OS (derived from :class:`Platform`)."""

    platform: Platform
    wheel_platform: str  # the wheel platform key: linux_x86_64, windows, macos_arm64, ...
    driver_column: str  # 'linux' | 'windows': driver/CUDA table column (WSL -> windows)
    conda_os: str  # 'linux' | 'windows': the OS of TensorFlow's conda recipes (WSL: linux)
    # driver versions compare with the branch table's `latest` (Linux driver numbering)
    linux_driver_numbers: bool
    # how a driver gets installed: distro packages, NVIDIA's Windows installer, by hand
    # (on the Windows host of WSL), or not at all (macOS)
    driver_source: DriverSource
    pip_cuda: bool  # CUDA and cuDNN come as pip wheels here (tensorflow[and-cuda])
    system_cuda_source: str  # where a system CUDA toolkit comes from (plan text)
    libc_label: str  # what a wheel's platform floor is called here (glibc / macOS)
    # what wheels' platform floors are checked against: the profile's C library ('libc'),
    # the OS version ('os': macOS), nothing (None)
    libc_from: str | None
    # a Linux distro tfprov installs no system packages on: the refusal text, else None
    unsupported: str | None = None


# family -> (wheel platform, driver column, conda os, driver source, pip CUDA,
#            system CUDA source, libc label, libc from)
_FAMILY = {
    "linux": (
        "linux_{arch}",
        "linux",
        "linux",
        "packages",
        True,
        "NVIDIA CUDA repository",
        "glibc",
        "libc",
    ),
    "windows": (
        "windows",
        "windows",
        "windows",
        "installer",
        False,
        "NVIDIA CUDA installer (configurable URL)",
        "glibc",
        None,
    ),
    "darwin": (
        "macos_{arch}",
        "linux",
        "linux",
        "none",
        False,
        "NVIDIA CUDA installer (configurable URL)",
        "macOS",
        "os",
    ),
}
# the arch as a family's wheel platform names it (uname -m otherwise)
_WHEEL_ARCH = {"darwin": {"aarch64": "arm64"}}


def distro_key(cat: Catalog, distro: str | None, version: str | None) -> tuple[str, str]:
    """(os-release ID, version as the distro tables key it): ``("rocky", "9.3")`` →
    ``("rocky", "9")``, ``("Ubuntu 22.04", "22.04")`` (a saved profile written by hand) →
    ``("ubuntu", "22.04")``; others as given, lower-cased."""
    words = (distro or "").strip().lower().split()
    os_id = words[0] if words else ""
    ver = (version or "").strip()
    if os_id in cat.distros.version_major.ids:
        ver = ver.split(".")[0]
    return os_id, ver


def platform_key(profile: HostProfile) -> tuple:
    """What :func:`platform_of` reads of a profile (the key its memo uses)."""
    os = profile.os
    libc = profile.libc.name if profile.libc else None
    return (os.family, os.distro, os.version, os.arch, os.wsl, libc)


def platform_of(profile: HostProfile, cat: Catalog) -> Platform:
    family, distro, version, arch, wsl, libc = platform_key(profile)
    if family != "linux":
        return Platform(family=family, version=version, arch=arch, libc=libc)
    os_id, version = distro_key(cat, distro, version)
    row = cat.distro(os_id, version)
    repo = None
    repo_arch = cat.distros.repo_arch.dirs.get(arch)
    if row is not None and repo_arch:
        wsl_repo = cat.distros.wsl_repo
        repo = wsl_repo.dir if wsl and os_id in wsl_repo.distros else row.nvidia_repo
    return Platform(
        family="linux",
        distro=os_id or None,
        version=version or None,
        codename=row.codename if row else None,
        arch=arch,
        wsl=wsl,
        libc=libc,
        package_manager=row.package_manager if row else "none",
        nvidia_repo=repo,
        nvidia_repo_arch=repo_arch if repo else None,
        supported=row is not None,
    )


def os_view_of(platform: Platform, cat: Catalog) -> OsView:
    wheel, column, conda_os, driver, pip_cuda, cuda_src, libc, libc_from = _FAMILY[platform.family]
    arch = _WHEEL_ARCH.get(platform.family, {}).get(platform.arch, platform.arch)
    if platform.wsl:  # the driver is the Windows host's
        column, driver = "windows", "manual"
    unsupported = None
    if driver == "packages" and not platform.supported:
        unsupported = (
            f"tfprov does not provision {platform.distro or 'this OS'} {platform.version or ''}"
        ).rstrip() + f" (supported: {supported_list(cat)})"
    return OsView(
        platform=platform,
        wheel_platform=wheel.format(arch=arch),
        driver_column=column,
        conda_os=conda_os,
        linux_driver_numbers=column == "linux",
        driver_source=driver,
        pip_cuda=pip_cuda,
        system_cuda_source=cuda_src,
        libc_label=libc,
        libc_from=libc_from,
        unsupported=unsupported,
    )


def host_os(profile: HostProfile, cache: ResolverCache) -> OsView:
    """The OS view of ``profile``, memoized in ``cache`` by the values it reads."""
    key = platform_key(profile)
    hit = cache.platform.get(key)
    if hit is None:
        cat = cache.catalog
        hit = cache.platform[key] = os_view_of(platform_of(profile, cat), cat)
    return hit


def supported_list(cat: Catalog) -> str:
    """``ubuntu 20.04/22.04/24.04, debian 11/12, ...`` for a refusal."""
    by_id: dict[str, list[str]] = {}
    for d in cat.distros.distros:
        by_id.setdefault(d.id, []).append(d.version)
    return ", ".join(f"{k} {'/'.join(v)}" for k, v in by_id.items())
