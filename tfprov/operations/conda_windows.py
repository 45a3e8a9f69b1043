"""conda on Windows: Miniforge / Miniconda (NSIS installers made by conda's constructor),
its ``.condarc`` and conda envs, with the rules of :mod:`tfprov.operations.conda`.

Installer switches: ``/S /InstallationType=AllUsers /AddToPath=0 /RegisterPython=0
/D=<prefix>`` (conda docs, docs/source/user-guide/install/windows.rst, "Installing in
silent mode": ``/D`` "must be the last argument. Do not wrap in quotation marks"; NSIS
manual 3.2.1: ``/D`` "must be the last parameter used in the command line and must not
contain any quotes, even if the path contains spaces. Only absolute paths are
supported").  ``Start-Process -ArgumentList`` with one string passes it to the installer
as written.  NSIS exit codes (NSIS manual, appendix D): 0 success, 1 cancelled, 2 aborted
by the script.
"""

from __future__ import annotations

import hashlib
import re

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from tfprov import powershell as ps
from tfprov.facts.conda_env import WinCondaEnvPackages
from tfprov.facts.files import WinFileExists, WinFileSha256
from tfprov.model.pip_index import PipIndex
from tfprov.operations.conda import condarc_text, env_changes, env_specs
from tfprov.operations.windows_args import run_installer

FLAVORS = ("miniforge", "miniconda", "anaconda")
_CONDA_PREFIX = re.compile(r"^[A-Za-z]:\\[A-Za-z0-9_.\\-]*$")


def _conda_prefix(prefix: str) -> str:
    prefix = (prefix or "").rstrip("\\")
    if not _CONDA_PREFIX.match(prefix) or len(prefix) <= 3:
        raise OperationValueError(
            "conda prefix must be an absolute Windows path below a drive root, without "
            f"spaces or special characters (conda packages break on those), not {prefix!r}"
        )
    return prefix


@operation()
def miniconda(prefix: str, installer_url: str, sha256: str, flavor: str = "miniforge"):
    """
    Install Miniforge (or Miniconda/Anaconda) for all users into ``prefix``, silently.

    + prefix: e.g. ``C:\\tfprov\\miniforge3`` (no spaces)
    + installer_url: ``Miniforge3-Windows-x86_64.exe`` (or Miniconda's), URL or local/UNC path
    + sha256: the installer's sha256, checked before it runs
    + flavor: ``miniforge``, ``miniconda`` or ``anaconda`` (same installer switches)

    Runs ``installer /S /InstallationType=AllUsers /AddToPath=0 /RegisterPython=0
    /D=<prefix>`` — ``/D`` last and unquoted, as NSIS requires — and checks that
    ``Scripts\\conda.exe`` is there afterwards.  Nothing is done when
    ``prefix\\Scripts\\conda.exe`` or ``prefix\\condabin\\conda.bat`` exists.
    """
    if flavor not in FLAVORS:
        raise OperationValueError(f"flavor must be one of {', '.join(FLAVORS)}, not {flavor!r}")
    prefix = _conda_prefix(prefix)
    sha256 = ps.checked_sha256(sha256, f"the {flavor} installer {installer_url}")
    for rel in ("Scripts\\conda.exe", "condabin\\conda.bat"):
        if host.get_fact(WinFileExists, path=f"{prefix}\\{rel}"):
            host.noop(f"conda is installed in {prefix} ({rel})")
            return
    conda = f"{prefix}\\Scripts\\conda.exe"
    yield ps.script(
        *ps.fetch_verified(installer_url, sha256, f"{flavor}.exe"),
        run_installer(f"/S /InstallationType=AllUsers /AddToPath=0 /RegisterPython=0 /D={prefix}"),
        "$code = $p.ExitCode",
        "Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue",
        "if ($code -ne 0) {",
        f"    [Console]::Error.WriteLine('tfprov: {flavor} installer exit code ' + $code)",
        "    exit $code",
        "}",
        f"if (-not (Test-Path -LiteralPath {ps.quote(conda)})) {{",
        f"    throw {ps.quote(f'the {flavor} installer finished but {conda} is missing')}",
        "}",
    )


