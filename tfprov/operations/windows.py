"""
Windows operations for TensorFlow stacks: the NVIDIA driver, CUDA toolkits side by side,
cuDNN, the machine environment (``PATH``, ``CUDA_PATH``), Miniforge/Miniconda, conda envs,
TensorFlow with pip, clean-up and the reboot.

Every command is PowerShell text (Windows PowerShell 5.1 and PowerShell 7; a Windows
connector runs each one as ``powershell.exe -EncodedCommand``).  Each script starts with
``$ErrorActionPreference = 'Stop'``, so a failing cmdlet ends it with exit code 1; native
programs are checked through ``$LASTEXITCODE`` / their process exit code.  Values are put
into scripts only as single-quoted PowerShell literals (:func:`ps_quote`).

Downloads: every installer or archive is fetched to ``%TEMP%`` (``Invoke-WebRequest`` for
``http(s)://`` URLs, ``Copy-Item`` for a local or UNC path such as ``\\\\share\\nvidia\\x.exe``)
and run or unpacked only after ``Get-FileHash -Algorithm SHA256`` equals the ``sha256``
given with it; the sha256 is required.  All URLs are arguments: a lab mirror or share is
configuration.

Installer switches and where they are documented:

* NVIDIA display driver package: ``-s -noreboot`` (silent, no reboot).  Exit code 1 is
  success with a reboot pending (Chocolatey's ``geforce-game-ready-driver`` package,
  AeliusSaionji/chocopkgs ``tools/chocolateyInstall.ps1``: ``silentArgs '-s -noreboot'``,
  ``validExitCodes @(0,1)``; winget manifest review in pl4nty/winget-extras PR #4:
  ``InstallerSuccessCodes: [1]`` "found after sandbox testing"); 3010 is Windows'
  ERROR_SUCCESS_REBOOT_REQUIRED.
* CUDA toolkit: ``-s`` plus subpackage names ``<name>_<X.Y>`` (NVIDIA, "CUDA Installation
  Guide for Microsoft Windows", Silent Installation, table "Possible Subpackage Names").
  Listing subpackages keeps the bundled ``Display.Driver`` out.  See
  :func:`cuda_components` for the names per version.
* Miniforge / Miniconda (NSIS installers made by conda's constructor): ``/S
  /InstallationType=AllUsers /AddToPath=0 /RegisterPython=0 /D=<prefix>`` (conda docs,
  docs/source/user-guide/install/windows.rst, "Installing in silent mode": ``/D`` "must
  be the last argument. Do not wrap in quotation marks"; NSIS manual 3.2.1: ``/D`` "must
  be the last parameter used in the command line and must not contain any quotes, even if
  the path contains spaces. Only absolute paths are supported").  ``Start-Process
  -ArgumentList`` with one string passes it to the installer as written.  NSIS exit codes
  (NSIS manual, appendix D): 0 success, 1 cancelled, 2 aborted by the script.
* cuDNN zip: ``bin``, ``include`` and ``lib`` are copied into the CUDA toolkit directory
  (NVIDIA, "Installing cuDNN on Windows", tarball/zip installation) or into a directory of
  their own, conventionally ``C:\\Program Files\\NVIDIA\\CUDNN\\v<version>``.
"""

from __future__ import annotations

import hashlib
import ntpath
import re

from packaging.version import InvalidVersion, Version
from pyinfra import host
from pyinfra.api import OperationError, OperationValueError, operation

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact
from tfprov.facts.conda_env import empty as _empty_env
from tfprov.facts.conda_env import parse_conda_list_json
from tfprov.facts.cuda import WinCudaToolkits
from tfprov.facts.env import MARK as ENV_MARK
from tfprov.facts.env import env_problems, parse_pip_health
from tfprov.facts.gpu import WinGpus
from tfprov.facts.system import WinSystem
from tfprov.model.names import env_name_problem
from tfprov.model.sources import sources_for
from tfprov.operations.conda import _pip_norm, condarc_text, env_changes, env_specs
from tfprov.operations.driver import runs_here
from tfprov.operations.tensorflow import CONFLICTING as LINUX_CONFLICTING
from tfprov.operations.tensorflow import broken_env_error, repair_requirements

_XY = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)*$")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_().-]*$")
_ABS_WIN = ps.ABS_WIN
_URL = ps.URL

CUDA_ROOT = r"C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA"
CUDNN_ROOT = r"C:\Program Files\NVIDIA\CUDNN"

# TensorFlow distributions that conflict with each other in one Python environment on
# Windows.  ``tensorflow`` 2.11-2.15 on Windows *depends on* ``tensorflow-intel`` (the
# Windows build), so that pair is not a conflict.
CONFLICTING = (*LINUX_CONFLICTING, "tf-nightly-intel")
_COMPANIONS = {"tensorflow": {"tensorflow-intel"}, "tf-nightly": {"tf-nightly-intel"}}


# -- PowerShell text: tfprov/powershell.py ------------------------------------------------

ps_quote, ps_array, script, _native, _basename = (
    ps.quote,
    ps.array,
    ps.script,
    ps.native,
    ps.basename,
)
PRELUDE, TLS12, INVOKE_NATIVE = ps.PRELUDE, ps.TLS12, ps.INVOKE_NATIVE
_sha256, fetch_verified = ps.checked_sha256, ps.fetch_verified


