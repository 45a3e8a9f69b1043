"""Every host-data key tfprov reads, with its type: one registry (:class:`HostSettings`).

Keys are flat, as pyinfra host/group data and ``--data KEY=VALUE`` give them: the stack
spec (:class:`~tfprov.model.spec.StackSpec`), the download sources
(:class:`DownloadSources`), the deploy switches (:class:`DeploySwitches`) and the
``@winssh`` connector's keys (:class:`WinsshData`); each key list is derived from its
model.  :func:`merged_data` is the one merge order (``--spec`` file < host/group data <
flags); validating every host with it before any is touched (and the pyinfra keys that
pass) is :mod:`tfprov.apply.inventory`'s.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from tfprov.model.redact import redact
from tfprov.model.sources import SOURCE_KEYS, sources_for
from tfprov.model.spec import SPEC_KEYS, SpecError, StackSpec, format_errors


def _no_space(v: str) -> str:
    if not v or any(c.isspace() for c in v):
        raise ValueError("must be one non-empty word without spaces or line breaks")
    return v


def _url(v: str) -> str:
    if urlsplit(v).scheme not in ("http", "https", "file"):
        raise ValueError("must be an http(s):// or file:// URL")
    return v


def _url_or_path(v: str) -> str:
    if not v.startswith("/") and not re.match(r"^[A-Za-z]:\\|^\\\\", v):
        return _url(v)
    return v


def _posix_abs(v: str) -> str:
    if not v.startswith("/"):
        raise ValueError("must be an absolute path such as /opt/tfprov/envs")
    return v


def _win_abs(v: str) -> str:
    if not re.match(r"^[A-Za-z]:\\", v):
        raise ValueError("must be an absolute Windows path such as C:\\tfprov\\envs")
    return v


def _sha256(v: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", v):
        raise ValueError("must be a sha256: 64 lowercase hex digits")
    return v


Word = Annotated[StrictStr, AfterValidator(_no_space)]
Url = Annotated[StrictStr, AfterValidator(_no_space), AfterValidator(_url)]
Location = Annotated[StrictStr, AfterValidator(_no_space), AfterValidator(_url_or_path)]
PosixDir = Annotated[StrictStr, AfterValidator(_posix_abs)]
WinDir = Annotated[StrictStr, AfterValidator(_win_abs)]
Sha256 = Annotated[StrictStr, AfterValidator(_sha256)]


class Pinned(BaseModel):
    """A lab-pinned Windows installer: where it is and its sha256."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: Location
    sha256: Sha256


def _lower(v):
    return v.lower() if isinstance(v, str) else v


class DownloadSources(BaseModel):
    """The download-source keys (defaults: :data:`tfprov.model.sources.DEFAULTS`; unset =
    that default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    nvidia_repo_url: Url | None = None
    miniforge_url: Location | None = None
    miniforge_sha256: Sha256 | None = None
    conda_channels: list[Word] | None = Field(default=None, min_length=1)
    conda_channel_alias: Url | None = None
    pip_index_url: Url | None = None
    pip_extra_index_url: Url | None = None
    pip_find_links: Location | None = None
    pip_no_index: StrictBool | None = None
    envs_dir: PosixDir | None = None
    conda_prefix: PosixDir | None = None
    win_driver_installers: dict[StrictStr, Pinned] | None = None
    win_cuda_installers: dict[StrictStr, Pinned] | None = None
    win_cudnn_zips: dict[StrictStr, Pinned] | None = None
    win_miniforge_url: Location | None = None
    win_miniforge_sha256: Sha256 | None = None
    win_envs_dir: WinDir | None = None
    win_conda_prefix: WinDir | None = None


class DeploySwitches(BaseModel):
    """The deploy's own switches (read by the step builders)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    reboot: StrictBool = False  # may tfprov reboot the host after a driver change
    repair: StrictBool = True  # may tfprov repair a broken env it finds
    secure_boot_signing_key: Word | None = None  # KEY[:CERT] paths for module signing
    wheel_sha256: Sha256 | None = None  # of a wheel given by URL without a .sha256 file
    profile: StrictStr | None = None  # a saved host profile (JSON), relative to the inventory
    # a hashed lock of the whole venv: "resolve" (uv on the controller, from the host's
    # sources, cached) or an admin-provided lock file; unset = no lock
    requirements_lock: StrictStr | None = None


class WinsshData(BaseModel):
    """tfprov's ``@winssh`` connector (tfprov/connectors/winssh.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    winssh_hostname: Word | None = None
    winssh_port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    winssh_user: StrictStr | None = None
    winssh_key: StrictStr | None = None
    winssh_key_password: StrictStr | None = None
    winssh_password: StrictStr | None = None
    winssh_known_hosts_file: StrictStr | None = None
    winssh_strict_host_key_checking: (
        Annotated[Literal["yes", "no"], BeforeValidator(_lower)] | None
    ) = None


DEPLOY_KEYS = tuple(DeploySwitches.model_fields)
WINSSH_KEYS = tuple(WinsshData.model_fields)
SECRET_KEYS = frozenset({"winssh_password", "winssh_key_password"})  # never printed
assert tuple(DownloadSources.model_fields) == SOURCE_KEYS, "sources.DEFAULTS vs the model"


class HostSettings(WinsshData, DeploySwitches, DownloadSources, StackSpec):
    """One host's tfprov data: the stack spec, the download sources, the deploy switches
    and the connector's keys.  Booleans are strict (``"no"`` is an error, not true)."""

    def stack_spec(self) -> StackSpec:
        """The stack-spec part (its keys as given; unset ones keep the spec's defaults)."""
        return StackSpec.model_validate(self.model_dump(include=set(SPEC_KEYS), exclude_unset=True))

    def sources(self) -> dict:
        """The host's download sources: :data:`tfprov.model.sources.DEFAULTS`, overridden
        by what its data sets."""
        return sources_for(self.model_dump(include=set(SOURCE_KEYS), exclude_none=True))


HOST_KEYS = tuple(HostSettings.model_fields)


def shown(key: str, value) -> str:
    """A value as an error message may show it: secrets and URL passwords hidden."""
    if key in SECRET_KEYS:
        return "a hidden value"
    text = repr(redact(value))
    return text if len(text) <= 80 else text[:77] + "..."


def settings_from_mapping(data: dict, where: str) -> HostSettings:
    """Validate tfprov's keys of one host's merged data; :class:`SpecError` names the
    host, field and (unless secret) the value."""
    try:
        return HostSettings.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_errors(exc, where, HOST_KEYS, show=shown)) from None


def merged_data(base: dict | None, data, overrides: dict | None) -> dict:
    """The one spec merge: ``base`` (a ``--spec`` file's keys) < tfprov's keys of the
    host's data (unset = ``None``) < ``overrides`` (command-line flags)."""
    mine = {k: v for k, v in data.items() if k in HOST_KEYS and v is not None}
    return {**(base or {}), **mine, **(overrides or {})}
