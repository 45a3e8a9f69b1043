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
import os
import sys

from pyinfra.operations import apt, python

from . import verify
from .catalog import load_catalog
from .facts.profile import HostProfile as HostProfileFact
from .operations import tensorflow as tf_ops
from .operations import venv as venv_ops
from .plan import Plan
from .profile import HostProfile
from .report import summary_line
from .resolver import resolve
from .sources import sources_for
from .spec import SPEC_KEYS, SpecError, spec_from_mapping
from .versions import minor_of
from .wheelhouse_index import list_wheelhouse

REPORT: dict[str, dict] = {}
_SPECS: dict[str, object] = {}
_REGISTERED = False


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
        parts.append(f"CUDA {row['cuda'] or '-'} cuDNN {row['cudnn'] or '-'}")
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


def _verify_now(host_name: str, python: str, expect_gpu: bool) -> None:
    """Run the check at execution time (after the env was changed) and fail on error."""
    from pyinfra import host

    _status, output = host.run_shell_command(verify.command(python))
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
    spec = specs[host.name]
    sources = sources_for(host.data)
    profile = HostProfile.model_validate(host.get_fact(HostProfileFact))
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
    env_path, env_python, ops = apply_plan(host, plan, profile, sources, dry=verify_only)
    expect_gpu = plan.tensorflow.variant == "gpu"
    if ops and any(op.will_change for op in ops):
        python.call(name="tfprov: verify TensorFlow", function=_verify_now,
                    host_name=host.name, python=env_python, expect_gpu=expect_gpu)
        return
    # nothing changes: verify now, as a read-only check (no change is reported)
    _status, output = host.run_shell_command(verify.command(env_python))
    result = verify.parse(output.stdout_lines, expect_gpu)
    _record_verify(host.name, result)
    if not result["ok"]:
        python.raise_exception(name="tfprov: verify TensorFlow", exception=VerifyError,
                               args=[verify.summary(result)])


def apply_plan(host, plan: Plan, profile: HostProfile, sources: dict, dry: bool = False):
    """Queue the operations that carry out ``plan``; returns (env path, env python, ops)."""
    distro = (profile.os.distro or "").lower()
    env_name = plan.env_manager.name
    if plan.env_manager.manager != "venv":
        raise RefusedError(
            f"{host.name}: the plan needs a conda env; conda deploys are not wired in yet"
        )
    env_path = f"{sources['envs_dir'].rstrip('/')}/{env_name}"
    env_python = f"{env_path}/bin/python"
    if dry:
        return env_path, env_python, []
    ops = []
    minor = minor_of(plan.python.version)
    if distro in ("debian", "ubuntu"):
        ops.append(apt.packages(name=f"tfprov: python{minor}-venv",
                                packages=[f"python{minor}-venv"]))
    ops.append(venv_ops.virtualenv(
        name=f"tfprov: venv {env_path}",
        path=env_path,
        python=host_python(profile, plan.python.version),
        python_version=minor,
        pip_config=venv_ops.pip_conf(
            index_url=sources["pip_index_url"],
            extra_index_url=sources["pip_extra_index_url"],
            find_links=sources["pip_find_links"],
            no_index=bool(sources["pip_no_index"]),
        ),
    ))
    tf = plan.tensorflow
    package, _, _ = tf.package.partition("==")
    ops.append(tf_ops.tensorflow(
        name=f"tfprov: {tf.package}=={tf.version}",
        env=env_path,
        package=package,
        version=tf.version,
        requirement=tf.url if tf.url else None,
    ))
    return env_path, env_python, ops


__all__ = ["REPORT", "RefusedError", "SpecError", "VerifyError", "deploy_host", "write_report"]
