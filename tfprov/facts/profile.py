"""The whole host profile in one remote command.

pyinfra runs every fact as its own round trip; probing a host fact by fact would cost
one SSH command per fact.  :class:`HostProfile` concatenates the commands of all the
single facts (each behind a marker line), runs them as one command, splits the output
at the markers and hands each section to that fact's own ``process()`` — the same code
the single facts use, so there is one copy of every parser.
"""

from __future__ import annotations

from pyinfra.api import FactBase
from pyinfra.facts.server import Arch, Hostname, Kernel, LinuxDistribution

from tfprov.catalog import load_catalog
from tfprov.facts.base import split_marked
from tfprov.facts.conda import Conda
from tfprov.facts.cpu import CpuFeatures
from tfprov.facts.cuda import CudaToolkits, Cudnn
from tfprov.facts.gpu import NvidiaSmiGpus, PciNvidiaGpus
from tfprov.facts.nvidia import DriverVersion, KernelHeaders, NouveauLoaded, SecureBoot
from tfprov.facts.python import Pythons
from tfprov.facts.system import CLibrary, Wsl
from tfprov.facts.tensorflow import Installed

MARKER = "@@tfprov-section "

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


def split_sections(lines: list[str]) -> dict[str, list[str]]:
    return split_marked(lines, MARKER)


def process_sections(lines: list[str], sections=SECTIONS) -> dict:
    """Each section's lines through its own fact's ``process`` (``default()`` if empty)."""
    raw = split_sections(lines)
    data = {}
    for key, fact in sections:
        text = raw.get(key, [])
        data[key] = fact.process(text) if any(t.strip() for t in text) else fact.default()
    return data


def profile_from_facts(facts: dict) -> dict:
    """Build the host profile JSON (see :mod:`tfprov.model.profile`) from the section facts."""
    cat = load_catalog()
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
            model = cat.gpu(p["name"]) if p.get("name") else None
            if model is None and p.get("device_id"):
                model = cat.gpu_by_pci_id(p["device_id"])
            gpus.append(
                {
                    "name": p.get("name")
                    or (model.name if model else f"NVIDIA {p.get('device_id')}"),
                    "compute_capability": model.cc if model else None,
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
    facts — the same on every OS, so Linux and Windows profiles share it."""
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


class HostProfile(FactBase):
    """
    Everything tfprov's resolver needs about a host, in ONE remote command: the host
    profile JSON of :mod:`tfprov.model.profile` (``hostname``, ``os``, ``cpu``, ``gpus``,
    ``nvidia_driver``, ``cuda_toolkits``, ``cudnn``, ``pythons``, ``conda``, ``libc``), plus
    ``driver_error`` (nvidia-smi cannot talk to the driver) and ``probe`` (every single
    fact's own result, keyed by section: ``cpu``, ``nvidia_smi``, ``pci_gpus``, ``driver``,
    ``nouveau``, ``secure_boot``, ``kernel_headers``, ``cuda_toolkits``, ``cudnn``,
    ``pythons``, ``conda``, ``tensorflow``, …).

    .. code:: python

        from tfprov.facts.profile import HostProfile
        from tfprov.model.profile import HostProfile as Profile
        profile = Profile.model_validate(host.get_fact(HostProfile))
    """

    @staticmethod
    def default() -> dict:
        return {}

    def command(self) -> str:
        return combined_command()

    def process(self, output: list[str]) -> dict:
        return profile_from_facts(process_sections(output))
