"""Python venvs on Windows: ``python -m venv`` with the host's interpreter, and the
venv's ``pip.ini``."""

from __future__ import annotations

import hashlib
import ntpath

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from tfprov import powershell as ps
from tfprov.facts.files import WinFileExists, WinFileSha256
from tfprov.model.names import env_name_problem
from tfprov.operations.windows_args import win_path


@operation()
def virtualenv(path: str, python_exe: str, pip_config: str | None = None):
    """
    Create a venv at ``path`` with ``python_exe`` and write its ``pip.ini``.

    + path: the env's directory (``C:\\tfprov\\envs\\tf21``)
    + python_exe: the interpreter that creates it (``C:\\...\\Python37\\python.exe``)
    + pip_config: text of ``PATH\\pip.ini`` (see :func:`tfprov.operations.venv.pip_conf`)

    **Example:**

    .. code:: python

        windows.virtualenv(path="C:\\\\tfprov\\\\envs\\\\tf21",
                           python_exe="C:\\\\Python37\\\\python.exe")
    """
    path = win_path(path, "path")
    problem = env_name_problem(ntpath.basename(path))
    if problem:
        raise OperationValueError(f"not a venv path for tfprov ({path!r}): {problem}")
    env_python = ntpath.join(path, "Scripts", "python.exe")
    exists = host.get_fact(WinFileExists, path=env_python)
    lines = []
    if not exists:
        lines.append(ps.INVOKE_NATIVE)
        lines.append(ps.native(python_exe, ["-m", "venv", path]))
    if pip_config is not None:
        ini = ntpath.join(path, "pip.ini")
        want = hashlib.sha256(pip_config.encode("utf-8")).hexdigest()
        if not exists or host.get_fact(WinFileSha256, path=ini) != want:
            lines.append(
                f"[IO.File]::WriteAllText({ps.quote(ini)}, {ps.quote(pip_config)}, "
                "(New-Object System.Text.UTF8Encoding $false))"
            )
    if not lines:
        host.noop(f"venv {path} exists with its pip.ini")
        return
    yield ps.script(*lines)
