"""The platform: which OS a host runs, as one value decided once from its profile.

The resolver derives it (:func:`tfprov.resolve.platform.platform_of`, from the profile
and the catalog's distro table) and writes it into the plan; everything after the plan
reads ``plan.platform`` and nothing else to know the OS.  The connector only chooses how
the probe command is run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Family = Literal["linux", "windows", "darwin"]
PackageManager = Literal["apt", "dnf", "none"]


class Platform(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Family
    distro: str | None = None  # os-release ID: ubuntu, debian, rhel, rocky, almalinux
    version: str | None = None  # as the distro tables key it: 22.04, 12, 9 (Rocky 9.3 -> 9)
    codename: str | None = None  # jammy, bookworm (apt distros)
    arch: str = "x86_64"
    wsl: bool = False
    libc: str | None = None  # glibc / musl; None where not probed (or not Linux)
    package_manager: PackageManager = "none"
    # NVIDIA's CUDA repository directory for this OS (ubuntu2204, debian12, rhel9,
    # wsl-ubuntu); None where NVIDIA has none
    nvidia_repo: str | None = None
    nvidia_repo_arch: str | None = None  # its architecture directory: x86_64, sbsa
    # tfprov installs the system parts (driver, CUDA, cuDNN packages) here
    supported: bool = False

    @property
    def windows(self) -> bool:
        """Native Windows (a WSL host is Linux with ``wsl`` set)."""
        return self.family == "windows"

    @property
    def driver_on_windows(self) -> bool:
        """The NVIDIA driver is Windows's: native Windows, or Linux under WSL."""
        return self.family == "windows" or self.wsl

    def __str__(self) -> str:
        if self.family != "linux":
            return self.family
        name = f"{self.distro or 'linux'} {self.version or ''}".strip()
        return name + (" (WSL)" if self.wsl else "")
