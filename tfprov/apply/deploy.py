"""The deploy: probe → plan → apply → verify, per host, inside a pyinfra run.

``deploys/gpu.py`` calls :func:`deploy_host` for every host.  The first call validates
every host's stack spec (inventory data) so bad input stops the run before any host is
probed.  Each host's plan table is printed while its operations are queued (before
pyinfra's change list and prompt).  A refused plan fails that host with the resolver's
explanation; the others go on.  When the run ends, the fleet report
(:mod:`tfprov.apply.fleet_report`: every host of the run, one line each) is printed and written
as JSON (``$TFPROV_REPORT`` or ``./tfprov-report.json``).
"""

from __future__ import annotations

import atexit
import ntpath
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from pyinfra.api import OperationError
from pyinfra.api.exceptions import PyinfraError
from pyinfra.operations import apt, python
from pyinfra_cli.exceptions import CliError

from tfprov import verify
from tfprov.apply import fleet_report
from tfprov.apply.wheelhouse_index import list_wheelhouse
from tfprov.catalog import load_catalog
from tfprov.model.hostdata import validate_hosts
from tfprov.model.plan import Plan
from tfprov.model.platform import Platform
from tfprov.model.profile import HostProfile
from tfprov.model.sources import sources_for
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
from tfprov.probe import is_windows, profile_fact_for
from tfprov.report import render_plan, summary_line
from tfprov.resolve import resolve

REPORT: dict[str, dict] = {}
_SPECS: dict[str, object] = {}
_REGISTERED = False
_STATE = None  # the pyinfra state of this run, read again when the report is written
_STARTED_AT: float | None = None
COMMANDS: dict[str, int] = {}  # remote commands run per host in this pyinfra run


def _count_remote_commands() -> None:
    """Count every command pyinfra runs on each host (facts and operations alike), so the
    fleet report shows what a converged re-run costs."""
    from pyinfra.api.host import Host

    if getattr(Host, "_tfprov_counting", False):
        return
    real = Host.run_shell_command

    def counted(self, *args, **kwargs):
        COMMANDS[self.name] = COMMANDS.get(self.name, 0) + 1
        return real(self, *args, **kwargs)

    Host.run_shell_command = counted
    Host._tfprov_counting = True


class RefusedError(Exception):
    """The resolver found no stack for this host (the message says why and what would)."""


class VerifyError(Exception):
    """TensorFlow does not work on the host after the deploy."""


class InventoryError(CliError, PyinfraError):
    """Bad host/group data.  pyinfra's CLI passes a PyinfraError raised in a deploy file up
    unchanged and shows a CliError as one ``--> pyinfra error: …`` line, no traceback."""

    exit_code = 2  # bad input, as for ``tfprov plan``


_INPUT_ERROR: list[str] = []


def validate_inventory(state) -> dict:
    """Every host's spec, validated (:func:`tfprov.model.hostdata.validate_hosts`) on the first
    call, before any fact or operation runs on any host (pyinfra has connected them by
    then).  Bad data raises :class:`InventoryError` on that call and every later one."""
    if not _SPECS and not _INPUT_ERROR:
        try:
            checked = validate_hosts(state.inventory)
        except SpecError as exc:
            _INPUT_ERROR.append(str(exc))
        else:
            _SPECS.update({name: spec for name, (_s, spec) in checked.items()})
    if _INPUT_ERROR:
        raise InventoryError(_INPUT_ERROR[0])
    return _SPECS


def _register_report(state) -> None:
    global _REGISTERED, _STATE, _STARTED_AT
    if not _REGISTERED:
        _STATE, _STARTED_AT = state, time.time()
        fleet_report.track_operations(state)
        atexit.register(write_report)
        _REGISTERED = True


def write_report(path: str | None = None, stream=None) -> None:
    """Print the fleet report (every host of the run) and write it as JSON."""
    if not REPORT and _STATE is None:
        return
    rows = fleet_report.final_rows(REPORT, _STATE, COMMANDS, _STARTED_AT or time.time())
    if rows:
        path = path or os.environ.get("TFPROV_REPORT", "tfprov-report.json")
        fleet_report.write(rows, path, stream or sys.stderr)


def _record_verify(host_name: str, result: dict) -> None:
    row = REPORT.get(host_name)
    if row is not None:
        row["verify"] = result
    fleet_report.host_touched(host_name)


