"""
The NVIDIA Linux driver: one branch, installed from the OS's or NVIDIA's packages and held.

Where the packages come from:

* Ubuntu 20.04 / 22.04 / 24.04: Ubuntu's ``nvidia-driver-<branch>`` (``-open``,
  ``-server``), plus ``linux-headers-<running kernel>``.
* Debian 11 / 12: Debian's own non-free ``nvidia-driver`` where it is the planned branch
  (:data:`DEBIAN_DRIVERS`; components ``contrib non-free non-free-firmware`` are enabled on
  the host's Debian mirror), else NVIDIA's CUDA repository: ``cuda-drivers-<branch>``
  (proprietary) or ``nvidia-open-<branch>``, with ``contrib`` enabled.
* RHEL / Rocky Linux / AlmaLinux 8 and 9: NVIDIA's CUDA repository and its dnf module
  stream ``nvidia-driver:<branch>-dkms`` (``<branch>-open`` for the open kernel modules);
  DKMS comes from EPEL.

Under WSL nothing is installed: the Windows host's driver serves the GPU.  Which packages
carry the branch and flavor is the resolver's decision (``tfprov.resolve.driver_packages``);
the plan's ``driver.packages`` and ``driver.flavor`` come in as arguments.
"""

from __future__ import annotations

import re

from pyinfra import host, logger
from pyinfra.api import OperationError, OperationValueError, operation
from pyinfra.facts.apt import AptSources
from pyinfra.facts.dnf import DnfEnabledModules
from pyinfra.operations import server

from tfprov.facts.nvidia import DriverVersion, KernelHeaders, NouveauLoaded, SecureBoot
from tfprov.facts.system import Wsl
from tfprov.model.plan import DriverPackages
from tfprov.model.platform import Platform
from tfprov.operations.cuda import (
    DEFAULT_REPO_URL,
    HeldPackages,
    fact,
    file_has,
    hold_commands,
    install_command,
    installed_packages,
    installed_version,
    is_held,
    linux_platform,
    repo_commands,
    unhold_commands,
    write_file_command,
)

FLAVORS = ("proprietary", "open", "server")

DEBIAN_NONFREE_LIST = "/etc/apt/sources.list.d/tfprov-debian-nonfree.list"

NOUVEAU_CONF = "/etc/modprobe.d/blacklist-nouveau.conf"
NOUVEAU_LINES = ["blacklist nouveau", "options nouveau modeset=0"]
DKMS_SIGNING_CONF = "/etc/dkms/framework.conf.d/tfprov-mok.conf"

# Names of driver metapackages other branches/flavors are installed under (apt holds on
# them would block the switch)
_APT_DRIVER_NAME = re.compile(
    r"^(nvidia-driver(-\d+.*)?|cuda-drivers(-\d+)?|nvidia-open(-\d+)?|nvidia-tesla-\d+-driver)$"
)


def runs_here() -> bool:
    """Whether the host is the machine pyinfra runs on (the ``@local`` connector)."""
    from pyinfra.connectors.local import LocalConnector

    return getattr(host, "connector_cls", None) is LocalConnector or host.name == "@local"


def _signing_files(signing_key: str) -> tuple[str, str]:
    """``"KEY"`` -> (KEY, KEY with its extension replaced by .der); ``"KEY:CERT"`` as given."""
    if ":" in signing_key:
        key, cert = signing_key.split(":", 1)
        return key, cert
    stem = signing_key.rsplit(".", 1)[0] if "." in signing_key.rsplit("/", 1)[-1] else signing_key
    return signing_key, f"{stem}.der"


