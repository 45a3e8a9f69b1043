"""What every step builder returns: a :class:`Step`, named by one of :data:`STEP_KINDS`,
or :class:`RefusedError` when the plan cannot be carried out with the host's sources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tfprov.model.versions import minor_of


class RefusedError(Exception):
    """The plan cannot be carried out on this host (the message says why and what would)."""


@dataclass
class Step:
    """One operation to queue: the operation, its keyword arguments and its step kind's
    name (one of :data:`STEP_KINDS`; the per-host details are in the plan table)."""

    op: Callable
    kwargs: dict
    name: str


# Every step kind's operation name, in the order steps run on any host (Linux and Windows).
# pyinfra shows one operation per name in its tables, so a name never carries a host's
# versions or paths: those are in the plan table each host prints before the run.
STEP_KINDS = (
    "tfprov: NVIDIA driver",
    "tfprov: NVIDIA CUDA repository",
    "tfprov: CUDA toolkit",
    "tfprov: CUDA_PATH",
    "tfprov: PATH for CUDA",
    "tfprov: cuDNN",
    "tfprov: Python venv package",
    "tfprov: venv",
    "tfprov: TensorFlow",
    "tfprov: Miniforge",
    "tfprov: .condarc",
    "tfprov: conda env",
)


def installs(part) -> bool:
    """Whether tfprov installs this plan component system-wide."""
    return part is not None and part.origin == "system" and part.action in ("install", "upgrade")


def pinned(sources: dict, key: str, version: str, what: str) -> dict:
    """The lab-pinned Windows installer for ``version`` (exact or major.minor match)."""
    table = sources.get(key) or {}
    entry = table.get(version) or table.get(minor_of(version))
    if not entry or not entry.get("url") or not entry.get("sha256"):
        raise RefusedError(
            f"the plan needs {what} {version} on this Windows host: set {key} = "
            f"{{'{minor_of(version)}': {{'url': ..., 'sha256': ...}}}} in its inventory data"
        )
    return entry