def _verify_now(
    state, host, host_name: str, python: str, expect_gpu: bool, platform: Platform
) -> bool:
    """Run the check at execution time (after the env was changed); a failed check fails
    the host with its summary (pyinfra passes ``state``/``host`` and takes the result as
    the operation's status)."""
    _status, output = host.run_shell_command(verify.command(python, platform))
    result = verify.parse(output.stdout_lines, expect_gpu)
    _record_verify(host_name, result)
    if not result["ok"]:
        return fail_ops.fail_host(host, f"{VERIFY_FAILED}: {verify.summary(result)}")
    return True


VERIFY_FAILED = "tfprov: TensorFlow does not work on this host"


def refusal_text(plan: Plan) -> str:
    """The resolver's explanation and its alternatives, as pyinfra prints them for the host."""
    lines = [f"tfprov: no stack fits this host: {plan.error}"]
    if plan.alternatives:
        lines.append("tfprov: alternatives:")
        lines += [f"    - {a.summary}" for a in plan.alternatives]
    return "\n".join(lines)


def host_python(profile: HostProfile, version: str) -> str:
    for p in profile.pythons:
        if p.version == version and p.path:
            return p.path
    return f"python{minor_of(version)}"


def deploy_host(host, state, verify_only: bool = False) -> None:
    specs = validate_inventory(state)
    _register_report(host.state)  # the State itself (the `state` given is a context proxy)
    _count_remote_commands()
    fleet_report.host_started(host.name)
    spec = specs[host.name]
    sources = sources_for(host.data)
    profile = HostProfile.model_validate(host.get_fact(profile_fact_for(host)))
    wheels = list_wheelhouse(spec.wheelhouse) if spec.wheelhouse else []
    plan = resolve(profile, spec, load_catalog(), wheels, host=host.name)
    row = REPORT[host.name] = fleet_report.new_row(host.name, summary_line(profile), plan)
    # what the admin approves before pyinfra's prompt: this host's versions, not op names
    sys.stderr.write(render_plan(profile, plan) + "\n")
    if not plan.ok:
        fail_ops.fail(name="tfprov: no stack fits this host", reason=refusal_text(plan))
        return
    windows = is_windows(host)
    try:
        row["env"], env_python, ops = apply_plan(
            host, plan, profile, sources, dry=verify_only, windows=windows
        )
    except RefusedError as exc:
        row["error"] = str(exc)
        fail_ops.fail(
            name="tfprov: the plan cannot be carried out",
            reason=f"tfprov: the plan cannot be carried out: {exc}",
        )
        return
    expect_gpu = plan.tensorflow.variant == "gpu"
    if ops and any(op.will_change for op in ops):
        python.call(
            name="tfprov: verify TensorFlow",
            function=_verify_now,
            host_name=host.name,
            python=env_python,
            expect_gpu=expect_gpu,
            platform=plan.platform,
        )
        return
    # nothing changes: verify now, as a read-only check (no change is reported)
    _status, output = host.run_shell_command(verify.command(env_python, plan.platform))
    result = verify.parse(output.stdout_lines, expect_gpu)
    _record_verify(host.name, result)
    if not result["ok"]:
        fail_ops.fail(
            name="tfprov: verify TensorFlow", reason=f"{VERIFY_FAILED}: {verify.summary(result)}"
        )


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
    if drv.action in ("install", "upgrade") and not profile.os.wsl:
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
                    "python": plan.python.path or host_python(profile, plan.python.version),
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
                    "python_exe": host_python(profile, plan.python.version),
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


def apply_plan(
    host, plan: Plan, profile: HostProfile, sources: dict, dry: bool = False, windows: bool = False
):
    """Queue the operations of :func:`steps_for` (or :func:`steps_for_windows`); returns
    (env path, env python, ops).  Each operation's checks run now (``pyinfra -y`` would
    defer them to execution): one that refuses this host's state (e.g. a broken env with
    ``repair: false``) raises RefusedError, so that host fails alone, before any change."""
    location, steps = (
        (win_env_location, steps_for_windows) if windows else (env_location, steps_for)
    )
    env, python = location(plan, sources)
    if dry:
        return env, python, []
    ops = []
    for s in steps(plan, profile, sources, host.data):
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


__all__ = [
    "REPORT",
    "InventoryError",
    "RefusedError",
    "SpecError",
    "VerifyError",
    "deploy_host",
    "write_report",
]
