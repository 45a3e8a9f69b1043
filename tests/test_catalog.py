"""The catalog: every data file validates, every entry is sourced, no holes, and the
published rows tfprov depends on are present exactly as printed."""

import copy

import pytest
import yaml

from tfprov.catalog import CatalogError, _read, load_catalog, load_file, normalize_gpu_name
from tfprov.catalog import models as m
from tfprov.model.versions import V, minor_of


def _published_minors() -> list[str]:
    """The TensorFlow minors with `tensorflow` wheels on PyPI, as tf_wheels.yaml records
    them: a new release in the data is a new release here, with no list to edit."""
    rows = _read("tf_wheels.yaml")["wheels"]
    return sorted({r["minor"] for r in rows if r["package"] == "tensorflow"}, key=V)


ALL_MINORS = _published_minors()


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@pytest.mark.parametrize("name", sorted(m.FILES))
def test_every_file_validates_and_every_entry_names_a_source(name):
    f = load_file(name)
    assert f.sources, name
    for src in f.sources.values():
        assert src.url.startswith("https://"), src.url


def test_unknown_source_key_is_rejected():
    data = copy.deepcopy(_read("cuda.yaml"))
    data["toolkits"][0]["source"] = "nowhere"
    with pytest.raises(ValueError, match="unknown source keys: .*nowhere"):
        m.CudaFile.model_validate(data)


def test_unknown_field_and_bad_version_are_rejected():
    data = copy.deepcopy(_read("cuda.yaml"))
    data["toolkits"][0]["linx"] = "1"
    with pytest.raises(ValueError, match="linx"):
        m.CudaFile.model_validate(data)
    data = copy.deepcopy(_read("cuda.yaml"))
    data["toolkits"][0]["linux"] = "latest"
    with pytest.raises(ValueError, match="Invalid version"):
        m.CudaFile.model_validate(data)


def test_load_file_error_names_file_and_field(monkeypatch):
    from tfprov import catalog as c

    real = c._read

    def broken(name):
        d = copy.deepcopy(real(name))
        d["rules"]["windows_native_gpu_until"]["value"] = "ten"
        return d

    monkeypatch.setattr(c, "_read", broken)
    with pytest.raises(CatalogError, match=r"catalog/data/tensorflow.yaml: rules\.windows_native"):
        c.load_file("tensorflow.yaml")


# --- TensorFlow ---------------------------------------------------------------------------


def test_every_published_minor_release_is_known(cat):
    assert sorted(cat.by_minor, key=V) == ALL_MINORS
    by_major: dict[int, list[int]] = {}
    for mi in ALL_MINORS:
        by_major.setdefault(V(mi).major, []).append(V(mi).minor)
    assert sorted(by_major) == [1, 2] and ALL_MINORS[0] == "1.0"
    for minors in by_major.values():  # no minor missing up to each major's newest
        assert minors == list(range(minors[-1] + 1))
    assert {"1.15", "2.21"} <= set(ALL_MINORS)


def test_tested_build_tables_have_no_holes(cat):
    t = cat.tested.tested_builds
    minors = {tbl: [minor_of(r.tf_version) for r in rows] for tbl, rows in t.items()}
    assert sorted(set(minors["linux_gpu"]), key=V) == ALL_MINORS
    assert sorted(set(minors["linux_cpu"]), key=V) == ALL_MINORS
    # Windows: the published table skips 2.13 (no row was ever added); GPU ends at 2.10
    assert sorted(set(minors["windows_cpu"]), key=V) == [x for x in ALL_MINORS if x != "2.13"]
    assert sorted(set(minors["windows_gpu"]), key=V) == ALL_MINORS[: ALL_MINORS.index("2.10") + 1]
    assert minors["macos_gpu"] == ["1.1", "1.0"]
    # rows are newest first, as published (macOS lists 2.0.0 twice; kept as printed)
    for tbl, rows in t.items():
        vs = [V(r.tf_version) for r in rows]
        assert vs == sorted(vs, reverse=True), tbl
    assert len(t["linux_cpu"]) == len(t["linux_gpu"]) == len(ALL_MINORS)
    assert len(t["windows_cpu"]) == len(ALL_MINORS) - 1 and len(t["windows_gpu"]) == 27
    assert len(t["macos_cpu"]) == 34 and len(t["macos_gpu"]) == 2


