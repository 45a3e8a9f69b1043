"""Windows facts (the Win* facts of tfprov.facts.<subject>): PowerShell scripts that parse,
parsers on real captures, and the one-command WinHostProbe.

Real captures live in tests/facts/<subject>.Win*/ (run by tests/test_facts.py); this file
checks what does not fit one case file.  Sources of the values used here:

* PF_* ids: reactos/reactos sdk/include/xdk/ketypes.h @ 06304f39d25f37308a5e7fa261547ae9bc52e6a5
  ("Processor features" block) and learn.microsoft.com IsProcessorFeaturePresent
  (https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-isprocessorfeaturepresent).
* Windows -> NVIDIA driver numbers: https://github.com/the-database/mpv-AnimeJaNai/pull/81
  (maintainer: "32.0.16.1047 -> 610.47 ... verified 31.0.15.7652 -> 576.52"), and the
  ubuntu-insights capture in shared/corpus/windows-videocontroller (32.0.15.6590, driver
  date 2024-09-26, noted there as 565.90).
"""

import json
from pathlib import Path

import pytest
import tree_sitter as ts
import tree_sitter_powershell as tsp
import yaml

from tfprov.facts.base import MARKER, parse_wmi_records
from tfprov.facts.conda import WinConda
from tfprov.facts.cpu import PROCESSOR_FEATURES, WIN_CPU_SCRIPT, WinCpuFeatures, parse_win_processor
from tfprov.facts.cuda import WinCudaToolkits, WinCudnn, parse_win_cuda_toolkits
from tfprov.facts.gpu import WinGpus, parse_win_gpu_probe, parse_windows_driver_version
from tfprov.facts.profile import WIN_SECTIONS, WinHostProbe, combined_script
from tfprov.facts.python import WinPythons, parse_win_pythons
from tfprov.facts.system import WinSystem, parse_win_system, windows_distro
from tfprov.model.profile import HostProfile as Profile
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve

CASES = Path(__file__).parent / "facts"
PARSER = ts.Parser(ts.Language(tsp.language()))

SCRIPTS = {
    "cpu": WinCpuFeatures().command(),
    "gpus": WinGpus().command(),
    "cuda": WinCudaToolkits().command(),
    "cudnn": WinCudnn().command(),
    "pythons": WinPythons().command(),
    "conda": WinConda().command(),
    "system": WinSystem().command(),
    "profile": WinHostProbe().command(),
}


def case(fact_dir: str, name: str) -> list[str]:
    return yaml.safe_load((CASES / fact_dir / f"{name}.yaml").read_text())["output"]


def ps_errors(script: str) -> list[str]:
    tree = PARSER.parse(script.encode())
    bad = []

    def walk(node):
        if node.type == "ERROR" or node.is_missing:
            bad.append(
                f"{node.start_point}: {script.encode()[node.start_byte : node.end_byte][:80]!r}"
            )
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    assert bad or not tree.root_node.has_error
    return bad


# --- PowerShell grammar -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_script_parses_as_powershell(name):
    tree = PARSER.parse(SCRIPTS[name].encode())
    assert tree.root_node.has_error is False, ps_errors(SCRIPTS[name])


def test_the_grammar_check_does_catch_errors():
    for broken in ("if ($x -eq) { }", "foreach ($a in @(1) { $a }", "$h = @{ a = 1 "):
        assert PARSER.parse(broken.encode()).root_node.has_error is True


def test_combined_script_holds_every_section_once():
    script = combined_script()
    for key, section, _ in WIN_SECTIONS:
        assert script.count(f"Write-Output '{MARKER}{key}'") == 1
        assert section in script
    assert "ConvertTo-Json -Compress -Depth 4" in WIN_CPU_SCRIPT


# --- CPU ------------------------------------------------------------------------------------


def test_processor_feature_ids_are_the_winnt_values():
    assert PROCESSOR_FEATURES == {
        10: "sse2",
        13: "pni",
        36: "ssse3",
        37: "sse4_1",
        38: "sse4_2",
        39: "avx",
        40: "avx2",
        41: "avx512f",
    }
    for num in PROCESSOR_FEATURES:
        assert f"= {num}" in WIN_CPU_SCRIPT
    assert "IsProcessorFeaturePresent" in WIN_CPU_SCRIPT


def test_cpu_flags_are_never_guessed_from_the_name():
    # Tiger Lake-H has AVX-512, but the Win32_Processor text says nothing about it
    lines = case("cpu.WinCpuFeatures", "corpus-cim-format-list-i7-11800h")
    assert parse_win_processor(lines)["flags"] == []