@operation()
def condarc(
    prefix: str,
    channels: list[str],
    channel_alias: str | None = None,
    custom_channels: dict[str, str] | None = None,
):
    """
    Write ``prefix\\.condarc`` (the installation's own configuration), as
    :func:`tfprov.operations.conda.condarc` does on Linux: channels in priority order
    (the ``conda_channels`` source), an optional ``channel_alias`` (the
    ``conda_channel_alias`` source) and ``custom_channels``, strict channel priority and no
    conda self-update.  Written as UTF-8 without BOM, LF line ends; nothing is done when the
    file's sha256 (WinFileSha256 fact) is that of the wanted text.
    """
    prefix = _conda_prefix(prefix)
    channels = list(channels or [])
    if not channels or not all(isinstance(c, str) and c.strip() for c in channels):
        raise OperationValueError(f"channels must be a non-empty list of names: {channels!r}")
    text = condarc_text(channels, channel_alias, custom_channels)
    # the managed file's first line names the operation as it was first written
    text = text.replace("tfprov.operations.conda.condarc", "tfprov.operations.windows.condarc")
    dest = f"{prefix}\\.condarc"
    if host.get_fact(WinFileSha256, path=dest) == hashlib.sha256(text.encode()).hexdigest():
        host.noop(f"{dest} is up to date")
        return
    yield ps.script(
        f"[IO.File]::WriteAllText({ps.quote(dest)}, {ps.quote(text)},"
        " (New-Object Text.UTF8Encoding $false))"
    )


@operation()
def conda_env(
    prefix: str,
    *,
    env_name: str,
    python: str,
    conda_packages: list[str] | None = None,
    pip_packages: list[str] | None = None,
    pip_index: PipIndex | dict,
):
    """
    Make the conda env ``prefix\\envs\\ENV_NAME`` hold the planned Python and packages, with
    the rule of :func:`tfprov.operations.conda.env`: conda packages first, pip packages
    after, and an env whose conda packages are missing while it already holds pip-installed
    packages is removed and created again rather than mixing conda over pip.

    + prefix: the conda installation (``C:\\tfprov\\miniforge3``)
    + env_name: the env (``tf210``); ``base``/``root`` are refused
    + python: ``3.10`` (conda's ``python=3.10``)
    + conda_packages: conda match specs (``cudatoolkit=11.2``, ``cudnn=8.1``)
    + pip_packages: pip requirements (``tensorflow==2.10.1``)
    + pip_index: where pip installs from (:class:`tfprov.model.pip_index.PipIndex`, or a
      mapping of its fields)

    State comes from the WinCondaEnvPackages fact (``conda list -p ENV --json``).
    """
    prefix = _conda_prefix(prefix)
    index = pip_index if isinstance(pip_index, PipIndex) else PipIndex(**pip_index)
    conda_specs, checks, pip_specs, pip_reqs = env_specs(
        env_name, python, conda_packages, pip_packages
    )

    state = host.get_fact(WinCondaEnvPackages, prefix=prefix, env_name=env_name)
    exists, fresh, recreate, conda_missing, pip_missing, have_conda = env_changes(
        state, conda_specs, checks, pip_specs, pip_reqs
    )
    if not (fresh or conda_missing or pip_missing):
        host.noop(
            f"conda env {env_name} in {prefix} is up to date "
            f"(Python {have_conda.get('python', '?')})"
        )
        return

    conda = f"{prefix}\\Scripts\\conda.exe"
    env = f"{prefix}\\envs\\{env_name}"
    lines = [ps.INVOKE_NATIVE]
    if recreate:
        lines += [
            ps.native(conda, ["remove", "-y", "-q", "-p", env, "--all"]),
            f"if (Test-Path -LiteralPath {ps.quote(env)}) "
            f"{{ Remove-Item -LiteralPath {ps.quote(env)} -Recurse -Force }}",
        ]
    if fresh:
        lines.append(ps.native(conda, ["create", "-y", "-q", "-p", env, *conda_specs]))
    elif conda_missing:
        lines.append(ps.native(conda, ["install", "-y", "-q", "-p", env, *conda_specs]))
    if pip_missing:
        lines.append(
            ps.native(
                f"{env}\\python.exe",
                ["-m", "pip", "install", *index.args(), *pip_missing],
            )
        )
    yield ps.script(*lines)