@pytest.mark.parametrize(
    "table, row",
    [
        (
            "linux_gpu",
            ("tensorflow-2.21.0", "3.10-3.13", "Clang 18.1.8", "Bazel 7.4.1", "9.3", "12.5"),
        ),
        (
            "linux_gpu",
            ("tensorflow-2.15.0", "3.9-3.11", "Clang 16.0.0", "Bazel 6.1.0", "8.9", "12.2"),
        ),
        (
            "linux_gpu",
            ("tensorflow-2.14.0", "3.9-3.11", "Clang 16.0.0", "Bazel 6.1.0", "8.7", "11.8"),
        ),
        ("linux_gpu", ("tensorflow-2.4.0", "3.6-3.8", "GCC 7.3.1", "Bazel 3.1.0", "8.0", "11.0")),
        (
            "linux_gpu",
            ("tensorflow_gpu-1.15.0", "2.7, 3.3-3.7", "GCC 7.3.1", "Bazel 0.26.1", "7.4", "10.0"),
        ),
        (
            "linux_gpu",
            ("tensorflow_gpu-1.0.0", "2.7, 3.3-3.6", "GCC 4.8", "Bazel 0.4.2", "5.1", "8"),
        ),
        (
            "windows_gpu",
            ("tensorflow_gpu-2.10.0", "3.7-3.10", "MSVC 2019", "Bazel 5.1.1", "8.1", "11.2"),
        ),
        (
            "windows_gpu",
            ("tensorflow_gpu-2.1.0", "3.5-3.7", "MSVC 2019", "Bazel 0.27.1-0.29.1", "7.6", "10.1"),
        ),
        ("windows_cpu", ("tensorflow-1.10.0", "3.5-3.6", "MSVC 2015 update 3", "Cmake v3.6.3")),
        ("macos_cpu", ("tensorflow-2.16.1", "3.9-3.12", "Clang from Xcode 13.6", "Bazel 6.5.0")),
    ],
)
def test_published_rows_are_present_exactly(cat, table, row):
    rows = [
        (r.version, r.python, r.compiler, r.build_tools) + ((r.cudnn, r.cuda) if r.cuda else ())
        for r in cat.tested.tested_builds[table]
    ]
    assert row in rows


def test_corrections_keep_the_newer_value(cat):
    fixes = {(c.table, c.version, c.field): (c.old, c.new) for c in cat.tested.corrections}
    assert fixes[("linux_gpu", "tensorflow-2.15.0", "cudnn")] == ("8.8", "8.9")
    assert fixes[("windows_gpu", "tensorflow_gpu-2.1.0", "cudnn")] == ("7.4", "7.6")
    row = next(r for r in cat.tested.tested_builds["linux_gpu"] if r.version == "tensorflow-2.15.0")
    assert row.cudnn == "8.9"


def test_release_facts(cat):
    r = cat.release("2.15")
    assert r.version == "2.15.1"
    assert r.gpu["linux_gpu"].cuda == "12.2" and r.gpu["linux_gpu"].cudnn == "8.9"
    assert r.needs_avx and not cat.release("1.5").needs_avx and cat.release("1.6").needs_avx
    assert r.gpu_packages["linux_x86_64"].name == "tensorflow"
    assert cat.release("2.0").gpu_packages["linux_x86_64"].name == "tensorflow-gpu"
    assert cat.release("1.15").gpu_packages["linux_x86_64"].name == "tensorflow-gpu"
    assert r.cpu_packages["linux_x86_64"].name == "tensorflow-cpu"
    assert r.and_cuda is not None and cat.release("2.13").and_cuda is None
    assert "3.11" in r.cpu_packages["linux_x86_64"].pythons
    assert "3.12" not in r.cpu_packages["linux_x86_64"].pythons
    assert cat.release("2.21").cpu_packages["linux_aarch64"].pythons  # aarch64 wheels exist


def test_every_release_has_gpu_targets_or_a_documented_minimum(cat):
    for r in cat.releases:
        assert r.targets or r.documented_min_cc, r.version


# --- CUDA ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "release, linux, windows",
    [
        ("CUDA 8.0 (8.0.44)", "367.48", "369.30"),
        ("CUDA 9.0 (9.0.76)", "384.81", "385.54"),
        ("CUDA 10.1 (10.1.105 general release, and updates)", "418.39", "418.96"),
        ("CUDA 11.2.0 GA", "460.27.03", "460.82"),
        ("CUDA 11.8 GA", "520.61.05", "520.06"),
        ("CUDA 12.2 Update 2", "535.104.05", "537.13"),
    ],
)
def test_cuda_driver_table_rows(cat, release, linux, windows):
    rows = {t.release: (t.linux, t.windows) for t in cat.cuda.toolkits}
    assert rows[release] == (linux, windows)


