"""Verify TensorFlow in a host's env as the deploy's last step (:mod:`tfprov.verify` holds
the check itself).

After a run that changes the env, the check is queued as an operation and runs at
execution time; on a converged host it runs at once, read-only, and reports no change.
Either way its result goes into the host's fleet-report row, and a failed check fails
the host with the check's summary.
"""

from __future__ import annotations

from pyinfra.operations import python

from tfprov import verify
from tfprov.apply import fleet_report
from tfprov.model.plan import Plan
from tfprov.model.platform import Platform
from tfprov.operations import fail as fail_ops

VERIFY_FAILED = "tfprov: TensorFlow does not work on this host"
STEP_NAME = "tfprov: verify TensorFlow"


def check_command(env_python: str, platform: Platform) -> str:
    """The verify check for ``env_python`` on ``platform``."""
    return verify.command(env_python, platform)


def _run_check(host, env_python: str, platform: Platform, expect_gpu: bool) -> dict:
    _status, output = host.run_shell_command(check_command(env_python, platform))
    result = verify.parse(output.stdout_lines, expect_gpu)
    fleet_report.record_verify(host.name, result)
    return result


def _verify_at_execution(
    state, host, env_python: str, platform: Platform, expect_gpu: bool
) -> bool:
    """pyinfra passes ``state``/``host`` and takes the result as the operation's status."""
    result = _run_check(host, env_python, platform, expect_gpu)
    if not result["ok"]:
        return fail_ops.fail_host(host, f"{VERIFY_FAILED}: {verify.summary(result)}")
    return True


def verify_env(host, plan: Plan, env_python: str, ops) -> None:
    """Check TensorFlow in ``env_python``: queued after ``ops`` when any of them changes
    the host, else now (read-only)."""
    expect_gpu = plan.tensorflow.variant == "gpu"
    if ops and any(op.will_change for op in ops):
        python.call(
            name=STEP_NAME,
            function=_verify_at_execution,
            env_python=env_python,
            platform=plan.platform,
            expect_gpu=expect_gpu,
        )
        return
    result = _run_check(host, env_python, plan.platform, expect_gpu)
    if not result["ok"]:
        fail_ops.fail(name=STEP_NAME, reason=f"{VERIFY_FAILED}: {verify.summary(result)}")
