"""
cuDNN, installed system-wide from NVIDIA's CUDA repository.
"""

from __future__ import annotations

import re

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from tfprov.facts.cuda import Cudnn
from tfprov.model.platform import Platform
from tfprov.operations.cuda import (
    DEFAULT_REPO_URL,
    HeldPackages,
    fact,
    hold_commands,
    install_command,
    installed_packages,
    is_held,
    linux_platform,
    major_minor,
    repo_commands,
    unhold_commands,
)

# Header locations of a system install (the package's /usr/include, a toolkit's include
# dir); cuDNN headers found in conda envs or pip wheels do not count here.
SYSTEM_PREFIXES = ("/usr/include/", "/usr/local/cuda", "/opt/cuda", "/usr/lib/cuda/")


def cudnn_packages(platform: Platform, version: str, cuda_version: str) -> tuple[list, list]:
    """``(install specs, package names)`` of cuDNN *version* for CUDA *cuda_version*.

    The names changed with cuDNN 9 and differ between apt and dnf; the forms below are
    the ones NVIDIA's own Dockerfiles install:

    * cuDNN 8, one build per CUDA X.Y in the version's release part:
      apt ``libcudnn8=8.9.6.50-1+cuda12.2`` and ``libcudnn8-dev=…`` (NVIDIA/TensorRT
      docker/ubuntu-22.04.Dockerfile @1637a26e: ``libcudnn8=$NV_CUDNN_VERSION-1+cuda
      ${CUDA_VERSION_MAJOR_MINOR}``; likewise the nvidia/cuda images' cudnn8 Dockerfiles);
      dnf ``libcudnn8-8.9.6.50-1.cuda12.2`` and ``libcudnn8-devel-…`` (NVIDIA/TensorRT
      docker/rockylinux9.Dockerfile @2a387d69: ``libcudnn8-${NV_CUDNN_VERSION}.cuda12.2``,
      ``libcudnn8-devel-${NV_CUDNN_VERSION}.cuda12.2`` with ``NV_CUDNN_VERSION 8.9.6.50-1``).
    * cuDNN 9, one package per CUDA *major* in the name: apt ``libcudnn9-cuda-12=9.7.0.66-1``
      and ``libcudnn9-dev-cuda-12`` (gitlab.com/nvidia/container-images/cuda
      dist/12.8.0/ubuntu2404/devel/cudnn/Dockerfile, as copied in
      ziudeso/naba-comfyui-nvidia-docker and Infotrend-Inc/CoreAI: ``NV_CUDNN_PACKAGE
      "libcudnn9-cuda-12=${NV_CUDNN_VERSION}"``, ``NV_CUDNN_PACKAGE_DEV
      "libcudnn9-dev-cuda-12=…"``); dnf ``libcudnn9-cuda-12-9.1.0.70-1`` and
      ``libcudnn9-devel-cuda-12-…`` (the rockylinux cuda images' ``NV_CUDNN_PACKAGE
      libcudnn9-cuda-12-${NV_CUDNN_VERSION}``; ``libcudnn9-devel-cuda-12`` in NVIDIA's
      cuDNN install guide and in dnf installs of it).

    A full four-part version (``8.9.6.50``) is pinned exactly (NVIDIA's packages all have
    release ``1``); a shorter one (``8.9``, ``9.1.0``) becomes a version pattern
    (``libcudnn8=8.9.*-1+cuda12.2``, ``libcudnn9-cuda-12=9.1.0.*``; dnf
    ``libcudnn8-8.9.*-1.cuda12.2``, ``libcudnn9-cuda-12-9.1.0.*-1``, name-version-release
    so dnf splits it right): apt and dnf then take the newest build that matches.
    """
    parts = str(version).strip().split(".")
    if not all(p.isdigit() for p in parts) or len(parts) < 2:
        raise OperationValueError(
            f'cuDNN version must look like "8.9" or "8.9.7.29", got {version!r}'
        )
    major = int(parts[0])
    cuda_major, cuda_minor = major_minor(cuda_version, "cuda_version")
    cuda_xy = f"{cuda_major}.{cuda_minor}"
    exact = len(parts) >= 4
    v = ".".join(parts)
    apt = platform.package_manager == "apt"

    if major == 8:
        names = ["libcudnn8", "libcudnn8-dev" if apt else "libcudnn8-devel"]
        if apt:
            ver = f"{v}-1+cuda{cuda_xy}" if exact else f"{v}.*-1+cuda{cuda_xy}"
            specs = [f"{n}={ver}" for n in names]
        else:
            ver = f"{v}-1.cuda{cuda_xy}" if exact else f"{v}.*-1.cuda{cuda_xy}"
            specs = [f"{n}-{ver}" for n in names]
    elif major >= 9:
        if cuda_major < 11:
            raise OperationValueError(
                f"cuDNN {major} is built for CUDA 11 and newer, not {cuda_xy}"
            )
        dev = "dev" if apt else "devel"
        names = [f"libcudnn{major}-cuda-{cuda_major}", f"libcudnn{major}-{dev}-cuda-{cuda_major}"]
        ver = f"{v}-1" if exact else (f"{v}.*" if apt else f"{v}.*-1")
        specs = [f"{n}={ver}" if apt else f"{n}-{ver}" for n in names]
    else:
        raise OperationValueError(
            f"cuDNN {version}: only cuDNN 8 and newer are packaged in NVIDIA's CUDA repository"
        )
    return specs, names


