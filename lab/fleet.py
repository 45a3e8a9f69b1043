"""Local test fleet: N Debian 12 hosts on this machine, reachable over real SSH.

Each host is an overlayfs copy of one cached ``debootstrap --variant=minbase`` bookworm base,
runs in its own network namespace (a veth into a bridge on the controller, e.g. ``tfprov0``
10.203.0.1/24, hosts .11, .12, ...) and in its own mount/PID/UTS namespaces with ``tini`` as
PID 1 supervising ``sshd -D -e``. Host keys are generated per host, root logs in with a
generated client key only, and ``known_hosts`` lists every host key type, so pyinfra (paramiko)
and OpenSSH work with strict host key checking.

Hosts reach only the package registries (deb.debian.org, pypi.org, files.pythonhosted.org):
the names are resolved on the controller and pinned in each host's ``/etc/hosts`` (hosts have
no DNS), traffic is NATed through the controller, and iptables refuses everything else except
traffic between the hosts and replies to the controller's own connections. apt never starts
services in a host (``policy-rc.d`` exits 101). The controller's extra CA certificates
(``/usr/local/share/ca-certificates``) are in every host's trust store.

Needs root on Linux. Command line (run from the repository root)::

    python -m lab.fleet ensure-deps           # apt-get the controller's tools (CI)
    python -m lab.fleet up [N] [--dir DIR]    # default 3 hosts, DIR /var/tmp/tfprov-fleet
    python -m lab.fleet status [--dir DIR]
    python -m lab.fleet ssh HOST [CMD...]     # OpenSSH with the fleet's key and known_hosts
    python -m lab.fleet down [--dir DIR] [--purge]   # --purge also deletes the cached base

DIR receives ``inventory.py`` (group ``fleet``), ``known_hosts`` and the client key
``id_ed25519``; the base image is cached in ``DIR/base`` (or ``--base``/``TFPROV_FLEET_BASE``)
and reused by every later ``up``.

Python API::

    with Fleet(tmp_dir) as fleet:          # tears everything down on exit, even after errors
        hosts = fleet.up(2)                # [FleetHost(name='fleet-1', address='10.203.0.11', ...)]
        subprocess.run(["pyinfra", str(fleet.inventory_path), "exec", "--", "hostname"])
        fleet.allow_controller_port(8000)  # opt in: hosts may reach fleet.gateway:8000/tcp
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from lab.fleet_base import BaseImage
from lab.fleet_network import REGISTRIES, RUN_DIR, Network
from lab.fleet_system import (
    FleetError,
    _alive,
    _children,
    _flock,
    _kill,
    _link_exists,
    _log,
    _mountpoints,
    _netns_list,
    _proc_stat,
    _reap,
    _require_root,
    _resolve,
    _run,
    _umount_tree,
    _wait_dead,
    _write,
    ensure_deps,
    missing_deps,
)

DEFAULT_DIR = Path(os.environ.get("TFPROV_FLEET_DIR", "/var/tmp/tfprov-fleet"))
DEFAULT_BRIDGE = "tfprov0"
DEFAULT_SUBNET = "10.203.0.0/24"
FIRST_HOST = 11  # hosts get .11, .12, ...
HOST_PREFIX = "fleet-"

# PID 1 of a host's PID namespace (run by the controller's /bin/sh inside the host's
# network namespace and fresh mount/PID/UTS namespaces), then replaced by tini in the chroot.
INIT_SCRIPT = """\
#!/bin/sh
set -eu
R='{root}'
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 || true
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 || true
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o nosuid,mode=0755,size=16m tmpfs "$R/dev"
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
    set -- $n
    mknod -m 0666 "$R/dev/$1" c "$2" "$3"
