"""
NVIDIA's CUDA repository and CUDA toolkits from it.

Also the pieces the driver and cuDNN operations share: package facts, holds
(:class:`HeldPackages`), and the commands that install and hold packages on apt and dnf
hosts.  The OS comes in as the plan's ``platform`` (package manager, NVIDIA's repository
directory, distro, version, codename, arch); which OSes are provisioned is the
resolver's decision (``catalog/data/distros.yaml``).
"""

from __future__ import annotations

import re
import shlex
from fnmatch import fnmatch

from pyinfra import host
from pyinfra.api import FactBase, OperationError, OperationValueError, operation
from pyinfra.facts.apt import AptSources, noninteractive_apt
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.dnf import DnfRepositories
from pyinfra.facts.files import File, FileContents
from pyinfra.facts.rpm import RpmPackages

from tfprov.facts.cuda import CudaToolkits
from tfprov.model.platform import Platform
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

# NVIDIA's repository directory per machine architecture (`uname -m`)


def fact(fact_cls, *args, **kwargs):
    """``host.get_fact(...)``, with the value as plain data.

    pyinfra returns fact data as it is; pyinfra-testing's fake host returns the data of
    an argument-less fact wrapped in a proxy that is always truthy, so ``None``,
    ``False`` and ``[]`` facts would not test as such.  Unwrap it."""
    value = host.get_fact(fact_cls, *args, **kwargs)
    if type(value).__name__ == "FakeFact":
        return value.data
    return value


# -- the OS ---------------------------------------------------------------------------------


def linux_platform(platform: Platform | dict) -> Platform:
    """The plan's :class:`~tfprov.model.platform.Platform` (a mapping is validated into
    one), or OperationError when tfprov installs no system packages on it."""
    platform = Platform.model_validate(platform)
    if platform.package_manager == "none" or not platform.nvidia_repo:
        raise OperationError(f"tfprov installs no system packages on {platform}")
    return platform


def repo_arch(platform: Platform) -> str:
    if not platform.nvidia_repo_arch:
        raise OperationError(f"NVIDIA has no CUDA repository for the {platform.arch} architecture")
    return platform.nvidia_repo_arch


def repo_dir(platform: Platform, nvidia_repo_url: str) -> str:
    """The repository directory for this host, e.g. ``<url>/ubuntu2204/x86_64`` (the
    platform names NVIDIA's ``wsl-ubuntu`` repository under WSL, which has no Linux
    driver)."""
    return f"{nvidia_repo_url.rstrip('/')}/{platform.nvidia_repo}/{repo_arch(platform)}"


# -- packages and holds --------------------------------------------------------------------


def installed_packages(platform: Platform) -> dict:
    """``{name: [versions]}`` from pyinfra's DebPackages / RpmPackages fact."""
    return fact(DebPackages if platform.package_manager == "apt" else RpmPackages) or {}


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


def install_command(platform: Platform, packages: list[str], allow_downgrades: bool = False) -> str:
    """The non-interactive install command for *packages* (specs as the package manager
    takes them: ``pkg=1.2*`` for apt, ``pkg-1.2*`` for dnf)."""
    specs = " ".join(_quote(p) for p in packages)
    if platform.package_manager == "apt":
        opts = "install --allow-downgrades" if allow_downgrades else "install"
        return noninteractive_apt(f"{opts} {specs}")
    return f"dnf install -y {specs}"


def hold_commands(platform: Platform, names: list[str], rpm_packages: dict | None = None) -> list:
    """Hold *names* at their installed versions against upgrades (unattended-upgrades,
    dnf-automatic, a plain ``upgrade``): ``apt-mark hold`` / ``dnf versionlock add``
    (installing python3-dnf-plugin-versionlock first when it is missing)."""
    if not names:
        return []
    if platform.package_manager == "apt":
        return [f"apt-mark hold {' '.join(_quote(n) for n in names)}"]
    commands = []
    if rpm_packages is not None and "python3-dnf-plugin-versionlock" not in rpm_packages:
        commands.append("dnf install -y python3-dnf-plugin-versionlock")
    commands.append(f"dnf versionlock add {' '.join(_quote(n) for n in names)}")
    return commands


def unhold_commands(platform: Platform, names: list[str]) -> list:
    if not names:
        return []
    quoted = " ".join(_quote(n) for n in names)
    if platform.package_manager == "apt":
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


