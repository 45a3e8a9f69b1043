"""The resolver is pure in fact: a plan does not depend on what was resolved before.

Property: for any sequence of (profile, spec, wheelhouse) — the example profiles of
``inventories/profiles/`` and generated variants of them — each plan resolved with one
shared cache equals the plan for the same inputs resolved with a fresh cache.
"""

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfprov.catalog import load_catalog
from tfprov.model.profile import HostProfile
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve
from tfprov.resolve.cache import ResolverCache, cache_for
from tfprov.resolve.wheelhouse import parse_wheel_name

PROFILES = [
    json.loads(p.read_text())
    for p in sorted((Path(__file__).parent.parent / "inventories" / "profiles").glob("*.json"))
]
FLAGS = [
    [],
    ["sse2"],
    ["sse2", "pni", "sse4_1"],
    ["sse2", "sse4_1", "sse4_2"],
    ["sse2", "sse4_1", "sse4_2", "avx"],
    ["sse2", "sse4_1", "sse4_2", "avx", "avx2", "fma"],
    ["sse2", "sse4_1", "sse4_2", "avx", "avx2", "avx512f"],
]
PYTHONS = ["3.6.8", "3.9.2", "3.10.12", "3.11.4", "3.12.3", "3.13.1"]
GPUS = ["NVIDIA GeForce RTX 4090", "Tesla K80", "GeForce GTX 650", "NVIDIA GeForce RTX 3060"]
DRIVERS = [None, "470.82.01", "535.183.01", "580.95.05"]
SPECS = [
    StackSpec(),
    StackSpec(allow_community_builds=True),
    StackSpec(allow_community_builds=True, python="3.11"),
    StackSpec(tensorflow="2.15", allow_community_builds=True),
    StackSpec(tensorflow="2.10", gpu="require"),
    StackSpec(gpu="off", env_manager="venv"),
    StackSpec(tensorflow=">=2.12,<2.17", driver="keep"),
]
WHEELS = [
    f"tensorflow-{v}+{level}.cpu-cp{py}-cp{py}-linux_x86_64.whl"
    for v in ("2.15.1", "2.20.0", "2.21.0")
    for level in ("sse2", "sse42", "avx", "avx2")
    for py in ("310", "311")
]


@st.composite
def host_profiles(draw):
    data = json.loads(json.dumps(draw(st.sampled_from(PROFILES))))
    if draw(st.booleans()):  # a generated variant of the example
        data["hostname"] = "variant"
        if data["os"]["arch"] == "x86_64":
            data["cpu"]["flags"] = draw(st.sampled_from(FLAGS))
        data["pythons"] = draw(st.lists(st.sampled_from(PYTHONS), min_size=1, max_size=2))
        gpus = draw(st.lists(st.sampled_from(GPUS), max_size=2))
        data["gpus"] = [{"name": g} for g in gpus]
        data["nvidia_driver"] = draw(st.sampled_from(DRIVERS)) if gpus else None
    return HostProfile.model_validate(data)


inputs = st.tuples(
    host_profiles(),
    st.sampled_from(SPECS),
    st.lists(st.sampled_from(WHEELS), max_size=3).map(
        lambda names: tuple(parse_wheel_name(n) for n in names)
    ),
)


def _dump(plan) -> dict:
    return plan.model_dump(mode="json")


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(inputs, min_size=2, max_size=8))
def test_a_plan_does_not_depend_on_what_was_resolved_before(sequence):
    cat = load_catalog()
    shared = ResolverCache(cat)
    for profile, spec, wheels in sequence:
        got = resolve(profile, spec, cat, list(wheels), cache=shared)
        fresh = resolve(profile, spec, cat, list(wheels), cache=ResolverCache(cat))
        assert _dump(got) == _dump(fresh)


def test_the_tester_case_40_runs_one_answer():
    """The reported case: one host, spec and wheelhouse resolved 40 times between other
    hosts' plans gives one plan (before: the wheelhouse build was skipped now and then,
    when a stale gate answer was found under a recycled object id)."""
    cat = load_catalog()
    sse42 = HostProfile.model_validate(
        {
            "hostname": "x",
            "os": {"family": "linux", "distro": "ubuntu", "version": "22.04"},
            "cpu": {"flags": ["sse2", "sse4_1", "sse4_2"]},
            "pythons": ["3.11.4"],
        }
    )
    spec = StackSpec(allow_community_builds=True)
    fits = [parse_wheel_name("tensorflow-2.20.0+sse42.cpu-cp311-cp311-linux_x86_64.whl")]
    misfit = [parse_wheel_name("tensorflow-2.20.0+avx2.cpu-cp311-cp311-linux_x86_64.whl")]
    answers = set()
    for _ in range(40):
        resolve(sse42, spec, cat, misfit)
        answers.add(json.dumps(_dump(resolve(sse42, spec, cat, fits)), sort_keys=True))
    assert len(answers) == 1
    plan = json.loads(answers.pop())
    assert (plan["tensorflow"]["source"], plan["tensorflow"]["version"]) == ("wheelhouse", "2.20.0")


def test_caches_live_outside_the_catalog_and_follow_it():
    cat = load_catalog()
    assert not hasattr(cat, "memo")
    assert cache_for(cat) is cache_for(cat)
    other = ResolverCache(cat)
    try:
        resolve(HostProfile.model_validate(PROFILES[0]), StackSpec(), object(), cache=other)
    except ValueError as exc:
        assert "another catalog" in str(exc)
    else:
        raise AssertionError("a cache of another catalog was accepted")
