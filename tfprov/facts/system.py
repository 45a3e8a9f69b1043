"""Operating-system facts pyinfra does not have: WSL detection, the C library (and macOS
version) that decides which wheels pip can install, and the Windows system
(:class:`WinSystem`: build, edition, WSL availability, a pending reboot).

Hostname, kernel, architecture and distribution come from pyinfra's own
``pyinfra.facts.server`` facts (``Hostname``, ``Kernel``, ``Arch``, ``LinuxDistribution``).
"""

from __future__ import annotations

import re

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact, as_list, first_json, leading_int, parse_wmi_records


def parse_wsl(lines: list[str]) -> dict:
    """``/proc/sys/kernel/osrelease`` (first line) and ``$WSL_DISTRO_NAME`` (second line).

    WSL 2 kernels are named like ``5.15.153.1-microsoft-standard-WSL2``; WSL 1 reports the
    Windows build with ``-Microsoft`` (e.g. ``4.4.0-19041-Microsoft``).

    WSL 1 is told apart by its capitalised ``Microsoft`` (its pseudo-kernel always carries
    it); every other match is a real Linux kernel, hence WSL 2, including custom WSL 2
    kernels such as ``5.8.0-rc1-next-20200618-microsoft-cbl`` or ``5.15.68.1-custom-WSL2+``.
    """
    release = lines[0].strip() if lines else ""
    distro = lines[1].strip() if len(lines) > 1 and lines[1].strip() else None
    low = release.lower()
    if "microsoft" not in low and "wsl" not in low:
        return {"wsl": False, "version": None, "distro": None, "kernel": release or None}
    version = 1 if ("Microsoft" in release and "wsl2" not in low) else 2
    return {"wsl": True, "version": version, "distro": distro, "kernel": release}


class Wsl(TfprovFact):
    """
    Whether this Linux runs under Windows Subsystem for Linux, and which version:
    ``{"wsl": bool, "version": 1 | 2 | None, "distro": "<WSL_DISTRO_NAME>" | None,
    "kernel": "<kernel release>"}``.  Under WSL 2 the NVIDIA driver is the Windows host's.

    + default: ``{"wsl": False, ...}``

    .. code:: python

        from tfprov.facts.system import Wsl
        if host.get_fact(Wsl)["wsl"]:
            ...  # never install a Linux NVIDIA driver inside WSL
    """

    @staticmethod
    def default() -> dict:
        return {"wsl": False, "version": None, "distro": None, "kernel": None}

    def command(self) -> str:
        return 'cat /proc/sys/kernel/osrelease 2>/dev/null || uname -r; echo "${WSL_DISTRO_NAME:-}"'

    def process(self, output: list[str]) -> dict:
        return parse_wsl(output)


# --- Windows ----------------------------------------------------------------------------

WIN_SYSTEM_SCRIPT = (
    ps.OBSERVE_PRELUDE + "$os = Get-CimInstance -ClassName Win32_OperatingSystem\n"
    "$cv = Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'\n"
    "$wslExit = $null\n"
    "if (Get-Command -Name 'wsl.exe' -CommandType Application) {\n"
    "  $null = & wsl.exe '--status' 2>&1\n"
    "  $wslExit = $LASTEXITCODE\n"
    "}\n"
    "$feature = Get-CimInstance -ClassName Win32_OptionalFeature "
    "-Filter \"Name='Microsoft-Windows-Subsystem-Linux'\"\n"
    "$reasons = @()\n"
    "if (Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component"
    " Based "
    "Servicing\\RebootPending') { $reasons += 'cbs' }\n"
    "if (Test-Path -LiteralPath"
    " 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto "
    "Update\\RebootRequired') { $reasons += 'windows-update' }\n"
    "$sm = Get-ItemProperty -LiteralPath 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session"
    " Manager' "
    "-Name 'PendingFileRenameOperations'\n"
    "if ($sm -and $sm.PendingFileRenameOperations) { $reasons += 'file-rename' }\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject ([ordered]@{\n"
    "  caption = $os.Caption; version = $os.Version; build = $os.BuildNumber;\n"
    "  os_arch = $os.OSArchitecture; edition = $cv.EditionID; display_version ="
    " $cv.DisplayVersion;\n"
    "  wsl_status_exit = $wslExit; wsl_feature_state = $feature.InstallState;\n"
    "  reboot_reasons = $reasons; hostname = $env:COMPUTERNAME })\n"
)