def installed_cudnn(found: dict | None, major: int, minor: int) -> dict | None:
    """The system cuDNN header (from the Cudnn fact) with this major.minor, or None."""
    for header in (found or {}).get("all") or []:
        m = re.match(r"^(\d+)\.(\d+)", header["version"])
        if not m or (int(m.group(1)), int(m.group(2))) != (major, minor):
            continue
        if header["path"].startswith(SYSTEM_PREFIXES):
            return header
    return None


@operation()
def cudnn(
    version: str, cuda_version: str, platform: Platform, nvidia_repo_url: str = DEFAULT_REPO_URL
):
    """
    Install cuDNN system-wide (runtime and headers) from NVIDIA's CUDA repository, held.

    + version: cuDNN version, ``"8.9"``, ``"9.3.0"`` or exact ``"8.9.7.29"`` (a shorter
      one takes the newest matching build)
    + cuda_version: the CUDA toolkit it is for, ``"12.2"``: cuDNN 8 has one build per CUDA
      X.Y, cuDNN 9 one per CUDA major
    + platform: the plan's platform (see ``cuda.nvidia_repo``)
    + nvidia_repo_url: base URL of NVIDIA's repositories or a mirror (see
      ``cuda.nvidia_repo``)

    Packages (see :func:`cudnn_packages` for the sources of the names): cuDNN 8
    ``libcudnn8`` + ``libcudnn8-dev`` (dnf: ``-devel``) at ``<version>-1+cudaX.Y``
    (dnf: ``-1.cudaX.Y``); cuDNN 9 ``libcudnn9-cuda-<major>`` + ``libcudnn9-dev-cuda-
    <major>`` (dnf: ``libcudnn9-devel-cuda-<major>``).  Both are held (``apt-mark hold`` /
    ``dnf versionlock``); apt may downgrade them to the pinned version
    (``--allow-downgrades``), and holds on them are released first.

    Nothing changes when the Cudnn fact shows this major.minor in a system location
    (``/usr/include``, a ``/usr/local/cuda*`` toolkit) and its packages, if installed,
    are held.

    **Example:**

    .. code:: python

        from tfprov.operations import cudnn

        cudnn.cudnn(
            name="cuDNN 8.9 for CUDA 12.2",
            version="8.9",
            cuda_version="12.2",
            platform=plan.platform,
        )
    """
    platform = linux_platform(platform)
    found = fact(Cudnn)
    packages = installed_packages(platform)
    holds = fact(HeldPackages) or []

    specs, names = cudnn_packages(platform, version, cuda_version)
    major, minor = (int(p) for p in str(version).split(".")[:2])
    have = installed_cudnn(found, major, minor)

    commands = []
    if have is None:
        commands += repo_commands(platform, nvidia_repo_url)
        if platform.package_manager == "apt":
            commands.append("apt-get update")
        commands += unhold_commands(platform, [n for n in names if is_held(holds, n)])
        commands.append(install_command(platform, specs, allow_downgrades=True))
        commands += hold_commands(platform, names, packages)
    else:
        unheld = [n for n in names if n in packages and not is_held(holds, n)]
        commands += hold_commands(platform, unheld, packages)

    if not commands:
        host.noop(f"cuDNN {have['version']} is installed ({have['path']})")
        return
    yield from commands
