"""Pydantic models of the catalog's data files (``tfprov/catalog/data/*.yaml``).

Every file has a ``sources:`` mapping (key -> url and title) and every entry names one
of those keys in ``source:``; loading fails on an unknown key, an unknown field, or a
value that is not a version.  One model per file; the file's docstring-comment says
where its facts come from.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from tfprov.model.versions import V, cc_tuple, spec_set


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    url: str
    title: str

    @field_validator("url")
    @classmethod
    def _is_url(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError(f"source url must be http(s): {v!r}")
        return v


class Entry(_Strict):
    """One published fact (a row, a model, a rule) and where it was published."""

    source: str
    note: str | None = None


def _version(v: str | None) -> str | None:
    if v is not None:
        V(v)  # raises InvalidVersion -> pydantic ValidationError
    return v


def _cc(v: str) -> str:
    cc_tuple(v)
    return v


class DataFile(_Strict):
    sources: dict[str, Source]

    @model_validator(mode="after")
    def _sources_resolve(self):
        missing: list[str] = []

        def walk(obj, where):
            if isinstance(obj, Entry):
                if obj.source not in self.sources:
                    missing.append(f"{where}: source {obj.source!r}")
                for name in type(obj).model_fields:
                    walk(getattr(obj, name), f"{where}.{name}")
            elif isinstance(obj, BaseModel):
                for name in type(obj).model_fields:
                    if name != "sources":
                        walk(getattr(obj, name), f"{where}.{name}" if where else name)
            elif isinstance(obj, (list, tuple)):
                for i, item in enumerate(obj):
                    walk(item, f"{where}[{i}]")
            elif isinstance(obj, dict):
                for k, item in obj.items():
                    walk(item, f"{where}.{k}")

        walk(self, "")
        if missing:
            raise ValueError("unknown source keys: " + "; ".join(missing[:10]))
        return self


# --- tf_tested_builds.yaml ------------------------------------------------------------


class TestedBuild(Entry):
    """One row of a 'Tested build configurations' table, exactly as printed."""

    version: str  # e.g. "tensorflow-2.15.0", "tensorflow_gpu-1.15.0"
    python: str  # e.g. "2.7, 3.3-3.7"
    compiler: str
    build_tools: str
    cudnn: str | None = None
    cuda: str | None = None

    @property
    def tf_version(self) -> str:
        return self.version.split("-", 1)[1]


class Correction(Entry):
    table: str
    version: str
    field: str
    old: str
    new: str
    changed: str
    commit: str


TableName = Literal[
    "linux_cpu", "linux_gpu", "macos_cpu", "macos_gpu", "windows_cpu", "windows_gpu"
]


class TestedBuildsFile(DataFile):
    tested_builds: dict[TableName, list[TestedBuild]]
    corrections: list[Correction] = []


# --- tensorflow.yaml: era rules that are not table rows ------------------------------------


class VersionRule(Entry):
    value: str

    @field_validator("value")
    @classmethod
    def _check_versions(cls, v):
        return _version(v)


class TFRules(_Strict):
    x86_wheels_require_avx_since: VersionRule
    gpu_in_main_package_since: VersionRule
    cpu_only_package_since: VersionRule
    windows_native_gpu_until: VersionRule


class TensorflowFile(DataFile):
    rules: TFRules


# --- tf_wheels.yaml -------------------------------------------------------------------------

Platform = Literal["linux_x86_64", "linux_aarch64", "windows", "macos_x86_64", "macos_arm64"]
PLATFORMS: tuple[str, ...] = Platform.__args__  # type: ignore[attr-defined]


class Wheels(Entry):
    package: str
    minor: str
    version: str
    linux_x86_64: list[str] = []
    linux_aarch64: list[str] = []
    windows: list[str] = []
    macos_x86_64: list[str] = []
    macos_arm64: list[str] = []
    # per platform, the platform tags of this version's wheel files as PyPI names them
    # (one string per distinct tag set, e.g. "manylinux_2_17_x86_64.manylinux2014_x86_64");
    # empty: not recorded.  libc_floor() reads the C library / macOS floor from them.
    platform_tags: dict[Platform, list[str]] = {}
    placeholder: bool = False

    @field_validator("version", "minor")
    @classmethod
    def _check_versions(cls, v):
        return _version(v)

    def pythons(self, platform: str) -> list[str]:
        return getattr(self, platform)

    def libc_floor(self, platform: str) -> str | None:
        """The glibc (Linux) or macOS version a host needs for every wheel file of this
        version on ``platform`` to install: for each file its least demanding tag, then the
        most demanding file.  None when no tag is recorded or the tags set no floor."""
        floors = [_tag_set_floor(tags) for tags in self.platform_tags.get(platform, [])]
        floors = [f for f in floors if f is not None]
        return max(floors, key=_version_key) if floors else None


# glibc of the legacy manylinux names (PEP 600's aliases)
_LEGACY_MANYLINUX = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def tag_floor(tag: str) -> str | None:
    """The glibc / macOS version one platform tag needs: ``manylinux_2_27_x86_64`` → 2.27,
    ``manylinux2014_x86_64`` → 2.17, ``macosx_12_0_arm64`` → 12.0; None for tags that set no
    such floor (``win_amd64``, ``linux_x86_64``)."""
    m = re.fullmatch(r"manylinux_(\d+)_(\d+)_\w+", tag)
    if m:
        return f"{m[1]}.{m[2]}"
    m = re.fullmatch(r"(manylinux1|manylinux2010|manylinux2014)_\w+", tag)
    if m:
        return _LEGACY_MANYLINUX[m[1]]
    m = re.fullmatch(r"macosx_(\d+)_(\d+)_\w+", tag)
    if m:
        return f"{m[1]}.{m[2]}"
    return None


def _tag_set_floor(tags: str) -> str | None:
    """A file's compressed tag set installs where any one of its tags does."""
    floors = [tag_floor(t) for t in tags.split(".")]
    if any(f is None for f in floors):
        return None
    return min(floors, key=_version_key)


