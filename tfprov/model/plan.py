"""The plan: what the resolver decided for one host, and why — the contract apply reads.

``Plan.model_dump(mode="json")`` is the stable JSON form printed by ``tfprov plan --json``
(one object per host; see docs/formats.md).  Every component carries its ``action``
(keep / install / upgrade / none), version, ``origin`` and the package names apply
installs; ``source`` and ``reason`` are for people only: apply never reads them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from tfprov.model.platform import Platform

Action = Literal["keep", "install", "upgrade", "none"]
# where a component comes from: pip (into the env), conda (into the env), system (the
# OS's packages or NVIDIA's installers), host (already there, used as is), none
Origin = Literal["pip", "conda", "system", "host", "none"]
Flavor = Literal["proprietary", "open", "server"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Component(_Out):
    action: Action
    version: str | None = None
    origin: Origin = "none"
    # what apply asks the package manager for, when this component is installed on its
    # own: 'nvidia-cudnn-cu11==8.6.0.163' (pip), 'cudnn=8.6.0' (conda); None when another
    # package pulls it (tensorflow[and-cuda], a conda TF build) or origin is system/host
    requirement: str | None = None
    channel: str | None = None  # the conda channel, for origin conda
    source: str | None = None  # for people
    reason: str = ""


class PythonChoice(Component):
    path: str | None = None  # the host interpreter a venv is made with (None: conda's)
    venv_package: str | None = None  # distro package to install before the venv, if any


class DriverPackages(_Out):
    """How the planned branch is installed on this Linux distro (resolve.driver_packages).

    ``package``: the package installed and held (dnf: ``nvidia-driver``); ``spec``: what
    the package manager is asked for (``nvidia-driver=535.*``, dnf: the module stream
    ``nvidia-driver:535-dkms``); ``prefix``: the version the installed package must start
    with, when the package name does not pin the branch; ``components``: Debian components
    to enable; ``nvidia_repo``: NVIDIA's CUDA repository is set up first; ``stream``: the
    dnf module stream; ``crb_repo``: the repository EPEL needs (None: enabled by hand, as on
    RHEL); ``source``: where it comes from, for people."""

    package: str
    spec: str
    source: str
    prefix: str | None = None
    components: list[str] = []
    nvidia_repo: bool = False
    stream: str | None = None
    crb_repo: str | None = None  # dnf: the repository to enable for EPEL (crb, powertools)


class DriverChoice(_Out):
    action: Action
    version: str | None = None  # the installed driver that is kept
    min_version: str | None = None  # the driver the plan needs at least
    branch: int | None = None  # the branch to install, when installing
    origin: Origin = "none"  # system: tfprov installs it; host: the installed one is used
    flavor: Flavor | None = None  # the kernel modules to install (Linux, when installing)
    packages: DriverPackages | None = None  # Linux, when installing
    source: str | None = None  # for people
    reason: str = ""


class TensorflowChoice(_Out):
    version: str
    package: str  # what to install: 'tensorflow[and-cuda]', 'tensorflow-cpu', ...
    variant: Literal["gpu", "cpu"]
    origin: Literal["pip", "conda"] = "pip"  # pip: PyPI, a wheelhouse or a community wheel
    channel: str | None = None  # the conda channel, for origin conda
    source: str  # 'pypi', 'conda:anaconda', 'community:fo40225', 'wheelhouse' (for people)
    requirement: str  # the pip/conda requirement or wheel to install
    url: str | None = None  # where the wheel comes from, for community/wheelhouse builds
    sha256: str | None = None  # the wheel's expected sha256 (from the wheelhouse), if known
    reason: str = ""


class EnvChoice(_Out):
    action: Action
    manager: Literal["conda", "venv"]
    name: str
    reason: str = ""


class Alternative(_Out):
    tensorflow: str
    variant: Literal["gpu", "cpu"]
    summary: str


class Plan(_Out):
    host: str
    ok: bool
    platform: Platform | None = None  # the OS, decided once from the profile
    tensorflow: TensorflowChoice | None = None
    python: PythonChoice | None = None
    cuda: Component | None = None
    cudnn: Component | None = None
    driver: DriverChoice | None = None
    env_manager: EnvChoice | None = None
    reasons: list[str] = []
    warnings: list[str] = []
    error: str | None = None
    alternatives: list[Alternative] = []


def assemble(model: type[_Out], data: dict) -> _Out:
    """Construct an output model from data the resolver already checked, without
    validating again: what ``model_construct`` does, minus its per-call overhead, which
    dominates planning large fleets.  Every field must be present in ``data``'s keys or
    have a default; ``tests/test_plan.py`` checks the result equals ``model_construct``'s."""
    defaults = _DEFAULTS[model]
    values = {  # in the model's field order, so the JSON reads as the model does
        k: data[k] if k in data else _fresh(defaults[k])
        for k in _ORDER[model]
        if k in data or k in defaults
    }
    obj = model.__new__(model)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(data))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _fresh(v):
    return v.copy() if isinstance(v, (list, dict)) else v


_DEFAULTS: dict[type, dict] = {
    cls: {
        name: f.get_default(call_default_factory=True)
        for name, f in cls.model_fields.items()
        if not f.is_required()
    }
    for cls in (
        Component,
        DriverPackages,
        PythonChoice,
        DriverChoice,
        TensorflowChoice,
        EnvChoice,
        Alternative,
        Plan,
    )
}
_ORDER: dict[type, tuple] = {cls: tuple(cls.model_fields) for cls in _DEFAULTS}
