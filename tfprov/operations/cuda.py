"""
NVIDIA's CUDA repository and CUDA toolkits from it.

Also the pieces the driver and cuDNN operations share: which supported OS a host runs
(:func:`target_of`), package facts, holds (:class:`HeldPackages`), and the commands that
install and hold packages on apt and dnf hosts.

Supported: Ubuntu 20.04 / 22.04 / 24.04, Debian 11 / 12, and RHEL / Rocky Linux /
AlmaLinux 8 and 9, on x86_64 (NVIDIA's ``x86_64`` repositories) and aarch64 (``sbsa``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from fnmatch import fnmatch

from pyinfra import host
from pyinfra.api import FactBase, OperationError, OperationValueError, operation
from pyinfra.facts.apt import AptSources, noninteractive_apt
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.dnf import DnfRepositories
from pyinfra.facts.files import File, FileContents
from pyinfra.facts.rpm import RpmPackages
from pyinfra.facts.server import Arch, LinuxDistribution

from tfprov.facts.cuda import CudaToolkits
from tfprov.facts.system import Wsl
from tfprov.model.sources import DEFAULTS

DEFAULT_REPO_URL = str(DEFAULTS["nvidia_repo_url"])

# NVIDIA's repository signing key since the April 2022 rotation: <repo dir>/3bf863cc.pub,
# installed where NVIDIA's cuda-keyring package puts it and pinned by its fingerprint
# (the fingerprint other tooling pins too; `apt-key` users saw it as NO_PUBKEY
# A4B469963BF863CC). The .list file name is cuda-keyring's, so either route converges.
REPO_KEY_FILE = "3bf863cc.pub"
REPO_KEY_FINGERPRINT = "EB693B3035CD5710E231E123A4B469963BF863CC"
REPO_KEYRING = "/usr/share/keyrings/cuda-archive-keyring.gpg"

PROFILE_FILE = "/etc/profile.d/tfprov-cuda.sh"

SUPPORTED = {
    "ubuntu": ("20.04", "22.04", "24.04"),
    "debian": ("11", "12"),
    "rhel": ("8", "9"),
    "rocky": ("8", "9"),
    "almalinux": ("8", "9"),
}
# NVIDIA's repository directory per machine architecture (`uname -m`)
REPO_ARCH = {"x86_64": "x86_64", "aarch64": "sbsa"}


def fact(fact_cls, *args, **kwargs):
    """``host.get_fact(...)``, with the value as plain data.

    pyinfra returns fact data as it is; pyinfra-testing's fake host returns the data of
    an argument-less fact wrapped in a proxy that is always truthy, so ``None``,
    ``False`` and ``[]`` facts would not test as such.  Unwrap it."""
    value = host.get_fact(fact_cls, *args, **kwargs)
    if type(value).__name__ == "FakeFact":
        return value.data
    return value


# -- which OS ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A supported OS: ``id`` (os-release ID), ``version`` (``22.04``, ``12``, ``9``),
    ``codename`` (Debian/Ubuntu) and ``family`` (``apt`` or ``dnf``)."""

    id: str
    version: str
    codename: str | None = None

    @property
    def family(self) -> str:
        return "apt" if self.id in ("ubuntu", "debian") else "dnf"

    @property
    def repo_distro(self) -> str:
        """NVIDIA's name for the OS in its repository layout: ubuntu2204, debian12, rhel9
        (Rocky Linux and AlmaLinux use the RHEL repositories)."""
        if self.family == "dnf":
            return f"rhel{self.version}"
        return f"{self.id}{self.version.replace('.', '')}"

    def __str__(self) -> str:
        return f"{self.id} {self.version}"


def target_of(distro: dict) -> Target:
    """The :class:`Target` of pyinfra's ``server.LinuxDistribution`` fact, or
    OperationError for an OS tfprov does not provision."""
    meta = distro.get("release_meta") or {}
    os_id = str(meta.get("ID") or distro.get("name") or "").strip('"').lower()
    version_id = str(meta.get("VERSION_ID") or "").strip('"')
    if os_id in ("rhel", "rocky", "almalinux"):
        version = str(distro.get("major") or version_id.split(".")[0])
    else:
        version = version_id
    codename = meta.get("VERSION_CODENAME") or meta.get("CODENAME") or None
    if version not in SUPPORTED.get(os_id, ()):
        supported = ", ".join(f"{k} {'/'.join(v)}" for k, v in SUPPORTED.items())
        raise OperationError(
            f"tfprov does not provision {os_id or 'this OS'} {version}".rstrip()
            + f" (supported: {supported})"
        )
    return Target(os_id, version, codename)


