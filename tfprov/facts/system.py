"""Operating-system facts pyinfra does not have: WSL detection.

Hostname, kernel, architecture and distribution come from pyinfra's own
``pyinfra.facts.server`` facts (``Hostname``, ``Kernel``, ``Arch``, ``LinuxDistribution``).
"""

from __future__ import annotations

from .base import TfprovFact


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