def test_cpu_flags_feed_the_resolver_names():
    from tfprov.resolve import _FLAG_TO_LEVEL

    assert set(PROCESSOR_FEATURES.values()) - {"ssse3"} <= set(_FLAG_TO_LEVEL)


# --- driver versions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "windows, nvidia",
    [
        ("32.0.16.1047", "610.47"),  # mpv-AnimeJaNai#81
        ("31.0.15.7652", "576.52"),  # mpv-AnimeJaNai#81 ("verified")
        ("32.0.15.6590", "565.90"),  # ubuntu-insights capture (corpus note)
        # the rule on the values of the brief (27.21.14.5671 also in real Minecraft crash
        # reports, 31.0.15.3640 in oshi output comments; neither shows NVIDIA's number)
        ("27.21.14.5671", "456.71"),
        ("31.0.15.3640", "536.40"),
        ("30.00.0014.7242", "472.42"),  # dxdiag's zero-padded form (WhyNotWin11#58)
    ],
)
def test_windows_driver_version_to_nvidia(windows, nvidia):
    assert parse_windows_driver_version(windows) == nvidia


@pytest.mark.parametrize("text", [None, "", "565.90", "32.0.15", "30.0.101.x", "N/A"])
def test_windows_driver_version_rejects_other_forms(text):
    assert parse_windows_driver_version(text) is None


# --- Win32_VideoController text -----------------------------------------------------------------


def test_format_list_wrapped_values_are_joined():
    lines = case("gpu.WinGpus", "corpus-cim-win32-videocontroller-fl-rtx3050ti-laptop-uhd")
    recs = parse_wmi_records(lines)
    assert len(recs) == 2
    drivers = recs[1]["InstalledDisplayDrivers"]
    assert "igd10iumd32.dll" in drivers and "\n" not in drivers and " " not in drivers
    assert recs[0]["InstalledDisplayDrivers"].count(",C:\\Windows") == 3
    assert recs[0]["ErrorCleared"] is None


def test_intel_igpu_is_not_an_nvidia_gpu():
    lines = case("gpu.WinGpus", "corpus-wmiobject-win32-videocontroller-rtx3050ti-laptop-uhd")
    gpus = parse_win_gpu_probe(lines)["gpus"]
    assert [g["pci_device_id"] for g in gpus] == ["25a0"]


def _controllers_json(smi_lines):
    lines = case("gpu.WinGpus", "json-built-rtx3050ti-laptop-uhd-no-smi")
    data = json.loads(lines[0])
    data["smi"] = smi_lines
    return [json.dumps(data)]


def test_nvidia_smi_rows_win_and_unmatched_rows_are_added():
    # composite: the laptop's real controllers + the real Windows nvidia-smi CSV of
    # another machine (RTX 2080 SUPER, 591.86): as a card without a display adapter
    smi = case("gpu.NvidiaSmiGpus", "corpus-windows-rtx2080super-591-wddm")
    probe = parse_win_gpu_probe(_controllers_json(smi))
    assert probe["smi_error"] is None
    laptop, other = probe["gpus"]
    assert laptop["driver_version"] == "565.90" and laptop["pci_device_id"] == "25a0"
    assert other == {
        "name": "NVIDIA GeForce RTX 2080 SUPER",
        "compute_capability": "7.5",
        "memory_mib": 8192,
        "pci_device_id": None,
        "driver_version": "591.86",
        "windows_driver_version": None,
    }


def test_nvidia_smi_failure_is_reported_and_the_adapter_kept():
    smi = case("gpu.NvidiaSmiGpus", "corpus-failed-no-driver-gcp-debian11")
    probe = parse_win_gpu_probe(_controllers_json(smi))
    assert probe["smi_error"] and probe["smi_state"] == "driver-unreachable"
    assert [g["windows_driver_version"] for g in probe["gpus"]] == ["32.0.15.6590"]


# --- CUDA / Python / system (logic; the values are labelled where not captured) -------------------


def test_cuda_env_variable_names_a_toolkit_without_version_file():
    path = r"D:\CUDA\v11.8"  # made-up install dir: checks the CUDA_PATH_V11_8 fallback
    out = {
        "toolkits": [{"path": path, "file": None, "text": None, "nvcc": None}],
        "env": {"CUDA_PATH_V11_8": path + "\\"},
    }
    assert parse_win_cuda_toolkits([json.dumps(out)]) == [{"version": "11.8", "path": path}]


