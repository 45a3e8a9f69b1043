"""The deploy of one host inside a pyinfra run: probe → plan → apply → verify.

``deploys/gpu.py`` calls :func:`deploy_host` for every host.  The first call checks every
host's input (:mod:`tfprov.apply.inventory`), so bad data stops the run before any host is
probed.  Each host's plan table is printed while its operations are queued (before
pyinfra's change list and prompt).  A refused plan fails that host with the resolver's
explanation; the others go on.  Every host gets a row in the fleet report
(:mod:`tfprov.apply.fleet_report`), printed and written when the run ends.
"""

from __future__ import annotations

import ntpath
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from pyinfra.api import OperationError
from pyinfra.operations import apt

from tfprov.apply import fleet_report
from tfprov.apply.inventory import InventoryError, validate_inventory
from tfprov.apply.verify_step import verify_env
from tfprov.apply.wheelhouse_index import list_wheelhouse
from tfprov.catalog import load_catalog
from tfprov.model.hostdata import HostSettings
from tfprov.model.plan import Plan
from tfprov.model.profile import HostProfile
from tfprov.model.spec import SpecError
from tfprov.model.versions import V, minor_of
from tfprov.operations import conda as conda_ops
from tfprov.operations import cuda as cuda_ops
from tfprov.operations import cudnn as cudnn_ops
from tfprov.operations import driver as driver_ops
from tfprov.operations import fail as fail_ops
from tfprov.operations import tensorflow as tf_ops
from tfprov.operations import venv as venv_ops
from tfprov.operations import windows as win_ops
from tfprov.probe import profile_fact_for
from tfprov.report import render_plan, summary_line
from tfprov.resolve import resolve


class RefusedError(Exception):
    """The plan cannot be carried out on this host (the message says why)."""


def refusal_text(plan: Plan) -> str:
    """The resolver's explanation and its alternatives, as pyinfra prints them for the host."""
    lines = [f"tfprov: no stack fits this host: {plan.error}"]
    if plan.alternatives:
        lines.append("tfprov: alternatives:")
        lines += [f"    - {a.summary}" for a in plan.alternatives]
    return "\n".join(lines)


def host_python(plan: Plan) -> str:
    """The host interpreter the plan's venv is made with."""
    return plan.python.path or f"python{minor_of(plan.python.version)}"


def deploy_host(host, state, verify_only: bool = False) -> None:
    """Queue this host's deploy (``verify_only``: only the check, changing nothing)."""
    checked = validate_inventory(state)[host.name]
    fleet_report.start_run(host.state)  # the State itself (the `state` given is a proxy)
    fleet_report.host_started(host.name)
    spec = checked.spec
    profile = HostProfile.model_validate(host.get_fact(profile_fact_for(host)))
    wheels = list_wheelhouse(spec.wheelhouse) if spec.wheelhouse else []
    plan = resolve(profile, spec, load_catalog(), wheels, host=host.name)
    row = fleet_report.ROWS[host.name] = fleet_report.new_row(
        host.name, summary_line(profile), plan
    )
    # what the admin approves before pyinfra's prompt: this host's versions, not op names
    sys.stderr.write(render_plan(profile, plan) + "\n")
    if not plan.ok:
        fail_ops.fail(name="tfprov: no stack fits this host", reason=refusal_text(plan))
        return
    try:
        row["env"], env_python, ops = apply_plan(
            host, plan, checked.sources, checked.settings, dry=verify_only
        )
    except RefusedError as exc:
        row["error"] = str(exc)
        fail_ops.fail(
            name="tfprov: the plan cannot be carried out",
            reason=f"tfprov: the plan cannot be carried out: {exc}",
        )
        return
    verify_env(host, plan, env_python, ops)


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