def repo_commands(platform: Platform, nvidia_repo_url: str) -> list:
    """Commands that set up NVIDIA's CUDA repository (no ``apt-get update``); ``[]`` when
    it is set up.  Reads the facts it needs."""
    directory = repo_dir(platform, nvidia_repo_url)
    if platform.package_manager == "dnf":
        repo_id = f"cuda-{platform.nvidia_repo}-{repo_arch(platform)}"
        repos = fact(DnfRepositories) or []
        if any(r.get("repoid") == repo_id for r in repos):
            return []
        commands = []
        if "dnf-plugins-core" not in installed_packages(platform):
            commands.append("dnf install -y dnf-plugins-core")
        url = f"{directory}/cuda-{platform.nvidia_repo}.repo"
        commands.append(f"dnf config-manager --add-repo {_quote(url)}")
        return commands

    sources = fact(AptSources) or []
    listed = any(
        s["type"] == "deb" and s["url"].rstrip("/") == directory and s["distribution"] == "/"
        for s in sources
    )
    has_key = bool(fact(File, path=REPO_KEYRING))
    commands = []
    if not has_key:
        packages = installed_packages(platform)
        tools = []
        if not ({"gpg", "gnupg"} & set(packages)):
            tools.append("gpg")
        if not ({"curl", "wget"} & set(packages)):
            tools.append("curl")
        if tools:
            commands += ["apt-get update", install_command(platform, ["ca-certificates", *tools])]
        commands.append(_apt_key_command(directory))
    if not listed:
        name = directory.split("/")[-2:]
        list_file = f"/etc/apt/sources.list.d/cuda-{name[0]}-{name[1]}.list"
        line = f"deb [signed-by={REPO_KEYRING}] {directory}/ /"
        commands.append(write_file_command(list_file, [line]))
    return commands


@operation()
def nvidia_repo(platform: Platform, nvidia_repo_url: str = DEFAULT_REPO_URL):
    """
    Set up NVIDIA's CUDA repository (CUDA toolkits, cuDNN, and driver branches).

    + platform: the plan's platform (package manager, NVIDIA's repository directory, arch)
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
            platform=plan.platform,
            nvidia_repo_url="http://mirror.lab/nvidia/cuda/repos",
        )
    """
    platform = linux_platform(platform)
    commands = repo_commands(platform, nvidia_repo_url)
    if not commands:
        host.noop(f"NVIDIA CUDA repository for {platform} is set up")
        return
    yield from commands
    if platform.package_manager == "apt":
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
def cuda_toolkit(
    version: str, platform: Platform, nvidia_repo_url: str = DEFAULT_REPO_URL, select: bool = True
):
    """
    Install a CUDA toolkit from NVIDIA's repository, next to any others, and hold it.

    + platform: the plan's platform (see ``nvidia_repo``)
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

        cuda.cuda_toolkit(name="CUDA 12.2", version="12.2", platform=plan.platform)
        cuda.cuda_toolkit(
            name="CUDA 11.8, not the default", version="11.8", platform=plan.platform, select=False
        )
    """
    major, minor = major_minor(version)
    platform = linux_platform(platform)
    toolkits = fact(CudaToolkits) or []
    packages = installed_packages(platform)
    holds = fact(HeldPackages) or []

    xy = f"{major}.{minor}"
    package = f"cuda-toolkit-{major}-{minor}"
    found = [t for t in toolkits if major_minor(t["version"]) == (major, minor)]
    default_home = f"/usr/local/cuda-{xy}"
    paths = [t["path"] for t in found]
    cuda_home = default_home if (default_home in paths or not paths) else paths[0]

    commands = []
    if not found:
        commands += repo_commands(platform, nvidia_repo_url)
        if platform.package_manager == "apt":
            commands.append("apt-get update")
        if is_held(holds, package):  # held at another version: let it move
            commands += unhold_commands(platform, [package])
        commands.append(install_command(platform, [package]))
        commands += hold_commands(platform, [package], packages)
    elif package in packages and not is_held(holds, package):
        commands += hold_commands(platform, [package], packages)

    wanted = profile_lines(cuda_home, xy)
    if select and not file_has(PROFILE_FILE, wanted):
        commands.append(write_file_command(PROFILE_FILE, wanted))

    if not commands:
        where = ", ".join(paths)
        selected = f", selected in {PROFILE_FILE}" if select else ""
        host.noop(f"CUDA {xy} is installed ({where}){selected}")
        return
    yield from commands
