"""The deploy: probe → plan → apply → verify, per host, inside a pyinfra run.

``deploys/gpu.py`` calls :func:`deploy_host` for every host.  The first call validates
every host's stack spec (inventory data) so bad input stops the run before any host is
probed.  A refused plan fails that host with the resolver's explanation; the others go
on.  When the run ends, a fleet report is printed (one line per host) and written as
JSON (``$TFPROV_REPORT`` or ``./tfprov-report.json``).
"""

from __future__ import annotations

import atexit
import json
import ntpath
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pyinfra.operations import apt, python

from . import verify
from .catalog import load_catalog
from .operations import conda as conda_ops
from .operations import cuda as cuda_ops
from .operations import cudnn as cudnn_ops
from .operations import driver as driver_ops
from .operations import tensorflow as tf_ops
from .operations import venv as venv_ops
from .operations import windows as win_ops
from .plan import Plan
from .probe import is_windows, profile_fact_for
from .profile import HostProfile
from .report import summary_line
from .resolver import resolve
from .sources import sources_for
from .spec import SPEC_KEYS, SpecError, spec_from_mapping
from .versions import V, minor_of
from .wheelhouse_index import list_wheelhouse

REPORT: dict[str, dict] = {}
_SPECS: dict[str, object] = {}
_REGISTERED = False
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


def validate_inventory(state) -> dict:
    """Every host's spec, validated before any host is touched (SpecError names host and
    field)."""
    if not _SPECS:
        for h in state.inventory:
            data = {k: h.data.get(k) for k in SPEC_KEYS if h.data.get(k) is not None}
            _SPECS[h.name] = spec_from_mapping(data, f"host {h.name}")
    return _SPECS


def _register_report() -> None:
    global _REGISTERED
    if not _REGISTERED:
        atexit.register(write_report)
        _REGISTERED = True


def write_report(path: str | None = None, stream=None) -> None:
    """Print the fleet report and write it as JSON."""
    if not REPORT:
        return
    stream = stream or sys.stderr
    path = path or os.environ.get("TFPROV_REPORT", "tfprov-report.json")
    rows = [REPORT[k] for k in sorted(REPORT)]
    for r in rows:
        r["remote_commands"] = COMMANDS.get(r["host"])
    stream.write("\n--> tfprov fleet report\n")
    for r in rows:
        stream.write(f"    {r['host']}: {r['line']}\n")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=2, default=str)
        fh.write("\n")
    stream.write(f"    (written to {path})\n")


def _row(host, profile: HostProfile | None, plan: Plan | None) -> dict:
    return {
        "host": host.name,
        "profile": summary_line(profile) if profile else None,
        "tensorflow": plan.tensorflow.model_dump() if plan and plan.ok else None,
        "cuda": plan.cuda.version if plan and plan.ok else None,
        "cudnn": plan.cudnn.version if plan and plan.ok else None,
        "driver": plan.driver.model_dump() if plan and plan.ok else None,
        "ok": bool(plan and plan.ok),
        "error": plan.error if plan and not plan.ok else None,
        "verify": None,
        "line": "",
    }


def _line(row: dict) -> str:
    tf = row["tensorflow"]
    parts = [row["profile"] or "not probed"]
    if tf:
        parts.append(f"TF {tf['version']} {tf['variant'].upper()} ({tf['package']})")
        if tf["variant"] == "gpu":
            parts.append(f"plan: CUDA {row['cuda'] or '-'}, cuDNN {row['cudnn'] or '-'}")
    if row["error"]:
        parts.append(f"REFUSED: {row['error']}")
    v = row["verify"]
    parts.append("verify: " + (verify.summary(v) if v else "not run"))
    return "; ".join(parts)


def _record_verify(host_name: str, result: dict) -> None:
    row = REPORT.get(host_name)
    if row is not None:
        row["verify"] = result
        row["line"] = _line(row)


def _verify_now(host_name: str, python: str, expect_gpu: bool, windows: bool = False) -> None:
    """Run the check at execution time (after the env was changed) and fail on error."""
    from pyinfra import host

    check = verify.command_windows if windows else verify.command
    _status, output = host.run_shell_command(check(python))
    result = verify.parse(output.stdout_lines, expect_gpu)
    _record_verify(host_name, result)
    if not result["ok"]:
        raise VerifyError(f"{host_name}: {verify.summary(result)}")


def host_python(profile: HostProfile, version: str) -> str:
    for p in profile.pythons:
        if p.version == version and p.path:
            return p.path
    return f"python{minor_of(version)}"


