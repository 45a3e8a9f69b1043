"""NVIDIA driver facts: the loaded kernel module, nouveau, Secure Boot, kernel headers.

What decides whether (and how) a driver can be installed or is working: the kernel
module's version is the authoritative driver version (userspace can differ until a
reboot), nouveau must be out of the way, unsigned DKMS modules do not load under Secure
Boot, and DKMS needs the running kernel's headers.
"""

from __future__ import annotations

import re

from tfprov.facts.base import TfprovFact

PROC_VERSION = "/proc/driver/nvidia/version"
SECURE_BOOT_EFIVAR = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

_VERSION = re.compile(r"\b(\d+\.\d+(?:\.\d+)*)\b")


def parse_driver_version(lines: list[str]) -> dict | None:
    """Parse ``/proc/driver/nvidia/version``.

    Handles the proprietary module (``NVRM version: NVIDIA UNIX x86_64 Kernel Module
    535.104.05  <build date>``), the open one (``NVRM version: NVIDIA UNIX Open Kernel Module
    for x86_64  525.60.11  Release Build  (builder@host)  <date>``; the date may be missing),
    any architecture (x86_64, aarch64, 32-bit ``x86``) and any number of version parts.

    Returns ``{"version", "kernel_module": "proprietary" | "open"}``, or None when there
    is no ``NVRM version:`` line.  On Jetson (L4T) the version is the L4T release, e.g.
    ``35.3.1``.
    """
    for line in lines:
        line = line.strip()
        if not line.startswith("NVRM version:"):
            continue
        rest = line.removeprefix("NVRM version:")
        module = rest.split("Kernel Module", 1)
        m = _VERSION.search(module[1] if len(module) == 2 else rest)
        if not m:
            return None
        flavor = "open" if re.search(r"\bOpen Kernel Module\b", rest) else "proprietary"
        return {"version": m.group(1), "kernel_module": flavor}
    return None


class DriverVersion(TfprovFact):
    """
    The loaded NVIDIA kernel module, from ``/proc/driver/nvidia/version``::

        {"version": "535.104.05", "kernel_module": "proprietary"}   # or "open"

    This is the driver that is running; nvidia-smi's "Driver Version" comes from the
    userspace library and differs after an upgrade until a reboot ("version mismatch").

    + default: ``None`` where no NVIDIA kernel module is loaded

    .. code:: python

        from tfprov.facts.nvidia import DriverVersion
        drv = host.get_fact(DriverVersion)
        if drv and drv["kernel_module"] == "open":
            ...  # Turing or newer only; Maxwell/Pascal/Volta need the proprietary module
    """

    @staticmethod
    def default() -> None:
        return None

    def command(self) -> str:
        return f"cat {PROC_VERSION} 2>/dev/null || true"

    def process(self, output: list[str]) -> dict | None:
        return parse_driver_version(output)


def parse_nouveau(lines: list[str]) -> bool:
    """True if a ``/proc/modules`` line is the nouveau module."""
    return any(line.split(" ", 1)[0] == "nouveau" for line in lines if line.strip())


class NouveauLoaded(TfprovFact):
    """
    Whether the nouveau kernel module is loaded (``/proc/modules``): the NVIDIA driver
    will not load next to it, so it must be blacklisted and the initramfs rebuilt.

    + default: ``False`` (nothing printed: not loaded, or no /proc/modules)

    .. code:: python

        from tfprov.facts.nvidia import NouveauLoaded
        if host.get_fact(NouveauLoaded):
            ...  # blacklist nouveau, update the initramfs, reboot before installing
    """

    @staticmethod
    def default() -> bool:
        return False

    def command(self) -> str:
        return "grep '^nouveau ' /proc/modules 2>/dev/null || true"

    def process(self, output: list[str]) -> bool:
        return parse_nouveau(output)