def _debian_component_commands(platform: Platform, components: list[str]) -> list:
    """Enable *components* on the host's Debian mirror(s): for every ``deb`` source of
    ``<codename>``, ``-updates`` and ``-security`` with ``main``, a line with the same URL,
    suite and signed-by in :data:`DEBIAN_NONFREE_LIST`.  ``[]`` when they are enabled."""
    codename = platform.codename
    suites = {codename, f"{codename}-updates", f"{codename}-security"}
    sources = [s for s in fact(AptSources) or [] if s["type"] == "deb"]
    have: dict[tuple[str, str], set] = {}
    mains: list[tuple[str, str, str | None]] = []
    for s in sources:
        if s["distribution"] not in suites:
            continue
        key = (s["url"].rstrip("/"), s["distribution"])
        have.setdefault(key, set()).update(s["components"])
        signed_by = (s.get("options") or {}).get("signed-by")
        if isinstance(signed_by, list):
            signed_by = ",".join(signed_by)
        if "main" in s["components"] and (*key, signed_by) not in mains:
            mains.append((*key, signed_by))
    if not mains:
        raise OperationError(
            f"no Debian {codename} 'main' source in the apt sources: cannot enable "
            f"{' '.join(components)} for the NVIDIA driver"
        )
    if all(set(components) <= have[(url, dist)] for url, dist, _ in mains):
        return []
    lines = [
        f"deb {f'[signed-by={sb}] ' if sb else ''}{url} {dist} {' '.join(components)}"
        for url, dist, sb in mains
    ]
    return [write_file_command(DEBIAN_NONFREE_LIST, lines)]


def _apt_plan(platform, pkgs, branch, nvidia_repo_url, packages, holds, kernel):
    """(need_driver, commands, hold names, held, (package, version prefix, source)) for
    Ubuntu and Debian."""
    package, spec, prefix, source = pkgs.package, pkgs.spec, pkgs.prefix, pkgs.source
    setup = list(pkgs.components)

    version = installed_version(packages, package)
    need = version is None or (prefix is not None and not version.startswith(prefix))
    commands: list = []
    if need:
        if setup:
            commands += _debian_component_commands(platform, setup)
        if pkgs.nvidia_repo:
            commands += repo_commands(platform, nvidia_repo_url)
        commands += unhold_commands(
            platform, [h["name"] for h in holds if _APT_DRIVER_NAME.match(h["name"])]
        )
        commands.append("apt-get update")
        install = install_command(
            platform, [spec] + ([f"linux-headers-{kernel}"] if kernel else [])
        )
        if kernel is None:  # headers missing, running kernel unknown: let the shell say
            install += " linux-headers-$(uname -r)"
        commands.append(install)
    return need, commands, [package], is_held(holds, package), (package, prefix, source)


def _dnf_plan(platform, pkgs, branch, nvidia_repo_url, packages, holds, kernel):
    """(need_driver, commands, hold patterns, held, (package, version prefix, source)) for
    RHEL-family hosts."""
    stream = pkgs.stream
    enabled = (fact(DnfEnabledModules) or {}).get("nvidia-driver")
    version = installed_version(packages, "nvidia-driver")
    need = enabled != stream or version is None or not version.startswith(f"{branch}.")
    commands: list = []
    if need:
        repo = repo_commands(platform, nvidia_repo_url)
        commands += repo
        if "epel-release" not in packages:  # DKMS is in EPEL
            version = platform.version
            crb = pkgs.crb_repo
            if not crb:  # RHEL: CodeReady Builder comes with the subscription
                raise OperationError(
                    f"{platform.distro.upper()} {version}: the NVIDIA driver's DKMS package "
                    "comes from EPEL. "
                    "Enable CodeReady Builder (subscription-manager repos --enable "
                    f"codeready-builder-for-rhel-{version}-$(arch)-rpms) and install "
                    f"epel-release (epel-release-latest-{version}.noarch.rpm from the "
                    "Fedora EPEL mirrors), then run again"
                )
            if not repo and "dnf-plugins-core" not in packages:
                commands.append("dnf install -y dnf-plugins-core")
            commands += [f"dnf config-manager --set-enabled {crb}", "dnf install -y epel-release"]
        stale = {
            h["name"]
            for h in holds
            if "nvidia" in h["name"] and h["version"] and not h["version"].startswith(f"{branch}.")
        }
        commands += unhold_commands(platform, sorted(stale))
        if kernel is not False:
            commands.append(f"dnf install -y kernel-devel-{kernel or '$(uname -r)'}")
        if enabled and enabled != stream:
            # NVIDIA's guide: switching branch or flavor is a module stream switch
            commands.append(f"dnf -y module switch-to nvidia-driver:{stream} --allowerasing")
        else:
            commands.append(f"dnf -y module install nvidia-driver:{stream}")
    # NVIDIA's driver installation guide ("Version locking") locks a branch with
    # `dnf versionlock '*nvidia*<branch>*'`: every installed package of the driver
    held = is_held(holds, "nvidia-driver", f"{branch}.")
    description = (pkgs.package, pkgs.prefix, pkgs.source)
    return need, commands, [f"*nvidia*{branch}*"], held, description


