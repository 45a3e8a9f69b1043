"""Plans are assembled without re-validation for speed; they must still be exactly what
pydantic would build and accept."""

import pytest

from tfprov.model.plan import Component, DriverChoice, Plan, TensorflowChoice, assemble
from tfprov.model.profile import HostProfile
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve


def test_assemble_equals_model_construct():
    data = {"action": "keep", "version": "3.10.12", "source": "host"}
    a = assemble(Component, data)
    b = Component.model_construct(**data)
    assert a == b
    defaults = {"reason": "", "origin": "none", "requirement": None, "channel": None}
    assert a.model_dump() == b.model_dump() == {**data, **defaults}
    assert a.model_fields_set == b.model_fields_set
    d = assemble(DriverChoice, {"action": "none"})
    assert d.min_version is None and d.branch is None


def test_defaults_are_not_shared_between_plans():
    p1 = assemble(Plan, {"host": "a", "ok": False})
    p2 = assemble(Plan, {"host": "b", "ok": False})
    p1.reasons.append("x")
    assert p2.reasons == []


@pytest.mark.parametrize(
    "spec",
    [
        StackSpec(),
        StackSpec(tensorflow="2.13"),
        StackSpec(gpu="off"),
        StackSpec(tensorflow="2.15", gpu="require", driver="keep"),
    ],
)
def test_resolved_plans_validate_as_pydantic_models(spec):
    h = HostProfile.model_validate(
        {
            "hostname": "h",
            "os": {"family": "linux", "distro": "ubuntu", "arch": "x86_64"},
            "cpu": {"flags": ["avx", "avx2"]},
            "gpus": [{"name": "NVIDIA GeForce RTX 3090"}],
            "nvidia_driver": "470.256.02",
            "pythons": ["3.10.12"],
        }
    )
    p = resolve(h, spec)
    again = Plan.model_validate(p.model_dump(mode="json"))
    assert again.model_dump() == p.model_dump()
    if p.ok:
        assert isinstance(p.tensorflow, TensorflowChoice)