def _run_installer(arguments: str) -> str:
    return f"$p = Start-Process -FilePath $file -ArgumentList {ps_quote(arguments)} -Wait -PassThru"


def _win_path(path: str, what: str) -> str:
    path = path.rstrip("\\")
    if not re.match(r"^[A-Za-z]:\\", path):
        raise OperationValueError(
            f"{what} must be an absolute Windows path (C:\\...), not {path!r}"
        )
    return path


def _xy(version: str, what: str) -> str:
    m = _XY.match(str(version).strip())
    if not m:
        raise OperationValueError(f'{what} must look like "12.4" or "12.4.1", got {version!r}')
    return f"{m[1]}.{m[2]}"


def _vkey(version: str) -> Version | None:
    try:
        return Version(str(version))
    except InvalidVersion:
        return None


# -- facts these operations read -----------------------------------------------------------
# WinGpus, WinCudaToolkits and WinSystem are in tfprov.facts.gpu, .cuda, .system; the ones below are
# specific to these operations (a machine variable, a file, the cuDNN headers in one
# directory, one Python's pip packages, one conda env).


class WinMachineEnv(TfprovFact):
    """A machine environment variable as ``[Environment]::GetEnvironmentVariable(NAME,
    'Machine')`` returns it, or None when it is not set."""

    @staticmethod
    def default() -> None:
        return None

    def command(self, variable: str) -> str:
        return (
            f"$v = [Environment]::GetEnvironmentVariable({ps_quote(variable)}, 'Machine')\n"
            "if ($null -ne $v) { 'value=' + $v }"
        )

    def process(self, output: list[str]) -> str | None:
        text = "\n".join(output)
        return text[len("value=") :] if text.startswith("value=") else None


class WinFileExists(TfprovFact):
    """Whether a file exists (``Test-Path -PathType Leaf``)."""

    @staticmethod
    def default() -> bool:
        return False

    def command(self, path: str) -> str:
        return f"Test-Path -LiteralPath {ps_quote(path)} -PathType Leaf"

    def process(self, output: list[str]) -> bool:
        return bool(output) and output[-1].strip().lower() == "true"


class WinFileSha256(TfprovFact):
    """A file's sha256 (lower-case hex), or None when there is no such file."""

    @staticmethod
    def default() -> None:
        return None

    def command(self, path: str) -> str:
        return (
            f"if (Test-Path -LiteralPath {ps_quote(path)} -PathType Leaf) {{ "
            f"(Get-FileHash -LiteralPath {ps_quote(path)} -Algorithm SHA256).Hash }}"
        )

    def process(self, output: list[str]) -> str | None:
        value = "".join(output).strip().lower()
        return value if ps.SHA256.match(value) else None


_CUDNN_DEFINE = re.compile(r"#\s*define\s+CUDNN_(MAJOR|MINOR|PATCHLEVEL)\s+(\d+)")


class WinCudnnAt(TfprovFact):
    """The cuDNN version (``8.1.1``) of the headers in ``PATH\\include``
    (``cudnn_version.h``, else ``cudnn.h``), or None."""

    @staticmethod
    def default() -> None:
        return None

    def command(self, path: str) -> str:
        inc = ps_quote(path.rstrip("\\") + "\\include")
        return (
            f"foreach ($h in @('cudnn_version.h', 'cudnn.h')) {{\n"
            f"    $f = Join-Path {inc} $h\n"
            "    if (Test-Path -LiteralPath $f) {\n"
            "        Select-String -LiteralPath $f -Pattern '#\\s*define\\s+CUDNN_(MAJOR|MINOR|"
            "PATCHLEVEL)\\s' | ForEach-Object { $_.Line }\n"
            "        break\n"
            "    }\n"
            "}"
        )

    def process(self, output: list[str]) -> str | None:
        found = dict(m.groups() for m in map(_CUDNN_DEFINE.search, output) if m)
        if "MAJOR" not in found or "MINOR" not in found:
            return None
        return ".".join(found[k] for k in ("MAJOR", "MINOR", "PATCHLEVEL") if k in found)


class WinPipPackages(TfprovFact):
    """``{normalized name: version}`` of what ``PYTHON_EXE -m pip list`` reports; ``{}``
    when that Python does not exist or has no pip."""

    @staticmethod
    def default() -> dict:
        return {}

    def command(self, python_exe: str) -> str:
        exe = ps_quote(python_exe)
        return (
            f"if (Test-Path -LiteralPath {exe}) {{ "
            f"& {exe} -m pip list '--format=json' --disable-pip-version-check 2>$null }}"
        )

    def process(self, output: list[str]) -> dict:
        import json

        text = "\n".join(output)
        start = text.find("[")
        try:
            items = json.loads(text[start:]) if start >= 0 else []
        except ValueError:
            return {}
        return {
            _pip_norm(i["name"]): str(i["version"])
            for i in items
            if isinstance(i, dict) and i.get("name") and i.get("version") is not None
        }


