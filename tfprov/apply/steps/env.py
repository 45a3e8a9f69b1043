"""The env steps: a venv (the distro's venv package where the plan names one, then the
venv with the host's pip configuration) or conda (Miniforge, its ``.condarc``, then the
env: conda packages first, pip packages after).  Where the env lives is
:func:`env_location`; the TensorFlow step of a venv is :mod:`tfprov.apply.steps.tensorflow`."""

from __future__ import annotations

import ntpath

from pyinfra.operations import apt

from tfprov.apply.steps.base import RefusedError, Step
from tfprov.model.pip_index import PipIndex
from tfprov.model.plan import Plan
from tfprov.model.versions import minor_of
from tfprov.operations import conda as conda_ops
from tfprov.operations import conda_windows, venv_windows
from tfprov.operations import venv as venv_ops


def env_location(plan: Plan, sources: dict) -> tuple[str, str]:
    """(env directory, its python) for the plan's env manager."""
    conda = plan.env_manager.manager == "conda"
    name = plan.env_manager.name
    if plan.platform.windows:
        if conda:
            env = ntpath.join(sources["win_conda_prefix"], "envs", name)
            return env, ntpath.join(env, "python.exe")
        env = ntpath.join(sources["win_envs_dir"], name)
        return env, ntpath.join(env, "Scripts", "python.exe")
    if conda:
        env = f"{sources['conda_prefix'].rstrip('/')}/envs/{name}"
    else:
        env = f"{sources['envs_dir'].rstrip('/')}/{name}"
    return env, f"{env}/bin/python"


def env_steps(plan: Plan, sources: dict) -> list[Step]:
    if plan.platform.windows:
        return _windows(plan, sources)
    return _linux(plan, sources)


def conda_packages(plan: Plan) -> tuple[list[str], list[str]]:
    """(conda packages, pip packages) of a conda env for ``plan`` — conda first, pip after;
    the same on every OS: a conda TensorFlow build pulls its CUDA and cuDNN, a pip one
    goes in after the CUDA parts the plan installs on their own (their ``requirement``)."""
    tf = plan.tensorflow
    if tf.origin == "conda":
        spec = f"{tf.package}={tf.version}"
        return [spec if tf.channel == "conda-forge" else f"{tf.channel}::{spec}"], []
    conda_pkgs: list[str] = []
    pip_pkgs = [f"{tf.package}=={tf.version}"]
    for part in (plan.cuda, plan.cudnn):
        if part is not None and part.requirement and part.origin in ("conda", "pip"):
            (conda_pkgs if part.origin == "conda" else pip_pkgs).append(part.requirement)
    return conda_pkgs, pip_pkgs


def _host_python(plan: Plan) -> str:
    return plan.python.path or f"python{minor_of(plan.python.version)}"


def _linux(plan: Plan, sources: dict) -> list[Step]:
    if plan.env_manager.manager == "conda":
        return _linux_conda(plan, sources)
    env, _python = env_location(plan, sources)
    steps = []
    if plan.python.venv_package:  # the resolver decided it (apt hosts only)
        steps.append(
            Step(
                apt.packages,
                {"packages": [plan.python.venv_package]},
                "tfprov: Python venv package",
            )
        )
    kwargs = {
        "path": env,
        "python": _host_python(plan),
        "python_version": minor_of(plan.python.version),
        "pip_config": PipIndex.of(sources).conf(),
    }
    steps.append(Step(venv_ops.virtualenv, kwargs, "tfprov: venv"))
    return steps


def _linux_conda(plan: Plan, sources: dict) -> list[Step]:
    tf = plan.tensorflow
    prefix = sources["conda_prefix"]
    conda_pkgs, pip_pkgs = conda_packages(plan)
    return [
        Step(
            conda_ops.miniforge,
            {
                "prefix": prefix,
                "installer_url": sources["miniforge_url"],
                "sha256": sources["miniforge_sha256"],
            },
            "tfprov: Miniforge",
        ),
        _condarc(conda_ops.condarc, prefix, sources),
        Step(
            conda_ops.env,
            {
                "prefix": prefix,
                "env_name": plan.env_manager.name,
                "python": minor_of(plan.python.version),
                "conda_packages": conda_pkgs,
                "pip_packages": pip_pkgs,
                "pip_index": PipIndex.of(sources),
                "cuda_lib_hooks": tf.variant == "gpu",
            },
            "tfprov: conda env",
        ),
    ]


def _windows(plan: Plan, sources: dict) -> list[Step]:
    if plan.env_manager.manager == "conda":
        return _windows_conda(plan, sources)
    env, _python = env_location(plan, sources)
    kwargs = {
        "path": env,
        "python_exe": _host_python(plan),
        "pip_config": PipIndex.of(sources).conf(),
    }
    return [Step(venv_windows.virtualenv, kwargs, "tfprov: venv")]


def _windows_conda(plan: Plan, sources: dict) -> list[Step]:
    prefix = sources["win_conda_prefix"]
    if not sources.get("win_miniforge_url") or not sources.get("win_miniforge_sha256"):
        raise RefusedError(
            "the plan needs conda on this Windows host: set win_miniforge_url "
            "and win_miniforge_sha256 (a pinned Miniforge3 Windows installer)"
        )
    conda_pkgs, pip_pkgs = conda_packages(plan)
    return [
        Step(
            conda_windows.miniconda,
            {
                "prefix": prefix,
                "installer_url": sources["win_miniforge_url"],
                "sha256": sources["win_miniforge_sha256"],
            },
            "tfprov: Miniforge",
        ),
        _condarc(conda_windows.condarc, prefix, sources),
        Step(
            conda_windows.conda_env,
            {
                "prefix": prefix,
                "env_name": plan.env_manager.name,
                "python": minor_of(plan.python.version),
                "conda_packages": conda_pkgs,
                "pip_packages": pip_pkgs,
                "pip_index": PipIndex.of(sources),
            },
            "tfprov: conda env",
        ),
    ]


def _condarc(op, prefix: str, sources: dict) -> Step:
    kwargs = {
        "prefix": prefix,
        "channels": list(sources["conda_channels"]),
        "channel_alias": sources["conda_channel_alias"],
    }
    return Step(op, kwargs, "tfprov: .condarc")