def env_location(plan: Plan, sources: dict) -> tuple[str, str]:
    """(env directory, its python) for the plan's env manager."""
    if plan.env_manager.manager == "conda":
        env = f"{sources['conda_prefix'].rstrip('/')}/envs/{plan.env_manager.name}"
    else:
        env = f"{sources['envs_dir'].rstrip('/')}/{plan.env_manager.name}"
    return env, f"{env}/bin/python"


def _wheel_sha256(tf, data) -> str | None:
    """A wheel from a URL or path is installed only against a known sha256: from the
    wheelhouse's ``<wheel>.sha256`` file, or the host's ``wheel_sha256`` data."""
    if not tf.url:
        return None
    sha = tf.sha256 or data.get("wheel_sha256")
    if not sha:
        raise RefusedError(
            f"{tf.url}: no sha256 to check it against; put {tf.url.rsplit('/', 1)[-1]}.sha256 "
            "beside it in the wheelhouse, or set wheel_sha256 in the host's data"
        )
    return sha


def _cudnn_wheel(cuda: str, version: str) -> str:
    return f"nvidia-cudnn-cu{V(cuda).major}=={version}"


def env_repair(data) -> bool:
    """Host data ``repair`` (default on): whether the TensorFlow step mends a broken env
    (pip check failing, pip gone) or only fails saying what is broken."""
    value = data.get("repair")
    return True if value is None else bool(value)


def env_pip_conf(sources: dict) -> str:
    """The pip configuration every tfprov env gets, from the host's download sources."""
    return venv_ops.pip_conf(
        index_url=sources["pip_index_url"],
        extra_index_url=sources["pip_extra_index_url"],
        find_links=sources["pip_find_links"],
        no_index=bool(sources["pip_no_index"]),
    )


def steps_for(plan: Plan, profile: HostProfile, sources: dict, host_data=None) -> list[Step]:
    """The operations that carry out ``plan`` on a host, in order — a pure function, so
    every plan kind and OS family is tested without a host (tests/test_deploy_steps.py).

    driver (install/upgrade) → NVIDIA repo + CUDA toolkit + cuDNN (system sources) →
    env (venv: the distro venv package the plan names + virtualenv + TensorFlow; conda:
    Miniforge + .condarc + env with conda packages first, pip packages after).
    """
    data = host_data or {}
    repo = sources["nvidia_repo_url"]
    steps: list[Step] = []
    drv = plan.driver
    if drv.action in ("install", "upgrade") and not plan.platform.wsl:
        steps.append(
            Step(
                driver_ops.nvidia_driver,
                {
                    "branch": drv.branch,
                    "flavor": drv.flavor or "auto",
                    "nvidia_repo_url": repo,
                    "signing_key": data.get("secure_boot_signing_key"),
                    "allow_reboot": bool(data.get("reboot", False)),
                },
                "tfprov: NVIDIA driver",
            )
        )
    system_cuda = plan.cuda.action == "install" and (plan.cuda.source or "").startswith("system")
    system_cudnn = plan.cudnn.action == "install" and (plan.cudnn.source or "").startswith("system")
    if system_cuda or system_cudnn:
        steps.append(
            Step(cuda_ops.nvidia_repo, {"nvidia_repo_url": repo}, "tfprov: NVIDIA CUDA repository")
        )
    if system_cuda:
        steps.append(
            Step(
                cuda_ops.cuda_toolkit,
                {
                    "version": minor_of(plan.cuda.version),
                    "nvidia_repo_url": repo,
                    "select": True,
                },
                "tfprov: CUDA toolkit",
            )
        )
    if system_cudnn:
        steps.append(
            Step(
                cudnn_ops.cudnn,
                {
                    "version": plan.cudnn.version,
                    "cuda_version": minor_of(plan.cuda.version),
                    "nvidia_repo_url": repo,
                },
                "tfprov: cuDNN",
            )
        )

    env, _python = env_location(plan, sources)
    tf = plan.tensorflow
    minor = minor_of(plan.python.version)
    if plan.env_manager.manager == "venv":
        if plan.python.venv_package:  # the resolver decided it (apt hosts only)
            steps.append(
                Step(
                    apt.packages,
                    {"packages": [plan.python.venv_package]},
                    "tfprov: Python venv package",
                )
            )
        steps.append(
            Step(
                venv_ops.virtualenv,
                {
                    "path": env,
                    "python": host_python(plan),
                    "python_version": minor,
                    "pip_config": env_pip_conf(sources),
                },
                "tfprov: venv",
            )
        )
        steps.append(
            Step(
                tf_ops.tensorflow,
                {
                    "env": env,
                    "package": tf.package,
                    "version": tf.version,
                    "requirement": tf.url,
                    "sha256": _wheel_sha256(tf, data),
                    "repair": env_repair(data),
                },
                "tfprov: TensorFlow",
            )
        )
        return steps

    # conda: Miniforge, .condarc, then the env — conda packages first, pip after
    prefix = sources["conda_prefix"]
    if tf.url:
        raise RefusedError(
            f"{tf.url}: wheelhouse and community wheels are installed into venvs (checked "
            "against their sha256); set env_manager: venv with a host Python "
            f"{minor} for this host"
        )
    conda_pkgs, pip_pkgs = conda_packages(plan)
    steps.append(
        Step(
            conda_ops.miniforge,
            {
                "prefix": prefix,
                "installer_url": sources["miniforge_url"],
                "sha256": sources["miniforge_sha256"],
            },
            "tfprov: Miniforge",
        )
    )
    steps.append(
        Step(
            conda_ops.condarc,
            {
                "prefix": prefix,
                "channels": list(sources["conda_channels"]),
                "channel_alias": sources["conda_channel_alias"],
            },
            "tfprov: .condarc",
        )
    )
    steps.append(
        Step(
            conda_ops.env,
            {
                "prefix": prefix,
                "env_name": plan.env_manager.name,
                "python": minor,
                "conda_packages": conda_pkgs,
                "pip_packages": pip_pkgs,
                "pip_index_url": sources["pip_index_url"],
                "cuda_lib_hooks": tf.variant == "gpu",
            },
            "tfprov: conda env",
        )
    )
    return steps


