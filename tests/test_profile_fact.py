"""The one-command HostProbe fact: its command is the single facts' commands behind
markers, and its output maps to a valid host profile.  Outputs here are assembled from
the real captures in tests/facts/ (each section one capture, so each keeps its source)."""

import subprocess
import sys
from pathlib import Path

import yaml

from tfprov.catalog import load_catalog
from tfprov.facts.profile import MARKER, SECTIONS, HostProbe, combined_command
from tfprov.model.profile import HostProfile as Profile
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve

CASES = Path(__file__).parent / "facts"


def captured(fact_dir: str, case: str) -> list[str]:
    data = yaml.safe_load((CASES / fact_dir / f"{case}.yaml").read_text())
    out = data["output"]
    return out.splitlines() if isinstance(out, str) else out


def section(case: str, key: str) -> list[str]:
    """One section of a captured HostProbe output (tests/facts/profile.HostProbe)."""
    lines = captured("profile.HostProbe", case)
    start = lines.index(MARKER + key) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(MARKER)), len(lines))
    return lines[start:end]


def assemble(**sections) -> list[str]:
    lines = []
    for key, _ in SECTIONS:
        lines.append(MARKER + key)
        lines += sections.get(key, [])
    return lines


def test_the_command_is_every_single_fact_command_once():
    cmd = combined_command()
    for key, fact in SECTIONS:
        assert f"echo '{MARKER}{key}'; ( {fact.command()} )" in cmd
    res = subprocess.run(["sh", "-n", "-c", cmd])  # valid POSIX sh
    assert res.returncode == 0


def test_gpu_server_profile_from_real_sections():
    lines = assemble(
        hostname=["gpu-node-1"],
        kernel=["Linux"],
        arch=["x86_64"],
        cpu=captured("cpu.CpuFeatures", "intel-xeon-platinum-8480plus-sapphirerapids"),
        nvidia_smi=captured("gpu.NvidiaSmiGpus", "corpus-linux-h100-80gb-590"),
        driver=captured("nvidia.DriverVersion", "corpus-proprietary-580.173.02-truenas"),
    )
    data = HostProbe().process(lines)
    p = Profile.model_validate(data)
    assert p.hostname == "gpu-node-1" and p.os.family == "linux"
    assert [(g.name, g.compute_capability, g.memory_mib) for g in p.gpus] == [
        ("NVIDIA H100 80GB HBM3", "9.0", 81559)
    ]
    assert p.nvidia_driver == "580.173.02"  # the kernel module's version wins
    assert "avx512f" in p.cpu.flags and p.driver_error is None
    plan = resolve(p, StackSpec())
    assert plan.ok and plan.tensorflow.variant == "gpu"


def test_driver_that_cannot_talk_is_reported_not_hidden():
    lines = assemble(
        hostname=["n2"],
        kernel=["Linux"],
        arch=["x86_64"],
        nvidia_smi=captured("gpu.NvidiaSmiGpus", "issue-version-mismatch-shine-cluster"),
        pci_gpus=captured("gpu.PciNvidiaGpus", "corpus-cyborg-tesla-t4-domain"),
    )
    p = Profile.model_validate(HostProbe().process(lines))
    assert p.driver_error and "mismatch" in p.driver_error.lower()
    # the GPU is still known, from the PCI bus, as the host reports it (the resolver
    # derives its compute capability, 7.5, from the PCI id)
    assert [(g.name, g.pci_device_id, g.compute_capability) for g in p.gpus] == [
        ("TU104GL [Tesla T4]", "1eb8", None)
    ]
    assert load_catalog().gpu_by_pci_id("1eb8").cc == "7.5"


def test_gpu_without_driver_is_recognised_from_lspci():
    lines = assemble(
        hostname=["fresh"],
        kernel=["Linux"],
        arch=["x86_64"],
        # a distro tfprov installs drivers on (Debian 12, the build machine's capture)
        distribution=section("build-machine-no-gpu", "distribution"),
        pci_gpus=captured("gpu.PciNvidiaGpus", "corpus-everdoc-gtx1070-before-driver"),
    )
    p = Profile.model_validate(HostProbe().process(lines))
    assert p.nvidia_driver is None
    assert [(g.name, g.pci_device_id, g.compute_capability) for g in p.gpus] == [
        ("GP104 [GeForce GTX 1070]", "1b81", None)
    ]
    assert load_catalog().gpu(p.gpus[0].name).cc == "6.1"  # what the resolver derives
    plan = resolve(p, StackSpec())
    assert plan.driver.action == "install" and plan.driver.branch == 580


def test_empty_sections_give_defaults():
    p = Profile.model_validate(HostProbe().process(assemble(hostname=["x"], kernel=["Linux"])))
    assert p.gpus == [] and p.cuda_toolkits == [] and p.conda is None and p.cpu.flags == []


def test_facts_and_probe_never_load_the_catalog():
    # a GPU without nvidia-smi on either OS: the old facts looked its model up
    code = (
        "import sys, tfprov.probe\n"
        "from tfprov.facts.profile import MARKER, HostProbe, WinHostProbe\n"
        "HostProbe().process([MARKER + 'pci_gpus', '0000:01:00.0 0302: 10de:1eb8 (rev a1)'])\n"
        "WinHostProbe().process([MARKER + 'gpus', 'Name : NVIDIA GeForce GTX 1070',"
        " 'PNPDeviceID : PCI\\\\VEN_10DE&DEV_1B81&SUBSYS_1'])\n"
        "assert not [m for m in sys.modules if m.startswith('tfprov.catalog')], 'catalog'"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