class AndCuda(Entry):
    minor: str
    version: str
    requires: list[str]


class BuildTargets(Entry):
    minor: str
    targets: list[str] = []  # "sm_50", "compute_80"
    documented_min: str | None = None

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        for t in v:
            if not t.startswith(("sm_", "compute_")):
                raise ValueError(f"target must be sm_XY or compute_XY: {t!r}")
            cc_tuple(t)
        return v

    @model_validator(mode="after")
    def _one_of(self):
        if not self.targets and not self.documented_min:
            raise ValueError("either targets or documented_min is required")
        return self


class WheelsFile(DataFile):
    wheels: list[Wheels]
    and_cuda: list[AndCuda] = []
    compute_capabilities: list[BuildTargets] = []


# --- cuda.yaml ----------------------------------------------------------------------------


class CudaToolkit(Entry):
    release: str  # label as printed, e.g. "CUDA 12.2 Update 2"
    version: str  # normalised, e.g. "12.2.2"
    release_candidate: bool = False  # an RC row: never the minor's GA driver floor
    linux: str | None = None
    windows: str | None = None

    @field_validator("version", "linux", "windows")
    @classmethod
    def _check_versions(cls, v):
        return _version(v)

    @model_validator(mode="after")
    def _rc_is_marked(self):
        if re.search(r"\bRC\b", self.release) and not self.release_candidate:
            raise ValueError(f"{self.release!r} is a release candidate: set release_candidate")
        return self


class MinorCompat(Entry):
    major: int
    linux: str
    windows: str | None = None


class CudaCC(Entry):
    cuda: str
    min: str
    max: str
    deprecated_below: str | None = None

    @field_validator("min", "max")
    @classmethod
    def _check_cc(cls, v):
        return _cc(v)


class CudaFile(DataFile):
    toolkits: list[CudaToolkit]
    minor_version_compatibility: list[MinorCompat]
    compute_capability: list[CudaCC]


# --- gpus.yaml ----------------------------------------------------------------------------


class Architecture(Entry):
    name: str
    cc: list[str]
    first_branch: int | None = None
    last_branch: int | None = None  # None: still supported by current drivers
    open_modules: Literal["unsupported", "supported", "required"] | None = None  # None: Tegra


Segment = Literal[
    "geforce", "geforce-mobile", "titan", "quadro", "quadro-mobile", "datacenter", "jetson"
]


class GpuModel(Entry):
    name: str
    cc: str | None  # None: a GPU without CUDA (Curie), whose architecture lists no cc
    arch: str
    segment: Segment
    chip: str | None = None
    pci_ids: list[str] = []
    aliases: list[str] = []

    @field_validator("cc")
    @classmethod
    def _check_cc(cls, v):
        return v if v is None else _cc(v)


class GpusFile(DataFile):
    architectures: list[Architecture]
    gpus: list[GpuModel]

    @model_validator(mode="after")
    def _consistent(self):
        archs = {a.name: a for a in self.architectures}
        bad = [
            g.name
            for g in self.gpus
            if g.arch not in archs
            or (g.cc not in archs[g.arch].cc if g.cc else archs[g.arch].cc != [])
        ]
        if bad:
            raise ValueError(f"gpus whose arch/cc is not in architectures: {bad[:10]}")
        return self


# --- drivers.yaml ---------------------------------------------------------------------------


class DriverBranch(Entry):
    branch: int
    latest: str
    kind: str | None = None

    @field_validator("latest")
    @classmethod
    def _check_versions(cls, v):
        return _version(v)


class WindowsBranch(Entry):
    branch: int
    latest_windows: str

    @field_validator("latest_windows")
    @classmethod
    def _check_versions(cls, v):
        return _version(v)


class OpenModulesDefault(Entry):
    branch: int  # from this branch on, the open kernel modules are the default


