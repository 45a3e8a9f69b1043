"""What one resolver call carries through the search (:class:`Ctx`), the failure of one
constraint (:class:`Unmet`) and the plan component while it is being decided (:class:`Part`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tfprov.catalog import Catalog
    from tfprov.model.spec import StackSpec
    from tfprov.resolve.cache import ResolverCache
    from tfprov.resolve.host_view import HostView
    from tfprov.resolve.wheelhouse import WheelhouseWheel


class Unmet(Exception):
    """One constraint that a candidate build does not meet (message: the chain)."""


def fail(ctx: Ctx, message) -> Unmet:
    """An Unmet whose message is only composed when someone will read it: most candidate
    builds fail silently on the way to the one that fits."""
    return Unmet(message() if ctx.explain else "")


@dataclass
class Ctx:
    cat: Catalog
    host: HostView
    spec: StackSpec
    wheelhouse: tuple[WheelhouseWheel, ...]
    cache: ResolverCache
    warnings: list[str] = field(default_factory=list)
    explain: bool = True  # compose failure messages (only for the release that is reported)
    quiet: bool = False  # searching for an alternative: no failure texts at all
    gate_memo: dict | None = None  # this call's table in cache.gate
    builds_memo: dict | None = None  # this call's table in cache.builds
    gate_sig: tuple = ()
    build_group: tuple = ()


class Part(SimpleNamespace):
    """A plan component while the search runs; becomes a pydantic model only in the plan
    that is returned (building models for every candidate would dominate the cost)."""
