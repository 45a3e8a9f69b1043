"""The cuDNN step, for a cuDNN tfprov installs system-wide (origin ``system``): NVIDIA's
packages on Linux, the pinned zip into the toolkit on Windows.  A cuDNN from pip or conda
goes into the env (:mod:`tfprov.apply.steps.env`)."""

from __future__ import annotations

from tfprov.apply.steps.base import Step, installs, pinned
from tfprov.model.plan import Plan
from tfprov.model.versions import minor_of
from tfprov.operations import cudnn as cudnn_ops
from tfprov.operations import cudnn_windows

NAME = "tfprov: cuDNN"


def cudnn_steps(plan: Plan, sources: dict) -> list[Step]:
    if not installs(plan.cudnn):
        return []
    if plan.platform.windows:
        return [_windows(plan, sources)]
    return [_linux(plan, sources)]


def _linux(plan: Plan, sources: dict) -> Step:
    kwargs = {
        "version": plan.cudnn.version,
        "cuda_version": minor_of(plan.cuda.version),
        "platform": plan.platform,
        "nvidia_repo_url": sources["nvidia_repo_url"],
    }
    return Step(cudnn_ops.cudnn, kwargs, NAME)


def _windows(plan: Plan, sources: dict) -> Step:
    entry = pinned(sources, "win_cudnn_zips", plan.cudnn.version, "cuDNN")
    kwargs = {
        "version": plan.cudnn.version,
        "cuda_version": minor_of(plan.cuda.version),
        "zip_url": entry["url"],
        "sha256": entry["sha256"],
    }
    return Step(cudnn_windows.cudnn, kwargs, NAME)