@operation()
def nvidia_driver(
    branch: int,
    flavor: str,
    packages: DriverPackages | dict,
    platform: Platform | dict,
    nvidia_repo_url: str = DEFAULT_REPO_URL,
    signing_key: str | None = None,
    allow_reboot: bool = False,
):
    """
    Install one NVIDIA driver branch, hold it against upgrades, keep nouveau out.

    + branch: the driver branch the plan needs, e.g. ``535``
    + flavor: the plan's kernel modules: ``"proprietary"``, ``"open"`` (open GPU kernel
      modules, Turing and newer) or ``"server"`` (Ubuntu's ``-server`` packages)
    + packages: the plan's ``driver.packages`` (:class:`tfprov.model.plan.DriverPackages`:
      the package, the spec asked for, Debian components, NVIDIA's repository, the dnf
      stream) that carry ``branch`` in ``flavor`` on this distro
    + platform: the plan's platform (package manager, distro, version, codename, WSL)
    + nvidia_repo_url: base URL of NVIDIA's repositories or a mirror (see
      ``cuda.nvidia_repo``), used on Debian (branches Debian does not ship) and RHEL
    + signing_key: under Secure Boot, the private key of a Machine Owner Key already
      enrolled with ``mokutil --import`` (path on the host); its DER certificate is
      expected next to it with a ``.der`` extension, or give both as ``"KEY:CERT"``.
      Written as ``mok_signing_key``/``mok_certificate`` to
      ``/etc/dkms/framework.conf.d/tfprov-mok.conf`` so DKMS signs the modules it builds
      (DKMS 3, as on Ubuntu 24.04, Debian 12 and EPEL; older DKMS signs with its own
      default key, e.g. Ubuntu's ``/var/lib/shim-signed/mok/MOK.priv``)
    + allow_reboot: reboot when the change needs it and the host is not the machine
      pyinfra runs on (``@local``)

    Packages: see the module docstring.  Everything is held: ``apt-mark hold`` on the
    driver metapackage (its dependencies are pinned to its exact version), ``dnf
    versionlock add '*nvidia*<branch>*'`` (NVIDIA's own recipe) on RHEL.  Holds of other
    driver branches are released first, so a branch change goes through.

    Nouveau: when installing (or while nouveau is loaded), ``/etc/modprobe.d/blacklist-
    nouveau.conf`` gets ``blacklist nouveau`` and ``options nouveau modeset=0``; the
    initramfs is rebuilt (``update-initramfs -u`` / ``dracut -f``) only when that file
    changed.

    Refusals and no-ops:

    * WSL: no Linux driver is ever installed (noop): the Windows driver is used.
    * Secure Boot enabled, no ``signing_key`` and something to install: OperationError
      before any command, saying what to do.
    * Nothing changes when the branch's packages are installed and held; the noop says
      whether the loaded module (DriverVersion) is that branch or a reboot is pending.
      A driver of the branch that is loaded but not from those packages (a ``.run``
      install) is left alone.

    Reboot: after a change, while the loaded module is not the new branch (or nouveau is
    loaded), a reboot is due.  With ``allow_reboot`` on a remote host, pyinfra's
    ``server.reboot`` runs; otherwise tfprov logs a warning and sets the operation's noop
    text to ``reboot required: …`` (pyinfra operations have no warning channel of their
    own).  Only a change triggers a reboot, so a module that does not load (e.g. unsigned
    under Secure Boot) cannot cause a reboot loop.

    **Example:**

    .. code:: python

        from tfprov.operations import driver

        driver.nvidia_driver(
            name="NVIDIA driver 535",
            branch=535,
            flavor=plan.driver.flavor,
            packages=plan.driver.packages,
            platform=plan.platform,
            allow_reboot=True,
        )
    """
    platform = Platform.model_validate(platform)
    if platform.wsl:
        wsl = fact(Wsl) or {}
        host.noop(
            f"WSL {wsl.get('version') or ''}".rstrip()
            + ": the Windows host's NVIDIA driver serves the GPU; no Linux driver is installed"
        )
        return
    if flavor not in FLAVORS:
        raise OperationValueError(f"flavor must be one of {', '.join(FLAVORS)}, got {flavor!r}")
    branch = int(branch)
    platform = linux_platform(platform)
    pkgs = DriverPackages.model_validate(packages)
    secure_boot = fact(SecureBoot)
    loaded = fact(DriverVersion)
    nouveau_loaded = bool(fact(NouveauLoaded))
    headers = fact(KernelHeaders) or {}
    installed = installed_packages(platform)
    holds = fact(HeldPackages) or []

    module_flavor = "open" if flavor == "open" else "proprietary"
    running_ok = (
        bool(loaded)
        and loaded["version"].split(".")[0] == str(branch)
        and loaded["kernel_module"] == module_flavor
        and not nouveau_loaded
    )
    # False: headers installed; None: unknown kernel; else the running kernel's release
    kernel = False if headers.get("installed") else headers.get("kernel")

    plan = _apt_plan if platform.package_manager == "apt" else _dnf_plan
    need, driver_commands, hold_names, held, (package, prefix, source) = plan(
        platform, pkgs, branch, nvidia_repo_url, installed, holds, kernel
    )

    if need and not installed_version(installed, package) and running_ok:
        host.noop(
            f"NVIDIA driver {loaded['version']} ({module_flavor}) is loaded but not installed "
            f"from {package}: left alone (remove the other install to let tfprov manage it)"
        )
        return
    if need and secure_boot == "enabled" and not signing_key:
        raise OperationError(
            "Secure Boot is enabled: the NVIDIA kernel module built by DKMS will not load "
            "unless it is signed with a key the firmware trusts. Enroll a Machine Owner Key "
            "(mokutil --import <cert.der>, confirm at the console on the next boot) and pass "
            "its private key as signing_key, or disable Secure Boot in the firmware setup"
        )

    commands: list = []
    if need and signing_key:
        key, cert = _signing_files(signing_key)
        lines = [
            "# Written by tfprov (driver.nvidia_driver): DKMS signs modules with this MOK",
            f'mok_signing_key="{key}"',
            f'mok_certificate="{cert}"',
        ]
        if not file_has(DKMS_SIGNING_CONF, lines):
            commands.append(write_file_command(DKMS_SIGNING_CONF, lines))
    if need or nouveau_loaded:
        if not file_has(NOUVEAU_CONF, NOUVEAU_LINES):
            commands.append(write_file_command(NOUVEAU_CONF, NOUVEAU_LINES))
            initramfs = "update-initramfs -u" if platform.package_manager == "apt" else "dracut -f"
            commands.append(initramfs)
    commands += driver_commands
    if need or not held:
        rpm = None if platform.package_manager == "apt" else installed
        commands += hold_commands(platform, hold_names, rpm)

    if loaded:
        state = f"the loaded module is {loaded['version']} ({loaded['kernel_module']})"
    else:
        state = "no NVIDIA kernel module is loaded"
    if nouveau_loaded:
        state += " and nouveau is loaded"

    if not commands:
        if running_ok:
            host.noop(
                f"NVIDIA driver {loaded['version']} ({package}, {source}) is installed and held"
            )
        else:
            host.noop(
                f"reboot required: NVIDIA {branch} ({package}, {source}) is installed and held, "
                f"but {state}"
            )
        return

    yield from commands
    if running_ok:
        return
    if allow_reboot and not runs_here():
        yield from server.reboot._inner()
        return
    why = "not rebooting the machine pyinfra runs on" if allow_reboot else "allow_reboot is off"
    message = f"reboot required: NVIDIA {branch} ({package}) was installed but {state} ({why})"
    logger.warning(f"{host.print_prefix}{message}")
    host.noop(message)
