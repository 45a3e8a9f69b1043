"""The stack spec: what the admin asks for, per host or group.

The same keys are used at the top level of a ``--spec FILE.yml`` and in a pyinfra
inventory's host/group data::

    tensorflow: "2.15"          # newest 2.15.x; or ">=2.10,<2.13", "2.15.1", "latest"
    gpu: auto                   # auto | require | off
    python: "3.11"              # optional; default: chosen per TF release and host
    env_manager: auto           # auto | conda | venv
    env_name: tf215             # optional; default tf<major><minor>
    driver: auto                # auto | keep | a branch number such as 535
    cuda_source: auto           # auto | pip | conda | system
    allow_community_builds: false
    wheelhouse: /srv/wheels     # a directory or http(s) URL of a wheelhouse (see docs)
    driver_flavor: auto         # auto | proprietary | open | server (kernel modules)

YAML 1.1 reads a bare ``off`` as false: ``gpu: off`` means ``off`` here.  Numbers that
look like versions (``tensorflow: 2.10``) must be strings; the spec-file loader keeps them
as written, and a float handed in from Python code is rejected with a hint.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from tfprov.model.names import env_name_problem
from tfprov.model.versions import V, minor_of, spec_set


class SpecError(ValueError):
    """Bad spec input; the message names the host (if known) and the field."""


_CONTROL = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # control, format (zero-width, bidi), line breaks


def plain_text_problem(v) -> str | None:
    """Why a value (a string, or the strings in a list/dict) cannot reach a remote command
    or file: empty, or holding a control character or line break.  None when it can."""
    if isinstance(v, str):
        if not v.strip():
            return "must not be empty"
        bad = next((c for c in v if unicodedata.category(c) in _CONTROL), None)
        if bad is not None:
            return f"must be plain text: it holds the control character {bad!r}"
    elif isinstance(v, dict):
        for k, x in v.items():
            problem = plain_text_problem(k) or plain_text_problem(x)
            if problem:
                return problem
    elif isinstance(v, (list, tuple)):
        for x in v:
            problem = plain_text_problem(x)
            if problem:
                return problem
    return None


def _not_float(field: str, v):
    if isinstance(v, float):
        text = repr(v)
        # 2.10 and 2.1 are the same float: name both readings, the longer first
        meant = [f"{text}0", text] if re.fullmatch(r"\d+\.\d", text) else [text]
        write = " or ".join(f'{field}: "{m}"' for m in meant)
        also = f" ({meant[0]} reads as {text} too)" if len(meant) > 1 else ""
        raise ValueError(f"{text} is a number, not a version{also}: write it as a string, {write}")
    return v


class StackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # each field's description is its ``tfprov plan --FLAG`` help (tfprov/cli.py)
    tensorflow: str = Field("latest", description='"2.15", ">=2.10,<2.13", "2.15.1" or "latest"')
    gpu: Literal["auto", "require", "off"] = Field("auto", description="use the GPU")
    python: str | None = Field(None, description='Python minor version, e.g. "3.11"')
    env_manager: Literal["auto", "conda", "venv"] = Field("auto", description="env kind")
    env_name: str | None = Field(None, description="env name (default tf<major><minor>)")
    driver: Literal["auto", "keep"] | int = Field(
        "auto", description="auto, keep or a branch number such as 535"
    )
    cuda_source: Literal["auto", "pip", "conda", "system"] = Field(
        "auto", description="where CUDA and cuDNN come from"
    )
    allow_community_builds: StrictBool = Field(
        False, description="allow community and wheelhouse builds of TensorFlow"
    )
    wheelhouse: str | None = Field(None, description="directory or URL of a lab wheelhouse")
    driver_flavor: Literal["auto", "proprietary", "open", "server"] = Field(
        "auto",
        description="the driver's kernel modules: auto = open for branch >= 560 when every "
        "GPU supports them, else proprietary",
    )

    @field_validator("tensorflow", mode="before")
    @classmethod
    def _tf(cls, v):
        v = _not_float("tensorflow", v)
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str):
            raise ValueError('must be a version like "2.15", a specifier, or "latest"')
        v = v.strip()
        if v.lower() == "latest":
            return "latest"
        if not v.isascii():
            raise ValueError(f"must be written in ASCII digits, not {v!r}")
        if re.fullmatch(r"\d+(\.\d+){0,2}", v, re.ASCII):
            return v
        spec_set(v)  # raises ValueError with the text
        return v

    @field_validator("python", mode="before")
    @classmethod
    def _py(cls, v):
        v = _not_float("python", v)
        if v is None:
            return v
        v = str(v).strip()
        if not re.fullmatch(r"\d+\.\d+", v, re.ASCII):
            raise ValueError(f'must be a Python minor version like "3.11", not {v!r}')
        return v

    @field_validator("gpu", mode="before")
    @classmethod
    def _gpu(cls, v):
        if v is False:  # YAML 1.1: off/no/false
            return "off"
        if v is True:
            raise ValueError("true is ambiguous here: write gpu: auto or gpu: require")
        return v.lower() if isinstance(v, str) else v

    @field_validator("driver", mode="before")
    @classmethod
    def _driver(cls, v):
        if isinstance(v, bool):
            raise ValueError("must be auto, keep or a driver branch number such as 535")
        if isinstance(v, str):
            v = v.strip().lower()
            if v.isdigit() and v.isascii():
                v = int(v)
            elif v not in ("auto", "keep"):
                raise ValueError(
                    f"must be auto, keep or a driver branch number such as 535, not {v!r}"
                )
        if isinstance(v, float):
            raise ValueError("a driver branch is a whole number such as 535")
        if isinstance(v, int) and not 100 <= v <= 9999:
            raise ValueError(f"{v} is not an NVIDIA driver branch (e.g. 470, 535, 550)")
        return v

    @field_validator("env_name")
    @classmethod
    def _env_name(cls, v):
        problem = None if v is None else env_name_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    # defined last: pydantic runs before-validators last-defined first, so this sees
    # the value as given (before _tf/_py strip it)
    @field_validator("*", mode="before")
    @classmethod
    def _plain(cls, v):
        problem = plain_text_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    def wants_release(self, minor: str, version: str) -> bool:
        """Is the release line ``minor`` (newest patch ``version``) one this spec asks
        for?  As the resolver picks candidates: a match, or an exact ``x.y.z`` of that
        line not above its newest patch."""
        t = self.tensorflow
        if self.matches(version):
            return True
        return (
            t[0].isdigit()
            and len(V(t).release) == 3
            and minor_of(t) == minor
            and V(t) <= V(version)
        )

    def matches(self, version: str) -> bool:
        """Does TensorFlow ``version`` (a full x.y.z) satisfy the requested one?"""
        t = self.tensorflow
        if t == "latest":
            return True
        if t[0].isdigit():
            want, have = V(t).release, V(version).release
            return have[: len(want)] == want
        return spec_set(t).contains(V(version), prereleases=False)


SPEC_KEYS = tuple(StackSpec.model_fields)  # the spec keys, in the model's order


class _VersionKeepingLoader(yaml.SafeLoader):
    """SafeLoader that keeps int/float-looking scalars as the text written."""


def _as_text(loader, node):
    return loader.construct_scalar(node)


_VersionKeepingLoader.add_constructor("tag:yaml.org,2002:float", _as_text)


def _intish(loader, node):
    text = loader.construct_scalar(node)
    return int(text) if text.isdigit() else text


_VersionKeepingLoader.add_constructor("tag:yaml.org,2002:int", _intish)


def _repr(_key: str, value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def format_errors(exc: ValidationError, where: str, known=None, show=_repr) -> str:
    """One line per field: '<where>: field '<name>': <what is wrong> (got <value>)'.
    ``known``: the keys to suggest for an unknown one; ``show(key, value)``: how a value
    may be printed (secrets hidden)."""
    parts = []
    seen = set()
    for err in exc.errors():
        # drop pydantic's union-member parts of the location ('driver.int' -> 'driver')
        loc = [
            x
            for x in err["loc"]
            if not (
                isinstance(x, str)
                and ("[" in x or x in ("int", "str", "float", "bool", "function-after"))
            )
        ]
        field = ".".join(str(x) for x in loc) or "(top level)"
        if field in seen:
            continue
        seen.add(field)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = unknown_key_message(field, known) if known else "unknown field"
        elif err["type"] != "missing" and loc:
            got = show(str(loc[0]), err["input"])
            if got not in msg:
                msg += f" (got {got})"
        parts.append(f"{where}: field '{field}': {msg}")
    return "\n".join(parts)


def unknown_key_message(key: str, known) -> str:
    """'unknown field', with the closest known key when there is one."""
    close = close_key(key, known)
    if close and close != key:
        return f"unknown field (did you mean '{close}'?)"
    return f"unknown field (known: {', '.join(known)})"


def close_key(key: str, known) -> str | None:
    """The known key ``key`` is most likely a misspelling of (case and '-' ignored)."""
    norm = {k.lower(): k for k in known}
    hit = difflib.get_close_matches(key.lower().replace("-", "_"), norm, n=1, cutoff=0.8)
    return norm[hit[0]] if hit else None


def spec_from_mapping(data: dict, where: str) -> StackSpec:
    """Validate a mapping of spec keys; raise :class:`SpecError` naming ``where`` and
    field.  Checking the values against the catalog (known releases and driver branches)
    is :func:`tfprov.apply.inventory.checked_spec`'s."""
    if not isinstance(data, dict):
        raise SpecError(f"{where}: a spec is a mapping of {', '.join(SPEC_KEYS)}")
    try:
        return StackSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_errors(exc, where, SPEC_KEYS)) from None


def load_spec_file(path: str) -> StackSpec:
    """A ``--spec FILE.yml``, validated (not yet against the catalog)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_VersionKeepingLoader)  # noqa: S506 - SafeLoader subclass
    except OSError as exc:
        raise SpecError(f"{path}: cannot read spec file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    return spec_from_mapping(data or {}, path)
