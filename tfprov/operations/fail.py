"""Fail one host with tfprov's explanation, printed in pyinfra's own output for it.

pyinfra prints a traceback for any exception raised in a Python callback; a callback
that takes ``state`` and ``host`` and returns False instead fails the host quietly (the
operation's status).  So tfprov logs its reason on the host's lines and returns False:
the host is marked failed, the others go on, and the run exits non-zero.
"""

from __future__ import annotations

from pyinfra import logger
from pyinfra.api import FunctionCommand, operation


def fail_host(host, reason: str) -> bool:
    """Log ``reason`` (one or more lines) as errors of ``host``; False, to fail it."""
    for line in reason.splitlines() or [""]:
        host.log_styled(line, fg="red", log_func=logger.error)
    return False


def _fail(state, host, reason: str) -> bool:
    return fail_host(host, reason)


@operation(is_idempotent=False, _set_in_op=False)
def fail(reason: str):
    """
    Fail this host with ``reason`` (shown in pyinfra's output, no traceback).

    **Example:**

    .. code:: python

        fail.fail(name="tfprov: no stack fits this host",
                  reason="gpu: require, but the host has no NVIDIA GPU")
    """
    yield FunctionCommand(_fail, (reason,), {})
