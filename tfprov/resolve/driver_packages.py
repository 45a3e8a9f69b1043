"""Which packages carry an NVIDIA Linux driver branch on a distro — pure data, no pyinfra.

One function, :func:`driver_packages`, decides it; the driver operation
(:mod:`tfprov.operations.driver`) installs what it returns and the resolver writes its
:meth:`DriverPackages.describe` into the plan, so the plan says what the deploy does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# NVIDIA made the open kernel modules the recommended (and the .run installer's default)
# flavor with the R560 driver; they support Turing (compute capability 7.5) and newer only.
OPEN_DEFAULT_FROM_BRANCH = 560
OPEN_MIN_CC = (7, 5)

# Debian's own (non-free) driver packages per release and branch.  Read with `apt-cache
# policy` against deb.debian.org (index of 2026-11-20) on a Debian 12 machine:
#   nvidia-driver  535.309.01-0+deb12u1 bookworm-security, 535.261.03-1 bookworm,
#                  535.309.01-0+deb11u1 bullseye-security (bullseye itself shipped
#                  470.256.02-2, superseded by that security update: with bullseye-security
#                  enabled, `nvidia-driver` is 535 on Debian 11 too)
#   nvidia-tesla-470-driver  470.256.02-1~deb12u1 bookworm, 470.256.02-1~deb11u2 bullseye
#                  (the 470 branch under its own package names, for Kepler GPUs)
# The version is installed as `<package>=<branch>.*`, so a mirror without the security
# suite fails loudly instead of installing another branch.
DEBIAN_DRIVERS = {
    "11": {535: "nvidia-driver", 470: "nvidia-tesla-470-driver"},
    "12": {535: "nvidia-driver", 470: "nvidia-tesla-470-driver"},
}
DEBIAN_CODENAMES = {"11": "bullseye", "12": "bookworm"}
RHEL_FAMILY = ("rhel", "rocky", "almalinux")
NVIDIA_REPO = "NVIDIA's CUDA repository"


def resolve_flavor(flavor: str, branch: int, capabilities: list[str | None]) -> str:
    """The kernel-module flavor to install — the one place the ``"auto"`` rule lives.

    An explicit ``"proprietary"``, ``"open"`` or ``"server"`` is taken as given.
    ``"auto"`` means ``"open"`` when the branch is 560 or newer (NVIDIA's default from
    R560 on) and every GPU is Turing or newer (compute capability 7.5+, what the open
    modules support); ``"proprietary"`` otherwise, and also when no GPU or some GPU's
    compute capability is unknown, since the proprietary modules run on every
    architecture the branch supports except Blackwell, which needs ``"open"`` (pass it
    explicitly for a host where the GPUs cannot be identified).

    *capabilities*: one compute capability per GPU (``"8.6"``), None where unknown.
    """
    if flavor != "auto":
        return flavor
    if branch < OPEN_DEFAULT_FROM_BRANCH or not capabilities:
        return "proprietary"
    for cc in capabilities:
        m = re.match(r"^(\d+)\.(\d+)$", str(cc or ""))
        if not m or (int(m.group(1)), int(m.group(2))) < OPEN_MIN_CC:
            return "proprietary"
    return "open"


@dataclass(frozen=True)
class DriverPackages:
    """How one branch is installed on one distro.

    ``package``: the package installed and held (dnf: ``nvidia-driver``); ``spec``: what
    the package manager is asked for (``nvidia-driver=535.*``, dnf: the module stream
    ``nvidia-driver:535-dkms``); ``prefix``: the version the installed package must start
    with, when the package name does not pin the branch; ``source``: where it comes from;
    ``components``: Debian components to enable; ``nvidia_repo``: NVIDIA's CUDA repository
    is set up first; ``stream``: the dnf module stream."""

    package: str
    spec: str
    source: str
    prefix: str | None = None
    components: tuple[str, ...] = ()
    nvidia_repo: bool = False
    stream: str | None = None

    def describe(self) -> str:
        """The plan's driver source text."""
        if self.stream:
            return self.source
        return f"{self.source}: {self.spec}"


def driver_target(distro: str | None, version: str | None) -> tuple[str, str]:
    """(os-release ID, version as the tables key it) of a profile's distro and version:
    ``("rocky", "9.3")`` → ``("rocky", "9")``; others as given, lower-cased."""
    os_id = (distro or "").strip().lower()
    ver = (version or "").strip()
    if os_id in RHEL_FAMILY:
        ver = ver.split(".")[0]
    return os_id, ver


def driver_packages(
    os_id: str, version: str, branch: int, kind: str, codename: str | None = None
) -> DriverPackages | None:
    """The packages of ``branch`` in flavor ``kind`` (``proprietary``, ``open``,
    ``server``; see :func:`resolve_flavor`) on ``os_id`` ``version``; None for a distro
    tfprov installs no driver on."""
    if os_id == "ubuntu":
        suffix = {"open": "-open", "server": "-server"}.get(kind, "")
        package = f"nvidia-driver-{branch}{suffix}"
        return DriverPackages(package=package, spec=package, source="Ubuntu")
    if os_id == "debian":
        own = DEBIAN_DRIVERS.get(version, {})
        if kind == "proprietary" and branch in own:
            name = codename or DEBIAN_CODENAMES.get(version, version)
            return DriverPackages(
                package=own[branch],
                spec=f"{own[branch]}={branch}.*",
                source=f"Debian {name}",
                prefix=f"{branch}.",
                components=("contrib", "non-free")
                + (("non-free-firmware",) if version != "11" else ()),
            )
        # NVIDIA's CUDA install guide for Debian enables contrib for its driver packages
        package = f"nvidia-open-{branch}" if kind == "open" else f"cuda-drivers-{branch}"
        return DriverPackages(
            package=package,
            spec=package,
            source=NVIDIA_REPO,
            components=("contrib",),
            nvidia_repo=True,
        )
    if os_id in RHEL_FAMILY:
        stream = f"{branch}-open" if kind == "open" else f"{branch}-dkms"
        return DriverPackages(
            package="nvidia-driver",
            spec=f"nvidia-driver:{stream}",
            source=f"NVIDIA's module stream nvidia-driver:{stream}",
            prefix=f"{branch}.",
            nvidia_repo=True,
            stream=stream,
        )
    return None