class WinPipHealth(TfprovFact):
    """Whether pip works for ``python_exe`` and what ``pip check`` says, as the Linux
    EnvState fact gives it: ``{"exists", "pip", "pip_error", "pip_check"}`` (see
    :func:`tfprov.facts.env.env_problems`)."""

    @staticmethod
    def default() -> dict:
        return {"exists": False, "pip": None, "pip_error": None, "pip_check": None}

    def command(self, python_exe: str) -> str:
        exe = ps_quote(python_exe)
        run = '2>&1 | ForEach-Object {{ "$_" }}'
        return (
            f"$ErrorActionPreference = 'Continue'\n"
            f"if (Test-Path -LiteralPath {exe}) {{\n"
            f"    '{ENV_MARK}pip'\n"
            f"    & {exe} -m pip --version {run}\n"
            "    if ($LASTEXITCODE -eq 0) {\n"
            f"        '{ENV_MARK}pip-check'\n"
            f"        & {exe} -m pip check --disable-pip-version-check {run}\n"
            f"        '{ENV_MARK}pip-check-exit'\n"
            '        "$LASTEXITCODE"\n'
            "    }\n"
            "}"
        )

    def process(self, output: list[str]) -> dict:
        return parse_pip_health(output)


class WinCondaEnvPackages(TfprovFact):
    """The packages of the conda env ``PREFIX\\envs\\ENV_NAME``, as
    :class:`tfprov.facts.conda_env.CondaEnvPackages` gives them on Linux:
    ``{"exists", "conda": {name: version}, "pip": {name: version}}``."""

    @staticmethod
    def default() -> dict:
        return _empty_env()

    def command(self, prefix: str, env_name: str) -> str:
        conda = ps_quote(prefix.rstrip("\\") + "\\Scripts\\conda.exe")
        env = ps_quote(prefix.rstrip("\\") + "\\envs\\" + env_name)
        return (
            f"if ((Test-Path -LiteralPath {conda}) -and (Test-Path -LiteralPath {env})) {{ "
            f"& {conda} list -p {env} --json 2>$null }}"
        )

    def process(self, output: list[str]) -> dict:
        return parse_conda_list_json("\n".join(output))


# -- NVIDIA driver ---------------------------------------------------------------------------


def _reboot_lines(allow_reboot: bool, what: str) -> list[str]:
    """After an installer: exit code 1 (NVIDIA) or 3010 means installed, reboot pending."""
    lines = [
        "$code = $p.ExitCode",
        "Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue",
        "if ($code -eq 1 -or $code -eq 3010) {",
        f"    Write-Output ('tfprov: reboot required: ' + {ps_quote(what)}"
        " + ' (installer exit code ' + $code + ')')",
    ]
    if allow_reboot:
        lines.append("    Restart-Computer -Force")
    lines += [
        "    exit 0",
        "}",
        "if ($code -ne 0) {",
        f"    [Console]::Error.WriteLine('tfprov: ' + {ps_quote(what)}"
        " + ' failed, installer exit code ' + $code)",
        "    exit $code",
        "}",
    ]
    return lines


@operation()
def nvidia_driver(version: str, installer_url: str, sha256: str, allow_reboot: bool = False):
    """
    Install the NVIDIA display driver ``version`` (NVIDIA numbering, ``551.61``) silently.

    + version: the driver the stack needs at least; any newer installed driver is kept
    + installer_url: the driver package (``551.61-…-win10-win11-64bit-international-dch-whql
      .exe``) as an ``http(s)://`` URL or a local/UNC path (``\\\\share\\nvidia\\….exe``)
    + sha256: the package's sha256; it is checked before the package runs
    + allow_reboot: reboot (``Restart-Computer -Force``) when the installer says a reboot is
      needed; never on the machine pyinfra runs on

    Nothing is done when every NVIDIA GPU of the WinGpus fact runs ``version`` or newer
    (NVIDIA's installer itself is not idempotent).  The package runs with ``-s -noreboot``;
    its exit code 1 (and Windows' 3010) means installed with a reboot pending, any other
    code but 0 fails the operation with that code.

    **Example:**

    .. code:: python

        windows.nvidia_driver(version="551.61", installer_url=url, sha256=sha)
    """
    want = _vkey(version)
    if want is None:
        raise OperationValueError(f'driver version must look like "551.61", got {version!r}')
    sha256 = _sha256(sha256, f"the NVIDIA driver installer {installer_url}")
    gpus = list(host.get_fact(WinGpus) or [])
    if not gpus:
        raise OperationError("no NVIDIA GPU found (WinGpus): not installing an NVIDIA driver")
    have = [g.get("driver_version") for g in gpus]
    keys = [_vkey(h) if h else None for h in have]
    if all(k is not None and k >= want for k in keys):
        host.noop(f"NVIDIA driver {min(keys)} is installed (>= {version})")
        return
    reboot = allow_reboot and not runs_here()
    yield script(
        *fetch_verified(installer_url, sha256, "nvidia-driver.exe"),
        _run_installer("-s -noreboot"),
        *_reboot_lines(reboot, f"NVIDIA driver {version}"),
    )


# -- CUDA toolkit ----------------------------------------------------------------------------

