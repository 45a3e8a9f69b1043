"""The plan: what the resolver decided for one host, and why.

``Plan.model_dump(mode="json")`` is the stable JSON form printed by ``tfprov plan --json``
(one object per host; see docs/formats.md).  Every component carries its ``action``
(keep / install / upgrade / none), version, source and a one-line ``reason``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Action = Literal["keep", "install", "upgrade", "none"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Component(_Out):
    action: Action
    version: str | None = None
    source: str | None = None
    reason: str = ""


class PythonChoice(Component):
    path: str | None = None  # the host interpreter a venv is made with (None: conda's)
    venv_package: str | None = None  # distro package to install before the venv, if any


class DriverChoice(_Out):
    action: Action
    version: str | None = None  # the installed driver that is kept
    min_version: str | None = None  # the driver the plan needs at least
    branch: int | None = None  # the branch to install, when installing
    source: str | None = None
    reason: str = ""


class TensorflowChoice(_Out):
    version: str
    package: str  # what to install: 'tensorflow[and-cuda]', 'tensorflow-cpu', ...
    variant: Literal["gpu", "cpu"]
    source: str  # 'pypi', 'conda:anaconda', 'community:fo40225', 'wheelhouse'
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
    values = {
        k: v.copy() if isinstance(v, (list, dict)) else v for k, v in _DEFAULTS[model].items()
    }
    values.update(data)
    obj = model.__new__(model)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(data))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


_DEFAULTS: dict[type, dict] = {
    cls: {
        name: f.get_default(call_default_factory=True)
        for name, f in cls.model_fields.items()
        if not f.is_required()
    }
    for cls in (
        Component,
        PythonChoice,
        DriverChoice,
        TensorflowChoice,
        EnvChoice,
        Alternative,
        Plan,
    )
}