def repo_arch() -> str:
    machine = fact(Arch)
    try:
        return REPO_ARCH[str(machine).strip()]
    except KeyError:
        raise OperationError(
            f"NVIDIA has no CUDA repository for the {machine} architecture"
        ) from None


def repo_dir(target: Target, nvidia_repo_url: str, wsl: bool = False) -> str:
    """The repository directory for this host, e.g. ``<url>/ubuntu2204/x86_64`` (NVIDIA's
    ``wsl-ubuntu`` repository under WSL, which carries no Linux driver)."""
    distro = "wsl-ubuntu" if wsl and target.id == "ubuntu" else target.repo_distro
    return f"{nvidia_repo_url.rstrip('/')}/{distro}/{repo_arch()}"


# -- packages and holds --------------------------------------------------------------------


def installed_packages(target: Target) -> dict:
    """``{name: [versions]}`` from pyinfra's DebPackages / RpmPackages fact."""
    return fact(DebPackages if target.family == "apt" else RpmPackages) or {}


def installed_version(packages: dict, name: str) -> str | None:
    versions = packages.get(name) or []
    return versions[0] if versions else None


# dnf versionlock's entries: name-[epoch:]version-release.* (dnf-plugins-core's
# pkgtup2spec), "!" in front for an exclude
_LOCK_SPEC = re.compile(r"^(?P<name>.+)-(?:(?P<epoch>\d+):)?(?P<version>[^-]+)-(?P<release>[^-]+)$")


def parse_holds(lines: list[str]) -> list[dict]:
    """Parse ``apt-mark showhold`` (one package name a line) or ``dnf versionlock list``
    (``nvidia-driver-3:535.183.06-1.el9.*``) into ``[{"name", "version"}]``; version is
    None for apt holds and for versionlock entries that are bare patterns."""
    holds = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith(("!", "#")) or " " in line:
            continue  # excludes, comments, messages
        spec = line[:-2] if line.endswith(".*") else line
        m = _LOCK_SPEC.match(spec) if line.endswith(".*") else None
        if m:
            holds.append({"name": m.group("name"), "version": m.group("version")})
        else:
            holds.append({"name": line.split(":", 1)[0], "version": None})
    return holds


class HeldPackages(FactBase):
    """
    Packages held back from upgrades: ``apt-mark showhold`` on apt hosts, ``dnf
    versionlock list`` on dnf hosts (needs python3-dnf-plugin-versionlock)::

        [{"name": "nvidia-driver-535", "version": None},          # apt
         {"name": "nvidia-driver", "version": "535.183.06"}]      # dnf versionlock

    + default: ``[]``
    """

    default = list

    def command(self) -> str:
        return (
            "if command -v apt-mark >/dev/null 2>&1; then apt-mark showhold; "
            "elif command -v dnf >/dev/null 2>&1; then dnf -q versionlock list 2>/dev/null; "
            "fi; true"
        )

    def process(self, output):
        return parse_holds(output)


def is_held(holds: list[dict], name: str, version_prefix: str | None = None) -> bool:
    """Whether *name* is held (a pattern entry matching it counts); with
    *version_prefix*, a versionlock entry must also lock a version starting with it."""
    for hold in holds:
        if hold["name"] == name or fnmatch(name, hold["name"]):
            if version_prefix is None or hold["version"] is None:
                return True
            if hold["version"].startswith(version_prefix):
                return True
    return False


def _quote(arg: str) -> str:
    return shlex.quote(arg)


def install_command(target: Target, packages: list[str], allow_downgrades: bool = False) -> str:
    """The non-interactive install command for *packages* (specs as the package manager
    takes them: ``pkg=1.2*`` for apt, ``pkg-1.2*`` for dnf)."""
    specs = " ".join(_quote(p) for p in packages)
    if target.family == "apt":
        opts = "install --allow-downgrades" if allow_downgrades else "install"
        return noninteractive_apt(f"{opts} {specs}")
    return f"dnf install -y {specs}"


def hold_commands(target: Target, names: list[str], rpm_packages: dict | None = None) -> list:
    """Hold *names* at their installed versions against upgrades (unattended-upgrades,
    dnf-automatic, a plain ``upgrade``): ``apt-mark hold`` / ``dnf versionlock add``
    (installing python3-dnf-plugin-versionlock first when it is missing)."""
    if not names:
        return []
    if target.family == "apt":
        return [f"apt-mark hold {' '.join(_quote(n) for n in names)}"]
    commands = []
    if rpm_packages is not None and "python3-dnf-plugin-versionlock" not in rpm_packages:
        commands.append("dnf install -y python3-dnf-plugin-versionlock")
    commands.append(f"dnf versionlock add {' '.join(_quote(n) for n in names)}")
    return commands


