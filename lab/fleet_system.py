"""The local fleet's controller side: processes, mounts, namespaces, locks, the tools it
needs (:func:`ensure_deps`) and the CA certificates it passes on (lab/fleet.py)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

CA_DIR = Path("/usr/local/share/ca-certificates")

# command -> Debian package providing it, checked by ensure_deps()
DEPS = {
    "debootstrap": "debootstrap",
    "gpgv": "gpgv",
    "iptables": "iptables",
    "ip": "iproute2",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "unshare": "util-linux",
    "mount": "mount",
    "chroot": "coreutils",
}
DEP_FILES = {
    "/usr/share/keyrings/debian-archive-keyring.gpg": "debian-archive-keyring",
    # the Windows connector's tests run a real sshd on 127.0.0.1
    "/usr/sbin/sshd": "openssh-server",
}


class FleetError(RuntimeError):
    """Something about the fleet could not be done; the message says what."""


# -- small helpers -----------------------------------------------------------------------


def _log(msg: str) -> None:
    print(f"fleet: {msg}", file=sys.stderr, flush=True)


def _run(cmd: Sequence[str], *, check: bool = True, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    res = subprocess.run(list(cmd), **kw)
    if check and res.returncode != 0:
        out = ((res.stderr or "") + (res.stdout or "")).strip() if kw["capture_output"] else ""
        raise FleetError(f"command failed ({res.returncode}): {' '.join(cmd)}\n{out}")
    return res


def _require_root() -> None:
    if sys.platform != "linux" or os.geteuid() != 0:
        raise FleetError("the test fleet needs root on Linux (namespaces, bridge, iptables)")


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, starttime) of a process, or None when it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def _alive(pid: int | None, starttime: int | None) -> bool:
    if not pid:
        return False
    st = _proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return starttime is None or st[1] == starttime


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def _reap(pid: int | None) -> None:
    if pid:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def _wait_dead(pid: int, starttime: int | None, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _reap(pid)
        if not _alive(pid, starttime):
            return True
        time.sleep(0.05)
    return not _alive(pid, starttime)


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _mountpoints() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mp = line.split()[4]
        points.append(mp.encode().decode("unicode_escape"))  # \040 and friends
    return points


def _umount_tree(path: Path) -> None:
    """Unmount everything at or below path (deepest first)."""
    prefix = str(path)
    for mp in sorted(
        (m for m in _mountpoints() if m == prefix or m.startswith(prefix + "/")),
        key=len,
        reverse=True,
    ):
        if _run(["umount", mp], check=False).returncode != 0:
            _run(["umount", "-l", mp], check=False)


def _link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


def _netns_list() -> list[str]:
    out = _run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _resolve(names: Sequence[str]) -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    for name in names:
        try:
            infos = socket.getaddrinfo(name, 443, socket.AF_INET, socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise FleetError(f"cannot resolve {name} on the controller: {e}") from e
        pins[name] = sorted({i[4][0] for i in infos})
    return pins


def _ca_files() -> list[Path]:
    return sorted(p for p in CA_DIR.rglob("*.crt") if p.is_file()) if CA_DIR.is_dir() else []


def _ca_digest() -> str:
    h = hashlib.sha256()
    for p in _ca_files():
        h.update(str(p.relative_to(CA_DIR)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


# -- controller dependencies ---------------------------------------------------------------


def missing_deps() -> list[str]:
    """Debian packages the controller still needs for the fleet."""
    pkgs = {pkg for cmd, pkg in DEPS.items() if shutil.which(cmd) is None}
    pkgs |= {pkg for path, pkg in DEP_FILES.items() if not Path(path).exists()}
    return sorted(pkgs)


def ensure_deps() -> list[str]:
    """apt-get install (non-interactively) what the controller lacks; returns what it installed."""
    _require_root()
    pkgs = missing_deps()
    if not pkgs:
        return []
    _log(f"installing controller packages: {' '.join(pkgs)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Unrelated third-party sources may fail to refresh; the install below is what matters.
    _run(["apt-get", "update", "-q"], check=False, env=env)
    # packages must not start daemons on the controller (openssh-server would start sshd)
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        _run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *pkgs],
            env=env,
        )
    finally:
        if ours:
            policy.unlink(missing_ok=True)
    still = missing_deps()
    if still:
        raise FleetError(f"still missing after apt-get install: {' '.join(still)}")
    return pkgs


def _du(path: Path) -> str:
    res = _run(["du", "-sh", "-x", str(path)], check=False)
    return res.stdout.split()[0] if res.returncode == 0 else "?"
