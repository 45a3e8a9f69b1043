"""The NVIDIA display driver on Windows: the lab-pinned installer, checked against its
sha256, run silently (``-s -noreboot``).  Exit code 1 is success with a reboot pending
(Chocolatey's ``geforce-game-ready-driver`` package, AeliusSaionji/chocopkgs
``tools/chocolateyInstall.ps1``: ``silentArgs '-s -noreboot'``, ``validExitCodes @(0,1)``;
winget manifest review in pl4nty/winget-extras PR #4: ``InstallerSuccessCodes: [1]``
"found after sandbox testing"); 3010 is Windows' ERROR_SUCCESS_REBOOT_REQUIRED.

Every command is PowerShell text (:mod:`tfprov.powershell`: Windows PowerShell 5.1 and
PowerShell 7); values go into scripts only as single-quoted literals.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import OperationError, OperationValueError, operation

from tfprov import powershell as ps
from tfprov.facts.gpu import WinGpus
from tfprov.operations.driver import runs_here
from tfprov.operations.windows_args import reboot_lines, run_installer, vkey


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
    want = vkey(version)
    if want is None:
        raise OperationValueError(f'driver version must look like "551.61", got {version!r}')
    sha256 = ps.checked_sha256(sha256, f"the NVIDIA driver installer {installer_url}")
    gpus = list(host.get_fact(WinGpus) or [])
    if not gpus:
        raise OperationError("no NVIDIA GPU found (WinGpus): not installing an NVIDIA driver")
    have = [g.get("driver_version") for g in gpus]
    keys = [vkey(h) if h else None for h in have]
    if all(k is not None and k >= want for k in keys):
        host.noop(f"NVIDIA driver {min(keys)} is installed (>= {version})")
        return
    reboot = allow_reboot and not runs_here()
    yield ps.script(
        *ps.fetch_verified(installer_url, sha256, "nvidia-driver.exe"),
        run_installer("-s -noreboot"),
        *reboot_lines(reboot, f"NVIDIA driver {version}"),
    )