def unhold_commands(target: Target, names: list[str]) -> list:
    if not names:
        return []
    quoted = " ".join(_quote(n) for n in names)
    if target.family == "apt":
        return [f"apt-mark unhold {quoted}"]
    return [f"dnf versionlock delete {quoted}"]


def write_file_command(path: str, lines: list[str]) -> str:
    """A shell command writing *lines* to *path* (mode 0644), its directory created."""
    directory = path.rsplit("/", 1)[0] or "/"
    body = " ".join(_quote(line) for line in lines)
    return (
        f"mkdir -p {_quote(directory)} && printf '%s\\n' {body} > {_quote(path)} "
        f"&& chmod 0644 {_quote(path)}"
    )


def file_has(path: str, lines: list[str]) -> bool:
    """Whether the file at *path* holds exactly *lines*."""
    current = fact(FileContents, path=path)
    return current is not None and [line.rstrip("\r") for line in current] == lines


# -- the repository ------------------------------------------------------------------------


def _apt_key_command(directory: str) -> str:
    url = _quote(f"{directory}/{REPO_KEY_FILE}")
    fpr = REPO_KEY_FINGERPRINT
    return (
        "set -e\n"
        "t=$(mktemp -d)\n"
        "trap 'rm -rf \"$t\"' EXIT\n"
        'export GNUPGHOME="$t"\n'
        f'curl -fsSL -o "$t/key.pub" {url} || wget -qO "$t/key.pub" {url}\n'
        'fpr=$(gpg --batch --with-colons --show-keys "$t/key.pub"'
        " | awk -F: '$1 == \"fpr\" {print $10; exit}')\n"
        f'if [ "$fpr" != {fpr} ]; then\n'
        f'  echo "NVIDIA repository key: fingerprint $fpr, expected {fpr}" >&2; exit 1\n'
        "fi\n"
        'gpg --batch --yes --dearmor -o "$t/key.gpg" "$t/key.pub"\n'
        f'install -m 0644 "$t/key.gpg" {REPO_KEYRING}'
    )


def repo_commands(target: Target, nvidia_repo_url: str) -> list:
    """Commands that set up NVIDIA's CUDA repository (no ``apt-get update``); ``[]`` when
    it is set up.  Reads the facts it needs."""
    if target.family == "dnf":
        arch = repo_arch()
        repo_id = f"cuda-{target.repo_distro}-{arch}"
        repos = fact(DnfRepositories) or []
        if any(r.get("repoid") == repo_id for r in repos):
            return []
        commands = []
        if "dnf-plugins-core" not in installed_packages(target):
            commands.append("dnf install -y dnf-plugins-core")
        base = f"{nvidia_repo_url.rstrip('/')}/{target.repo_distro}/{arch}"
        url = f"{base}/cuda-{target.repo_distro}.repo"
        commands.append(f"dnf config-manager --add-repo {_quote(url)}")
        return commands

    wsl = bool((fact(Wsl) or {}).get("wsl"))
    directory = repo_dir(target, nvidia_repo_url, wsl)
    sources = fact(AptSources) or []
    listed = any(
        s["type"] == "deb" and s["url"].rstrip("/") == directory and s["distribution"] == "/"
        for s in sources
    )
    has_key = bool(fact(File, path=REPO_KEYRING))
    commands = []
    if not has_key:
        packages = installed_packages(target)
        tools = []
        if not ({"gpg", "gnupg"} & set(packages)):
            tools.append("gpg")
        if not ({"curl", "wget"} & set(packages)):
            tools.append("curl")
        if tools:
            commands += ["apt-get update", install_command(target, ["ca-certificates", *tools])]
        commands.append(_apt_key_command(directory))
    if not listed:
        name = directory.split("/")[-2:]
        list_file = f"/etc/apt/sources.list.d/cuda-{name[0]}-{name[1]}.list"
        line = f"deb [signed-by={REPO_KEYRING}] {directory}/ /"
        commands.append(write_file_command(list_file, [line]))
    return commands