# What TensorFlow needs of a toolkit: nvcc (ptxas for XLA), the runtime and the math
# libraries with their import libraries/headers, CUPTI (profiler) and NVRTC.
_CUDA_BASE = (
    "nvcc",
    "cudart",
    "cublas",
    "cublas_dev",
    "cufft",
    "cufft_dev",
    "curand",
    "curand_dev",
    "cusolver",
    "cusolver_dev",
    "cusparse",
    "cusparse_dev",
    "cupti",
    "nvrtc",
    "nvrtc_dev",
)


def cuda_components(version: str, components: list[str] | None = None) -> list[str]:
    """The installer's subpackage names for CUDA *version*: ``components`` given as base
    names (``nvcc``, ``cublas_dev``) or full names (``nvcc_12.4``), else the defaults:

    * 10.x / 11.x: nvcc, cudart, cublas(_dev), cufft(_dev), curand(_dev), cusolver(_dev),
      cusparse(_dev), cupti, nvrtc(_dev) — names as in pytorch/vision
      ``packaging/windows/internal/cuda_install.bat`` (11.1, 11.3) and pytorch/builder
      ``windows/internal/cuda_install.bat`` (10.x … 11.8) and pytorch/pytorch
      ``.circleci/scripts/windows_cuda_install.sh`` (10.1);
    * 12.x adds ``nvjitlink`` (cuSPARSE/cuSOLVER load nvJitLink since 12.0; pytorch/builder
      ``cuda_install.bat`` 12.1: ``nvjitlink_12.1``);
    * 13.x adds ``crt`` and ``nvvm``, split out of nvcc (NVIDIA's Windows installation guide
      13.2, "Possible Subpackage Names": ``crt_13.2``, ``nvvm_13.2``).

    ``Display.Driver`` is never added (the driver is :func:`nvidia_driver`'s business);
    give it in ``components`` to have it.
    """
    xy = _xy(version, "CUDA version")
    major = int(xy.split(".")[0])
    if components is None:
        if major < 10:
            raise OperationValueError(f"give the components for CUDA {xy} explicitly")
        names = list(_CUDA_BASE)
        if major >= 12:
            names.append("nvjitlink")
        if major >= 13:
            names += ["crt", "nvvm"]
        components = names
    out: list[str] = []
    for comp in components:
        comp = comp.strip()
        if comp == "Display.Driver":
            full = comp
        else:
            m = re.match(r"^([a-z][a-z0-9_]*?)(?:_(\d+\.\d+))?$", comp)
            if not m:
                raise OperationValueError(f"not a CUDA subpackage name: {comp!r}")
            if m[2] and m[2] != xy:
                raise OperationValueError(f"subpackage {comp} is not for CUDA {xy}")
            full = f"{m[1]}_{xy}"
        if full not in out:
            out.append(full)
    if not out:
        raise OperationValueError("components must not be empty")
    return out


def _toolkit(found: list[dict] | None, xy: str) -> dict | None:
    for tk in found or []:
        v = str(tk.get("version") or "")
        if v == xy or v.startswith(xy + "."):
            return tk
    return None


@operation()
def cuda_toolkit(
    version: str, installer_url: str, sha256: str, components: list[str] | None = None
):
    """
    Install CUDA toolkit ``X.Y`` silently, only the needed subpackages, side by side with
    other toolkits (``C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\vX.Y``).

    + version: ``"11.2"`` or ``"11.2.2"`` (the toolkit is identified by X.Y)
    + installer_url: NVIDIA's local installer (``cuda_11.2.2_461.33_win10.exe``), URL or
      local/UNC path
    + sha256: the installer's sha256, checked before it runs
    + components: subpackages (see :func:`cuda_components`); default what TensorFlow needs

    Nothing is done when the WinCudaToolkits fact has X.Y.  The installer runs with ``-s``
    and the subpackage names; exit codes other than 0 (and 3010, reboot pending) fail.  The
    installer sets ``CUDA_PATH`` only for some selections: use :func:`machine_env` and
    :func:`machine_path` to select a toolkit.

    **Example:**

    .. code:: python

        windows.cuda_toolkit(version="11.2", installer_url=url, sha256=sha)
    """
    xy = _xy(version, "CUDA version")
    names = cuda_components(version, components)
    sha256 = _sha256(sha256, f"the CUDA installer {installer_url}")
    have = _toolkit(host.get_fact(WinCudaToolkits), xy)
    if have:
        host.noop(f"CUDA {xy} is installed ({have.get('path')})")
        return
    root = f"{CUDA_ROOT}\\v{xy}"
    check = root + ("\\bin\\nvcc.exe" if f"nvcc_{xy}" in names else "")
    yield script(
        *fetch_verified(installer_url, sha256, "cuda-installer.exe"),
        _run_installer(" ".join(["-s", *names])),
        "$code = $p.ExitCode",
        "Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue",
        "if ($code -ne 0 -and $code -ne 3010) {",
        f"    [Console]::Error.WriteLine('tfprov: CUDA {xy} installer exit code ' + $code)",
        "    exit $code",
        "}",
        f"if (-not (Test-Path -LiteralPath {ps_quote(check)})) {{",
        f"    throw {ps_quote(f'CUDA {xy} installer succeeded but {check} is missing')}",
        "}",
    )


