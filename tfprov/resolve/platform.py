"""The platform of a host, decided once from its profile and the catalog's distro table
(``catalog/data/distros.yaml``); the plan carries it to apply."""

from __future__ import annotations

from tfprov.catalog import Catalog
from tfprov.model.platform import Platform
from tfprov.model.profile import HostProfile


def distro_key(cat: Catalog, distro: str | None, version: str | None) -> tuple[str, str]:
    """(os-release ID, version as the distro tables key it): ``("rocky", "9.3")`` →
    ``("rocky", "9")``; others as given, lower-cased."""
    os_id = (distro or "").strip().lower()
    ver = (version or "").strip()
    if os_id in cat.distros.version_major.ids:
        ver = ver.split(".")[0]
    return os_id, ver


def platform_of(profile: HostProfile, cat: Catalog) -> Platform:
    os = profile.os
    libc = profile.libc.name if profile.libc else None
    key = (os.family, os.distro, os.version, os.arch, os.wsl, libc)
    memo = _MEMO.setdefault(id(cat), {})
    if key not in memo:
        memo[key] = _platform(cat, os, libc)
    return memo[key]


_MEMO: dict[int, dict[tuple, Platform]] = {}  # by catalog, then by the values it reads


def _platform(cat: Catalog, os, libc: str | None) -> Platform:
    if os.family != "linux":
        return Platform(family=os.family, version=os.version, arch=os.arch, libc=libc)
    os_id, version = distro_key(cat, os.distro, os.version)
    row = cat.distro(os_id, version)
    repo = None
    if row is not None:
        wsl = cat.distros.wsl_repo
        repo = wsl.dir if os.wsl and os_id in wsl.distros else row.nvidia_repo
        if os.arch not in cat.distros.repo_arch.dirs:
            repo = None
    return Platform(
        family="linux",
        distro=os_id or None,
        version=version or None,
        codename=row.codename if row else None,
        arch=os.arch,
        wsl=os.wsl,
        libc=libc,
        package_manager=row.package_manager if row else "none",
        nvidia_repo=repo,
        supported=row is not None,
    )


def supported_list(cat: Catalog) -> str:
    """``ubuntu 20.04/22.04/24.04, debian 11/12, ...`` for a refusal."""
    by_id: dict[str, list[str]] = {}
    for d in cat.distros.distros:
        by_id.setdefault(d.id, []).append(d.version)
    return ", ".join(f"{k} {'/'.join(v)}" for k, v in by_id.items())
