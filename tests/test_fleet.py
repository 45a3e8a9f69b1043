"""The local test fleet (lab/fleet.py): real SSH hosts that pyinfra reaches with pinned keys.

Brings up 2 hosts on their own bridge and subnet (so a fleet started by hand with
``python -m lab.fleet up`` can stay up), reusing the machine's cached base image
(``TFPROV_FLEET_BASE``, default ``/var/tmp/tfprov-fleet/base``; built on first use, ~1 min).
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from lab.fleet import DEFAULT_DIR, Fleet, FleetHost
except ImportError:  # pytest run without the repository root on sys.path
    from fleet import DEFAULT_DIR, Fleet, FleetHost

pytestmark = [
    pytest.mark.fleet,
    pytest.mark.skipif(
        sys.platform != "linux" or os.geteuid() != 0,
        reason="the test fleet needs root on Linux",
    ),
]

BRIDGE = "tfprovt0"
SUBNET = "10.203.1.0/24"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    base = os.environ.get("TFPROV_FLEET_BASE") or DEFAULT_DIR / "base"
    with Fleet(tmp_path_factory.mktemp("fleet"), base_dir=base, bridge=BRIDGE, subnet=SUBNET) as f:
        hosts = f.up(2)
        assert [(h.name, h.address) for h in hosts] == [
            ("fleet-1", "10.203.1.11"),
            ("fleet-2", "10.203.1.12"),
        ]
        yield f
    # torn down: no namespace, interface or NAT chain is left behind
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"{BRIDGE}-" not in netns
    assert not Path(f"/sys/class/net/{BRIDGE}").exists()
    nat = subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True, text=True)
    assert BRIDGE.upper() not in nat.stdout


def _pyinfra(inventory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pyinfra", "-y", str(inventory), *args],
        cwd=inventory.parent,  # pyinfra may drop a pyinfra-debug.log into its cwd
        capture_output=True,
        text=True,
        timeout=120,
    )


def _inventory(path: Path, fleet: Fleet, host: FleetHost, known_hosts: Path) -> Path:
    data = {
        "ssh_hostname": host.address,
        "ssh_user": "root",
        "ssh_key": str(fleet.key_path),
        "ssh_known_hosts_file": str(known_hosts),
        "ssh_strict_host_key_checking": "yes",
    }
    path.write_text(f"fleet = [({host.name!r}, {data!r})]\n")
    return path


def test_inventory_pins_host_keys(fleet):
    hosts = runpy.run_path(str(fleet.inventory_path))["fleet"]
    assert [name for name, _ in hosts] == ["fleet-1", "fleet-2"]
    for _, data in hosts:
        assert data["ssh_user"] == "root"
        assert data["ssh_key"] == str(fleet.key_path)
        assert data["ssh_known_hosts_file"] == str(fleet.known_hosts_path)
        assert data["ssh_strict_host_key_checking"] == "yes"
    kinds = {
        (line.split()[0], line.split()[1])
        for line in fleet.known_hosts_path.read_text().splitlines()
    }
    for h in fleet.hosts:
        for kind in ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"):
            assert (f"{h.address},{h.name}", kind) in kinds


def test_pyinfra_runs_a_command_on_every_host(fleet):
    res = _pyinfra(fleet.inventory_path, "exec", "--", "hostname; hostname -I")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    for h in fleet.hosts:
        assert f"[{h.name}] {h.name}" in out
        assert f"[{h.name}] {h.address}" in out


def test_unknown_host_key_is_refused(fleet, tmp_path):
    host = fleet.hosts[0]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")  # the host is not in it: strict checking must not accept it
    res = _pyinfra(_inventory(tmp_path / "inv.py", fleet, host, known_hosts), "exec", "--", "true")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert f"No host key for {host.address} found in known_hosts" in out
    assert known_hosts.read_text() == ""


def test_wrong_host_key_is_refused(fleet, tmp_path):
    host = fleet.hosts[0]
    impostor = tmp_path / "impostor"
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f", str(impostor)], check=True)
    kind, blob = impostor.with_suffix(".pub").read_text().split()[:2]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{host.address} {kind} {blob}\n")
    res = _pyinfra(_inventory(tmp_path / "inv.py", fleet, host, known_hosts), "exec", "--", "true")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "does not match" in out or "BadHostKey" in out, out
