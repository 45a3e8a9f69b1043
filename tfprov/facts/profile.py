"""The whole host profile in one remote command: :class:`HostProbe` (POSIX sh) and
:class:`WinHostProbe` (PowerShell).

pyinfra runs every fact as its own round trip; probing a host fact by fact would cost
one SSH command per fact.  Each profile fact concatenates the commands of the subject
modules' facts (each behind a :data:`~tfprov.facts.base.MARKER` line), runs them as one
command, splits the output with :func:`~tfprov.facts.base.split_sections` and hands each
section to that subject's own parser — one copy of every parser.  The profile holds what
the host reports; what follows from it (a GPU's compute capability from its name) is the
resolver's.
"""

from __future__ import annotations

from pyinfra.api import FactBase
from pyinfra.facts.server import Arch, Hostname, Kernel, LinuxDistribution

from tfprov import powershell as ps
from tfprov.facts.base import MARKER, TfprovFact, split_sections
from tfprov.facts.conda import WIN_CONDA_SCRIPT, Conda, parse_win_conda
from tfprov.facts.cpu import WIN_CPU_SCRIPT, CpuFeatures, parse_win_processor
from tfprov.facts.cuda import (
    WIN_CUDA_SCRIPT,
    WIN_CUDNN_SCRIPT,
    CudaToolkits,
    Cudnn,
    parse_win_cuda_toolkits,
    parse_win_cudnn,
)
from tfprov.facts.gpu import WIN_GPU_SCRIPT, NvidiaSmiGpus, PciNvidiaGpus, parse_win_gpu_probe
from tfprov.facts.nvidia import DriverVersion, KernelHeaders, NouveauLoaded, SecureBoot
from tfprov.facts.python import WIN_PYTHONS_SCRIPT, Pythons, parse_win_pythons
from tfprov.facts.system import WIN_SYSTEM_SCRIPT, CLibrary, Wsl, parse_win_system, windows_distro
from tfprov.facts.tensorflow import Installed

__all__ = ["MARKER", "HostProbe", "WinHostProbe", "split_sections"]

# (section key, fact) in the order they run on the host.
SECTIONS: tuple[tuple[str, FactBase], ...] = (
    ("hostname", Hostname()),
    ("kernel", Kernel()),
    ("arch", Arch()),
    ("distribution", LinuxDistribution()),
    ("wsl", Wsl()),
    ("libc", CLibrary()),
    ("cpu", CpuFeatures()),
    ("nvidia_smi", NvidiaSmiGpus()),
    ("pci_gpus", PciNvidiaGpus()),
    ("driver", DriverVersion()),
    ("nouveau", NouveauLoaded()),
    ("secure_boot", SecureBoot()),
    ("kernel_headers", KernelHeaders()),
    ("cuda_toolkits", CudaToolkits()),
    ("cudnn", Cudnn()),
    ("pythons", Pythons()),
    ("conda", Conda()),
    ("tensorflow", Installed()),
)


def combined_command(sections=SECTIONS) -> str:
    """One POSIX sh command that prints every section behind its marker line."""
    parts = []
    for key, fact in sections:
        parts.append(f"echo '{MARKER}{key}'; ( {fact.command()} ) 2>/dev/null")
    return "; ".join(parts) + "; true"


def parse_sections(lines: list[str], parsers) -> dict:
    """``{key: parse(section lines)}`` for each ``(key, parse, default)`` of *parsers*, or
    ``default()`` where the section printed nothing (both profile facts)."""
    raw = split_sections(lines)
    data = {}
    for key, parse, default in parsers:
        text = raw.get(key, [])
        data[key] = parse(text) if any(t.strip() for t in text) else default()
    return data


def process_sections(lines: list[str], sections=SECTIONS) -> dict:
    """Each section's lines through its own fact's ``process`` (``default()`` if empty)."""
    return parse_sections(lines, [(key, fact.process, fact.default) for key, fact in sections])


