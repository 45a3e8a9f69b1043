"""The fleet's base image: one cached ``debootstrap`` bookworm tree every host overlays
(lab/fleet.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from lab.fleet_system import (
    CA_DIR,
    FleetError,
    _ca_digest,
    _ca_files,
    _du,
    _flock,
    _log,
    _run,
    _umount_tree,
    _write,
)

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = "openssh-server,python3,python3-venv,sudo,ca-certificates,tini,iproute2"
BASE_FORMAT = 1  # bump when the base's customisation changes: forces a rebuild

SSHD_CONFIG = """\
# tfprov test fleet: key-only root login
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UseDNS no
X11Forwarding no
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_rsa_key
"""

SOURCES = f"""\
Types: deb
URIs: {MIRROR}
Suites: {SUITE} {SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: {SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


class BaseImage:
    """Building and refreshing the cached base image (a part of :class:`lab.fleet.Fleet`)."""

    # ------------------------------------------------------------------ base image
    def ensure_base(self) -> Path:
        """Build the cached debootstrap base once; later calls reuse it."""
        with _flock(self.base_dir.with_name(self.base_dir.name + ".lock")):
            meta_path = self.base_dir / "meta.json"
            if meta_path.exists():
                meta = json.loads(meta_path.read_text())
                if meta.get("format") == BASE_FORMAT:
                    self._refresh_base_ca(meta)
                    return self.rootfs
                _log(f"base {self.base_dir} has an old format: rebuilding")
            if self._base_in_use():
                raise FleetError(f"base {self.base_dir} is outdated but still used by hosts")
            self._build_base()
            return self.rootfs

    def _base_in_use(self) -> bool:
        needle = f"lowerdir={self.rootfs},"
        text = Path("/proc/self/mountinfo").read_text()
        return needle in text or f"lowerdir={self.rootfs} " in text

    def _build_base(self) -> None:
        partial = self.base_dir.with_name(self.base_dir.name + ".partial")
        _umount_tree(partial)
        shutil.rmtree(partial, ignore_errors=True)
        _umount_tree(self.base_dir)
        shutil.rmtree(self.base_dir, ignore_errors=True)
        root = partial / "rootfs"
        root.mkdir(parents=True)
        log = partial / "debootstrap.log"
        _log(f"building the {SUITE} base in {self.base_dir} (about a minute, once)")
        t0 = time.monotonic()
        with open(log, "w") as fh:
            res = subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={BASE_PACKAGES}",
                    SUITE,
                    str(root),
                    MIRROR,
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
            )
        _umount_tree(root)
        if res.returncode != 0:
            tail = "\n".join(log.read_text().splitlines()[-25:])
            raise FleetError(f"debootstrap failed ({res.returncode}), see {log}:\n{tail}")
        self._customise_base(root)
        seconds = round(time.monotonic() - t0, 1)
        meta = {
            "format": BASE_FORMAT,
            "suite": SUITE,
            "mirror": MIRROR,
            "packages": BASE_PACKAGES,
            "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": seconds,
            "ca_sha256": _ca_digest(),
        }
        _write(partial / "meta.json", json.dumps(meta, indent=2) + "\n")
        os.replace(partial, self.base_dir)
        _log(f"base ready in {seconds}s ({_du(self.rootfs)})")

    def _customise_base(self, root: Path) -> None:
        # apt must never start services inside a host
        _write(root / "usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755)
        # no DNS in a host: the registries are pinned in /etc/hosts per host
        _write(
            root / "etc/resolv.conf",
            "# tfprov fleet host: no DNS; package registries are pinned in /etc/hosts\n",
        )
        _write(root / "etc/apt/sources.list", "# see /etc/apt/sources.list.d/debian.sources\n")
        _write(root / "etc/apt/sources.list.d/debian.sources", SOURCES)
        _write(root / "etc/apt/apt.conf.d/80tfprov-fleet", 'Acquire::Retries "3";\n')
        # host keys are generated per host
        for key in (root / "etc/ssh").glob("ssh_host_*"):
            key.unlink()
        _write(root / "etc/ssh/sshd_config.d/tfprov-fleet.conf", SSHD_CONFIG)
        _write(root / "etc/hostname", "fleet\n")
        _write(root / "etc/machine-id", "")
        self._install_ca(root)
        # keep the image small: no package caches or indexes (hosts run apt-get update)
        _run(["chroot", str(root), "apt-get", "clean"], check=False)
        for pattern in (
            "var/lib/apt/lists/*",
            "var/cache/apt/*.bin",
            "var/log/*.log",
            "var/cache/debconf/*-old",
            "var/lib/dpkg/*-old",
        ):
            for p in root.glob(pattern):
                if p.is_file() or p.is_symlink():
                    p.unlink()
        (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)

    def _install_ca(self, root: Path) -> None:
        dest = root / "usr/local/share/ca-certificates"
        for old in dest.glob("tfprov-fleet-*.crt"):
            old.unlink()
        for src in _ca_files():
            flat = str(src.relative_to(CA_DIR)).replace("/", "_")
            shutil.copyfile(src, dest / f"tfprov-fleet-{flat}")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
        _run(["chroot", str(root), "update-ca-certificates", "--fresh"], env=env)

    def _refresh_base_ca(self, meta: dict) -> None:
        digest = _ca_digest()
        if meta.get("ca_sha256") == digest:
            return
        if self._base_in_use():
            _log("controller CA certificates changed but the base is in use: not refreshed")
            return
        _log("controller CA certificates changed: refreshing the base's trust store")
        self._install_ca(self.rootfs)
        meta["ca_sha256"] = digest
        _write(self.base_dir / "meta.json", json.dumps(meta, indent=2) + "\n")