@operation()
def nvidia_repo(nvidia_repo_url: str = DEFAULT_REPO_URL):
    """
    Set up NVIDIA's CUDA repository (CUDA toolkits, cuDNN, and driver branches).

    + nvidia_repo_url: the base URL of NVIDIA's repositories or of a mirror with the same
      layout (``<url>/<distro><version>/<arch>/``); default from ``tfprov.model.sources``

    Ubuntu/Debian: NVIDIA's key ``3bf863cc.pub`` is fetched from the repository, checked
    against its pinned fingerprint, installed as ``/usr/share/keyrings/cuda-archive-
    keyring.gpg`` and named in the ``signed-by`` option of the source line (the same file
    and list name NVIDIA's ``cuda-keyring`` package uses); then ``apt-get update``.  Under
    WSL, Ubuntu gets NVIDIA's ``wsl-ubuntu`` repository, which has no Linux driver.

    RHEL / Rocky Linux / AlmaLinux: ``dnf config-manager --add-repo`` with NVIDIA's
    ``cuda-rhel<major>.repo``, which carries its ``gpgkey`` (dnf imports it on first use).

    **Example:**

    .. code:: python

        from tfprov.operations import cuda

        cuda.nvidia_repo(
            name="NVIDIA CUDA repository",
            nvidia_repo_url=host.data.get("nvidia_repo_url", cuda.DEFAULT_REPO_URL),
        )
    """
    target = target_of(fact(LinuxDistribution))
    commands = repo_commands(target, nvidia_repo_url)
    if not commands:
        host.noop(f"NVIDIA CUDA repository for {target} is set up")
        return
    yield from commands
    if target.family == "apt":
        yield "apt-get update"


# -- CUDA toolkits -------------------------------------------------------------------------


def major_minor(version: str, what: str = "version") -> tuple[int, int]:
    m = re.match(r"^\s*(\d+)\.(\d+)", str(version))
    if not m:
        raise OperationValueError(f'{what} must look like "12.2" or "12.2.2", got {version!r}')
    return int(m.group(1)), int(m.group(2))


def profile_lines(cuda_home: str, xy: str) -> list[str]:
    return [
        f"# Written by tfprov (cuda.cuda_toolkit select=True): CUDA {xy} is the default.",
        f'export PATH="{cuda_home}/bin${{PATH:+:${{PATH}}}}"',
        f'export LD_LIBRARY_PATH="{cuda_home}/lib64${{LD_LIBRARY_PATH:+:${{LD_LIBRARY_PATH}}}}"',
    ]


@operation()
def cuda_toolkit(version: str, nvidia_repo_url: str = DEFAULT_REPO_URL, select: bool = True):
    """
    Install a CUDA toolkit from NVIDIA's repository, next to any others, and hold it.

    + version: the toolkit, ``"12.2"`` (or ``"12.2.2"``: only major.minor counts; the
      package ``cuda-toolkit-12-2`` tracks the newest update of 12.2)
    + nvidia_repo_url: base URL of NVIDIA's repositories or a mirror (see ``nvidia_repo``)
    + select: make it the default: write ``/etc/profile.d/tfprov-cuda.sh`` putting
      ``/usr/local/cuda-X.Y/bin`` first on ``PATH`` and its ``lib64`` on
      ``LD_LIBRARY_PATH`` (login shells)

    ``cuda-toolkit-X-Y`` installs into ``/usr/local/cuda-X.Y`` and pulls no driver, so
    several versions live side by side; the package is held (``apt-mark hold`` / ``dnf
    versionlock``).  Nothing changes when the CudaToolkits fact already lists X.Y, its
    package (if any) is held and, with ``select``, the profile file already selects it.

    **Example:**

    .. code:: python

        from tfprov.operations import cuda

        cuda.cuda_toolkit(name="CUDA 12.2", version="12.2")
        cuda.cuda_toolkit(name="CUDA 11.8, not the default", version="11.8", select=False)
    """
    major, minor = major_minor(version)
    target = target_of(fact(LinuxDistribution))
    toolkits = fact(CudaToolkits) or []
    packages = installed_packages(target)
    holds = fact(HeldPackages) or []

    xy = f"{major}.{minor}"
    package = f"cuda-toolkit-{major}-{minor}"
    found = [t for t in toolkits if major_minor(t["version"]) == (major, minor)]
    default_home = f"/usr/local/cuda-{xy}"
    paths = [t["path"] for t in found]
    cuda_home = default_home if (default_home in paths or not paths) else paths[0]

    commands = []
    if not found:
        repo = repo_commands(target, nvidia_repo_url)
        commands += repo
        if target.family == "apt":
            commands.append("apt-get update")
        if is_held(holds, package):  # held at another version: let it move
            commands += unhold_commands(target, [package])
        commands.append(install_command(target, [package]))
        commands += hold_commands(target, [package], packages)
    elif package in packages and not is_held(holds, package):
        commands += hold_commands(target, [package], packages)

    wanted = profile_lines(cuda_home, xy)
    if select and not file_has(PROFILE_FILE, wanted):
        commands.append(write_file_command(PROFILE_FILE, wanted))

    if not commands:
        where = ", ".join(paths)
        selected = f", selected in {PROFILE_FILE}" if select else ""
        host.noop(f"CUDA {xy} is installed ({where}){selected}")
        return
    yield from commands