@operation()
def remove_cuda_toolkit(version: str):
    """
    Uninstall CUDA toolkit ``X.Y`` (clean-up on request).

    + version: ``"11.2"``

    Every "Programs and Features" entry of the toolkit (uninstall keys whose
    ``UninstallString`` is NVIDIA's ``RunDll32 …\\NVI2.DLL",UninstallPackage <Package>_X.Y``,
    e.g. ``CUDAToolkit_12.8`` or ``CUDARuntime_11.2``) is run with ``-silent``, then the
    ``vX.Y`` directory is removed if anything is left and the machine variable
    ``CUDA_PATH_VX_Y`` is deleted.  Nothing is done when WinCudaToolkits lacks X.Y.
    """
    xy = _xy(version, "CUDA version")
    have = _toolkit(host.get_fact(WinCudaToolkits), xy)
    if not have:
        host.noop(f"CUDA {xy} is not installed")
        return
    root = have.get("path") or f"{CUDA_ROOT}\\v{xy}"
    var = "CUDA_PATH_V" + xy.replace(".", "_")
    pattern = r"UninstallPackage\s+(\S+_" + re.escape(xy) + r")\s*$"
    yield script(
        "$roots = @(",
        "    'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall',",
        "    'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
        ")",
        "$entries = Get-ChildItem -Path $roots -ErrorAction SilentlyContinue |",
        "    ForEach-Object { Get-ItemProperty -LiteralPath $_.PSPath } |",
        f"    Where-Object {{ $_.UninstallString -match {ps_quote(pattern)} }}",
        "foreach ($e in $entries) {",
        "    $rdArgs = ($e.UninstallString -replace '^\\s*\"[^\"]+\"\\s*', '') + ' -silent'",
        "    $p = Start-Process -FilePath (Join-Path $env:SystemRoot 'SysWOW64\\RunDll32.exe')"
        " -ArgumentList $rdArgs -Wait -PassThru",
        "    if ($p.ExitCode -ne 0) {",
        "        throw ('uninstalling ' + $e.DisplayName + ' failed: exit code ' + $p.ExitCode)",
        "    }",
        "}",
        f"if (Test-Path -LiteralPath {ps_quote(root)}) {{",
        f"    Remove-Item -LiteralPath {ps_quote(root)} -Recurse -Force",
        "}",
        f"[Environment]::SetEnvironmentVariable({ps_quote(var)}, $null, 'Machine')",
    )


# -- cuDNN -----------------------------------------------------------------------------------


def cudnn_own_dir(version: str) -> str:
    """``C:\\Program Files\\NVIDIA\\CUDNN\\v<major.minor>``, where NVIDIA's cuDNN installer
    puts cuDNN; pass it as ``target_dir`` to keep cuDNN out of the toolkit directory."""
    return f"{CUDNN_ROOT}\\v{_xy(version, 'cuDNN version')}"