def conda_packages(plan: Plan) -> tuple[list[str], list[str]]:
    """(conda packages, pip packages) of a conda env for ``plan`` — conda first, pip after;
    the same on every OS."""
    tf = plan.tensorflow
    conda_pkgs: list[str] = []
    pip_pkgs: list[str] = []
    if tf.source.startswith("conda:"):
        channel = tf.source.split(":", 1)[1]
        spec = f"{tf.package}={tf.version}"
        conda_pkgs.append(spec if channel == "conda-forge" else f"{channel}::{spec}")
        return conda_pkgs, pip_pkgs
    pip_pkgs.append(f"{tf.package}=={tf.version}")
    if (plan.cuda.source or "").startswith("conda:") and plan.cuda.version:
        conda_pkgs.append(f"cudatoolkit={plan.cuda.version}")
    src = plan.cudnn.source or ""
    if src.startswith("conda:") and plan.cudnn.version:
        conda_pkgs.append(f"cudnn={plan.cudnn.version}")
    elif src.startswith("pip: nvidia-cudnn wheel") and "and-cuda" not in src:
        pip_pkgs.append(_cudnn_wheel(plan.cuda.version, plan.cudnn.version))
    return conda_pkgs, pip_pkgs


def _pinned(sources: dict, key: str, version: str, what: str) -> dict:
    """The lab-pinned Windows installer for ``version`` (exact or major.minor match)."""
    table = sources.get(key) or {}
    entry = table.get(version) or table.get(minor_of(version))
    if not entry or not entry.get("url") or not entry.get("sha256"):
        raise RefusedError(
            f"the plan needs {what} {version} on this Windows host: set {key} = "
            f"{{'{minor_of(version)}': {{'url': ..., 'sha256': ...}}}} in its inventory data"
        )
    return entry


