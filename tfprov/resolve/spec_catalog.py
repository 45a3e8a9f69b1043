"""A validated stack spec checked against the catalog: it must name a TensorFlow release
and a driver branch the catalog knows, or it is bad input (not a quiet plan)."""

from __future__ import annotations

from tfprov.catalog import Catalog, load_catalog
from tfprov.model.spec import StackSpec
from tfprov.model.versions import minor_of


def catalog_problems(spec: StackSpec, catalog: Catalog | None = None) -> list[tuple[str, str]]:
    """(field, what is wrong) for each spec value the catalog does not know."""
    cat = catalog or load_catalog()
    out = []
    t = spec.tensorflow
    if t != "latest" and not any(spec.wants_release(r.minor, r.version) for r in cat.releases):
        newest, oldest = cat.releases[0].version, cat.releases[-1].version
        line = next((r for r in cat.releases if t[0].isdigit() and r.minor == minor_of(t)), None)
        known = (
            f"the newest {line.minor} release it knows is {line.version}"
            if line
            else f"it knows {oldest} … {newest}"
        )
        out.append(("tensorflow", f"no TensorFlow release in the catalog matches {t!r} ({known})"))
    if isinstance(spec.driver, int) and cat.branch(spec.driver) is None:
        numbers = [b.branch for b in cat.branches]
        near = min(numbers, key=lambda n: (abs(n - spec.driver), -n))
        out.append(
            (
                "driver",
                f"{spec.driver} is not a known NVIDIA driver branch (the catalog knows "
                f"{numbers[0]} … {numbers[-1]}; nearest: {near})",
            )
        )
    return out