@operation()
def cudnn(
    version: str,
    cuda_version: str,
    zip_url: str,
    sha256: str,
    target_dir: str | None = None,
):
    """
    Install cuDNN from NVIDIA's Windows zip into the CUDA ``X.Y`` toolkit directory, or into
    ``target_dir``.

    + version: ``"8.1"``, ``"8.1.1"`` or ``"8.1.1.33"``: the installed headers must match
      the parts given (the fourth, the build, is not in the headers)
    + cuda_version: the toolkit it is for (``"11.2"``); it must be installed unless
      ``target_dir`` is given
    + zip_url: ``cudnn-11.2-windows-x64-v8.1.1.33.zip`` /
      ``cudnn-windows-x86_64-8.9.7.29_cuda12-archive.zip``, URL or local/UNC path
    + sha256: the zip's sha256, checked before it is unpacked
    + target_dir: a directory of its own, e.g. :func:`cudnn_own_dir` (then put its ``bin`` on
      the PATH with :func:`machine_path`)

    The zip's ``bin``, ``include`` and ``lib`` (found next to ``cudnn*.h`` wherever the zip
    nests them: ``cuda\\`` in cuDNN 8.1, ``cudnn-windows-…-archive\\`` later) are copied file by
    file over the target.  Nothing is done when the target's ``include`` holds cuDNN
    ``version`` (WinCudnnAt fact).
    """
    parts = str(version).strip().split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise OperationValueError(
            f'cuDNN version must look like "8.1" or "8.1.1.33", got {version!r}'
        )
    xy = _xy(cuda_version, "cuda_version")
    sha256 = _sha256(sha256, f"the cuDNN archive {zip_url}")
    if target_dir:
        dest = _win_path(target_dir, "target_dir")
    else:
        tk = _toolkit(host.get_fact(WinCudaToolkits), xy)
        if not tk:
            raise OperationError(f"CUDA {xy} is not installed: install it first or give target_dir")
        dest = str(tk.get("path") or f"{CUDA_ROOT}\\v{xy}").rstrip("\\")
    have = host.get_fact(WinCudnnAt, path=dest)
    if have and have.split(".")[: min(len(parts), 3)] == parts[:3]:
        host.noop(f"cuDNN {have} is installed in {dest}")
        return
    tmp = f"tfprov-cudnn-{sha256[:12]}"
    want = ".".join(parts[:3])
    yield script(
        *fetch_verified(zip_url, sha256, "cudnn.zip"),
        f"$tmp = Join-Path $env:TEMP {ps_quote(tmp)}",
        "if (Test-Path -LiteralPath $tmp) { Remove-Item -LiteralPath $tmp -Recurse -Force }",
        "Expand-Archive -LiteralPath $file -DestinationPath $tmp -Force",
        "$hdr = Get-ChildItem -LiteralPath $tmp -Recurse -File |",
        "    Where-Object { $_.Name -eq 'cudnn_version.h' -or $_.Name -eq 'cudnn.h' } |",
        "    Sort-Object Name -Descending | Select-Object -First 1",
        "if ($null -eq $hdr) { throw 'no cudnn.h or cudnn_version.h in the cuDNN archive' }",
        "$root = $hdr.Directory.Parent.FullName",
        f"$dest = {ps_quote(dest)}",
        "foreach ($d in @('bin', 'include', 'lib')) {",
        "    $from = Join-Path $root $d",
        "    if (-not (Test-Path -LiteralPath $from)) { continue }",
        "    Get-ChildItem -LiteralPath $from -Recurse -File | ForEach-Object {",
        "        $rel = $_.FullName.Substring($from.Length).TrimStart('\\')",
        "        $to = Join-Path (Join-Path $dest $d) $rel",
        "        New-Item -ItemType Directory -Force -Path (Split-Path -Parent $to) | Out-Null",
        "        Copy-Item -LiteralPath $_.FullName -Destination $to -Force",
        "    }",
        "}",
        "Remove-Item -LiteralPath $tmp -Recurse -Force",
        "Remove-Item -LiteralPath $file -Force",
        "$h = Join-Path $dest 'include\\cudnn_version.h'",
        "if (-not (Test-Path -LiteralPath $h)) { $h = Join-Path $dest 'include\\cudnn.h' }",
        "$got = (Select-String -LiteralPath $h -Pattern"
        " '#\\s*define\\s+CUDNN_(MAJOR|MINOR|PATCHLEVEL)\\s+(\\d+)' |",
        "    ForEach-Object { $_.Matches[0].Groups[2].Value }) -join '.'",
        f"if (-not ($got + '.').StartsWith({ps_quote(want + '.')})) {{",
        f"    throw ('the archive holds cuDNN ' + $got + ', not {want}')",
        "}",
    )


# -- machine environment ---------------------------------------------------------------------


def _norm_entry(entry: str) -> str:
    return entry.strip().rstrip("\\").lower()


def path_entries(value: str | None) -> list[str]:
    return [e for e in (value or "").split(";") if e.strip()]


def merged_path(current: str | None, entries: list[str], prepend: bool = True) -> list[str]:
    """The PATH entries after :func:`machine_path`: *entries* in their order at the front
    (``prepend``) or missing ones at the end; existing entries keep their order, ours are
    not repeated (compared case-insensitively, without a trailing backslash)."""
    have = path_entries(current)
    ours: list[str] = []
    for e in entries:
        if _norm_entry(e) not in {_norm_entry(o) for o in ours}:
            ours.append(e)
    keys = {_norm_entry(e) for e in ours}
    if prepend:
        return ours + [h for h in have if _norm_entry(h) not in keys]
    present = {_norm_entry(h) for h in have}
    return have + [e for e in ours if _norm_entry(e) not in present]


@operation()
def machine_path(entries: list[str], prepend: bool = True):
    """
    Put ``entries`` on the machine ``PATH`` (``[Environment]::SetEnvironmentVariable(
    'Path', …, 'Machine')``, which also tells running programs that the environment changed).

    + entries: directories, e.g. ``C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\
      v11.2\\bin``
    + prepend: put them first, in this order (moving them there if they are further back:
      the first CUDA ``bin`` wins); with False, only missing ones are appended

    No entry is added twice (compared case-insensitively, trailing ``\\`` ignored); other
    entries keep their order.  The new value is computed on the host from the value it has
    then; nothing is done when the WinMachineEnv fact shows the wanted order already.
    """
    if not entries or not all(isinstance(e, str) and e.strip() and ";" not in e for e in entries):
        raise OperationValueError(f"entries must be directories without ';': {entries!r}")
    current = host.get_fact(WinMachineEnv, variable="Path")
    merged = [_norm_entry(e) for e in merged_path(current, entries, prepend)]
    if merged == [_norm_entry(e) for e in path_entries(current)]:
        host.noop(f"machine PATH has {'; '.join(entries)}" + (" first" if prepend else ""))
        return
    lines = [
        f"$want = {ps_array(entries)}",
        "$current = [Environment]::GetEnvironmentVariable('Path', 'Machine')",
        "$have = @(($current -split ';') | Where-Object { $_.Trim() })",
        "function Get-Key([string]$Entry) { $Entry.Trim().TrimEnd('\\').ToLowerInvariant() }",
        "$ours = @()",
        "foreach ($w in $want) {",
        "    $seen = @($ours | ForEach-Object { Get-Key $_ })",
        "    if ($seen -notcontains (Get-Key $w)) { $ours += $w }",
        "}",
        "$keys = @($ours | ForEach-Object { Get-Key $_ })",
    ]
    if prepend:
        lines.append(
            "$new = @($ours) + @($have | Where-Object { $keys -notcontains (Get-Key $_) })"
        )
    else:
        lines += [
            "$present = @($have | ForEach-Object { Get-Key $_ })",
            "$new = @($have) + @($ours | Where-Object { $present -notcontains (Get-Key $_) })",
        ]
    lines.append("[Environment]::SetEnvironmentVariable('Path', ($new -join ';'), 'Machine')")
    yield script(*lines)


