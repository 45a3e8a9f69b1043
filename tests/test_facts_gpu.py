"""What the per-output fact cases (tests/facts/gpu.*, nvidia.*) cannot express: the shell
logic of the commands (compute_cap fallback, exit status, stderr), that nothing is filled
in from the catalog, and the parsers' contracts.  Every nvidia-smi/lspci text below is a
real capture; where it comes from is noted beside it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from tfprov.facts.gpu import (
    SMI_QUERY,
    NvidiaSmiGpus,
    PciNvidiaGpus,
    classify_smi_failure,
    parse_lspci,
    parse_nvidia_smi_csv,
)
from tfprov.facts.nvidia import (
    SECURE_BOOT_EFIVAR,
    KernelHeaders,
    SecureBoot,
    parse_driver_version,
    parse_kernel_headers,
    parse_secure_boot,
)

FACTS = Path(__file__).parent / "facts"
SH = shutil.which("sh")
needs_sh = pytest.mark.skipif(SH is None, reason="no POSIX sh")

# huggingface/candle#733 (driver 470.182.03)
REJECTED = 'Field "compute_cap" is not a valid field to query.'
# corpus nvidia-smi/failed-no-driver-gcp-debian11
UNREACHABLE = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running."
)


def case_output(fact_dir: str, name: str) -> list[str]:
    data = yaml.safe_load((FACTS / fact_dir / f"{name}.yaml").read_text(encoding="utf-8"))
    return data["output"]


# netdata/go.d.plugin testdata tesla-p100.csv: a real CSV without a compute_cap column
P100_CSV = case_output("gpu.NvidiaSmiGpus", "netdata-tesla-p100-no-compute-cap")


def fake_smi(tmp_path: Path, script: str) -> Path:
    """An executable 'nvidia-smi' in its own PATH directory."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "nvidia-smi"
    exe.write_text("#!" + SH + "\n" + script)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return bindir


def run(command: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SH, "-c", command], capture_output=True, text=True, env={"PATH": str(path)}
    )


# --- NvidiaSmiGpus command ---------------------------------------------------------------


def test_command_asks_with_header_and_compute_cap_then_falls_back_without():
    cmd = NvidiaSmiGpus().command()
    assert SMI_QUERY == "index,name,uuid,pci.bus_id,driver_version,memory.total"
    full = f"--query-gpu={SMI_QUERY},compute_cap --format=csv 2>&1"
    fallback = f"--query-gpu={SMI_QUERY} --format=csv 2>&1"
    assert full in cmd and fallback in cmd
    assert "noheader" not in cmd  # the parser needs the header to find its columns
    assert cmd.index(full) < cmd.index("is not a valid field") < cmd.index(fallback)
    assert "/usr/lib/wsl/lib/nvidia-smi" in cmd  # WSL2 keeps it off PATH
    assert cmd.rstrip().endswith("true")


@needs_sh
def test_old_driver_rejecting_compute_cap_gets_the_query_again_without_it(tmp_path):
    # behaves like a pre-510 driver: the real rejection for compute_cap (exit 2), a real
    # compute_cap-less CSV otherwise
    csv = " ".join(f"'{ln}'" for ln in P100_CSV)  # builtins only: PATH has just the fake
    bindir = fake_smi(
        tmp_path,
        f"""case "$*" in
  *compute_cap*) echo '{REJECTED}' >&2; exit 2;;
esac
printf '%s\\n' {csv}
echo "$*" > "{tmp_path}/fallback-args"
""",
    )
    res = run(NvidiaSmiGpus().command(), bindir)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0] == REJECTED  # stderr of the first query is kept, on stdout
    assert lines[1:] == P100_CSV
    args = (tmp_path / "fallback-args").read_text().split()
    assert args == [f"--query-gpu={SMI_QUERY}", "--format=csv"]
    gpus = NvidiaSmiGpus().process(lines)
    assert [g["name"] for g in gpus] == ["Tesla P100-PCIE-16GB"]
    assert gpus[0]["compute_capability"] is None  # not printed: the resolver derives it


