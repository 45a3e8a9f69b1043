"""The plan → steps mapping: one step builder per component, each choosing its Linux or
Windows operations from ``plan.platform`` in one place, and reading only the plan's typed
fields (origin, requirement, channel, flavor, packages, versions, names) — never its
``source``/``reason`` text.

driver → CUDA (NVIDIA repository + toolkit) → cuDNN → env (venv or conda) → TensorFlow.
"""

from __future__ import annotations

from tfprov.apply.steps.base import STEP_KINDS, RefusedError, Step
from tfprov.apply.steps.cuda import cuda_steps
from tfprov.apply.steps.cudnn import cudnn_steps
from tfprov.apply.steps.driver import driver_steps, windows_driver_branch
from tfprov.apply.steps.env import conda_packages, env_location, env_steps
from tfprov.apply.steps.tensorflow import tensorflow_steps
from tfprov.model.hostdata import HostSettings
from tfprov.model.plan import Plan


def steps_for(plan: Plan, sources: dict, settings: HostSettings) -> list[Step]:
    """The operations that carry out ``plan`` on a host, in order, from the host's resolved
    download sources (:func:`tfprov.model.sources.sources_for`) and its settings; no host
    is needed (tests/test_deploy_steps.py, tests/test_deploy_windows.py).  Raises
    :class:`RefusedError` when a step cannot be carried out with those sources."""
    return [
        *driver_steps(plan, sources, settings),
        *cuda_steps(plan, sources),
        *cudnn_steps(plan, sources),
        *env_steps(plan, sources),
        *tensorflow_steps(plan, sources, settings),
    ]


__all__ = [
    "STEP_KINDS",
    "RefusedError",
    "Step",
    "conda_packages",
    "env_location",
    "steps_for",
    "windows_driver_branch",
]