def profile_from_facts(facts: dict) -> dict:
    """Build the host profile JSON (see :mod:`tfprov.model.profile`) from the section facts."""
    kernel = (facts.get("kernel") or "").strip().lower()
    family = {"linux": "linux", "darwin": "darwin"}.get(kernel, kernel or "linux")
    dist = facts.get("distribution") or {}
    meta = dist.get("release_meta") or {}
    cpu = facts.get("cpu") or {}
    arch = (facts.get("arch") or cpu.get("arch") or "").strip() or "x86_64"

    smi = facts.get("nvidia_smi") or []
    smi_error = next((g["error"] for g in smi if g.get("error")), None)
    gpus = []
    for g in smi:
        if g.get("error"):
            continue
        gpus.append(
            {
                "name": g["name"],
                "compute_capability": g.get("compute_capability"),
                "memory_mib": g.get("memory_mib"),
            }
        )
    if not gpus:  # no usable nvidia-smi: what the PCI bus shows (a GPU without a driver)
        for p in facts.get("pci_gpus") or []:
            gpus.append(
                {
                    "name": p.get("name") or f"NVIDIA {p.get('device_id')}",
                    "compute_capability": None,
                    "memory_mib": None,
                    "pci_device_id": p.get("device_id"),
                }
            )
    driver = facts.get("driver") or {}
    driver_version = driver.get("version") or next(
        (g.get("driver_version") for g in smi if g.get("driver_version")), None
    )

    wsl = facts.get("wsl") or {}
    libc = facts.get("libc") or {}
    version = meta.get("VERSION_ID") or (
        f"{dist['major']}" + (f".{dist['minor']}" if dist.get("minor") is not None else "")
        if dist.get("major") is not None
        else None
    )
    if family == "darwin":
        version = libc.get("macos") or version
    return {
        "hostname": (facts.get("hostname") or "").strip() or "unknown",
        "os": {
            "family": family,
            "distro": (meta.get("ID") or dist.get("name") or "").lower() or None,
            "version": version,
            "arch": arch,
            "wsl": bool(wsl.get("wsl")),
        },
        "cpu": {
            "vendor": cpu.get("vendor"),
            "model": cpu.get("model"),
            "flags": cpu.get("flags") or [],
        },
        "gpus": gpus,
        "nvidia_driver": driver_version,
        "driver_error": smi_error,
        "libc": {"name": libc["libc"], "version": libc.get("version")}
        if libc.get("libc")
        else None,
        **software_part(facts),
    }


_PYTHON_KEYS = ("version", "path", "distro_package", "venv", "venv_package")


def software_part(facts: dict) -> dict:
    """The profile's software keys (CUDA, cuDNN, Pythons, conda, raw probe) from the section
    facts — the same on every OS, so both profiles share it."""
    cudnn = facts.get("cudnn")
    conda = facts.get("conda") or {}
    inst = (conda.get("installations") or [None])[0]
    return {
        "cuda_toolkits": [
            {"version": t["version"], "path": t.get("path")}
            for t in facts.get("cuda_toolkits") or []
        ],
        "cudnn": {"version": cudnn["version"], "path": cudnn.get("path")} if cudnn else None,
        "pythons": [
            {k: v for k, v in p.items() if k in _PYTHON_KEYS} for p in facts.get("pythons") or []
        ],
        "conda": {
            "version": inst.get("version"),
            "prefix": inst.get("prefix"),
            "envs": [e.get("name") for e in inst.get("envs") or [] if e.get("name")],
        }
        if inst
        else None,
        "probe": facts,
    }


