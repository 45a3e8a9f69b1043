"""The fleet's network: a bridge, NAT to the package registries only, and the claims
that keep two fleets off one bridge (lab/fleet.py)."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

from lab.fleet_system import (
    FleetError,
    _flock,
    _link_exists,
    _log,
    _require_root,
    _run,
    _write,
)

# The only names a host can reach (tcp 80/443), pinned in its /etc/hosts.
REGISTRIES = ("deb.debian.org", "pypi.org", "files.pythonhosted.org")
REGISTRY_PORTS = (80, 443)
# Machine-wide bookkeeping shared by all fleets: which bridge belongs to which DIR, and the
# value of ip_forward before the first fleet came up (restored when the last one goes down).
RUN_DIR = Path("/run/tfprov-fleet")


class Network:
    """The bridge and firewall of a fleet (a part of :class:`lab.fleet.Fleet`)."""

    # ------------------------------------------------------------------ network
    def _claim(self) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        claim = RUN_DIR / f"{self.bridge}.json"
        if claim.exists():
            owner = json.loads(claim.read_text())
            if owner["dir"] != str(self.dir) and _link_exists(self.bridge):
                if (Path(owner["dir"]) / "state.json").exists():
                    raise FleetError(
                        f"bridge {self.bridge} is used by the fleet in {owner['dir']}: "
                        f"take that one down or use another bridge/subnet"
                    )
                # its directory is gone (e.g. a killed test run's tmp dir): clean up after it
                _log(f"cleaning up the abandoned fleet of {owner['dir']} on {self.bridge}")
                type(self)(owner["dir"], bridge=self.bridge, subnet=str(self.subnet)).down()
        fwd = RUN_DIR / "ip_forward"
        if not fwd.exists():  # only the first fleet up records the original value
            _write(fwd, Path("/proc/sys/net/ipv4/ip_forward").read_text())
        _write(claim, json.dumps({"dir": str(self.dir), "base": str(self.base_dir)}) + "\n")

    def _other_claims(self) -> list[dict]:
        others = []
        for claim in RUN_DIR.glob("*.json"):
            bridge = claim.stem
            if bridge == self.bridge:
                continue
            if _link_exists(bridge):
                others.append(json.loads(claim.read_text()))
            else:  # stale (machine rebooted, or torn down by hand)
                claim.unlink(missing_ok=True)
        return others

    def _release(self) -> None:
        claim = RUN_DIR / f"{self.bridge}.json"
        if claim.exists() and json.loads(claim.read_text())["dir"] == str(self.dir):
            claim.unlink()
        if not RUN_DIR.exists() or self._other_claims():
            return
        fwd = RUN_DIR / "ip_forward"
        if fwd.exists():
            Path("/proc/sys/net/ipv4/ip_forward").write_text(fwd.read_text().strip() + "\n")
            fwd.unlink()

    def _chains(self) -> dict[str, str]:
        tag = self.bridge.upper()
        return {"fwd": f"{tag}-FWD", "in": f"{tag}-IN", "nat": f"{tag}-NAT"}

    def _jumps(self) -> list[tuple[str, str, list[str]]]:
        c, br, net = self._chains(), self.bridge, str(self.subnet)
        return [
            ("filter", "FORWARD", ["-i", br, "-j", c["fwd"]]),
            ("filter", "FORWARD", ["-o", br, "-j", c["fwd"]]),
            ("filter", "INPUT", ["-i", br, "-j", c["in"]]),
            ("nat", "POSTROUTING", ["-s", net, "!", "-o", br, "-j", c["nat"]]),
        ]

    def _controller_rule(self, proto: str, port: int) -> list[str]:
        return ["-p", proto, "-d", self.gateway, "--dport", str(port), "-j", "ACCEPT"]

    def _setup_network(self, pins: dict[str, list[str]], controller_ports=()) -> None:
        br, net, gw = self.bridge, str(self.subnet), self.gateway
        if not _link_exists(br):
            _run(["ip", "link", "add", br, "type", "bridge"])
        _run(["ip", "addr", "replace", f"{gw}/{self.subnet.prefixlen}", "dev", br])
        _run(["ip", "link", "set", br, "up"])
        with contextlib.suppress(OSError):
            Path(f"/proc/sys/net/ipv6/conf/{br}/disable_ipv6").write_text("1\n")
        Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")

        ipt = ["iptables", "-w", "10"]
        c = self._chains()
        for table, chain in (("filter", c["fwd"]), ("filter", c["in"]), ("nat", c["nat"])):
            _run([*ipt, "-t", table, "-N", chain], check=False)
            _run([*ipt, "-t", table, "-F", chain])
        rules: list[tuple[str, str, list[str]]] = [
            ("filter", c["fwd"], ["-i", br, "-o", br, "-j", "ACCEPT"]),  # host <-> host
            (
                "filter",
                c["fwd"],
                ["-o", br, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
            ),
        ]
        ports = ",".join(str(p) for p in REGISTRY_PORTS)
        for ip in sorted({ip for ips in pins.values() for ip in ips}):
            rules.append(
                (
                    "filter",
                    c["fwd"],
                    [
                        "-i",
                        br,
                        "-s",
                        net,
                        "-d",
                        ip,
                        "-p",
                        "tcp",
                        "-m",
                        "multiport",
                        "--dports",
                        ports,
                        "-j",
                        "ACCEPT",
                    ],
                )
            )
        rules += [
            (
                "filter",
                c["fwd"],
                ["-i", br, "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"],
            ),
            ("filter", c["fwd"], ["-o", br, "-j", "DROP"]),
            # hosts may only answer the controller, never open connections to it
            (
                "filter",
                c["in"],
                ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
            ),
            *(
                ("filter", c["in"], self._controller_rule(proto, port))
                for proto, port in controller_ports
            ),
            ("filter", c["in"], ["-j", "REJECT", "--reject-with", "icmp-admin-prohibited"]),
            ("nat", c["nat"], ["-j", "MASQUERADE"]),
        ]
        for table, chain, spec in rules:
            _run([*ipt, "-t", table, "-A", chain, *spec])
        for table, chain, spec in self._jumps():
            if _run([*ipt, "-t", table, "-C", chain, *spec], check=False).returncode != 0:
                _run([*ipt, "-t", table, "-I", chain, "1", *spec])

    def _teardown_network(self) -> None:
        ipt = ["iptables", "-w", "10"]
        if shutil.which("iptables"):
            for table, chain, spec in self._jumps():
                while _run([*ipt, "-t", table, "-D", chain, *spec], check=False).returncode == 0:
                    pass
            c = self._chains()
            for table, chain in (("filter", c["fwd"]), ("filter", c["in"]), ("nat", c["nat"])):
                _run([*ipt, "-t", table, "-F", chain], check=False)
                _run([*ipt, "-t", table, "-X", chain], check=False)
        if _link_exists(self.bridge):
            _run(["ip", "link", "del", self.bridge], check=False)
        self._release()

    def allow_controller_port(self, port: int, proto: str = "tcp") -> None:
        """Let the hosts connect to the controller's fleet address (the gateway) on one port.

        For a service a test runs on the controller for the hosts (e.g. a wheelhouse over
        HTTP bound to ``fleet.gateway``). Everything else to the controller stays refused; the
        opening lasts until ``down()`` and survives a repeated ``up()``.
        """
        _require_root()
        if proto not in ("tcp", "udp"):
            raise FleetError(f"protocol must be tcp or udp, not {proto!r}")
        with _flock(self.dir / ".lock"):
            state = self._load_state()
            if not state:
                raise FleetError(f"the fleet in {self.dir} is not up")
            entry = [proto, int(port)]
            if entry not in state["controller_ports"]:
                state["controller_ports"].append(entry)
                _write(self.state_path, json.dumps(state, indent=2) + "\n")
            ipt = ["iptables", "-w", "10", "-t", "filter"]
            rule = [self._chains()["in"], *self._controller_rule(proto, int(port))]
            if _run([*ipt, "-C", *rule], check=False).returncode != 0:
                _run([*ipt, "-I", rule[0], "1", *rule[1:]])
