"""CUDA toolkits on Windows, side by side: the pinned installer with ``-s`` plus subpackage
names ``<name>_<X.Y>`` (NVIDIA, "CUDA Installation Guide for Microsoft Windows", Silent
Installation, table "Possible Subpackage Names"); listing subpackages keeps the bundled
``Display.Driver`` out.  See :func:`cuda_components` for the names per version.
"""

from __future__ import annotations

import re

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from tfprov import powershell as ps
from tfprov.facts.cuda import WinCudaToolkits
from tfprov.operations.windows_args import run_installer, xy_of

CUDA_ROOT = r"C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA"


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
    xy = xy_of(version, "CUDA version")
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


def installed_toolkit(found: list[dict] | None, xy: str) -> dict | None:
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
    xy = xy_of(version, "CUDA version")
    names = cuda_components(version, components)
    sha256 = ps.checked_sha256(sha256, f"the CUDA installer {installer_url}")
    have = installed_toolkit(host.get_fact(WinCudaToolkits), xy)
    if have:
        host.noop(f"CUDA {xy} is installed ({have.get('path')})")
        return
    root = f"{CUDA_ROOT}\\v{xy}"
    check = root + ("\\bin\\nvcc.exe" if f"nvcc_{xy}" in names else "")
    yield ps.script(
        *ps.fetch_verified(installer_url, sha256, "cuda-installer.exe"),
        run_installer(" ".join(["-s", *names])),
        "$code = $p.ExitCode",
        "Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue",
        "if ($code -ne 0 -and $code -ne 3010) {",
        f"    [Console]::Error.WriteLine('tfprov: CUDA {xy} installer exit code ' + $code)",
        "    exit $code",
        "}",
        f"if (-not (Test-Path -LiteralPath {ps.quote(check)})) {{",
        f"    throw {ps.quote(f'CUDA {xy} installer succeeded but {check} is missing')}",
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
    xy = xy_of(version, "CUDA version")
    have = installed_toolkit(host.get_fact(WinCudaToolkits), xy)
    if not have:
        host.noop(f"CUDA {xy} is not installed")
        return
    root = have.get("path") or f"{CUDA_ROOT}\\v{xy}"
    var = "CUDA_PATH_V" + xy.replace(".", "_")
    pattern = r"UninstallPackage\s+(\S+_" + re.escape(xy) + r")\s*$"
    yield ps.script(
        "$roots = @(",
        "    'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall',",
        "    'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall'",
        ")",
        "$entries = Get-ChildItem -Path $roots -ErrorAction SilentlyContinue |",
        "    ForEach-Object { Get-ItemProperty -LiteralPath $_.PSPath } |",
        f"    Where-Object {{ $_.UninstallString -match {ps.quote(pattern)} }}",
        "foreach ($e in $entries) {",
        "    $rdArgs = ($e.UninstallString -replace '^\\s*\"[^\"]+\"\\s*', '') + ' -silent'",
        "    $p = Start-Process -FilePath (Join-Path $env:SystemRoot 'SysWOW64\\RunDll32.exe')"
        " -ArgumentList $rdArgs -Wait -PassThru",
        "    if ($p.ExitCode -ne 0) {",
        "        throw ('uninstalling ' + $e.DisplayName + ' failed: exit code ' + $p.ExitCode)",
        "    }",
        "}",
        f"if (Test-Path -LiteralPath {ps.quote(root)}) {{",
        f"    Remove-Item -LiteralPath {ps.quote(root)} -Recurse -Force",
        "}",
        f"[Environment]::SetEnvironmentVariable({ps.quote(var)}, $null, 'Machine')",
    )