@operation()
def machine_env(variable: str, value: str):
    """
    Set the machine environment variable ``variable`` (e.g. ``CUDA_PATH``) to ``value``.

    + variable: the variable (not ``Path``: use :func:`machine_path`); pyinfra reserves
      ``name`` for its global arguments
    + value: its value

    Nothing is done when the WinMachineEnv fact shows that value already.

    **Example:**

    .. code:: python

        windows.machine_env(variable="CUDA_PATH", value=r"C:\\...\\CUDA\\v11.2")
    """
    if not _VAR_NAME.match(variable or "") or variable.lower() == "path":
        raise OperationValueError(f"not a variable machine_env sets: {variable!r}")
    if host.get_fact(WinMachineEnv, variable=variable) == value:
        host.noop(f"machine variable {variable} is {value}")
        return
    yield script(
        f"[Environment]::SetEnvironmentVariable({ps_quote(variable)}, {ps_quote(value)}, 'Machine')"
    )


# -- conda -----------------------------------------------------------------------------------

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
    sha256 = _sha256(sha256, f"the {flavor} installer {installer_url}")
    for rel in ("Scripts\\conda.exe", "condabin\\conda.bat"):
        if host.get_fact(WinFileExists, path=f"{prefix}\\{rel}"):
            host.noop(f"conda is installed in {prefix} ({rel})")
            return
    conda = f"{prefix}\\Scripts\\conda.exe"
    yield script(
        *fetch_verified(installer_url, sha256, f"{flavor}.exe"),
        _run_installer(f"/S /InstallationType=AllUsers /AddToPath=0 /RegisterPython=0 /D={prefix}"),
        "$code = $p.ExitCode",
        "Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue",
        "if ($code -ne 0) {",
        f"    [Console]::Error.WriteLine('tfprov: {flavor} installer exit code ' + $code)",
        "    exit $code",
        "}",
        f"if (-not (Test-Path -LiteralPath {ps_quote(conda)})) {{",
        f"    throw {ps_quote(f'the {flavor} installer finished but {conda} is missing')}",
        "}",
    )


@operation()
def condarc(
    prefix: str,
    channels: list[str] | None = None,
    channel_alias: str | None = None,
    custom_channels: dict[str, str] | None = None,
):
    """
    Write ``prefix\\.condarc`` (the installation's own configuration), as
    :func:`tfprov.operations.conda.condarc` does on Linux: channels in priority order
    (default the ``conda_channels`` source), an optional ``channel_alias`` (default the
    ``conda_channel_alias`` source) and ``custom_channels``, strict channel priority and no
    conda self-update.  Written as UTF-8 without BOM, LF line ends; nothing is done when the
    file's sha256 (WinFileSha256 fact) is that of the wanted text.
    """
    import hashlib

    src = sources_for(host.data)
    prefix = _conda_prefix(prefix)
    channels = list(channels if channels is not None else src["conda_channels"] or [])
    if not channels or not all(isinstance(c, str) and c.strip() for c in channels):
        raise OperationValueError(f"channels must be a non-empty list of names: {channels!r}")
    text = condarc_text(channels, channel_alias or src["conda_channel_alias"], custom_channels)
    text = text.replace("tfprov.operations.conda.condarc", "tfprov.operations.windows.condarc")
    dest = f"{prefix}\\.condarc"
    if host.get_fact(WinFileSha256, path=dest) == hashlib.sha256(text.encode()).hexdigest():
        host.noop(f"{dest} is up to date")
        return
    yield script(
        f"[IO.File]::WriteAllText({ps_quote(dest)}, {ps_quote(text)},"
        " (New-Object Text.UTF8Encoding $false))"
    )


def _pip_index_args(pip_index_url: str | None, src: dict) -> list[str]:
    args = ["--no-input", "--disable-pip-version-check"]
    if src.get("pip_no_index"):
        args.append("--no-index")
    elif pip_index_url or src.get("pip_index_url"):
        args += ["--index-url", pip_index_url or src["pip_index_url"]]
    if src.get("pip_extra_index_url") and not src.get("pip_no_index"):
        args += ["--extra-index-url", src["pip_extra_index_url"]]
    if src.get("pip_find_links"):
        args += ["--find-links", src["pip_find_links"]]
    return args