def test_cuda_table_is_ordered_and_covers_8_to_13(cat):
    versions = [V(t.version) for t in cat.cuda.toolkits]
    assert versions == sorted(versions)
    minors = {minor_of(t.version) for t in cat.cuda.toolkits}
    for want in (
        ["8.0", "9.0", "9.1", "9.2", "10.0", "10.1", "10.2"]
        + [f"11.{i}" for i in range(9)]
        + [f"12.{i}" for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)]
        + ["13.0"]
    ):
        assert want in minors, want


def test_minor_version_compatibility_and_cc_ranges(cat):
    assert cat.minor_compat(11).linux == "450.80.02"
    assert cat.minor_compat(12).linux == "525.60.13"
    assert (cat.cuda_cc_range("11.0").min, cat.cuda_cc_range("12.0").min) == ("3.5", "5.0")
    assert cat.cuda_cc_range("13.0").min == "7.5"
    assert cat.cuda_cc_range("10.2").min == "3.0"


# --- GPUs and drivers --------------------------------------------------------------------


def test_at_least_150_gpus_each_consistent(cat):
    gpus = cat.gpus_file.gpus
    assert len(gpus) >= 150
    names = [normalize_gpu_name(g.name) for g in gpus]
    assert len(names) == len(set(names))
    segments = {g.segment for g in gpus}
    assert {"geforce", "geforce-mobile", "quadro", "datacenter", "jetson"} <= segments


@pytest.mark.parametrize(
    "printed, name, cc",
    [
        ("NVIDIA GeForce GTX 850M", "GeForce GTX 850M", "5.0"),
        ("GM107M [GeForce GTX 850M]", "GeForce GTX 850M", "5.0"),
        ("Tesla K80", "Tesla K80", "3.7"),
        ("NVIDIA Tesla K80", "Tesla K80", "3.7"),
        ("GK210GL [Tesla K80]", "Tesla K80", "3.7"),
        ("NVIDIA GeForce RTX 4090", "GeForce RTX 4090", "8.9"),
        ("GeForce GTX 650", "GeForce GTX 650", "3.0"),
        ("NVIDIA GeForce RTX 3060", "GeForce RTX 3060", "8.6"),
        ("NVIDIA A100-SXM4-40GB", "A100", "8.0"),
    ],
)
def test_gpu_name_forms(cat, printed, name, cc):
    g = cat.gpu(printed)
    assert g is not None, printed
    assert normalize_gpu_name(g.name) == normalize_gpu_name(name) or name.lower() in g.name.lower()
    assert g.cc == cc


def test_unknown_gpu_is_none(cat):
    assert cat.gpu("Voodoo3 3000") is None


def test_architecture_driver_support_ends(cat):
    a = cat.architectures
    assert a["Fermi"].last_branch == 390
    assert a["Kepler"].last_branch == 470
    assert a["Maxwell"].last_branch == a["Pascal"].last_branch == a["Volta"].last_branch == 580
    assert a["Turing"].last_branch is None
    assert cat.branch(470).latest.startswith("470.")
    assert cat.branch_of("537.13") == 535 and cat.branch_of("456.71") == 455


def test_yaml_files_are_one_fact_per_line():
    """Spack-style: each entry is one flow mapping on one line, so diffs stay reviewable."""
    from importlib import resources

    for name in m.FILES:
        text = resources.files("tfprov.catalog").joinpath("data", name).read_text()
        doc = yaml.safe_load(text)
        for val in doc.values():
            if isinstance(val, list):
                for item in val:
                    assert isinstance(item, dict)
        for line in text.splitlines():
            if line.lstrip().startswith("- {"):
                rest = line[line.rfind("}") + 1 :].strip()  # only a comment may follow
                assert "}" in line and (not rest or rest.startswith("#")), (name, line[:80])


def test_platform_tag_floors_from_pypi_file_names():
    from tfprov.catalog.models import Wheels, tag_floor

    # tags as they appear in PyPI file names of tensorflow wheels
    assert tag_floor("manylinux_2_27_x86_64") == "2.27"
    assert tag_floor("manylinux2014_x86_64") == "2.17"
    assert tag_floor("manylinux2010_x86_64") == "2.12"
    assert tag_floor("macosx_12_0_arm64") == "12.0"
    assert tag_floor("macosx_10_15_x86_64") == "10.15"
    assert tag_floor("win_amd64") is None
    w = Wheels(
        package="tensorflow",
        minor="2.21",
        version="2.21.0",
        source="pypi-tensorflow",
        platform_tags={
            # one file installs where either of its tags does; the strictest file wins
            "linux_x86_64": ["manylinux_2_17_x86_64.manylinux2014_x86_64", "manylinux_2_27_x86_64"],
        },
    )
    assert w.libc_floor("linux_x86_64") == "2.27"
    assert w.libc_floor("windows") is None