class DriverPackagesRow(Entry):
    """Which packages carry a driver branch on a distro (see drivers.yaml)."""

    ids: list[str]
    versions: list[str] = []  # empty: every release
    flavors: list[Literal["proprietary", "open", "server"]] = []  # empty: every flavor
    packages: dict[int, str] = {}  # branch -> package; empty: every branch, `package`
    package: str | None = None  # template
    spec: str = "{package}"
    prefix: str | None = None
    stream: str | None = None
    components: list[str] = []
    nvidia_repo: bool = False
    text: str

    @model_validator(mode="after")
    def _one_package(self):
        if (self.package is None) == (not self.packages):
            raise ValueError("a driver_packages row names either `package` or `packages`")
        return self


class DriversFile(DataFile):
    branches: list[DriverBranch]
    windows_branches: list[WindowsBranch] = []
    open_modules_default_from: OpenModulesDefault
    driver_packages: list[DriverPackagesRow]


# --- builds.yaml ----------------------------------------------------------------------------


class CondaBuild(Entry):
    channel: str
    package: str
    version: str
    platforms: list[str] = []  # empty: the recipe does not say (read as linux-64 only)
    python: list[str] = []
    variant: Literal["gpu", "cpu"]
    cudatoolkit: str | None = None
    cuda: str | None = None
    cudnn: str | None = None


class CondaRecipe(Entry):
    tensorflow: str  # a specifier, e.g. ">=2.5,<2.11"
    os: Literal["linux", "windows"]
    channel: str
    conda: list[str]
    pip: list[str] = []

    @field_validator("tensorflow")
    @classmethod
    def _spec(cls, v: str) -> str:
        spec_set(v)
        return v


class CommunityWheel(Entry):
    collection: str
    version: str
    os: Literal["linux", "windows", "macos"]
    python: str
    simd: Literal["sse2", "sse3", "sse4.1", "sse4.2", "avx", "avx2", "avx512"]
    variant: Literal["cpu", "gpu"]
    cuda: str | None = None
    cudnn: str | None = None
    compute_capabilities: list[str] = []
    url: str  # the file itself; `source` is the page that describes it
    installable: bool = True  # False: a split 7-Zip archive, fetched and unpacked by hand
    sha256: str | None = None

    @field_validator("url")
    @classmethod
    def _direct_link(cls, v: str) -> str:
        if not direct_download_link(v):
            raise ValueError(f"not a direct download link: {v!r}")
        return v

    @model_validator(mode="after")
    def _archives_are_not_installable(self):
        if self.url.endswith(".7z.001") and self.installable:
            raise ValueError(f"{self.url}: a split 7-Zip archive needs installable: false")
        return self


# a file at a pinned commit, or a release asset; never a tree, blob, commit or issue page
_DIRECT_LINK = re.compile(
    r"https://(?:raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}"
    r"|github\.com/[\w.-]+/[\w.-]+/releases/download/[^/?#\s]+)"
    r"(?:/[\w.~%-]+)+\.(?:whl|7z\.001)"
)


def direct_download_link(url: str) -> bool:
    """Whether ``url`` names one downloadable file (wheel or first archive part)."""
    return _DIRECT_LINK.fullmatch(url) is not None


class BuildsFile(DataFile):
    conda: list[CondaBuild] = []
    conda_recipes: list[CondaRecipe] = []
    community: list[CommunityWheel] = []


class Distro(Entry):
    """One release of a Linux distribution tfprov installs system parts on."""

    id: str
    version: str
    codename: str | None = None
    package_manager: Literal["apt", "dnf"]
    nvidia_repo: str  # NVIDIA's CUDA repository directory: ubuntu2204, debian12, rhel9
    # dnf: the repository EPEL's packages (DKMS) need, enabled with `dnf config-manager
    # --set-enabled` (crb, powertools); None where it takes a subscription (RHEL)
    crb_repo: str | None = None


class WslRepo(Entry):
    dir: str
    distros: list[str]


class VersionMajor(Entry):
    ids: list[str]


class RepoArch(Entry):
    dirs: dict[str, str]  # `uname -m` -> NVIDIA's repository directory


class VenvPackage(Entry):
    ids: list[str]
    package: str  # template: {minor}


class DistrosFile(DataFile):
    distros: list[Distro]
    version_major: VersionMajor
    wsl_repo: WslRepo
    repo_arch: RepoArch
    venv_package: VenvPackage


FILES: dict[str, type[DataFile]] = {
    "tensorflow.yaml": TensorflowFile,
    "tf_tested_builds.yaml": TestedBuildsFile,
    "tf_wheels.yaml": WheelsFile,
    "cuda.yaml": CudaFile,
    "gpus.yaml": GpusFile,
    "drivers.yaml": DriversFile,
    "builds.yaml": BuildsFile,
    "distros.yaml": DistrosFile,
}
