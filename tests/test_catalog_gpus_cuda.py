"""CUDA driver floors (GA rows, not release candidates) and the GPU matcher: real printed
names find their own model, never a shorter one; every GPU has a driver ceiling."""

import sys
from pathlib import Path

import pytest

from tfprov.catalog import load_catalog
from tfprov.catalog import models as m

sys.path.insert(0, str(Path(__file__).parent))
from test_resolver import host, plan  # noqa: E402


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


# --- item 16: driver floors -----------------------------------------------------------------


def test_cuda_11_0_floor_is_the_ga_row_not_the_rc(cat):
    ga = cat.toolkit_ga("11.0")
    assert (ga.release, ga.linux, ga.windows) == ("CUDA 11.0.2 GA", "450.51.05", "451.48")


def test_a_driver_that_only_meets_the_rc_floor_is_upgraded_for_cuda_11_0():
    # TF 2.4 is built with CUDA 11.0; 450.36.06 met only the 11.0.1 RC row
    h = host(gpus=["Tesla V100-PCIE-16GB"], driver="450.36.06", version="20.04", pythons=["3.8.10"])
    p = plan(h, tensorflow="2.4", gpu="require")
    assert p.ok and p.cuda.version == "11.0"
    assert (p.driver.action, p.driver.min_version) == ("upgrade", "450.51.05")
    assert "CUDA 11.0 → driver ≥ 450.51.05 (CUDA 11.0.2 GA)" in p.driver.reason


def test_an_rc_row_must_say_so():
    row = {"release": "CUDA 11.0.1 RC", "version": "11.0.1", "linux": "450.36.06", "source": "x"}
    with pytest.raises(ValueError, match="release candidate"):
        m.CudaToolkit.model_validate(row)
    assert m.CudaToolkit.model_validate({**row, "release_candidate": True}).release_candidate


def test_cuda_7_rows(cat):
    rows = {t.release: (t.linux, t.windows) for t in cat.cuda.toolkits}
    assert rows["CUDA 7.0 (7.0.28)"] == ("346.46", "347.62")
    assert rows["CUDA 7.5 (7.5.16)"] == ("352.31", "353.66")
    assert cat.toolkit_ga("7.5").linux == "352.31"


def test_every_gpu_has_a_driver_ceiling_or_is_still_supported(cat):
    tegra = {a.name for a in cat.gpus_file.architectures if "(Tegra)" in a.name}
    for g in cat.gpus_file.gpus:
        a = cat.architectures[g.arch]
        if a.name in tegra:  # JetPack/L4T, not the desktop driver branches
            continue
        if a.last_branch is None:
            assert a.first_branch, g.name  # still supported: a known current architecture
        else:
            assert cat.branch(a.last_branch), (g.name, a.last_branch)


def test_tesla_and_curie_ceilings(cat):
    assert cat.gpu("GeForce GTX 285").arch == "Tesla"
    assert cat.architectures["Tesla"].last_branch == 340
    assert cat.arch_for_cc("1.3").name == "Tesla"
    curie = cat.gpu("G71 [GeForce 7900 GTX]")
    assert (curie.arch, curie.cc) == ("Curie", None)
    assert cat.branch(cat.architectures["Curie"].last_branch).latest == "304.137"


def test_plan_for_a_gpu_without_cuda_says_so():
    h = host(gpus=["GeForce 7900 GTX"], driver="304.137")
    p = plan(h, gpu="require")
    assert not p.ok
    assert "GeForce 7900 GTX (Curie, CC unknown) has no CUDA (no compute capability)" in p.error


def test_matrix_for_a_gpu_without_cuda_names_its_last_driver():
    from tfprov.report import matrix_for_gpu

    out = matrix_for_gpu(load_catalog(), "NVIDIA GeForce 7900 GTX")
    assert out["data"]["driver_branches"]["last_version"] == "304.137"
    assert out["data"]["tensorflow_gpu"] == []
    assert "compute capability none (no CUDA)" in out["text"]


# --- item 17: GPU names -----------------------------------------------------------------------