def parse_secure_boot(lines: list[str]) -> str:
    """Parse what :class:`SecureBoot`'s command prints.

    ``mokutil --sb-state``: ``SecureBoot enabled`` / ``SecureBoot disabled`` (possibly
    followed by ``Platform is in Setup Mode``); its "EFI variables are not supported on
    this system" / "This system doesn't support Secure Boot" mean no UEFI (legacy BIOS
    boot, or a VM/container without EFI variables).  Without mokutil, the line
    ``efivar SecureBoot: N`` carries the variable's data byte (1 enabled, 0 disabled);
    ``no EFI`` / ``EFI without SecureBoot variable`` mean there is nothing to read.

    Returns ``"enabled"``, ``"disabled"`` or ``"unknown"``.
    """
    for line in lines:
        low = line.strip().lower()
        if low.startswith("secureboot enabled"):
            return "enabled"
        if low.startswith("secureboot disabled"):
            return "disabled"
        m = re.match(r"^efivar secureboot:\s*(\d+)$", low)
        if m:
            return {"1": "enabled", "0": "disabled"}.get(m.group(1), "unknown")
    return "unknown"


class SecureBoot(TfprovFact):
    """
    The UEFI Secure Boot state: ``"enabled"``, ``"disabled"`` or ``"unknown"``.

    From ``mokutil --sb-state`` where mokutil is installed, else from the EFI variable
    ``SecureBoot-8be4df61-...`` (its 5th byte; the first four are attributes).
    ``"unknown"`` where neither says: no mokutil and no readable variable, or no UEFI at
    all — a legacy-BIOS boot, where Secure Boot is not in play; ``"disabled"`` only when
    the firmware says so.  Under ``"enabled"`` a DKMS-built NVIDIA module loads only
    once it is signed with a key enrolled in the MOK list.

    + default: ``"unknown"``

    .. code:: python

        from tfprov.facts.nvidia import SecureBoot
        if host.get_fact(SecureBoot) == "enabled":
            ...  # plan MOK enrolment (needs someone at the console on reboot)
    """

    @staticmethod
    def default() -> str:
        return "unknown"

    def command(self) -> str:
        var = SECURE_BOOT_EFIVAR
        return (
            "if command -v mokutil >/dev/null 2>&1; then mokutil --sb-state 2>&1; "
            f"elif [ -r {var} ]; then printf 'efivar SecureBoot: '; "
            f"od -An -t u1 -j4 -N1 {var}; "
            "elif [ -d /sys/firmware/efi ]; then echo 'EFI without SecureBoot variable'; "
            "else echo 'no EFI'; fi; true"
        )

    def process(self, output: list[str]) -> str:
        return parse_secure_boot(output)


def parse_kernel_headers(lines: list[str]) -> dict:
    """Parse ``kernel <uname -r>`` and ``headers <path>`` / ``headers missing`` lines into
    ``{"kernel", "installed"}``; ``{}`` when there is neither."""
    if not any(line.strip() for line in lines):
        return {}
    kernel = None
    installed = False
    for line in lines:
        key, _, value = line.strip().partition(" ")
        if key == "kernel":
            kernel = value.strip() or None
        elif key == "headers":
            installed = value.strip() not in ("", "missing")
    return {"kernel": kernel, "installed": installed}


class KernelHeaders(TfprovFact):
    """
    Whether the running kernel's headers are installed (DKMS builds the NVIDIA module
    against them)::

        {"kernel": "6.8.0-49-generic", "installed": True}

    ``installed`` is true when ``/lib/modules/$(uname -r)/build`` resolves (Debian,
    Ubuntu, Arch, SUSE: a dangling ``build`` link means the headers package is missing)
    or ``/usr/src/kernels/$(uname -r)`` exists (RHEL, Fedora).

    + default: ``{}``

    .. code:: python

        from tfprov.facts.nvidia import KernelHeaders
        hdr = host.get_fact(KernelHeaders)
        if not hdr.get("installed"):
            ...  # apt install linux-headers-{kernel} / dnf install kernel-devel-{kernel}
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return (
            '_tf_k=$(uname -r); echo "kernel $_tf_k"; '
            'if [ -e "/lib/modules/$_tf_k/build" ]; then echo "headers /lib/modules/$_tf_k/build"; '
            'elif [ -e "/usr/src/kernels/$_tf_k" ]; then echo "headers /usr/src/kernels/$_tf_k"; '
            "else echo 'headers missing'; fi"
        )

    def process(self, output: list[str]) -> dict:
        return parse_kernel_headers(output)