done
mkdir -m 0755 "$R/dev/pts"
mkdir -m 1777 "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$R/run"
mkdir -p -m 0755 "$R/run/sshd" "$R/run/lock"
hostname '{name}'
exec chroot "$R" /usr/bin/tini -s -- /usr/sbin/sshd -D -e
"""


@dataclasses.dataclass
class FleetHost:
    name: str
    address: str
    netns: str
    veth: str
    root: str  # the host's merged overlay, as seen from the controller
    pid: int | None = None  # `unshare` wrapping the host (its child is tini, the host's PID 1)
    starttime: int | None = None  # from /proc/PID/stat, guards against PID reuse
    ssh_port: int = 22

    @classmethod
    def from_dict(cls, d: dict) -> FleetHost:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in fields})


# -- the fleet ----------------------------------------------------------------------------


class Fleet(BaseImage, Network):
    """A set of local Debian 12 hosts described by DIR (state, keys, inventory, base cache)."""

    def __init__(
        self,
        dir: str | os.PathLike = DEFAULT_DIR,
        *,
        base_dir: str | os.PathLike | None = None,
        bridge: str = DEFAULT_BRIDGE,
        subnet: str = DEFAULT_SUBNET,
    ):
        self.dir = Path(dir).absolute()
        env_base = os.environ.get("TFPROV_FLEET_BASE")
        self.base_dir = Path(base_dir or env_base or self.dir / "base").absolute()
        self.bridge = bridge
        self.subnet = ipaddress.ip_network(subnet)
        state = self._load_state()
        if state:  # a running fleet keeps the network it was started with
            self.bridge, self.subnet = state["bridge"], ipaddress.ip_network(state["subnet"])
        if len(self.bridge) > 10:
            raise FleetError(f"bridge name {self.bridge!r} too long (max 10 characters)")
        self._procs: dict[str, subprocess.Popen] = {}

    # paths
    @property
    def inventory_path(self) -> Path:
        return self.dir / "inventory.py"

    @property
    def known_hosts_path(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def key_path(self) -> Path:
        return self.dir / "id_ed25519"

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    @property
    def rootfs(self) -> Path:
        return self.base_dir / "rootfs"

    @property
    def gateway(self) -> str:
        return str(self.subnet.network_address + 1)

    @property
    def hosts(self) -> list[FleetHost]:
        state = self._load_state()
        return [FleetHost.from_dict(h) for h in state["hosts"]] if state else []

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def __repr__(self) -> str:
        return f"Fleet({str(self.dir)!r}, bridge={self.bridge!r}, subnet='{self.subnet}')"

    # state
    def _load_state(self) -> dict | None:
        try:
            return json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return None

    def _save_state(self, hosts: dict[str, FleetHost], pins: dict[str, list[str]]) -> None:
        old = self._load_state() or {}
        state = {
            "bridge": self.bridge,
            "subnet": str(self.subnet),
            "base": str(self.base_dir),
            "pins": pins,
            "controller_ports": old.get("controller_ports", []),
            "hosts": [dataclasses.asdict(h) for h in sorted(hosts.values(), key=_host_order)],
        }
        _write(self.state_path, json.dumps(state, indent=2) + "\n")

    def _host(self, index: int) -> FleetHost:
        name = f"{HOST_PREFIX}{index}"
        address = self.subnet.network_address + FIRST_HOST + index - 1
        if address not in self.subnet or address == self.subnet.broadcast_address:
            raise FleetError(f"{self.subnet} has no room for host {index}")
        return FleetHost(
            name=name,
            address=str(address),
            netns=f"{self.bridge}-{name}",
            veth=f"{self.bridge}v{index}",
            root=str(self.dir / "hosts" / name / "root"),
        )

    # ------------------------------------------------------------------ hosts
    def _healthy(self, h: FleetHost) -> bool:
        return _alive(h.pid, h.starttime) and h.netns in _netns_list() and h.root in _mountpoints()

    def _prepare(self, h: FleetHost, pubkey: str, keygens: list[subprocess.Popen]) -> None:
        hdir = Path(h.root).parent
        _umount_tree(hdir)
        shutil.rmtree(hdir, ignore_errors=True)
        for sub in ("upper", "work", "root"):
            (hdir / sub).mkdir(parents=True)
        _run(
            [
                "mount",
                "-t",
                "overlay",
                "overlay",
                "-o",
                f"lowerdir={self.rootfs},upperdir={hdir / 'upper'},workdir={hdir / 'work'}",
                h.root,
            ]
        )
        root = Path(h.root)
        _write(root / "etc/hostname", h.name + "\n")
        _write(root / "etc/machine-id", uuid.uuid4().hex + "\n", 0o444)
        ssh_dir = root / "root/.ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        _write(ssh_dir / "authorized_keys", pubkey, 0o600)
        for kind, bits in (("ed25519", None), ("ecdsa", "256"), ("rsa", "3072")):
            cmd = [
                "ssh-keygen",
                "-q",
                "-N",
                "",
                "-t",
                kind,
                "-C",
                f"root@{h.name}",
                "-f",
                str(root / f"etc/ssh/ssh_host_{kind}_key"),
            ]
            if bits:
                cmd += ["-b", bits]
            keygens.append(
                subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            )
        _write(hdir / "init.sh", INIT_SCRIPT.format(root=h.root, name=h.name), 0o755)
        # network namespace with one veth into the bridge
        if h.netns in _netns_list():
            _run(["ip", "netns", "del", h.netns], check=False)
        if _link_exists(h.veth):
            _run(["ip", "link", "del", h.veth], check=False)
        _run(["ip", "netns", "add", h.netns])
        _run(
            ["ip", "link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.netns]
        )
        with contextlib.suppress(OSError):
            Path(f"/proc/sys/net/ipv6/conf/{h.veth}/disable_ipv6").write_text("1\n")
        _run(["ip", "link", "set", h.veth, "master", self.bridge, "up"])
        n = ["ip", "-n", h.netns]
        _run([*n, "addr", "add", f"{h.address}/{self.subnet.prefixlen}", "dev", "eth0"])
        _run([*n, "link", "set", "lo", "up"])
        _run([*n, "link", "set", "eth0", "up"])
        _run([*n, "route", "add", "default", "via", self.gateway])

    def _start(self, h: FleetHost) -> None:
        hdir = Path(h.root).parent
        with open(hdir / "host.log", "ab") as log:
            proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    h.netns,
                    "unshare",
                    "--mount",
                    "--pid",
                    "--uts",
                    "--fork",
                    "--kill-child",
                    "/bin/sh",
                    str(hdir / "init.sh"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
            )
        self._procs[h.name] = proc
        st = _proc_stat(proc.pid)
        h.pid, h.starttime = proc.pid, (st[1] if st else None)

    def _write_etc_hosts(self, hosts: dict[str, FleetHost], pins: dict[str, list[str]]) -> None:
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", ""]
        lines += [f"{h.address}\t{h.name}" for h in sorted(hosts.values(), key=_host_order)]
        lines += ["", "# package registries, resolved on the controller (hosts have no DNS)"]
        lines += [f"{ip}\t{name}" for name, ips in pins.items() for ip in ips]
        text = "\n".join(lines) + "\n"
        for h in hosts.values():
            _write(Path(h.root) / "etc/hosts", text)

    def _wait_ready(self, hosts: list[FleetHost], timeout: float = 30.0) -> None:
        pending = {h.name: h for h in hosts}
        end = time.monotonic() + timeout
        while pending:
            for name, h in list(pending.items()):
                if not _alive(h.pid, h.starttime):
                    log = (Path(h.root).parent / "host.log").read_text(errors="replace")
                    raise FleetError(f"host {name} exited during start-up:\n{log[-2000:]}")
                try:
                    with socket.create_connection((h.address, h.ssh_port), timeout=1) as s:
                        s.settimeout(2)
                        if s.recv(64).startswith(b"SSH-"):
                            del pending[name]
                except OSError:
                    pass
            if pending:
                if time.monotonic() > end:
                    raise FleetError(f"sshd not answering on: {', '.join(sorted(pending))}")
                time.sleep(0.05)

    def _stop_host(self, h: FleetHost) -> None:
        if _alive(h.pid, h.starttime):
            assert h.pid
            for child in _children(h.pid):  # tini, the host's PID 1: it stops sshd
                _kill(child, signal.SIGTERM)
            if not _wait_dead(h.pid, h.starttime, 3.0):
                # unshare --fork ignores SIGTERM; --kill-child takes the namespace down
                _kill(h.pid, signal.SIGKILL)
                _wait_dead(h.pid, h.starttime, 3.0)
        proc = self._procs.pop(h.name, None)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
        if h.netns in _netns_list():
            for _ in range(50):
                out = _run(["ip", "netns", "pids", h.netns], check=False).stdout.split()
                if not out:
                    break
                for pid in out:
                    _kill(int(pid), signal.SIGKILL)
                    _reap(int(pid))
                time.sleep(0.05)
            _run(["ip", "netns", "del", h.netns], check=False)
        if _link_exists(h.veth):
            _run(["ip", "link", "del", h.veth], check=False)
        hdir = Path(h.root).parent
        _umount_tree(hdir)
        shutil.rmtree(hdir, ignore_errors=True)

    # ------------------------------------------------------------------ public API
    def up(self, n: int = 3) -> list[FleetHost]:
        """Bring hosts 1..n up (keeping healthy ones, stopping extra ones); returns them."""
        if n < 1:
            raise FleetError("need at least one host")
        _require_root()
        if missing_deps():
            ensure_deps()
        self.dir.mkdir(parents=True, exist_ok=True)
        with _flock(self.dir / ".lock"):
            self.ensure_base()
            state = self._load_state() or {}
            current = {d["name"]: FleetHost.from_dict(d) for d in state.get("hosts", [])}
            pins = _resolve(REGISTRIES)
            self._claim()
            self._setup_network(pins, state.get("controller_ports", []))
            if not self.key_path.exists():
                _run(
                    [
                        "ssh-keygen",
                        "-q",
                        "-N",
                        "",
                        "-t",
                        "ed25519",
                        "-C",
                        "tfprov-fleet",
                        "-f",
                        str(self.key_path),
                    ]
                )
            pubkey = self.key_path.with_suffix(".pub").read_text()

            wanted = {h.name: h for h in (self._host(i) for i in range(1, n + 1))}
            for name, h in list(current.items()):
                if name not in wanted or not self._healthy(h):
                    self._stop_host(h)
                    del current[name]
            self._save_state(current, pins)
            fresh = [h for name, h in wanted.items() if name not in current]
            keygens: list[subprocess.Popen] = []
            try:
                for h in fresh:
                    current[h.name] = h
                    self._save_state(current, pins)  # `down` can clean up a half-made host
                    self._prepare(h, pubkey, keygens)
            finally:
                failed = [p.args for p in keygens if p.wait() != 0]
            if failed:
                raise FleetError(f"ssh-keygen failed: {failed}")
            self._write_etc_hosts(current, pins)
            for h in fresh:
                self._start(h)
            self._save_state(current, pins)
            self._wait_ready(list(current.values()))
            self._write_known_hosts(current)
            self._write_inventory(current)
            return sorted(current.values(), key=_host_order)

    def down(self, purge: bool = False) -> None:
        """Stop every host and remove the network; the cached base stays unless purge."""
        _require_root()
        lock = _flock(self.dir / ".lock") if self.dir.exists() else contextlib.nullcontext()
        with lock:
            hosts = {h.name: h for h in self.hosts}
            hosts_dir = self.dir / "hosts"
            if hosts_dir.is_dir():  # hosts the state file does not know about
                for hdir in hosts_dir.iterdir():
                    if hdir.name.startswith(HOST_PREFIX) and hdir.name not in hosts:
                        idx = hdir.name[len(HOST_PREFIX) :]
                        if idx.isdigit():
                            hosts[hdir.name] = self._host(int(idx))
            for h in sorted(hosts.values(), key=_host_order):
                self._stop_host(h)
            claim = RUN_DIR / f"{self.bridge}.json"
            owned = not claim.exists() or json.loads(claim.read_text())["dir"] == str(self.dir)
            if owned:
                for ns in _netns_list():  # leftovers, e.g. from a lost state file
                    if ns.startswith(f"{self.bridge}-{HOST_PREFIX}"):
                        idx = ns[len(f"{self.bridge}-{HOST_PREFIX}") :]
                        if idx.isdigit():
                            self._stop_host(self._host(int(idx)))
                self._teardown_network()
            for p in (self.state_path, self.inventory_path, self.known_hosts_path):
                p.unlink(missing_ok=True)
            _umount_tree(hosts_dir)
            with contextlib.suppress(OSError):
                hosts_dir.rmdir()
            if purge:
                users = [c for c in self._other_claims() if c.get("base") == str(self.base_dir)]
                if users or self._base_in_use():
                    raise FleetError(f"base {self.base_dir} is used by another fleet: kept")
                shutil.rmtree(self.base_dir, ignore_errors=True)
                self.base_dir.with_name(self.base_dir.name + ".lock").unlink(missing_ok=True)
                for p in (self.key_path, self.key_path.with_suffix(".pub")):
                    p.unlink(missing_ok=True)

    def status(self) -> list[dict]:
        """One dict per known host: name, address, netns, pid, running, ssh."""
        rows = []
        for h in self.hosts:
            running = self._healthy(h)
            ssh = False
            if running:
                with contextlib.suppress(OSError):
                    with socket.create_connection((h.address, h.ssh_port), timeout=1) as s:
                        s.settimeout(2)
                        ssh = s.recv(64).startswith(b"SSH-")
            rows.append({**dataclasses.asdict(h), "running": running, "ssh": ssh})
        return rows

    def ssh_command(self, host: FleetHost | str, *command: str) -> list[str]:
        """OpenSSH argv that logs into a host with the fleet's key and strict known_hosts."""
        h = self._lookup(host)
        return [
            "ssh",
            "-i",
            str(self.key_path),
            "-o",
            f"UserKnownHostsFile={self.known_hosts_path}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            "-p",
            str(h.ssh_port),
            f"root@{h.address}",
            *command,
        ]

    def ssh(self, host: FleetHost | str, command: str, **kw) -> subprocess.CompletedProcess:
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.ssh_command(host, command), **kw)

    def _lookup(self, host: FleetHost | str) -> FleetHost:
        if isinstance(host, FleetHost):
            return host
        for h in self.hosts:
            if host in (h.name, h.address):
                return h
        raise FleetError(f"no host {host!r} in the fleet in {self.dir}")

    # ------------------------------------------------------------------ outputs
    def _write_known_hosts(self, hosts: dict[str, FleetHost]) -> None:
        lines = []
        for h in sorted(hosts.values(), key=_host_order):
            names = f"{h.address},{h.name}" if h.ssh_port == 22 else f"[{h.address}]:{h.ssh_port}"
            for pub in sorted(Path(h.root, "etc/ssh").glob("ssh_host_*_key.pub")):
                kind, blob = pub.read_text().split()[:2]
                lines.append(f"{names} {kind} {blob}")
        _write(self.known_hosts_path, "\n".join(lines) + "\n")

    def _write_inventory(self, hosts: dict[str, FleetHost]) -> None:
        lines = [
            '"""pyinfra inventory of the tfprov local test fleet.',
            "",
            "Written by lab/fleet.py on every `up`; deleted by `down`.",
            '"""',
            "",
            "fleet = [",
        ]
        for h in sorted(hosts.values(), key=_host_order):
            data = {
                "ssh_hostname": h.address,
                "ssh_port": h.ssh_port,
                "ssh_user": "root",
                "ssh_key": str(self.key_path),
                "ssh_known_hosts_file": str(self.known_hosts_path),
                "ssh_strict_host_key_checking": "yes",
            }
            lines.append(f"    ({h.name!r}, {{")
            lines += [f"        {k!r}: {v!r}," for k, v in data.items()]
            lines.append("    }),")
        lines.append("]")
        _write(self.inventory_path, "\n".join(lines) + "\n")


