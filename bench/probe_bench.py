"""Probe cost per host: the one-command HostProbe fact versus the single facts one by one.

    .venv/bin/python bench/probe_bench.py [--ssh]

Counts the remote commands pyinfra runs (round trips) and the wall time per host, for
(a) ``HostProbe`` — every section in one command — and (b) each fact of
``tfprov.facts.profile.SECTIONS`` fetched separately, which is what pyinfra does by
default.  Targets: ``@local`` always; with ``--ssh`` also this machine over real SSH on
127.0.0.1 through a throw-away sshd (needs /usr/sbin/sshd; started and stopped here).
Figures are printed, not asserted.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.facts import get_facts
from pyinfra.api.host import Host

from tfprov.facts.profile import SECTIONS, HostProbe

REPEAT = 3


def _count_commands():
    counter = {"n": 0}
    real = Host.run_shell_command

    def counted(self, *a, **kw):
        counter["n"] += 1
        return real(self, *a, **kw)

    Host.run_shell_command = counted
    return counter, real


def _state(hosts: list, data: dict | None = None) -> State:
    inv = Inventory((hosts, data or {}))
    state = State(inv, Config())
    connect_all(state)
    return state


def measure(hosts, data=None) -> dict:
    counter, real = _count_commands()
    try:
        out = {}
        for label, facts in (
            ("HostProbe (one command)", [HostProbe]),
            ("single facts", [type(f) for _, f in SECTIONS]),
        ):
            best = None
            for _ in range(REPEAT):
                state = _state(hosts, data)  # a fresh state: pyinfra caches nothing anyway
                counter["n"] = 0
                t0 = time.perf_counter()
                for fact in facts:
                    get_facts(
                        state, fact, kwargs={"_ignore_errors": True}, apply_failed_hosts=False
                    )
                dt = time.perf_counter() - t0
                n = counter["n"]
                disconnect_all(state)
                best = min(best or (dt, n), (dt, n))
            out[label] = best
        return out
    finally:
        Host.run_shell_command = real


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sshd(tmp: str):
    """A private sshd on 127.0.0.1 for this user, with pinned host key and a fresh user key."""
    port = _free_port()
    hostkey = os.path.join(tmp, "host_ed25519")
    userkey = os.path.join(tmp, "user_ed25519")
    for k in (hostkey, userkey):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k], check=True)
    auth = os.path.join(tmp, "authorized_keys")
    shutil.copy(userkey + ".pub", auth)
    os.chmod(auth, 0o600)
    with open(os.path.join(tmp, "known_hosts"), "w") as fh:
        fh.write(
            f"[127.0.0.1]:{port} "
            + open(hostkey + ".pub").read().split(" ", 2)[0]
            + " "
            + open(hostkey + ".pub").read().split(" ", 2)[1]
            + "\n"
        )
    cfg = os.path.join(tmp, "sshd_config")
    with open(cfg, "w") as fh:
        fh.write(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {hostkey}\n"
            f"AuthorizedKeysFile {auth}\nPasswordAuthentication no\n"
            f"PidFile {tmp}/sshd.pid\nStrictModes no\nUsePAM no\n"
        )
    os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", cfg], stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    data = {
        "ssh_port": port,
        "ssh_key": userkey,
        "ssh_user": os.environ.get("USER", "root"),
        "ssh_known_hosts_file": os.path.join(tmp, "known_hosts"),
        "ssh_strict_host_key_checking": "yes",
    }
    return proc, data


def report(title: str, res: dict) -> None:
    one_t, one_n = res["HostProbe (one command)"]
    many_t, many_n = res["single facts"]
    print(f"{title}")
    print(f"  HostProbe (one command): {one_n} round trip(s), {one_t * 1000:7.1f} ms per host")
    print(f"  single facts one by one:   {many_n} round trips,   {many_t * 1000:7.1f} ms per host")
    print(f"  ratio single/one: {many_t / one_t:.1f}x time, {many_n / one_n:.0f}x round trips")


def main() -> None:
    report("@local (subprocess per command)", measure(["@local"]))
    if "--ssh" in sys.argv:
        if not os.path.exists("/usr/sbin/sshd"):
            print("--ssh: /usr/sbin/sshd is not installed (apt-get install openssh-server)")
            return
        with tempfile.TemporaryDirectory() as tmp:
            proc, data = start_sshd(tmp)
            try:
                report(
                    "SSH to 127.0.0.1 (real sshd, key auth, pinned host key)",
                    measure(["127.0.0.1"], data),
                )
            finally:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
