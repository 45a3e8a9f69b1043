"""The TensorFlow step of a venv: pip installs the planned package (or the wheel the plan
names, checked against its sha256) and, with ``repair``, mends a broken env first.  In a
conda env TensorFlow is one of the env's packages (:mod:`tfprov.apply.steps.env`), and a
wheel by URL is refused."""

from __future__ import annotations

import os
from pathlib import Path

from tfprov.apply import lockfile
from tfprov.apply.steps.base import RefusedError, Step
from tfprov.apply.steps.env import env_location
from tfprov.model.hostdata import HostSettings
from tfprov.model.plan import Plan
from tfprov.model.versions import minor_of
from tfprov.operations import tensorflow as tf_ops
from tfprov.operations import tensorflow_windows

NAME = "tfprov: TensorFlow"


def tensorflow_steps(plan: Plan, sources: dict, settings: HostSettings) -> list[Step]:
    if plan.platform.windows:
        return _windows(plan, sources, settings)
    return _linux(plan, sources, settings)


def _linux(plan: Plan, sources: dict, settings: HostSettings) -> list[Step]:
    tf = plan.tensorflow
    if plan.env_manager.manager != "venv":
        if tf.url:
            raise RefusedError(
                f"{tf.url}: wheelhouse and community wheels are installed into venvs (checked "
                "against their sha256); set env_manager: venv with a host Python "
                f"{minor_of(plan.python.version)} for this host"
            )
        return []
    env, _python = env_location(plan, sources)
    kwargs = {
        "env": env,
        "package": tf.package,
        "version": tf.version,
        "requirement": tf.url,
        "sha256": _wheel_sha256(tf, settings),
        "repair": settings.repair,
    }
    if settings.requirements_lock:
        kwargs["lock"] = lock = _lock(plan, sources, settings.requirements_lock)
        kwargs["lock_sha256"] = lockfile.lock_sha256(lock)
    return [Step(tf_ops.tensorflow, kwargs, NAME)]


def cache_dir() -> Path:
    base = os.environ.get("TFPROV_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tfprov"


def _lock(plan: Plan, sources: dict, given: str) -> str:
    """The env's hashed lock: ``requirements_lock: resolve`` resolves the planned
    TensorFlow with uv from the host's own sources, once per (requirement, Python,
    platform, sources) for the whole fleet; any other value is an admin-provided lock
    file.  A lock that cannot be made or read refuses the host (never an unpinned pip)."""
    tf = plan.tensorflow
    try:
        if tf.url:
            raise lockfile.LockError(
                f"requirements_lock is not supported with a wheel by URL ({tf.url}) yet"
            )
        if given != "resolve":
            text = Path(given).read_text()
            lockfile.parse_lock(text)
            return text
        link = sources.get("pip_find_links")
        key = lockfile.LockKey(
            requirement=f"{tf.package}=={tf.version}",
            python=minor_of(plan.python.version),
            platform=f"{plan.platform.arch}-manylinux_2_28",
            index_url=sources.get("pip_index_url"),
            find_links=(link,) if link else (),
            no_index=bool(sources.get("pip_no_index")),
        )
        return lockfile.resolve(key, cache_dir())[0]
    except OSError as e:
        raise RefusedError(f"requirements_lock {given}: {e.strerror or e}") from None
    except lockfile.LockError as e:
        raise RefusedError(f"requirements_lock {given}: {e}") from None


def _windows(plan: Plan, sources: dict, settings: HostSettings) -> list[Step]:
    tf = plan.tensorflow
    if tf.url:
        raise RefusedError(f"{tf.url}: wheel installs on Windows are not supported yet")
    if plan.env_manager.manager != "venv":
        return []
    _env, python = env_location(plan, sources)
    kwargs = {
        "python_exe": python,
        "package": tf.package,
        "version": tf.version,
        "repair": settings.repair,
    }
    return [Step(tensorflow_windows.tensorflow_pip, kwargs, NAME)]


def _wheel_sha256(tf, settings: HostSettings) -> str | None:
    """A wheel from a URL or path is installed only against a known sha256: the host's
    ``wheel_sha256`` pin, else the wheelhouse's ``<wheel>.sha256`` file (or the catalog's
    hash of a community wheel).  A pin always wins; a pin and a served hash that disagree
    are a refusal naming both (one of them is wrong, or the wheel was replaced)."""
    if not tf.url:
        return None
    name = tf.url.rsplit("/", 1)[-1]
    pin, served = settings.wheel_sha256, (tf.sha256 or "").strip().lower() or None
    if pin and served and pin != served:
        where = (
            f"the wheelhouse serves in {name}.sha256"
            if tf.source == "wheelhouse"
            else f"tfprov's catalog gives for {tf.source}"
        )
        raise RefusedError(
            f"{tf.url}: the host's wheel_sha256 pin is {pin}, but the sha256 {where} is "
            f"{served}; not installing it: check the wheel, then correct the pin or the "
            "served hash"
        )
    sha = pin or served
    if not sha:
        raise RefusedError(
            f"{tf.url}: no sha256 to check it against; put {name}.sha256 "
            "beside it in the wheelhouse, or set wheel_sha256 in the host's data"
        )
    return sha