@operation()
def conda_env(
    prefix: str,
    *,
    env_name: str,
    python: str,
    conda_packages: list[str] | None = None,
    pip_packages: list[str] | None = None,
    pip_index_url: str | None = None,
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
    + pip_index_url: pip's index; default the ``pip_index_url`` source (``pip_no_index``,
      ``pip_extra_index_url`` and ``pip_find_links`` sources apply too)

    State comes from the WinCondaEnvPackages fact (``conda list -p ENV --json``).
    """
    src = sources_for(host.data)
    prefix = _conda_prefix(prefix)
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
    lines = [INVOKE_NATIVE]
    if recreate:
        lines += [
            _native(conda, ["remove", "-y", "-q", "-p", env, "--all"]),
            f"if (Test-Path -LiteralPath {ps_quote(env)}) "
            f"{{ Remove-Item -LiteralPath {ps_quote(env)} -Recurse -Force }}",
        ]
    if fresh:
        lines.append(_native(conda, ["create", "-y", "-q", "-p", env, *conda_specs]))
    elif conda_missing:
        lines.append(_native(conda, ["install", "-y", "-q", "-p", env, *conda_specs]))
    if pip_missing:
        lines.append(
            _native(
                f"{env}\\python.exe",
                ["-m", "pip", "install", *_pip_index_args(pip_index_url, src), *pip_missing],
            )
        )
    yield script(*lines)


# -- TensorFlow ------------------------------------------------------------------------------


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
    companions = _COMPANIONS.get(want, set())
    present = [p for p in CONFLICTING if p in have]
    others = [p for p in present if p != want and p not in companions]
    health = host.get_fact(WinPipHealth, python_exe=python_exe) or {}
    problems = env_problems(health)
    if problems and not repair:
        raise broken_env_error(python_exe, problems)
    installed = have.get(want) is not None and _vkey(have[want]) == _vkey(version)
    if installed and not others and not problems:
        host.noop(f"{want} {have[want]} is installed for {python_exe}")
        return
    lines = [INVOKE_NATIVE]
    if health.get("pip_error"):
        lines.append(_native(python_exe, ["-m", "ensurepip", "--upgrade"]))
    if others:
        lines.append(_native(python_exe, ["-m", "pip", "uninstall", "-y", *present]))
    # only the env broken: the planned requirement is kept (installed) and resolved again
    target = f"{package}=={version}" if installed and not others else requirement
    lines.append(
        _native(
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
        lines.append(_native(python_exe, ["-m", "pip", "check"]))
    yield script(*lines)


@operation()
def remove_tensorflow(python_exe: str, packages: list[str] | None = None):
    """
    Uninstall TensorFlow distributions from the environment of ``python_exe`` (clean-up on
    request).

    + python_exe: the environment's interpreter
    + packages: the distributions; default every one in :data:`CONFLICTING`

    Only those the WinPipPackages fact shows are uninstalled; nothing is done when none is.
    """
    if not re.match(r"^[A-Za-z]:\\", python_exe or ""):
        raise OperationValueError(f"python_exe must be an absolute Windows path: {python_exe!r}")
    have = host.get_fact(WinPipPackages, python_exe=python_exe) or {}
    present = [p for p in (packages or CONFLICTING) if _pip_norm(p) in have]
    if not present:
        host.noop(f"no TensorFlow distribution is installed for {python_exe}")
        return
    yield script(INVOKE_NATIVE, _native(python_exe, ["-m", "pip", "uninstall", "-y", *present]))


# -- reboot ----------------------------------------------------------------------------------


@operation()
def reboot_if_needed(allow_reboot: bool = False):
    """
    Reboot (``Restart-Computer -Force``) when the WinSystem fact says a reboot is pending and
    ``allow_reboot`` is set; otherwise nothing, with the noop text ``reboot required: …``.
    Never reboots the machine pyinfra runs on.  The connection drops with the reboot: the
    connector must reconnect (pyinfra's ``server.reboot`` waiting is Linux-only).
    """
    system = host.get_fact(WinSystem) or {}
    if not system.get("pending_reboot"):
        host.noop("no reboot pending")
        return
    if not allow_reboot:
        host.noop("reboot required: a reboot is pending (allow_reboot is off)")
        return
    if runs_here():
        host.noop(
            "reboot required: a reboot is pending (not rebooting the machine pyinfra runs on)"
        )
        return
    yield script("Restart-Computer -Force")


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
    path = _win_path(path, "path")
    problem = env_name_problem(ntpath.basename(path))
    if problem:
        raise OperationValueError(f"not a venv path for tfprov ({path!r}): {problem}")
    env_python = ntpath.join(path, "Scripts", "python.exe")
    exists = host.get_fact(WinFileExists, path=env_python)
    lines = []
    if not exists:
        lines.append(INVOKE_NATIVE)
        lines.append(_native(python_exe, ["-m", "venv", path]))
    if pip_config is not None:
        ini = ntpath.join(path, "pip.ini")
        want = hashlib.sha256(pip_config.encode("utf-8")).hexdigest()
        if not exists or host.get_fact(WinFileSha256, path=ini) != want:
            lines.append(
                f"[IO.File]::WriteAllText({ps_quote(ini)}, {ps_quote(pip_config)}, "
                "(New-Object System.Text.UTF8Encoding $false))"
            )
    if not lines:
        host.noop(f"venv {path} exists with its pip.ini")
        return
    yield script(*lines)
