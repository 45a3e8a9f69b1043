"""The compatibility catalog: published facts as YAML data, validated on load.

``load_catalog()`` reads ``data/*.yaml`` once (validated by :mod:`.models`) and builds
the indices the resolver queries: TensorFlow releases by minor version, CUDA driver
minimums, GPU models by name and PCI id, driver branches, conda and community builds.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import yaml

from tfprov.catalog import models as m
from tfprov.model.versions import V, cc_tuple, expand_python_range, minor_of

try:  # the C loader is ~10x faster; fall back when libyaml is missing
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

X86_PLATFORMS = frozenset({"linux_x86_64", "windows", "macos_x86_64"})

# Which PyPI projects carry a platform's wheels, in order of preference.
_PLATFORM_PACKAGES = {
    "linux_x86_64": ("tensorflow",),
    "windows": ("tensorflow", "tensorflow-intel"),
    "linux_aarch64": ("tensorflow", "tensorflow-aarch64", "tensorflow-cpu-aws"),
    "macos_x86_64": ("tensorflow", "tensorflow-macos"),
    "macos_arm64": ("tensorflow", "tensorflow-macos"),
}
_TABLE_FOR = {
    ("linux_x86_64", "cpu"): "linux_cpu",
    ("linux_x86_64", "gpu"): "linux_gpu",
    ("windows", "cpu"): "windows_cpu",
    ("windows", "gpu"): "windows_gpu",
    ("macos_x86_64", "cpu"): "macos_cpu",
    ("macos_x86_64", "gpu"): "macos_gpu",
}

# The rule that ends a wheel platform's official GPU builds (native Windows: after 2.10).
_GPU_UNTIL_RULE = {"windows": "windows_native_gpu_until"}


# Words that name a board variant of one model, not another model: memory ('40gb',
# '8gb/16gb'), form factor ('sxm4', 'pcie'), memory type ('hbm3', 'gddr6x'), pci.ids'
# 'OEM', 'Rev. 2', 'v2', 'Engineering Sample', 'Lite Hash Rate', 'Mac Edition', 'Refresh',
# nvidia-smi's cut-off '...'.
_VARIANT_SUFFIX = re.compile(
    r"[ -](?:\d+\s?gb(?:\s?/\s?\d+\s?gb)*|/|sxm\d*|pcie|hbm\d*e?|gddr\d+x?|oem|rev\. ?\w+"
    r"|v\d|with max-q design|engineering sample|lite hash rate|mac edition|refresh"
    r"|\S*\.\.\.|\S*…)$"
)
_MOBILE_SUFFIX = re.compile(r" (?:max-q / mobile|mobile / max-q|mobile|max-q)$")
_INNER_MEMORY = re.compile(r" \d+\s?gb(?= )")  # 'rtx 3050 6gb laptop gpu'


def _name_candidates(key: str):
    """The lookup keys for a normalized name: itself, then with variant words dropped."""
    keys = [key]
    if _INNER_MEMORY.search(key):
        keys.append(_INNER_MEMORY.sub("", key))
    for k in keys:
        while True:
            yield k
            mobile = _MOBILE_SUFFIX.search(k)
            if mobile:
                k = k[: mobile.start()]
                yield f"{k} laptop gpu"
                yield f"{k} mobile"
                continue
            variant = _VARIANT_SUFFIX.search(k)
            if not variant:
                break
            k = k[: variant.start()]


class CatalogError(ValueError):
    """A data file does not validate; the message names the file and the field."""


@dataclass(frozen=True)
class GpuBuild:
    """What an official GPU build of one release needs: from a tested-build row."""

    cuda: str
    cudnn: str
    row: m.TestedBuild


@dataclass(frozen=True)
class Package:
    name: str  # PyPI project
    version: str  # newest patch of the minor on PyPI
    pythons: tuple[str, ...]
    source: str  # url


@dataclass
class TFRelease:
    """One minor release of TensorFlow with every fact tfprov needs about it."""

    minor: str
    version: str  # newest patch of `tensorflow` (or of the table's row when PyPI has none)
    key: tuple[int, int]
    needs_avx: bool  # official x86 wheels use AVX
    gpu: dict[str, GpuBuild] = field(default_factory=dict)  # table name -> build
    cpu_packages: dict[str, Package] = field(default_factory=dict)  # platform -> package
    gpu_packages: dict[str, Package] = field(default_factory=dict)
    targets: tuple[str, ...] = ()  # sm_XY / compute_XY of the official GPU build
    documented_min_cc: str | None = None
    and_cuda: m.AndCuda | None = None
    sources: dict[str, str] = field(default_factory=dict)  # fact -> url

    def __repr__(self) -> str:  # compact in test output
        return f"TFRelease({self.version})"


def _read(name: str) -> dict:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - safe loader


def load_file(name: str) -> m.DataFile:
    from pydantic import ValidationError

    model = m.FILES[name]
    try:
        return model.model_validate(_read(name))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise CatalogError(
            f"catalog/data/{name}: {loc}: {first['msg']} ({exc.error_count()} error(s))"
        ) from None


def normalize_gpu_name(name: str) -> str:
    """Fold the forms nvidia-smi, lspci and Windows print into one key.

    'NVIDIA GeForce GTX 850M', 'GM107M [GeForce GTX 850M]' and 'geforce  gtx 850m'
    all become 'geforce gtx 850m'.
    """
    s = name.strip()
    bracket = re.search(r"\[([^\]]+)\]", s)
    if bracket:
        s = bracket.group(1)
    s = s.replace("(R)", "").replace("(TM)", "").replace("®", "").replace("™", "")
    s = re.sub(r"\s+", " ", s).strip().lower()
    for prefix in ("nvidia corporation ", "nvidia "):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    return s


class Catalog:
    """The data files, validated, with the indices the resolver queries."""

    def __init__(self, files: dict[str, m.DataFile]):
        self.files = files
        tf: m.TensorflowFile = files["tensorflow.yaml"]  # type: ignore[assignment]
        self.rules = tf.rules
        self.tested: m.TestedBuildsFile = files["tf_tested_builds.yaml"]  # type: ignore
        self.wheels: m.WheelsFile = files["tf_wheels.yaml"]  # type: ignore
        self.cuda: m.CudaFile = files["cuda.yaml"]  # type: ignore
        self.gpus_file: m.GpusFile = files["gpus.yaml"]  # type: ignore
        self.drivers: m.DriversFile = files["drivers.yaml"]  # type: ignore
        self.builds: m.BuildsFile = files["builds.yaml"]  # type: ignore
        self.distros: m.DistrosFile = files["distros.yaml"]  # type: ignore
        self._distro = {(d.id, d.version): d for d in self.distros.distros}
        self._index_gpus()
        self._index_cuda()
        self.branches = sorted(self.drivers.branches, key=lambda b: b.branch)
        self._branch_by_number = {b.branch: b for b in self.branches}
        self._branch_numbers = [b.branch for b in self.branches]
        self.conda_by_minor: dict[str, list[m.CondaBuild]] = {}
        for cb in self.builds.conda:
            self.conda_by_minor.setdefault(minor_of(cb.version), []).append(cb)
        self.community_by_minor: dict[str, list[m.CommunityWheel]] = {}
        for cw in self.builds.community:
            self.community_by_minor.setdefault(minor_of(cw.version), []).append(cw)
        self.releases = self._build_releases()
        self.by_minor = {r.minor: r for r in self.releases}

    # --- distros ----------------------------------------------------------------------
    def distro(self, os_id: str, version: str) -> m.Distro | None:
        """The distro row of ``os_id`` ``version`` (as the table keys it), if supported."""
        return self._distro.get((os_id, version))

    def venv_package(self, os_id: str | None) -> str | None:
        """The template of the package that adds venv to ``os_id``'s own Python
        (``python{minor}-venv``), None where the distro has none."""
        vp = self.distros.venv_package
        return vp.package if os_id in vp.ids else None

    # --- GPUs ---------------------------------------------------------------------------
    def _index_gpus(self) -> None:
        self.architectures = {a.name: a for a in self.gpus_file.architectures}
        self._arch_by_cc: dict[str, m.Architecture] = {}
        for a in self.gpus_file.architectures:
            for cc in a.cc:
                self._arch_by_cc.setdefault(cc, a)
        self._gpu_by_name: dict[str, m.GpuModel] = {}
        self._gpu_by_pci: dict[str, m.GpuModel] = {}
        for g in self.gpus_file.gpus:
            for n in (g.name, *g.aliases):
                self._gpu_by_name.setdefault(normalize_gpu_name(n), g)
            for pid in g.pci_ids:
                self._gpu_by_pci.setdefault(pid.lower(), g)

    @lru_cache(maxsize=4096)  # noqa: B019 - the catalog lives as long as the process
    def gpu(self, name: str) -> m.GpuModel | None:
        """Find a GPU model by any printed form of its name, or None.

        Beyond the exact name, only words that name a board variant of the same model are
        dropped (memory size, form factor, OEM/revision, a truncated '...'): 'A100-SXM4-40GB'
        finds 'A100', but 'H100 NVL' or 'RTX 5090 Laptop GPU' never fall back to 'H100' or
        'RTX 5090'.  pci.ids' 'X Mobile' / 'X Max-Q / Mobile' is 'X Laptop GPU' or 'X Mobile'.
        """
        for key in _name_candidates(normalize_gpu_name(name)):
            hit = self._gpu_by_name.get(key)
            if hit:
                return hit
        return None

    def gpu_by_pci_id(self, device_id: str) -> m.GpuModel | None:
        return self._gpu_by_pci.get(device_id.lower().removeprefix("0x")[-4:])

    def gpu_model(self, name: str, pci_device_id: str | None = None) -> m.GpuModel | None:
        """The model of a probed GPU: by its name, else by its PCI device id."""
        model = self.gpu(name)
        if model is None and pci_device_id:
            model = self.gpu_by_pci_id(pci_device_id)
        return model

    def arch_for_cc(self, cc: str) -> m.Architecture | None:
        return self._arch_by_cc.get(cc)

    # --- CUDA -------------------------------------------------------------------------
    def _index_cuda(self) -> None:
        self._toolkits_by_minor: dict[str, list[m.CudaToolkit]] = {}
        for t in sorted(self.cuda.toolkits, key=lambda t: V(t.version)):
            self._toolkits_by_minor.setdefault(minor_of(t.version), []).append(t)
        self._minor_compat = {c.major: c for c in self.cuda.minor_version_compatibility}
        self._cuda_cc = {minor_of(c.cuda): c for c in self.cuda.compute_capability}

    def toolkit_ga(self, cuda: str) -> m.CudaToolkit | None:
        """The first published final row (GA) of a CUDA minor version ('12.2', '9', '10.0');
        release-candidate rows (CUDA 11.0.1 RC) are skipped."""
        rows = self._toolkits_by_minor.get(minor_of(cuda), ())
        return next((t for t in rows if not t.release_candidate), None)

    def minor_compat(self, major: int) -> m.MinorCompat | None:
        return self._minor_compat.get(major)

    def cuda_cc_range(self, cuda: str) -> m.CudaCC | None:
        return self._cuda_cc.get(minor_of(cuda))

    # --- drivers ------------------------------------------------------------------------
    def branch(self, number: int) -> m.DriverBranch | None:
        return self._branch_by_number.get(number)

    def branch_of(self, driver_version: str) -> int | None:
        """The branch a driver version belongs to: the newest branch number not above its
        major (Linux 535.104.05 -> 535; Windows 537.13 -> 535, 456.71 -> 455)."""
        major = V(driver_version).release[0]
        i = bisect.bisect_right(self._branch_numbers, major)
        return self._branch_numbers[i - 1] if i else None

    # --- TensorFlow releases ---------------------------------------------------------------
    def _build_releases(self) -> list[TFRelease]:
        rules = self.rules
        avx_since = V(rules.x86_wheels_require_avx_since.value)
        merged_since = V(rules.gpu_in_main_package_since.value)
        cpu_pkg_since = V(rules.cpu_only_package_since.value)
        wheel_src = self.wheels.sources

        rows_by_minor: dict[str, dict[str, m.TestedBuild]] = {}
        for table, rows in self.tested.tested_builds.items():
            for row in rows:
                mi = minor_of(row.tf_version)
                rows_by_minor.setdefault(mi, {}).setdefault(table, row)

        wheels: dict[tuple[str, str], m.Wheels] = {}
        for w in self.wheels.wheels:
            wheels[(w.package, minor_of(w.minor))] = w
        targets = {minor_of(t.minor): t for t in self.wheels.compute_capabilities}
        and_cuda = {minor_of(a.minor): a for a in self.wheels.and_cuda}

        minors = set(rows_by_minor) | {
            mi for (pkg, mi) in wheels if pkg in ("tensorflow", "tensorflow-gpu", "tensorflow-cpu")
        }
        releases = []
        for mi in minors:
            key = V(mi).release[:2]
            rows = rows_by_minor.get(mi, {})
            main = wheels.get(("tensorflow", mi))
            version = main.version if main else None
            if version is None:
                version = max((r.tf_version for r in rows.values()), key=V, default=None)
            if version is None:
                continue
            rel = TFRelease(
                minor=mi,
                version=version,
                key=(key[0], key[1]),
                needs_avx=V(mi) >= avx_since,
                and_cuda=and_cuda.get(mi),
            )
            t = targets.get(mi)
            if t:
                rel.targets = tuple(t.targets)
                rel.documented_min_cc = t.documented_min
                rel.sources["targets"] = wheel_src[t.source].url
            for table, row in rows.items():
                if row.cuda and row.cudnn:
                    rel.gpu[table] = GpuBuild(cuda=row.cuda, cudnn=row.cudnn, row=row)
            for platform, projects in _PLATFORM_PACKAGES.items():
                cpu_name = "tensorflow"
                if V(mi) >= cpu_pkg_since and ("tensorflow-cpu", mi) in wheels:
                    w = wheels[("tensorflow-cpu", mi)]
                    if not w.placeholder and w.pythons(platform):
                        cpu_name = "tensorflow-cpu"
                cpu = self._package(wheels, cpu_name, projects, mi, platform, rows, "cpu")
                if cpu:
                    rel.cpu_packages[platform] = cpu
                gpu_name = "tensorflow-gpu" if V(mi) < merged_since else "tensorflow"
                gpu = self._package(wheels, gpu_name, projects, mi, platform, rows, "gpu")
                if gpu:
                    rel.gpu_packages[platform] = gpu
            releases.append(rel)
        releases.sort(key=lambda r: V(r.version), reverse=True)
        return releases

    def _package(self, wheels, name, projects, mi, platform, rows, variant) -> Package | None:
        """The package to install for (release, platform, variant), with its Pythons.

        Pythons come from the wheels PyPI has; where PyPI holds no files for that release
        (very old ones), from the tested-build table of the platform.
        """
        w = wheels.get((name, mi))
        if w is not None and not w.placeholder:
            pys = set(w.pythons(platform))
            if name == "tensorflow":  # Windows/arm wheels may be carried by a sibling
                for alt in projects[1:]:
                    aw = wheels.get((alt, mi))
                    if aw and not aw.placeholder:
                        pys |= set(aw.pythons(platform))
            if pys:
                return Package(
                    name=name,
                    version=w.version,
                    pythons=tuple(sorted(pys, key=V)),
                    source=self.wheels.sources[w.source].url,
                )
            if name == "tensorflow":
                for alt in projects[1:]:
                    aw = wheels.get((alt, mi))
                    if aw and not aw.placeholder and aw.pythons(platform):
                        return Package(
                            name=alt,
                            version=aw.version,
                            pythons=tuple(sorted(aw.pythons(platform), key=V)),
                            source=self.wheels.sources[aw.source].url,
                        )
            return None
        table = _TABLE_FOR.get((platform, variant))
        row = rows.get(table) if table else None
        if row is None:
            return None
        pys = expand_python_range(row.python)
        return Package(
            name=name,
            version=row.tf_version,
            pythons=pys,
            source=self.tested.sources[row.source].url,
        )

    def gpu_until(self, platform: str) -> str | None:
        """The last minor release with an official GPU build on ``platform`` (a wheel
        platform key), None where the GPU builds have not ended."""
        rule = _GPU_UNTIL_RULE.get(platform)
        return getattr(self.rules, rule).value if rule else None

    def gpu_build(self, rel: TFRelease, platform: str) -> GpuBuild | None:
        """The tested CUDA/cuDNN of ``rel``'s official GPU build on ``platform``, or None."""
        until = self.gpu_until(platform)
        if until is not None and V(rel.minor) > V(until):
            return None
        table = _TABLE_FOR.get((platform, "gpu"))
        return rel.gpu.get(table) if table else None

    def release(self, minor: str) -> TFRelease | None:
        return self.by_minor.get(minor_of(minor))


@cache
def load_catalog() -> Catalog:
    """Load and validate every data file once per process."""
    return Catalog({name: load_file(name) for name in m.FILES})


def runnable(cc: str, targets: tuple[str, ...]) -> str | None:
    """How a GPU of compute capability ``cc`` runs a build with ``targets``.

    Targets use TensorFlow's TF_CUDA_COMPUTE_CAPABILITIES notation: ``sm_XY`` is binary
    code (SASS) only, ``compute_XY`` is SASS *and* PTX for X.Y ("to include both virtual
    and binary GPU code", TensorFlow's configure.py).  SASS for X.Y runs on X.Z with Z >= Y;
    PTX for X.Y is JIT-compiled by the driver on any GPU with capability >= X.Y.
    Returns 'sass', 'ptx' or None (the build cannot run on this GPU).
    """
    have = cc_tuple(cc)
    sass = ptx = False
    for t in targets:
        tv = cc_tuple(t)
        if tv[0] == have[0] and tv[1] <= have[1]:
            sass = True
        if t.startswith("compute_") and tv <= have:
            ptx = True
    return "sass" if sass else "ptx" if ptx else None
