"""The CUDA toolkit steps, for a toolkit tfprov installs system-wide (origin ``system``):
on Linux NVIDIA's repository (also for a system cuDNN) and the toolkit package; on Windows
the pinned installer, ``CUDA_PATH`` and the machine ``PATH``."""

from __future__ import annotations

import ntpath

from tfprov.apply.steps.base import Step, installs, pinned
from tfprov.model.plan import Plan
from tfprov.model.versions import minor_of
from tfprov.operations import cuda as cuda_ops
from tfprov.operations import cuda_windows, system_windows

WINDOWS_CUDA_ROOT = "C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA"


def cuda_steps(plan: Plan, sources: dict) -> list[Step]:
    if plan.platform.windows:
        return _windows(plan, sources) if installs(plan.cuda) else []
    return _linux(plan, sources)


def _linux(plan: Plan, sources: dict) -> list[Step]:
    repo = sources["nvidia_repo_url"]
    steps = []
    if installs(plan.cuda) or installs(plan.cudnn):
        steps.append(
            Step(
                cuda_ops.nvidia_repo,
                {"platform": plan.platform, "nvidia_repo_url": repo},
                "tfprov: NVIDIA CUDA repository",
            )
        )
    if installs(plan.cuda):
        kwargs = {
            "version": minor_of(plan.cuda.version),
            "platform": plan.platform,
            "nvidia_repo_url": repo,
            "select": True,
        }
        steps.append(Step(cuda_ops.cuda_toolkit, kwargs, "tfprov: CUDA toolkit"))
    return steps


def _windows(plan: Plan, sources: dict) -> list[Step]:
    xy = minor_of(plan.cuda.version)
    entry = pinned(sources, "win_cuda_installers", xy, "the CUDA toolkit")
    home = f"{WINDOWS_CUDA_ROOT}\\v{xy}"
    return [
        Step(
            cuda_windows.cuda_toolkit,
            {"version": xy, "installer_url": entry["url"], "sha256": entry["sha256"]},
            "tfprov: CUDA toolkit",
        ),
        Step(
            system_windows.machine_env,
            {"variable": "CUDA_PATH", "value": home},
            "tfprov: CUDA_PATH",
        ),
        Step(
            system_windows.machine_path,
            {"entries": [ntpath.join(home, "bin"), ntpath.join(home, "libnvvp")]},
            "tfprov: PATH for CUDA",
        ),
    ]