class HostProbe(FactBase):
    """
    Everything tfprov's resolver needs about a host, in ONE remote command: the host
    profile JSON of :mod:`tfprov.model.profile` (``hostname``, ``os``, ``cpu``, ``gpus``,
    ``nvidia_driver``, ``cuda_toolkits``, ``cudnn``, ``pythons``, ``conda``, ``libc``), plus
    ``driver_error`` (nvidia-smi cannot talk to the driver) and ``probe`` (every single
    fact's own result, keyed by section: ``cpu``, ``nvidia_smi``, ``pci_gpus``, ``driver``,
    ``nouveau``, ``secure_boot``, ``kernel_headers``, ``cuda_toolkits``, ``cudnn``,
    ``pythons``, ``conda``, ``tensorflow``, …).

    .. code:: python

        from tfprov.facts.profile import HostProbe
        from tfprov.model.profile import HostProfile as Profile
        profile = Profile.model_validate(host.get_fact(HostProbe))
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return combined_command()

    def process(self, output: list[str]) -> dict:
        return profile_from_facts(process_sections(output))


# --- Windows ----------------------------------------------------------------------------

WIN_HOSTNAME_SCRIPT = "Write-Output $env:COMPUTERNAME\n"


def _first_line(lines: list[str]) -> str | None:
    """The hostname section: its first non-blank line."""
    return next((s.strip() for s in lines if s.strip()), None)


# (section key, PowerShell script, parser) in the order they run on a Windows host.
WIN_SECTIONS = (
    ("hostname", WIN_HOSTNAME_SCRIPT, _first_line),
    ("system", WIN_SYSTEM_SCRIPT, parse_win_system),
    ("cpu", WIN_CPU_SCRIPT, parse_win_processor),
    ("gpus", WIN_GPU_SCRIPT, parse_win_gpu_probe),
    ("cuda_toolkits", WIN_CUDA_SCRIPT, parse_win_cuda_toolkits),
    ("cudnn", WIN_CUDNN_SCRIPT, parse_win_cudnn),
    ("pythons", WIN_PYTHONS_SCRIPT, parse_win_pythons),
    ("conda", WIN_CONDA_SCRIPT, parse_win_conda),
)


def combined_script(sections=WIN_SECTIONS) -> str:
    """One PowerShell script printing every section behind its marker line; each
    section runs in its own script block (its own variables) and a failing one prints
    nothing instead of stopping the rest."""
    parts = []
    for key, script, _ in sections:
        parts.append(
            f"Write-Output {ps.quote(MARKER + key)}\ntry {{ & {{\n{script}}} }} catch {{ }}\n"
        )
    return "".join(parts)


def win_profile_from_sections(lines: list[str]) -> dict:
    """The host profile JSON (:mod:`tfprov.model.profile`) from :func:`combined_script`'s output."""
    facts = parse_sections(lines, [(key, parse, lambda: None) for key, _, parse in WIN_SECTIONS])
    system = facts.get("system") or {}
    cpu = facts.get("cpu") or {}
    probe = facts.get("gpus") or {"gpus": [], "smi_error": None}
    gpus = probe["gpus"]
    driver = next((g["driver_version"] for g in gpus if g.get("driver_version")), None)
    return {
        "hostname": facts.get("hostname") or system.get("hostname") or "unknown",
        "os": {
            "family": "windows",
            "distro": windows_distro(system.get("build")),
            "version": system.get("version"),
            "arch": cpu.get("arch") or "x86_64",
            "wsl": False,
        },
        "cpu": {
            "vendor": cpu.get("vendor"),
            "model": cpu.get("model"),
            "flags": cpu.get("flags") or [],
        },
        "gpus": [
            {
                "name": g["name"] or f"NVIDIA {g.get('pci_device_id')}",
                "compute_capability": g.get("compute_capability"),
                "memory_mib": g.get("memory_mib"),
                "pci_device_id": g.get("pci_device_id"),
            }
            for g in gpus
        ],
        "nvidia_driver": driver,
        "driver_error": probe.get("smi_error"),
        **software_part(facts),
    }


class WinHostProbe(TfprovFact):
    """
    The host profile JSON of :mod:`tfprov.model.profile` for a Windows host — the same keys as
    :class:`tfprov.facts.profile.HostProbe` (``os.family`` ``windows``, ``os.distro``
    ``Windows 10`` / ``Windows 11`` by build, ``nvidia_driver`` in NVIDIA's numbering,
    ``driver_error`` from nvidia-smi, ``probe`` every section's parsed result) — from ONE
    PowerShell script (:func:`combined_script`).

    + default: ``{}``
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return combined_script()

    def process(self, output: list[str]) -> dict:
        return win_profile_from_sections(output)