def deploy_host(host, state, verify_only: bool = False) -> None:
    specs = validate_inventory(state)
    _register_report()
    _count_remote_commands()
    spec = specs[host.name]
    sources = sources_for(host.data)
    profile = HostProfile.model_validate(host.get_fact(profile_fact_for(host)))
    wheels = list_wheelhouse(spec.wheelhouse) if spec.wheelhouse else []
    plan = resolve(profile, spec, load_catalog(), wheels)
    row = REPORT[host.name] = _row(host, profile, plan)
    row["line"] = _line(row)
    if not plan.ok:
        alts = "; ".join(a.summary for a in plan.alternatives)
        python.raise_exception(
            name="tfprov: no stack fits this host",
            exception=RefusedError,
            args=[f"{plan.error}" + (f" — alternatives: {alts}" if alts else "")],
        )
        return
    windows = is_windows(host)
    try:
        _env, env_python, ops = apply_plan(
            host, plan, profile, sources, dry=verify_only, windows=windows
        )
    except RefusedError as exc:
        row["error"] = str(exc)
        row["line"] = _line(row)
        python.raise_exception(
            name="tfprov: the plan cannot be carried out", exception=RefusedError, args=[str(exc)]
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
            windows=windows,
        )
        return
    # nothing changes: verify now, as a read-only check (no change is reported)
    check = verify.command_windows if windows else verify.command
    _status, output = host.run_shell_command(check(env_python))
    result = verify.parse(output.stdout_lines, expect_gpu)
    _record_verify(host.name, result)
    if not result["ok"]:
        python.raise_exception(
            name="tfprov: verify TensorFlow", exception=VerifyError, args=[verify.summary(result)]
        )


@dataclass
class Step:
    """One operation to queue: the operation, its keyword arguments and a name."""

    op: Callable
    kwargs: dict
    name: str


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
                    "flavor": data.get("driver_flavor", "auto"),
                    "nvidia_repo_url": repo,
                    "signing_key": data.get("secure_boot_signing_key"),
                    "allow_reboot": bool(data.get("reboot", False)),
                },
                f"tfprov: NVIDIA driver branch {drv.branch}",
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
                f"tfprov: CUDA toolkit {minor_of(plan.cuda.version)}",
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
                f"tfprov: cuDNN {plan.cudnn.version}",
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
                    f"tfprov: {plan.python.venv_package}",
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
                f"tfprov: venv {env}",
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
                },
                f"tfprov: {tf.package}=={tf.version}",
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
            f"tfprov: conda env {plan.env_manager.name}",
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
        fits = sorted((v for v in table if V(v) >= V(drv.min_version or "0")), key=V)
        if not fits:
            raise RefusedError(
                f"the plan needs NVIDIA driver ≥ {drv.min_version} on this Windows host: set "
                "win_driver_installers = {'<version>': {'url': ..., 'sha256': ...}}"
            )
        entry = table[fits[-1]]
        steps.append(
            Step(
                win_ops.nvidia_driver,
                {
                    "version": fits[-1],
                    "installer_url": entry["url"],
                    "sha256": entry["sha256"],
                    "allow_reboot": bool(data.get("reboot", False)),
                },
                f"tfprov: NVIDIA driver {fits[-1]}",
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
                f"tfprov: CUDA {xy}",
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
                f"tfprov: cuDNN {plan.cudnn.version}",
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
                f"tfprov: venv {env}",
            )
        )
        steps.append(
            Step(
                win_ops.tensorflow_pip,
                {
                    "python_exe": python,
                    "package": tf.package,
                    "version": tf.version,
                },
                f"tfprov: {tf.package}=={tf.version}",
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
            f"tfprov: conda env {plan.env_manager.name}",
        ),
    ]
    return steps


def apply_plan(
    host, plan: Plan, profile: HostProfile, sources: dict, dry: bool = False, windows: bool = False
):
    """Queue the operations of :func:`steps_for` (or :func:`steps_for_windows`); returns
    (env path, env python, ops)."""
    location, steps = (
        (win_env_location, steps_for_windows) if windows else (env_location, steps_for)
    )
    env, python = location(plan, sources)
    if dry:
        return env, python, []
    ops = [s.op(name=s.name, **s.kwargs) for s in steps(plan, profile, sources, host.data)]
    return env, python, ops


__all__ = ["REPORT", "RefusedError", "SpecError", "VerifyError", "deploy_host", "write_report"]
