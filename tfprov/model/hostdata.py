"""Every host-data key tfprov reads, with its type: one registry, one validation.

Keys are flat, as pyinfra host/group data and ``--data KEY=VALUE`` give them: the stack
spec (:data:`tfprov.model.spec.SPEC_KEYS`), the download sources
(:data:`tfprov.model.sources.SOURCE_KEYS`),
the deploy switches (:data:`DEPLOY_KEYS`) and the ``@winssh`` connector's ``winssh_*``.
:func:`validate_hosts` merges ``--spec file < host/group data < flags`` for every host and
validates it with :class:`HostSettings` before any host is touched.  Other keys are
pyinfra's own (``ssh_*``, ``_sudo`` …) or the user's and pass — except an unknown key close
to one of tfprov's (``tensorflw``), which is an error with a "did you mean".
"""

from __future__ import annotations

import re
from functools import cache
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

from tfprov.model.sources import SOURCE_KEYS
from tfprov.model.spec import (
    SPEC_KEYS,
    SpecError,
    StackSpec,
    close_key,
    format_errors,
    spec_from_mapping,
)


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


# the deploy's own switches (tfprov/apply/deploy.py)
DEPLOY_KEYS = (
    "reboot",
    "repair",
    "secure_boot_signing_key",
    "wheel_sha256",
    "profile",
)
# tfprov's @winssh connector (tfprov/connectors/winssh.py)
WINSSH_KEYS = (
    "winssh_hostname",
    "winssh_port",
    "winssh_user",
    "winssh_key",
    "winssh_key_password",
    "winssh_password",
    "winssh_known_hosts_file",
    "winssh_strict_host_key_checking",
)
SECRET_KEYS = frozenset({"winssh_password", "winssh_key_password"})  # never printed


class HostSettings(StackSpec):
    """One host's tfprov data: the stack spec (inherited) and every other key tfprov
    reads.  Booleans are strict (``"no"`` is an error, not true)."""

    # download sources (tfprov/model/sources.py; unset = its default)
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
    # deploy switches
    reboot: StrictBool = False  # may tfprov reboot the host after a driver change
    repair: StrictBool = True  # may tfprov repair a broken env it finds
    secure_boot_signing_key: Word | None = None  # KEY[:CERT] paths for module signing
    wheel_sha256: Sha256 | None = None  # of a wheel given by URL without a .sha256 file
    profile: StrictStr | None = None  # a saved host profile (JSON), relative to the inventory
    # the @winssh connector
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

    def spec(self, where: str) -> StackSpec:
        """The stack-spec part, checked against the catalog too."""
        return spec_from_mapping(self.model_dump(include=set(SPEC_KEYS), exclude_unset=True), where)


HOST_KEYS = tuple(HostSettings.model_fields)
assert set(HOST_KEYS) == {*SPEC_KEYS, *SOURCE_KEYS, *DEPLOY_KEYS, *WINSSH_KEYS}, "registry"


@cache
def _pyinfra_keys() -> tuple[frozenset, tuple]:
    """(pyinfra's own data keys and operation arguments, its connectors' key prefixes)."""
    from pyinfra.api.arguments import all_argument_meta
    from pyinfra.api.connectors import get_all_connectors

    keys = set(all_argument_meta)
    for connector in get_all_connectors().values():
        keys |= {k for k in getattr(connector, "data_meta", None) or {} if k not in HOST_KEYS}
    prefixes = {k.split("_", 1)[0] + "_" for k in keys if not k.startswith("_") and "_" in k}
    return frozenset(keys), tuple(sorted(prefixes))


def is_pyinfra_key(key: str) -> bool:
    keys, prefixes = _pyinfra_keys()
    return key.startswith("_") or key in keys or key.startswith(prefixes)


def unknown_key_errors(data: dict, where: str) -> list[str]:
    """One line per key that is not tfprov's but looks like a misspelling of one."""
    out = []
    for key in data:
        if not isinstance(key, str) or key in HOST_KEYS or is_pyinfra_key(key):
            continue
        close = close_key(key, HOST_KEYS)
        if close:
            out.append(f"{where}: field '{key}': unknown tfprov key (did you mean '{close}'?)")
    return out


def shown(key: str, value) -> str:
    """A value as an error message may show it: secrets and URL passwords hidden."""
    if key in SECRET_KEYS:
        return "a hidden value"
    text = repr(value)
    if isinstance(value, str) and "@" in value:
        parts = urlsplit(value)
        if parts.password:
            text = repr(value.replace(f":{parts.password}@", ":***@"))
    return text if len(text) <= 80 else text[:77] + "..."


def settings_from_mapping(data: dict, where: str) -> HostSettings:
    """Validate tfprov's keys of one host's merged data; :class:`SpecError` names the
    host, field and (unless secret) the value."""
    try:
        return HostSettings.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_errors(exc, where, HOST_KEYS, show=shown)) from None


def host_data(host) -> dict:
    data = host.data
    return data.dict() if hasattr(data, "dict") else dict(data)


def validate_hosts(hosts, base: dict | None = None, overrides: dict | None = None):
    """Each host's (settings, spec): ``base`` (a spec file's keys) < the host's data <
    ``overrides`` (command-line flags), validated for every host before any is touched.
    Raises :class:`SpecError` with one line per problem, over all hosts."""
    out, errors = {}, []
    for h in hosts:
        where = f"host {h.name}"
        data = host_data(h)
        errors += unknown_key_errors(data, where)
        mine = {k: v for k, v in data.items() if k in HOST_KEYS and v is not None}
        merged = {**(base or {}), **mine, **(overrides or {})}
        try:
            settings = settings_from_mapping(merged, where)
            out[h.name] = (settings, settings.spec(where))
        except SpecError as exc:
            errors.append(str(exc))
    if errors:
        raise SpecError("\n".join(errors))
    return out