def _host_order(h: FleetHost) -> int:
    return int(h.name[len(HOST_PREFIX) :])


# -- command line -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lab.fleet",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--dir",
            type=Path,
            default=DEFAULT_DIR,
            help=f"fleet directory (default {DEFAULT_DIR}, env TFPROV_FLEET_DIR)",
        )
        p.add_argument(
            "--base",
            type=Path,
            default=None,
            help="cached base image directory (default DIR/base, env TFPROV_FLEET_BASE)",
        )

    p_up = sub.add_parser("up", help="bring N hosts up (default 3)")
    p_up.add_argument("n", nargs="?", type=int, default=3)
    p_up.add_argument("--bridge", default=DEFAULT_BRIDGE)
    p_up.add_argument("--subnet", default=DEFAULT_SUBNET)
    common(p_up)
    p_down = sub.add_parser("down", help="stop every host, remove the network")
    p_down.add_argument("--purge", action="store_true", help="also delete the cached base")
    common(p_down)
    p_status = sub.add_parser("status", help="list the hosts")
    p_status.add_argument("--json", action="store_true")
    common(p_status)
    p_ssh = sub.add_parser("ssh", help="run ssh into a host with the fleet's key")
    p_ssh.add_argument("host")
    p_ssh.add_argument("command", nargs=argparse.REMAINDER)
    common(p_ssh)
    sub.add_parser("ensure-deps", help="apt-get install the controller's packages")
    args = parser.parse_args(argv)

    try:
        if args.cmd == "ensure-deps":
            installed = ensure_deps()
            print("installed: " + " ".join(installed) if installed else "all present")
            return 0
        kw = {}
        if args.cmd == "up":
            kw = {"bridge": args.bridge, "subnet": args.subnet}
        fleet = Fleet(args.dir, base_dir=args.base, **kw)
        if args.cmd == "up":
            t0 = time.monotonic()
            try:
                hosts = fleet.up(args.n)
            except BaseException:
                _log("up failed: tearing down")
                with contextlib.suppress(Exception):
                    fleet.down()
                raise
            for h in hosts:
                print(f"{h.name}\t{h.address}")
            print(f"inventory:   {fleet.inventory_path}")
            print(f"known_hosts: {fleet.known_hosts_path}")
            print(f"key:         {fleet.key_path}")
            _log(f"{len(hosts)} hosts up in {time.monotonic() - t0:.1f}s")
        elif args.cmd == "down":
            fleet.down(purge=args.purge)
        elif args.cmd == "status":
            rows = fleet.status()
            if args.json:
                print(json.dumps(rows, indent=2))
            elif not rows:
                print(f"no hosts ({fleet.dir})")
            else:
                print("NAME\tADDRESS\tNETNS\tPID\tRUNNING\tSSH")
                for r in rows:
                    print(
                        f"{r['name']}\t{r['address']}\t{r['netns']}\t{r['pid']}\t"
                        f"{'yes' if r['running'] else 'no'}\t{'up' if r['ssh'] else 'down'}"
                    )
                print(f"inventory: {fleet.inventory_path}")
            return 0 if all(r["running"] and r["ssh"] for r in rows) else 1
        elif args.cmd == "ssh":
            cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
            return subprocess.call(fleet.ssh_command(args.host, *cmd))
    except FleetError as e:
        print(f"fleet: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
