"""The host profile: everything tfprov knows about one host, as the probe reports it.

JSON form (``tfprov plan --profile FILE`` reads it; ``docs/formats.md`` documents it)::

    {"hostname": "lab-pc-07",
     "os": {"family": "linux", "distro": "ubuntu", "version": "22.04", "arch": "x86_64",
            "wsl": false},
     "cpu": {"vendor": "GenuineIntel", "model": "Intel(R) Core(TM) i7-8700", "flags": ["avx", ...]},
     "gpus": [{"name": "NVIDIA GeForce RTX 4090", "compute_capability": "8.9",
               "memory_mib": 24564}],
     "nvidia_driver": "550.54.14",
     "cuda_toolkits": [{"version": "12.4.1", "path": "/usr/local/cuda-12.4"}],
     "cudnn": {"version": "8.9.7", "path": "/usr/include"},
     "pythons": [{"version": "3.10.12", "path": "/usr/bin/python3"}],
     "conda": {"version": "24.1.2", "prefix": "/opt/miniforge3", "envs": ["base"]},
     "libc": {"name": "glibc", "version": "2.35"}}

A Python may also carry ``distro_package`` (the package owning it), ``venv`` (whether
``python -m venv`` can work: venv and ensurepip present) and ``venv_package`` (the distro
package to install for it).  ``libc`` is the C library (``glibc`` / ``musl``); for macOS,
``os.version`` is the macOS version.

A list entry may also be a bare version string (``"3.10.12"``); ``compute_capability``,
``nvidia_driver``, ``cudnn``, ``conda`` and ``libc`` may be null.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from tfprov.model.spec import plain_text_problem
from tfprov.model.versions import V, cc_tuple

_FREE_TEXT = {"notes", "driver_error", "probe"}  # may hold line breaks (messages, raw output)

_ARCH_ALIASES = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "x86-64": "x86_64",
    "arm64": "aarch64",
    "armv8": "aarch64",
    "ppc64el": "ppc64le",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _plain(cls, v, info: ValidationInfo):
        if info.field_name not in _FREE_TEXT and isinstance(v, (str, list)):
            problem = plain_text_problem(
                [x for x in v if isinstance(x, str)] if isinstance(v, list) else v
            )
            if problem:
                raise ValueError(problem)
        return v


def _check_version(v: str | None) -> str | None:
    if v is not None:
        V(v)
    return v


def _coerce_versioned(v):
    """Accept a bare version string where an object with ``version`` is expected."""
    if isinstance(v, (str, int, float)):
        return {"version": str(v)}
    return v


class OSInfo(_Model):
    family: Literal["linux", "windows", "darwin"]
    distro: str | None = None
    version: str | None = None
    arch: str = "x86_64"
    wsl: StrictBool = False

    @field_validator("family", mode="before")
    @classmethod
    def _family(cls, v):
        return v.lower() if isinstance(v, str) else v

    @field_validator("arch")
    @classmethod
    def _arch(cls, v: str) -> str:
        v = v.strip().lower()
        return _ARCH_ALIASES.get(v, v)


class CPUInfo(_Model):
    vendor: str | None = None
    model: str | None = None
    flags: list[str] = []

    @field_validator("flags")
    @classmethod
    def _flags(cls, v: list[str]) -> list[str]:
        return sorted({f.strip().lower() for f in v if f.strip()})


class GPUInfo(_Model):
    name: str
    compute_capability: str | None = None
    memory_mib: Annotated[StrictInt, Field(ge=0)] | None = None
    pci_device_id: str | None = None

    @field_validator("compute_capability")
    @classmethod
    def _cc(cls, v):
        if v is not None:
            cc_tuple(v)
        return v


class Versioned(_Model):
    version: str
    path: str | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        return _check_version(v)


class PythonInfo(Versioned):
    """One interpreter; the venv fields are None where the probe did not say."""

    distro_package: str | None = None  # the distro package that owns it (dpkg / rpm)
    venv: StrictBool | None = None  # ``venv`` and ``ensurepip`` import and ensurepip has pip
    venv_package: str | None = None  # distro package that adds them (apt candidate)


class LibcInfo(_Model):
    """The C library: ``glibc`` or ``musl`` and its version (None where unknown)."""

    name: str
    version: str | None = None


class CondaInfo(_Model):
    version: str | None = None
    prefix: str | None = None
    envs: list[str] = []


class HostProfile(_Model):
    hostname: str
    notes: str | None = None  # free text, e.g. where an example machine is described
    os: OSInfo
    cpu: CPUInfo = Field(default_factory=CPUInfo)
    gpus: list[GPUInfo] = []
    nvidia_driver: str | None = None
    driver_error: str | None = None  # nvidia-smi could not talk to the driver (message)
    cuda_toolkits: list[Versioned] = []
    cudnn: Versioned | None = None
    pythons: list[PythonInfo] = []
    conda: CondaInfo | None = None
    libc: LibcInfo | None = None  # None: not probed (wheels' glibc floors are not checked)
    probe: dict | None = None  # the probe's raw per-fact results (tfprov.facts.profile)

    @field_validator("cuda_toolkits", "pythons", mode="before")
    @classmethod
    def _lists(cls, v):
        return [_coerce_versioned(x) for x in v] if isinstance(v, list) else v

    @field_validator("cudnn", mode="before")
    @classmethod
    def _one(cls, v):
        return _coerce_versioned(v) if v is not None else v

    @field_validator("nvidia_driver")
    @classmethod
    def _driver(cls, v):
        return _check_version(v)