@needs_sh
def test_driver_failure_is_printed_and_exit_status_is_zero(tmp_path):
    bindir = fake_smi(tmp_path, f'echo "{UNREACHABLE}" >&2; exit 9\n')
    res = run(NvidiaSmiGpus().command(), bindir)
    assert res.returncode == 0
    assert res.stdout.splitlines() == [UNREACHABLE]  # asked once: nothing to fall back for
    assert NvidiaSmiGpus().process(res.stdout.splitlines()) == [
        {"error": UNREACHABLE, "state": "driver-unreachable"}
    ]


@needs_sh
def test_no_nvidia_smi_prints_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run(NvidiaSmiGpus().command(), empty)
    assert res.returncode == 0 and res.stdout == "" and res.stderr == ""
    assert NvidiaSmiGpus().process([]) == NvidiaSmiGpus.default() == []


@needs_sh
def test_lspci_command_exits_zero_without_lspci(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run(PciNvidiaGpus().command(), empty)
    assert res.returncode == 0 and res.stdout == ""


# --- nvidia-smi parsing: only what nvidia-smi printed ---------------------------------------


def test_compute_capability_not_printed_stays_unknown_and_the_name_finds_it():
    assert parse_nvidia_smi_csv(P100_CSV)[0]["compute_capability"] is None
    gpu = NvidiaSmiGpus().process(P100_CSV)[0]
    assert gpu["compute_capability"] is None  # facts only observe
    from tfprov.catalog import load_catalog

    assert load_catalog().gpu(gpu["name"]).cc == "6.0"  # what the resolver derives


def test_printed_compute_cap_wins_and_unknown_models_stay_none():
    # triton-inference-server/server#8070: the RTX 5880 Ada is not in the catalog, but
    # nvidia-smi printed its compute_cap
    lines = case_output("gpu.NvidiaSmiGpus", "issue-multi-gpu-titanv-rtx5880ada-570-reordered")
    gpus = NvidiaSmiGpus().process(lines)
    assert [(g["index"], g["compute_capability"]) for g in gpus] == [(0, "7.0"), (1, "8.9")]
    from tfprov.catalog import load_catalog

    assert load_catalog().gpu("NVIDIA RTX 5880 Ada Generation") is None
    no_cc = [ln.split(", ", 1)[1] for ln in lines]  # the same table without its first column
    assert [g["compute_capability"] for g in NvidiaSmiGpus().process(no_cc)] == [None, None]


def test_rejection_line_alone_is_an_error_not_an_empty_host():
    assert parse_nvidia_smi_csv([REJECTED]) == [{"error": REJECTED, "state": "error"}]
    # and it does not hide a failure printed after it
    assert parse_nvidia_smi_csv([REJECTED, UNREACHABLE]) == [
        {"error": UNREACHABLE, "state": "driver-unreachable"}
    ]


@pytest.mark.parametrize(
    "message,state",
    [
        (UNREACHABLE, "driver-unreachable"),
        ("Failed to properly shut down NVML: Driver Not Loaded", "driver-unreachable"),  # WSL#9134
        ("Failed to initialize NVML: Driver/library version mismatch", "version-mismatch"),
        ("No devices were found", "no-devices"),
        (REJECTED, "error"),
    ],
)
def test_failure_states(message, state):
    assert classify_smi_failure(message) == state


def test_error_is_the_first_line_only():
    lines = case_output("gpu.NvidiaSmiGpus", "issue-version-mismatch-intel-llvm-ci-550")
    assert len(lines) == 2
    assert parse_nvidia_smi_csv(lines) == [{"error": lines[0], "state": "version-mismatch"}]


def test_memory_with_and_without_units():
    wide = case_output("gpu.NvidiaSmiGpus", "corpus-linux-h100-80gb-590")
    assert "memory.total [MiB]" in wide[0] and " 81559 MiB," in wide[1]
    assert parse_nvidia_smi_csv(wide)[0]["memory_mib"] == 81559


# --- lspci --------------------------------------------------------------------------------


def test_numeric_form_has_the_device_id_and_no_name():
    lines = case_output("gpu.PciNvidiaGpus", "repo-xiaomi-mx150-numeric-n")
    assert lines == ["01:00.0 0302: 10de:1d12 (rev ff)"]
    assert parse_lspci(lines) == [{"slot": "01:00.0", "device_id": "1d12", "name": None}]
    assert PciNvidiaGpus().process(lines) == [
        {"slot": "01:00.0", "device_id": "1d12", "name": None}
    ]
    from tfprov.catalog import load_catalog

    assert load_catalog().gpu_by_pci_id("1d12").name == "GeForce MX150"  # the resolver's


def test_unnamed_device_stays_unnamed_and_a_printed_name_is_kept():
    lines = case_output("gpu.PciNvidiaGpus", "issue-nvidiux-gtx970-unnamed-vnn-prog-if")
    assert parse_lspci(lines)[0]["name"] is None
    assert PciNvidiaGpus().process(lines)[0]["name"] is None
    # GT218 [ION 2] (0a76) is not in the catalog, but lspci named it: kept as printed
    ion = case_output("gpu.PciNvidiaGpus", "corpus-linuxmintpl-ion2-rev-ff")
    assert PciNvidiaGpus().process(ion)[0]["name"] == "GT218 [ION 2]"


def test_non_display_and_non_nvidia_functions_are_skipped():
    lines = case_output("gpu.PciNvidiaGpus", "issue-lxd-gtx690-dual-gpu-nn")
    assert len(lines) == 4  # 2 GPUs + 2 HDMI audio functions
    assert [d["slot"] for d in parse_lspci(lines)] == ["04:00.0", "05:00.0"]
    full = case_output("gpu.PciNvidiaGpus", "repo-xiaomi-mx150-plain-full-list")
    assert any("Intel Corporation UHD Graphics 620" in ln for ln in full)
    assert [d["slot"] for d in parse_lspci(full)] == ["01:00.0"]


# --- nvidia.py ----------------------------------------------------------------------------


def test_driver_version_flavours():
    prop = case_output("nvidia.DriverVersion", "corpus-proprietary-580.173.02-truenas")
    opn = case_output("nvidia.DriverVersion", "corpus-open-525.60.11-arch-no-date")
    assert parse_driver_version(prop) == {"version": "580.173.02", "kernel_module": "proprietary"}
    assert parse_driver_version(opn) == {"version": "525.60.11", "kernel_module": "open"}
    # the GCC line's version is never taken for the driver's
    assert parse_driver_version(prop[1:]) is None
    assert parse_driver_version([]) is None


@needs_sh
@pytest.mark.parametrize("byte,state", [(1, "enabled"), (0, "disabled")])
def test_secure_boot_efivar_reads_the_fifth_byte(tmp_path, byte, state):
    # efivarfs files start with 4 bytes of attributes (0x06: boot+runtime access)
    var = tmp_path / "SecureBoot"
    var.write_bytes(bytes([6, 0, 0, 0, byte]))
    cmd = SecureBoot().command()
    assert SECURE_BOOT_EFIVAR in cmd and "mokutil --sb-state" in cmd
    branch = cmd.split("then printf 'efivar SecureBoot: '; ", 1)[1].split("; elif", 1)[0]
    od = shutil.which("od")
    if od is None:
        pytest.skip("no od")
    script = "printf 'efivar SecureBoot: '; " + branch.replace(SECURE_BOOT_EFIVAR, str(var))
    res = subprocess.run(
        [SH, "-c", script], capture_output=True, text=True, env={"PATH": os.path.dirname(od)}
    )
    assert res.returncode == 0
    assert parse_secure_boot(res.stdout.splitlines()) == state


def test_secure_boot_unknown_unless_told():
    assert parse_secure_boot([]) == SecureBoot.default() == "unknown"
    assert parse_secure_boot(["no EFI"]) == "unknown"
    assert parse_secure_boot(["EFI without SecureBoot variable"]) == "unknown"


@needs_sh
def test_kernel_headers_command_reports_the_running_kernel():
    res = subprocess.run([SH, "-c", KernelHeaders().command()], capture_output=True, text=True)
    assert res.returncode == 0
    got = parse_kernel_headers(res.stdout.splitlines())
    assert got["kernel"] == os.uname().release
    release = os.uname().release
    expect = os.path.exists(f"/lib/modules/{release}/build") or os.path.exists(
        f"/usr/src/kernels/{release}"
    )
    assert got["installed"] is expect
    assert parse_kernel_headers([]) == KernelHeaders.default() == {}