def windows_driver_branch(version: str) -> int | None:
    """The branch of a Windows driver version (``472.12`` → 470): the newest branch of the
    catalog's ``windows_branches`` at or below its major number whose newest Windows
    release is not older than it; None when no branch covers it."""
    v = V(version)
    for b in sorted(load_catalog().drivers.windows_branches, key=lambda b: -b.branch):
        if b.branch <= v.major:
            return b.branch if v <= V(b.latest_windows) else None
    return None


def _pinned_driver(table: dict, branch: int | None, min_version: str | None) -> str:
    """The newest pinned Windows driver of the planned ``branch`` (and ≥ ``min_version``),
    or RefusedError naming the key, the branch and what is pinned."""
    ok = [v for v in table if windows_driver_branch(v) == branch and V(v) >= V(min_version or "0")]
    if not ok:
        pinned = ", ".join(
            f"{v} (branch {windows_driver_branch(v) or 'unknown'})" for v in sorted(table, key=V)
        )
        raise RefusedError(
            f"the plan needs NVIDIA driver branch {branch} (≥ {min_version}) on this Windows "
            f"host: no win_driver_installers entry of branch {branch} is pinned (pinned: "
            f"{pinned or 'none'}); set win_driver_installers = "
            "{'<version>': {'url': ..., 'sha256': ...}} with a driver of that branch"
        )
    return max(ok, key=V)


def win_env_location(plan: Plan, sources: dict) -> tuple[str, str]:
    if plan.env_manager.manager == "conda":
        env = ntpath.join(sources["win_conda_prefix"], "envs", plan.env_manager.name)
        return env, ntpath.join(env, "python.exe")
    env = ntpath.join(sources["win_envs_dir"], plan.env_manager.name)
    return env, ntpath.join(env, "Scripts", "python.exe")