# (printed form, catalog model, cc): nvidia-smi names (nvidia-smi --query-gpu=name), lspci
# forms ('<chip> [<pci.ids name>]', pci.ids 2026.10.24) and Windows' Win32_VideoController names
NAMES = [
    ("NVIDIA A10G", "NVIDIA A10G", "8.6"),
    ("GA102GL [A10G]", "NVIDIA A10G", "8.6"),
    ("NVIDIA T4G", "NVIDIA T4G", "7.5"),
    ("TU104GL [T4G]", "NVIDIA T4G", "7.5"),
    ("NVIDIA H20", "NVIDIA H20", "9.0"),
    ("GH100 [H20 HBM3e]", "NVIDIA H20", "9.0"),
    ("NVIDIA H800", "NVIDIA H800", "9.0"),
    ("NVIDIA H800 PCIe", "NVIDIA H800", "9.0"),
    ("NVIDIA A800 80GB PCIe", "NVIDIA A800", "8.0"),
    ("NVIDIA A800-SXM4-80GB", "NVIDIA A800", "8.0"),
    ("NVIDIA L20", "NVIDIA L20", "8.9"),
    ("NVIDIA RTX A500 Laptop GPU", "NVIDIA RTX A500 Laptop GPU", "8.6"),
    ("GA107GLM [RTX A500 Laptop GPU]", "NVIDIA RTX A500 Laptop GPU", "8.6"),
    ("NVIDIA RTX A1000", "NVIDIA RTX A1000", "8.6"),
    ("NVIDIA RTX A4500", "NVIDIA RTX A4500", "8.6"),
    ("NVIDIA RTX A4500 Laptop GPU", "NVIDIA RTX A4500 Laptop GPU", "8.6"),
    (
        "NVIDIA RTX 3500 Ada Generation Laptop GPU",
        "NVIDIA RTX 3500 Ada Generation Laptop GPU",
        "8.9",
    ),
    ("NVIDIA GeForce GTX 1630", "GeForce GTX 1630", "7.5"),
    ("NVIDIA GeForce GT 710", "GeForce GT 710", "3.5"),
    ("GK208B [GeForce GT 710]", "GeForce GT 710", "3.5"),
    ("NVIDIA GeForce 940MX", "GeForce 940MX", "5.0"),
    ("NVIDIA GeForce MX110", "GeForce MX110", "5.0"),
    ("NVIDIA GeForce MX130", "GeForce MX130", "5.0"),
    ("NVIDIA GeForce GTX 860M", "GeForce GTX 860M", "5.0"),
    ("Tesla K20Xm", "Tesla K20Xm", "3.5"),
    ("GK110GL [Tesla K20Xm]", "Tesla K20Xm", "3.5"),
    ("Tesla M10", "Tesla M10", "5.0"),
    ("Tesla M4", "Tesla M4", "5.2"),
    ("NVIDIA GeForce RTX 5090 Laptop GPU", "GeForce RTX 5090 Laptop GPU", "12.0"),
    ("NVIDIA GeForce RTX 5080 Laptop GPU", "GeForce RTX 5080 Laptop GPU", "12.0"),
    ("NVIDIA GeForce RTX 5070 Ti Laptop GPU", "GeForce RTX 5070 Ti Laptop GPU", "12.0"),
    ("NVIDIA GeForce RTX 5070 Laptop GPU", "GeForce RTX 5070 Laptop GPU", "12.0"),
    ("NVIDIA GeForce RTX 5060 Laptop GPU", "GeForce RTX 5060 Laptop GPU", "12.0"),
    ("NVIDIA GeForce RTX 5050 Laptop GPU", "GeForce RTX 5050 Laptop GPU", "12.0"),
    ("GB206M [GeForce RTX 5060 Max-Q / Mobile]", "GeForce RTX 5060 Laptop GPU", "12.0"),
    ("GB205M [GeForce RTX 5070 Ti Mobile]", "GeForce RTX 5070 Ti Laptop GPU", "12.0"),
    ("NVIDIA H100 NVL", "NVIDIA H100 NVL", "9.0"),
    ("GH100 [H100L 94GB]", "NVIDIA H100 NVL", "9.0"),
    # board variants of one model still find it
    ("NVIDIA A100-SXM4-40GB", "NVIDIA A100", "8.0"),
    ("NVIDIA H100 80GB HBM3", "NVIDIA H100", "9.0"),
    ("GP106 [GeForce GTX 1060 6GB Rev. 2]", "GeForce GTX 1060", "6.1"),
    ("GA102 [GeForce RTX 3080 Lite Hash Rate]", "GeForce RTX 3080", "8.6"),
    ("GK104 [GeForce GTX 660 OEM]", "GeForce GTX 660", "3.0"),
    # pci.ids' laptop forms find the laptop model, not the desktop one
    ("GA104M [GeForce RTX 3080 Mobile / Max-Q 8GB/16GB]", "GeForce RTX 3080 Laptop GPU", "8.6"),
    (
        "GA107BM / GN20-P0-R-K2 [GeForce RTX 3050 6GB Laptop GPU]",
        "GeForce RTX 3050 Laptop GPU",
        "8.6",
    ),
    ("TU104GLM [Quadro RTX 5000 Mobile / Max-Q]", "Quadro RTX 5000 Mobile", "7.5"),
    ("AD104M [GeForce RTX 4080 Max-Q / Mobile]", "GeForce RTX 4080 Laptop GPU", "8.9"),
]


@pytest.mark.parametrize("printed, name, cc", NAMES)
def test_real_name_forms_find_their_own_model(cat, printed, name, cc):
    g = cat.gpu(printed)
    assert g is not None, printed
    assert (g.name, g.cc) == (name, cc)


@pytest.mark.parametrize(
    "printed",
    [
        "NVIDIA GeForce RTX 4090 Ti",
        "NVIDIA A100 NVL",
        "GH100 [H100 NVSwitch]",
        "GB202 [GeForce RTX 5090 D]",
    ],
)
def test_a_different_model_never_falls_back_to_a_shorter_name(cat, printed):
    # unknown models that extend a known name are unknown, not the shorter model
    assert cat.gpu(printed) is None


def test_new_pci_ids_find_their_model(cat):
    assert cat.gpu_by_pci_id("0x2321").name == "NVIDIA H100 NVL"
    assert cat.gpu_by_pci_id("2237").name == "NVIDIA A10G"
    assert cat.gpu_by_pci_id("10de:2d19").name == "GeForce RTX 5060 Laptop GPU"
