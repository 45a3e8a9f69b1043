"""Which packages carry an NVIDIA Linux driver branch on a distro, and the kernel-module
flavor to install: read from the catalog (``drivers.yaml``: ``driver_packages``,
``open_modules_default_from``; ``gpus.yaml``: the architectures' ``open_modules``).

:func:`driver_packages` decides the packages; the resolver writes them into the plan
(``driver.packages``) with their :meth:`DriverPackages.describe` as the driver's source
text, so the plan says what the deploy does.
"""

from __future__ import annotations

from dataclasses import dataclass

from tfprov.catalog import Catalog, load_catalog
from tfprov.catalog import models as m

NVIDIA_REPO = "NVIDIA's CUDA repository"


def resolve_flavor(
    flavor: str, branch: int, capabilities: list[str | None], cat: Catalog | None = None
) -> str:
    """The kernel-module flavor to install — the one place the ``"auto"`` rule lives.

    An explicit ``"proprietary"``, ``"open"`` or ``"server"`` is taken as given.
    ``"auto"`` means ``"open"`` when the branch is at or past the catalog's
    ``open_modules_default_from`` (NVIDIA's default from R560 on) and every GPU's
    architecture supports the open modules (gpus.yaml ``open_modules``: Turing and newer);
    ``"proprietary"`` otherwise, and also when no GPU or some GPU's architecture is
    unknown, since the proprietary modules run on every architecture the branch supports
    except Blackwell, which needs ``"open"`` (pass it explicitly for a host where the GPUs
    cannot be identified).

    *capabilities*: one compute capability per GPU (``"8.6"``), None where unknown.
    """
    if flavor != "auto":
        return flavor
    cat = cat or load_catalog()
    if branch < cat.drivers.open_modules_default_from.branch or not capabilities:
        return "proprietary"
    for cc in capabilities:
        arch = cat.arch_for_cc(cc) if cc else None
        if arch is None or arch.open_modules not in ("supported", "required"):
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
    crb_repo: str | None = None

    def describe(self) -> str:
        """The plan's driver source text."""
        if self.stream:
            return self.source
        return f"{self.source}: {self.spec}"


def driver_packages(
    os_id: str | None,
    version: str | None,
    branch: int,
    kind: str,
    codename: str | None = None,
    cat: Catalog | None = None,
) -> DriverPackages | None:
    """The packages of ``branch`` in flavor ``kind`` (``proprietary``, ``open``,
    ``server``; see :func:`resolve_flavor`) on ``os_id`` ``version`` (as the distro
    tables key it): the first matching ``driver_packages`` row of the catalog; None for a
    distro tfprov installs no driver on."""
    cat = cat or load_catalog()
    row = next(
        (r for r in cat.drivers.driver_packages if _matches(r, os_id, version, branch, kind)), None
    )
    if row is None:
        return None
    d = cat.distro(os_id or "", version or "")
    if codename is None:
        codename = (d.codename if d else None) or version
    values = {"branch": branch, "codename": codename}
    values["package"] = row.packages.get(branch) or row.package.format(**values)
    values["stream"] = row.stream.format(**values) if row.stream else None
    return DriverPackages(
        package=values["package"],
        spec=row.spec.format(**values),
        source=row.text.format(**values),
        prefix=row.prefix.format(**values) if row.prefix else None,
        components=tuple(row.components),
        nvidia_repo=row.nvidia_repo,
        stream=values["stream"],
        crb_repo=d.crb_repo if d and row.stream else None,
    )


def _matches(row: m.DriverPackagesRow, os_id, version, branch: int, kind: str) -> bool:
    return (
        os_id in row.ids
        and (not row.versions or version in row.versions)
        and (not row.flavors or kind in row.flavors)
        and (not row.packages or branch in row.packages)
    )