def steps_for_windows(plan: Plan, profile: HostProfile, sources: dict, host_data=None):
    """The Windows counterpart of :func:`steps_for`: driver → CUDA toolkit (+ CUDA_PATH,
    PATH) → cuDNN → venv or Miniforge/conda env → TensorFlow.  Installers come only from
    the lab's pinned table (url + sha256); a step without one is refused by name."""
    data = host_data or {}
    steps: list[Step] = []
    drv = plan.driver
    if drv.action in ("install", "upgrade"):
        table = sources.get("win_driver_installers") or {}
        version = _pinned_driver(table, drv.branch, drv.min_version)
        entry = table[version]
        steps.append(
            Step(
                win_ops.nvidia_driver,
                {
                    "version": version,
                    "installer_url": entry["url"],
                    "sha256": entry["sha256"],
                    "allow_reboot": bool(data.get("reboot", False)),
                },
                "tfprov: NVIDIA driver",
            )
        )
    if plan.cuda.action == "install" and (plan.cuda.source or "").startswith("system"):
        xy = minor_of(plan.cuda.version)
        entry = _pinned(sources, "win_cuda_installers", xy, "the CUDA toolkit")
        home = f"C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\v{xy}"
        steps += [
            Step(
                win_ops.cuda_toolkit,
                {"version": xy, "installer_url": entry["url"], "sha256": entry["sha256"]},
                "tfprov: CUDA toolkit",
            ),
            Step(
                win_ops.machine_env, {"variable": "CUDA_PATH", "value": home}, "tfprov: CUDA_PATH"
            ),
            Step(
                win_ops.machine_path,
                {"entries": [ntpath.join(home, "bin"), ntpath.join(home, "libnvvp")]},
                "tfprov: PATH for CUDA",
            ),
        ]
    if plan.cudnn.action == "install" and (plan.cudnn.source or "").startswith("system"):
        entry = _pinned(sources, "win_cudnn_zips", plan.cudnn.version, "cuDNN")
        steps.append(
            Step(
                win_ops.cudnn,
                {
                    "version": plan.cudnn.version,
                    "cuda_version": minor_of(plan.cuda.version),
                    "zip_url": entry["url"],
                    "sha256": entry["sha256"],
                },
                "tfprov: cuDNN",
            )
        )
    env, python = win_env_location(plan, sources)
    tf = plan.tensorflow
    if tf.url:
        raise RefusedError(f"{tf.url}: wheel installs on Windows are not supported yet")
    if plan.env_manager.manager == "venv":
        steps.append(
            Step(
                win_ops.virtualenv,
                {
                    "path": env,
                    "python_exe": host_python(plan),
                    "pip_config": env_pip_conf(sources),
                },
                "tfprov: venv",
            )
        )
        steps.append(
            Step(
                win_ops.tensorflow_pip,
                {
                    "python_exe": python,
                    "package": tf.package,
                    "version": tf.version,
                    "repair": env_repair(data),
                },
                "tfprov: TensorFlow",
            )
        )
        return steps
    prefix = sources["win_conda_prefix"]
    if not sources.get("win_miniforge_url") or not sources.get("win_miniforge_sha256"):
        raise RefusedError(
            "the plan needs conda on this Windows host: set win_miniforge_url "
            "and win_miniforge_sha256 (a pinned Miniforge3 Windows installer)"
        )
    conda_pkgs, pip_pkgs = conda_packages(plan)
    steps += [
        Step(
            win_ops.miniconda,
            {
                "prefix": prefix,
                "installer_url": sources["win_miniforge_url"],
                "sha256": sources["win_miniforge_sha256"],
            },
            "tfprov: Miniforge",
        ),
        Step(
            win_ops.condarc,
            {
                "prefix": prefix,
                "channels": list(sources["conda_channels"]),
                "channel_alias": sources["conda_channel_alias"],
            },
            "tfprov: .condarc",
        ),
        Step(
            win_ops.conda_env,
            {
                "prefix": prefix,
                "env_name": plan.env_manager.name,
                "python": minor_of(plan.python.version),
                "conda_packages": conda_pkgs,
                "pip_packages": pip_pkgs,
                "pip_index_url": sources["pip_index_url"],
            },
            "tfprov: conda env",
        ),
    ]
    return steps


def apply_plan(host, plan: Plan, sources: dict, settings: HostSettings, dry: bool = False):
    """Queue the operations of :func:`steps_for` (or :func:`steps_for_windows`); returns
    (env path, env python, ops).  Each operation's checks run now (``pyinfra -y`` would
    defer them to execution): one that refuses this host's state (e.g. a broken env with
    ``repair: false``) raises RefusedError, so that host fails alone, before any change."""
    location, steps = (
        (win_env_location, steps_for_windows)
        if plan.platform.windows
        else (env_location, steps_for)
    )
    env, python = location(plan, sources)
    if dry:
        return env, python, []
    ops = []
    for s in steps(plan, None, sources, settings.model_dump()):
        refused: list[OperationError] = []
        try:
            with _step_kind_position(host, s.name):
                # a refused operation stays queued (pyinfra registers it first): _if skips it
                op = s.op(name=s.name, _if=lambda refused=refused: not refused, **s.kwargs)
            op.will_change  # noqa: B018 - runs the operation's generator (its checks)
        except OperationError as exc:
            refused.append(exc)
            raise RefusedError(f"{s.name}: {exc}") from exc
        ops.append(op)
    return env, python, ops


@contextmanager
def _step_kind_position(host, name: str):
    """pyinfra identifies an operation by its call site plus ``host.loop`` positions, and
    every step is queued from the same line above: the step kind's position is added the
    way ``host.loop`` adds one, so the same kind is the same pyinfra operation on every
    host and different kinds never share one (conda on one host, venv on another)."""
    host.loop_position.append(STEP_KINDS.index(name))
    try:
        yield
    finally:
        host.loop_position.pop()


__all__ = ["InventoryError", "RefusedError", "SpecError", "deploy_host"]