def parse_win_system(lines: list[str]) -> dict:
    """Parse :class:`WinSystem`'s JSON, or ``Win32_OperatingSystem`` as Format-List /
    wmic list text, into ``{"build": int, "version", "edition", "wsl_available",
    "pending_reboot"}`` (``{}`` without a version or build).

    ``wsl_available``: ``wsl.exe --status`` exited 0, or the optional feature
    Microsoft-Windows-Subsystem-Linux is enabled (Win32_OptionalFeature InstallState 1).
    ``pending_reboot``: any of CBS RebootPending, Windows Update RebootRequired,
    Session Manager PendingFileRenameOperations.  The text forms know neither: False.
    """
    data = first_json(lines)
    if not isinstance(data, dict):
        recs = parse_wmi_records(lines)
        data = {k.lower(): v for k, v in (recs[0] if recs else {}).items()}
        data["build"] = data.pop("buildnumber", None)
    build = leading_int(data.get("build"))
    version = data.get("version")
    if build is None and version:
        m = re.match(r"^\d+\.\d+\.(\d+)", str(version))
        build = int(m.group(1)) if m else None
    if build is None and not version:
        return {}
    return {
        "build": build,
        "version": str(version) if version else None,
        "edition": data.get("edition") or data.get("caption"),
        "wsl_available": data.get("wsl_status_exit") == 0
        or leading_int(data.get("wsl_feature_state")) == 1,
        "pending_reboot": bool(as_list(data.get("reboot_reasons"))),
    }


class WinSystem(TfprovFact):
    """
    The Windows system: ``{"build": 22631, "version": "10.0.22631", "edition":
    "Professional", "wsl_available": bool, "pending_reboot": bool}`` (see
    :func:`parse_win_system`).

    + default: ``{}``
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return WIN_SYSTEM_SCRIPT

    def process(self, output: list[str]) -> dict:
        return parse_win_system(output)


def windows_distro(build: int | None) -> str | None:
    """'Windows 11' from build 22000 on, else 'Windows 10' (older Windows is 'Windows 10'
    too: tfprov targets nothing older)."""
    if build is None:
        return None
    return "Windows 11" if build >= 22000 else "Windows 10"


# --- the C library ----------------------------------------------------------------------

_GETCONF_GLIBC = re.compile(r"^glibc (\d+\.\d+)")
_LDD_GLIBC = re.compile(r"^ldd \(.*(?:GNU libc|GLIBC).*\) (\d+\.\d+)")
_MUSL_VERSION = re.compile(r"^Version (\d+\.\d+(?:\.\d+)?)")
_MACOS_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+)?$")


def parse_c_library(lines: list[str]) -> dict:
    """``getconf GNU_LIBC_VERSION`` (``glibc 2.36``), the first lines of ``ldd --version``
    (glibc: ``ldd (Debian GLIBC 2.36-9+deb12u14) 2.36``; musl's loader: ``musl libc
    (x86_64)`` then ``Version 1.2.3``) and ``sw_vers -productVersion`` (macOS: ``14.4.1``)
    into ``{"libc": "glibc" | "musl" | None, "version", "macos"}``."""
    out = {"libc": None, "version": None, "macos": None}
    musl = False
    for raw in lines:
        line = raw.strip()
        m = _GETCONF_GLIBC.match(line) or _LDD_GLIBC.match(line)
        if m and out["libc"] is None:
            out["libc"], out["version"] = "glibc", m.group(1)
        elif line.startswith("musl libc"):
            musl = True
            out["libc"] = "musl"
        elif musl and (m := _MUSL_VERSION.match(line)) and out["version"] is None:
            out["version"] = m.group(1)
        elif _MACOS_VERSION.match(line):
            out["macos"] = line
    return out


class CLibrary(TfprovFact):
    """
    The C library wheels are built against, and the macOS version: ``{"libc": "glibc" |
    "musl" | None, "version": "2.36" | None, "macos": "14.4.1" | None}``.  pip installs a
    ``manylinux_2_27`` wheel only where glibc is 2.27 or newer, none on musl, and a
    ``macosx_12_0`` wheel only from macOS 12.0 on.

    + default: all None (unknown)

    .. code:: python

        from tfprov.facts.system import CLibrary
        libc = host.get_fact(CLibrary)  # {"libc": "glibc", "version": "2.36", "macos": None}
    """

    @staticmethod
    def default() -> dict:
        return {"libc": None, "version": None, "macos": None}

    def command(self) -> str:
        return (
            "getconf GNU_LIBC_VERSION 2>/dev/null; ldd --version 2>&1 | head -n 2; "
            "sw_vers -productVersion 2>/dev/null; true"
        )

    def process(self, output: list[str]) -> dict:
        return parse_c_library(output)


# -- Windows -------------------------------------------------------------------------------


class WinMachineEnv(TfprovFact):
    """A machine environment variable as ``[Environment]::GetEnvironmentVariable(NAME,
    'Machine')`` returns it, or None when it is not set."""

    @staticmethod
    def default() -> None:
        return None

    def command(self, variable: str) -> str:
        return (
            f"$v = [Environment]::GetEnvironmentVariable({ps.quote(variable)}, 'Machine')\n"
            "if ($null -ne $v) { 'value=' + $v }"
        )

    def process(self, output: list[str]) -> str | None:
        text = "\n".join(output)
        return text[len("value=") :] if text.startswith("value=") else None