def test_pythons_dedupe_by_sys_executable():
    # made-up paths: the py launcher and PATH lead to one interpreter
    exe = r"C:\Users\u\AppData\Local\Programs\Python\Python311\python.exe"
    out = [
        {"path": exe, "out": [f"3\t11\t9\t{exe}"]},
        {"path": exe.upper(), "out": [f"3\t11\t9\t{exe}"]},
        {"path": r"C:\Python38\python.exe", "out": [r"3	8	10	C:\Python38\python.exe"]},
        {"path": r"C:\broken\python.exe", "out": []},
    ]
    assert parse_win_pythons([json.dumps(out)]) == [
        {"version": "3.8.10", "path": r"C:\Python38\python.exe"},
        {"version": "3.11.9", "path": exe},
    ]


@pytest.mark.parametrize(
    "status, feature, reasons, wsl, reboot",
    [
        (0, None, [], True, False),
        (-1, 2, ["cbs"], False, True),
        (None, 1, "file-rename", True, True),
    ],
)
def test_system_wsl_and_reboot_rules(status, feature, reasons, wsl, reboot):
    out = {
        "caption": "Microsoft Windows 11 Pro",
        "version": "10.0.22631",
        "build": "22631",
        "edition": "Professional",
        "wsl_status_exit": status,
        "wsl_feature_state": feature,
        "reboot_reasons": reasons,
    }
    assert parse_win_system([json.dumps(out)]) == {
        "build": 22631,
        "version": "10.0.22631",
        "edition": "Professional",
        "wsl_available": wsl,
        "pending_reboot": reboot,
    }


# --- WinHostProbe ---------------------------------------------------------------------


def assemble(**sections) -> list[str]:
    lines = []
    for key, _, _ in WIN_SECTIONS:
        lines.append(MARKER + key)
        lines += sections.get(key, [])
    return lines


def test_profile_from_real_sections_validates_and_resolves():
    system = {
        "version": "10.0.22631",
        "build": 22631,
        "edition": "Professional",
        "wsl_status_exit": 1,
        "wsl_feature_state": 2,
        "reboot_reasons": [],
    }  # assumed
    lines = assemble(
        hostname=["MSI"],
        system=[json.dumps(system)],
        cpu=case("cpu.WinCpuFeatures", "json-built-i7-11800h-tigerlake-avx512"),
        gpus=case("gpu.WinGpus", "corpus-cim-win32-videocontroller-fl-rtx3050ti-laptop-uhd"),
        cuda_toolkits=case(
            "cuda.WinCudaToolkits", "json-built-version-json-12.9.0-windows-toolkit"
        ),
        cudnn=case("cuda.WinCudnn", "json-built-cudnn-9.6.0-installer-layout"),
        conda=case("conda.WinConda", "json-built-miniconda3-env-list-issue6797"),
    )
    data = WinHostProbe().process(lines)
    p = Profile.model_validate(data)
    assert (p.os.family, p.os.distro, p.os.version, p.os.arch) == (
        "windows",
        "Windows 11",
        "10.0.22631",
        "x86_64",
    )
    assert p.hostname == "MSI"  # the OS family is asserted above
    # no nvidia-smi in this capture: the compute capability is the resolver's to derive
    assert [(g.name, g.compute_capability, g.pci_device_id) for g in p.gpus] == [
        ("NVIDIA GeForce RTX 3050 Ti Laptop GPU", None, "25a0")
    ]
    assert p.nvidia_driver == "565.90" and p.driver_error is None
    assert "avx512f" in p.cpu.flags
    assert [t.version for t in p.cuda_toolkits] == ["12.9.0"] and p.cudnn.version == "9.6.0"
    assert p.conda.envs == ["base", "my-first-env", "test_project"]
    assert data["probe"]["system"]["pending_reboot"] is False
    resolve(p, StackSpec())  # the resolver takes it


def test_profile_windows_10_by_build_and_empty_sections():
    lines = assemble(
        hostname=["old"], system=[json.dumps({"version": "10.0.19045", "build": 19045})]
    )
    p = Profile.model_validate(WinHostProbe().process(lines))
    assert p.os.distro == "Windows 10" and p.gpus == [] and p.cudnn is None and p.conda is None
    assert windows_distro(22000) == "Windows 11" and windows_distro(None) is None
