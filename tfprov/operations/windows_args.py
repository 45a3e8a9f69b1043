"""Argument checks and installer launch lines shared by the Windows operations."""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version
from pyinfra.api import OperationValueError

from tfprov import powershell as ps

_XY = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)*$")


def run_installer(arguments: str) -> str:
    return f"$p = Start-Process -FilePath $file -ArgumentList {ps.quote(arguments)} -Wait -PassThru"


def win_path(path: str, what: str) -> str:
    path = path.rstrip("\\")
    if not re.match(r"^[A-Za-z]:\\", path):
        raise OperationValueError(
            f"{what} must be an absolute Windows path (C:\\...), not {path!r}"
        )
    return path


def xy_of(version: str, what: str) -> str:
    m = _XY.match(str(version).strip())
    if not m:
        raise OperationValueError(f'{what} must look like "12.4" or "12.4.1", got {version!r}')
    return f"{m[1]}.{m[2]}"


def vkey(version: str) -> Version | None:
    try:
        return Version(str(version))
    except InvalidVersion:
        return None


def reboot_lines(allow_reboot: bool, what: str) -> list[str]:
    """After an installer: exit code 1 (NVIDIA) or 3010 means installed, reboot pending."""
    lines = [
        "$code = $p.ExitCode",
        "Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue",
        "if ($code -eq 1 -or $code -eq 3010) {",
        f"    Write-Output ('tfprov: reboot required: ' + {ps.quote(what)}"
        " + ' (installer exit code ' + $code + ')')",
    ]
    if allow_reboot:
        lines.append("    Restart-Computer -Force")
    lines += [
        "    exit 0",
        "}",
        "if ($code -ne 0) {",
        f"    [Console]::Error.WriteLine('tfprov: ' + {ps.quote(what)}"
        " + ' failed, installer exit code ' + $code)",
        "    exit $code",
        "}",
    ]
    return lines
