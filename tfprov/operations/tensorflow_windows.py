"""TensorFlow with pip on Windows, into a venv or a conda env's Python, and its removal."""

from __future__ import annotations

import re

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from tfprov import powershell as ps
from tfprov.facts.env import WinPipHealth, WinPipPackages, env_problems
from tfprov.model.distributions import TF_DISTRIBUTIONS, WINDOWS_COMPANIONS, conflicting
from tfprov.operations.conda import _pip_norm
from tfprov.operations.tensorflow import broken_env_error, repair_requirements
from tfprov.operations.windows_args import vkey


def _base_name(package: str) -> str:
    return _pip_norm(package.split("[", 1)[0].strip())


@operation()
def tensorflow_pip(
    python_exe: str,
    package: str,
    version: str,
    pip_args: list[str] | None = None,
    requirement: str | None = None,
    repair: bool = True,
):
    """
    Install TensorFlow ``package==version`` with the pip of ``python_exe`` (a venv's
    ``Scripts\\python.exe`` or a conda env's ``python.exe``), removing other TensorFlow
    distributions first; repair the environment when it is broken.

    + python_exe: the environment's interpreter
    + package: ``tensorflow``, ``tensorflow-gpu`` (<= 2.10), ``tensorflow-cpu`` …
    + version: ``2.10.1``
    + pip_args: extra pip arguments (``--no-index``, ``--find-links``, ``URL`` …)
    + requirement: what to install if not ``package==version`` (a wheel's path or URL)
    + repair: as in :func:`tfprov.operations.tensorflow.tensorflow`, from the WinPipHealth
      fact: pip gone → ``ensurepip``; ``pip check`` failing → pip installs the planned
      requirement with every requirement it names, then ``pip check`` must pass;
      ``repair=False`` fails saying what is broken and changes nothing

    Nothing is done when the WinPipPackages fact shows ``package`` at ``version`` and no
    conflicting distribution (``tensorflow-intel`` next to ``tensorflow`` is not one: it is
    what ``tensorflow`` 2.11+ installs on Windows).  When conflicting ones are present, all
    TensorFlow distributions present are uninstalled and the wanted one installed again
    (they share the ``tensorflow`` import package, so removing one damages the other).
    """
    if not re.match(r"^[A-Za-z]:\\", python_exe or ""):
        raise OperationValueError(f"python_exe must be an absolute Windows path: {python_exe!r}")
    want = _base_name(package)
    have = host.get_fact(WinPipPackages, python_exe=python_exe) or {}
    present = [p for p in TF_DISTRIBUTIONS if p in have]
    others = conflicting(want, present, WINDOWS_COMPANIONS)
    health = host.get_fact(WinPipHealth, python_exe=python_exe) or {}
    problems = env_problems(health)
    if problems and not repair:
        raise broken_env_error(python_exe, problems)
    installed = have.get(want) is not None and vkey(have[want]) == vkey(version)
    if installed and not others and not problems:
        host.noop(f"{want} {have[want]} is installed for {python_exe}")
        return
    lines = [ps.INVOKE_NATIVE]
    if health.get("pip_error"):
        lines.append(ps.native(python_exe, ["-m", "ensurepip", "--upgrade"]))
    if others:
        lines.append(ps.native(python_exe, ["-m", "pip", "uninstall", "-y", *present]))
    # only the env broken: the planned requirement is kept (installed) and resolved again
    target = f"{package}=={version}" if installed and not others else requirement
    lines.append(
        ps.native(
            python_exe,
            [
                "-m",
                "pip",
                "install",
                "--no-input",
                "--disable-pip-version-check",
                *(pip_args or []),
                target or f"{package}=={version}",
                *repair_requirements(problems),
            ],
        )
    )
    if problems:
        lines.append(ps.native(python_exe, ["-m", "pip", "check"]))
    yield ps.script(*lines)


@operation()
def remove_tensorflow(python_exe: str, packages: list[str] | None = None):
    """
    Uninstall TensorFlow distributions from the environment of ``python_exe`` (clean-up on
    request).

    + python_exe: the environment's interpreter
    + packages: the distributions; default every Windows TensorFlow distribution
      (:data:`tfprov.model.distributions.TF_DISTRIBUTIONS`)

    Only those the WinPipPackages fact shows are uninstalled; nothing is done when none is.
    """
    if not re.match(r"^[A-Za-z]:\\", python_exe or ""):
        raise OperationValueError(f"python_exe must be an absolute Windows path: {python_exe!r}")
    have = host.get_fact(WinPipPackages, python_exe=python_exe) or {}
    present = [p for p in (packages or TF_DISTRIBUTIONS) if _pip_norm(p) in have]
    if not present:
        host.noop(f"no TensorFlow distribution is installed for {python_exe}")
        return
    yield ps.script(
        ps.INVOKE_NATIVE, ps.native(python_exe, ["-m", "pip", "uninstall", "-y", *present])
    )
