"""The ``@winssh`` connector against a real sshd on 127.0.0.1.

PowerShell does not exist here, so the throw-away sshd forces every session through
``tests/winssh_fake/powershell.py`` — a test double of the remote end (not PowerShell) that
records the exact command line, decodes ``-EncodedCommand`` and interprets the handful of
statements these tests send (see its docstring).  What is real: sshd, SSH key/password
authentication, host key checking against a known_hosts file, the exec channel (exit
status, separate stdout/stderr), the SFTP subsystem, and pyinfra's Inventory/State/fact
machinery driving the connector.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api import connectors as pyinfra_connectors
from pyinfra.api import inventory as pyinfra_inventory
from pyinfra.api.command import StringCommand
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import ConnectError, PyinfraError
from pyinfra.api.facts import FactBase, get_fact

from tfprov.connectors.winssh import (
    SCRIPT_EPILOGUE,
    SCRIPT_PROLOGUE,
    WinSSHConnector,
    build_script,
    decode_clixml_lines,
)

FAKE = Path(__file__).parent / "winssh_fake" / "powershell.py"
SSHD = "/usr/sbin/sshd"
SFTP_SERVER_CANDIDATES = (
    "/usr/lib/openssh/sftp-server",
    "/usr/libexec/openssh/sftp-server",
    "/usr/libexec/sftp-server",
)
HOST = "@winssh/127.0.0.1"
PASSWORD = "s3cret-Pässwörd-7f3a9c"

# What the connector must send, written out here independently of its code.
POWERSHELL_WORDS = [
    "powershell.exe",
    "-NoProfile",
    "-NonInteractive",
    "-ExecutionPolicy",
    "Bypass",
    "-EncodedCommand",
]
PROLOGUE = (
    "$ErrorActionPreference = 'Stop'\n"
    "$ProgressPreference = 'SilentlyContinue'\n"
    "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false\n"
    "$OutputEncoding = [Console]::OutputEncoding\n"
    "try {\n"
)
EPILOGUE = (
    "\n} catch {\n"
    "    [Console]::Error.WriteLine($_.ToString())\n"
    "    exit 1\n"
    "}\n"
    "if ($LASTEXITCODE) { exit $LASTEXITCODE }\n"
    "exit 0"
)

pytestmark = pytest.mark.skipif(
    not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None,
    reason="needs /usr/sbin/sshd and ssh-keygen (apt-get install openssh-server)",
)


# ---------------------------------------------------------------- throw-away sshd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True
    )


def _known_hosts_line(port: int, pubkey_file: Path) -> str:
    kind, blob = pubkey_file.read_text().split()[:2]
    return f"[127.0.0.1]:{port} {kind} {blob}\n"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """sshd on 127.0.0.1 whose every session runs the fake powershell.exe."""
    sftp_server = next((p for p in SFTP_SERVER_CANDIDATES if os.path.exists(p)), None)
    if sftp_server is None:
        pytest.skip("no OpenSSH sftp-server binary")
    tmp = tmp_path_factory.mktemp("winsshd")
    port = _free_port()
    hostkey, userkey, otherkey = tmp / "host_ed25519", tmp / "user_ed25519", tmp / "other"
    for key in (hostkey, userkey, otherkey):
        _keygen(key)
    auth = tmp / "authorized_keys"
    shutil.copy(f"{userkey}.pub", auth)
    auth.chmod(0o600)
    known_hosts = tmp / "known_hosts"
    known_hosts.write_text(_known_hosts_line(port, Path(f"{hostkey}.pub")))
    log = tmp / "commands.jsonl"
    force = " ".join(
        shlex.quote(str(x))
        for x in (sys.executable, FAKE, "--log", log, "--sftp-server", sftp_server)
    )
    cfg = tmp / "sshd_config"
    cfg.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {hostkey}\n"
        f"AuthorizedKeysFile {auth}\nPidFile {tmp}/sshd.pid\n"
        "StrictModes no\nUsePAM no\nPermitRootLogin yes\n"
        # Password auth is on so a wrong password is really sent (and rejected).
        "PasswordAuthentication yes\nKbdInteractiveAuthentication no\n"
        "Subsystem sftp internal-sftp\n"
        # sshd runs ForceCommand for subsystem requests too, with SSH_ORIGINAL_COMMAND set
        # to the subsystem command ("internal-sftp"); the fake execs sftp-server for it.
        f"ForceCommand {force}\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)
    sshd_log = open(tmp / "sshd.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(cfg)], stderr=sshd_log)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    if proc.poll() is not None:
        sshd_log.close()
        pytest.fail(f"sshd did not start: {(tmp / 'sshd.log').read_text()}")
    info = {
        "tmp": tmp,
        "port": port,
        "log": log,
        "known_hosts": known_hosts,
        "user_key": userkey,
        "other_key": otherkey,
        "data": {
            "winssh_port": port,
            "winssh_user": os.environ.get("USER") or "root",
            "winssh_key": str(userkey),
            "winssh_known_hosts_file": str(known_hosts),
        },
    }
    try:
        yield info
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        sshd_log.close()


@pytest.fixture
def registered(monkeypatch):
    """Register ``winssh`` the way the entry point would, without the entry point."""
    real = pyinfra_connectors.get_all_connectors

    def with_winssh():
        return {**real(), "winssh": WinSSHConnector}

    monkeypatch.setattr(pyinfra_connectors, "get_all_connectors", with_winssh)
    monkeypatch.setattr(pyinfra_inventory, "get_all_connectors", with_winssh)


def _state(data: dict) -> State:
    return State(Inventory(([HOST], data)), Config())


@pytest.fixture
def host(sshd, registered):
    state = _state(dict(sshd["data"]))
    connect_all(state)
    h = state.inventory.get_host(HOST)
    assert h.connected, "could not connect to the loopback sshd"
    assert isinstance(h.connector, WinSSHConnector)
    yield h
    disconnect_all(state)


def _records(sshd) -> list[dict]:
    if not sshd["log"].exists():
        return []
    return [json.loads(line) for line in sshd["log"].read_text(encoding="utf-8").splitlines()]


def _run(host, text: str, **kwargs):
    return host.run_shell_command(StringCommand(text), **kwargs)


def _last(sshd) -> dict:
    records = _records(sshd)
    assert records, "the fake powershell.exe recorded nothing"
    return records[-1]


# ---------------------------------------------------------------- command line & script


def test_exact_command_line(sshd, host):
    ok, out = _run(host, "Write-Output 'hi'")
    assert ok and out.stdout_lines == ["hi"]
    rec = _last(sshd)
    script = PROLOGUE + "Write-Output 'hi'" + EPILOGUE
    blob = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    assert rec["original_command"] == " ".join([*POWERSHELL_WORDS, blob])
    assert rec["words"][:6] == POWERSHELL_WORDS
    for posix in ("sh -c", "sudo", "'"):
        assert posix not in rec["original_command"]


def test_decoded_script_non_ascii(sshd, host):
    text = "Grüße, Ωmega, 世界 ✓ — it''s"
    ok, out = _run(host, f"Write-Output '{text}'")
    rec = _last(sshd)
    assert rec["script"] == PROLOGUE + f"Write-Output '{text}'" + EPILOGUE
    assert ok
    assert out.stdout_lines == ["Grüße, Ωmega, 世界 ✓ — it's"]  # UTF-8, CRLF stripped


def test_stdout_and_stderr_come_back_separately(host):
    ok, out = _run(
        host,
        "Write-Output 'out one'\n[Console]::Error.WriteLine('érreur ⚠')\nWrite-Output 'out two'",
    )
    assert ok
    assert out.stdout_lines == ["out one", "out two"]
    assert out.stderr_lines == ["érreur ⚠"]


def test_exit_codes_propagate(host):
    ok, out = _run(host, "Write-Output 'fine'\nexit 0")
    assert ok and out.stdout_lines == ["fine"]

    ok, _ = _run(host, "exit 3")
    assert ok is False
    assert _run(host, "exit 3", _success_exit_codes=[3])[0] is True
    assert _run(host, "exit 3", _success_exit_codes=[2])[0] is False


def test_lastexitcode_of_native_command_propagates(host):
    # the epilogue's ``if ($LASTEXITCODE) { exit $LASTEXITCODE }``
    assert _run(host, "cmd.exe /c exit 3", _success_exit_codes=[3])[0] is True
    assert _run(host, "cmd.exe /c exit 0")[0] is True


def test_throw_gives_nonzero_and_message_on_stderr(host):
    ok, out = _run(host, "Write-Output 'before'\nthrow 'kaputt: Überlauf'\nWrite-Output 'after'")
    assert ok is False
    assert _run(host, "throw 'x'", _success_exit_codes=[1])[0] is True  # exit 1 exactly
    assert out.stdout_lines == ["before"]
    assert out.stderr_lines == ["kaputt: Überlauf"]


def test_env_and_chdir_become_powershell(sshd, host):
    where = sshd["tmp"]
    ok, out = _run(
        host,
        "Write-Output $env:TFPROV_X\nWrite-Output (Get-Location).Path",
        _env={"TFPROV_X": "a 'quoted' välue"},
        _chdir=str(where),
    )
    assert ok, out.stderr
    assert out.stdout_lines == ["a 'quoted' välue", str(where)]
    assert _last(sshd)["script"] == (
        PROLOGUE + "$env:TFPROV_X = 'a ''quoted'' välue'\n"
        f"Set-Location -LiteralPath '{where}'\n"
        "Write-Output $env:TFPROV_X\nWrite-Output (Get-Location).Path" + EPILOGUE
    )


def test_sudo_and_su_are_refused(sshd, host):
    n = len(_records(sshd))
    for kwargs in ({"_sudo": True}, {"_su_user": "admin"}, {"_sudo": True, "_sudo_user": "x"}):
        with pytest.raises(PyinfraError, match="no sudo/su"):
            _run(host, "Write-Output 'hi'", **kwargs)
    with pytest.raises(PyinfraError, match="no sudo/su"):
        host.put_file(io.BytesIO(b"x"), str(sshd["tmp"] / "nope"), _sudo=True)
    assert len(_records(sshd)) == n  # nothing was sent


# ---------------------------------------------------------------- SFTP


def test_sftp_put_then_get_round_trips_bytes(sshd, host, tmp_path):
    payload = bytes(range(256)) * 64 + "\r\nünïcödé\n".encode() + b"\x00" * 10
    remote = sshd["tmp"] / "uploaded.bin"
    assert host.put_file(io.BytesIO(payload), str(remote)) is True
    assert remote.read_bytes() == payload  # really on the "remote" disk

    back = io.BytesIO()
    assert host.get_file(str(remote), back) is True
    assert back.getvalue() == payload

    local_src, local_dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    local_src.write_bytes(payload[::-1])
    assert host.put_file(str(local_src), str(remote)) is True
    assert host.get_file(str(remote), str(local_dst)) is True
    assert local_dst.read_bytes() == payload[::-1]


# ---------------------------------------------------------------- host keys


def _connector(data: dict) -> WinSSHConnector:
    state = _state(data)
    connector = state.inventory.get_host(HOST).connector
    assert isinstance(connector, WinSSHConnector)
    return connector


def test_unknown_host_key_is_refused(sshd, registered, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    n = len(_records(sshd))
    for known in (str(empty), str(tmp_path / "missing_known_hosts")):
        data = {**sshd["data"], "winssh_known_hosts_file": known}
        with pytest.raises(ConnectError, match="No host key"):
            _connector(data).connect()
    # strict is the default, and "yes" means the same
    data = {**sshd["data"], "winssh_known_hosts_file": str(empty)}
    with pytest.raises(ConnectError, match="No host key"):
        _connector({**data, "winssh_strict_host_key_checking": "yes"}).connect()
    assert empty.read_text() == ""
    assert len(_records(sshd)) == n


def test_wrong_host_key_is_refused(sshd, registered, tmp_path):
    wrong = tmp_path / "known_hosts"
    wrong.write_text(_known_hosts_line(sshd["port"], Path(f"{sshd['other_key']}.pub")))
    for strict in ("yes", "no"):  # a mismatch is refused even when unknown keys are not
        data = {
            **sshd["data"],
            "winssh_known_hosts_file": str(wrong),
            "winssh_strict_host_key_checking": strict,
        }
        with pytest.raises(ConnectError, match="does not match"):
            _connector(data).connect()


def test_strict_no_accepts_unknown_key_without_saving_it(sshd, registered, tmp_path, caplog):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    data = {
        **sshd["data"],
        "winssh_known_hosts_file": str(empty),
        "winssh_strict_host_key_checking": "no",
    }
    connector = _connector(data)
    with caplog.at_level(logging.WARNING):
        connector.connect()
    try:
        assert "accepting" in caplog.text
        assert empty.read_text() == ""  # never written
    finally:
        connector.disconnect()


def test_bad_strict_value_is_an_error(sshd, registered):
    data = {**sshd["data"], "winssh_strict_host_key_checking": "accept-new"}
    with pytest.raises(ConnectError, match="'yes' or 'no'"):
        _connector(data).connect()


# ---------------------------------------------------------------- passwords


def test_password_is_not_logged_on_success(sshd, registered, caplog):
    # key + password: the key authenticates, the password is still in the connect kwargs
    data = {**sshd["data"], "winssh_password": PASSWORD}
    caplog.set_level(logging.DEBUG)
    state = _state(data)
    connect_all(state)
    h = state.inventory.get_host(HOST)
    try:
        assert h.connected
        assert h.run_shell_command(StringCommand("Write-Output 'ok'"))[0]
        assert "<hidden>" in caplog.text  # the connect kwargs were logged, redacted
    finally:
        disconnect_all(state)
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


def test_password_is_not_logged_on_failure(sshd, registered, caplog):
    data = {k: v for k, v in sshd["data"].items() if k != "winssh_key"}
    data["winssh_password"] = PASSWORD  # sshd rejects it (no such password)
    caplog.set_level(logging.DEBUG)
    connector = _connector(data)
    with pytest.raises(ConnectError, match="authentication error") as err:
        connector.connect()
    assert "password=<hidden>" in str(err.value)
    assert PASSWORD not in str(err.value)
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- pyinfra facts


class WinGreeting(FactBase):
    """A trivial fact whose command is PowerShell."""

    def command(self):
        return "Write-Output 'hello from Windows'\nWrite-Output 'zweite Zeile ✓'"

    def process(self, output):
        return list(output)


def test_get_fact_through_pyinfra_state(sshd, registered):
    state = _state(dict(sshd["data"]))
    connect_all(state)
    try:
        h = state.inventory.get_host(HOST)
        assert h.connected
        assert h.data.get("winssh_hostname") == "127.0.0.1"
        assert "@winssh" in [g for g in h.groups]
        assert get_fact(state, h, WinGreeting) == ["hello from Windows", "zweite Zeile ✓"]
        rec = _last(sshd)
        assert rec["words"][:6] == POWERSHELL_WORDS
        assert rec["script"] == (
            PROLOGUE + "Write-Output 'hello from Windows'\nWrite-Output 'zweite Zeile ✓'" + EPILOGUE
        )
    finally:
        disconnect_all(state)


# ---------------------------------------------------------------- offline helpers


def test_clixml_stderr_is_decoded():
    lines = [
        "plain line",
        "#< CLIXML",
        '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject'
        "</T></TN></Obj>"
        '<S S="Error">Boom: file _x0027_a_x0027_ missing_x000D__x000A_</S>'
        '<S S="Error">second_x000D__x000A_</S></Objs>',
    ]
    assert decode_clixml_lines(lines) == ["plain line", "Boom: file 'a' missing", "second"]


def test_names_data():
    assert list(WinSSHConnector.make_names_data("win-01")) == [
        ("@winssh/win-01", {"winssh_hostname": "win-01"}, ["@winssh"])
    ]
    with pytest.raises(PyinfraError):
        list(WinSSHConnector.make_names_data(""))


def test_env_and_chdir_values_quote_typographic_quotes_too():
    # PowerShell ends a single-quoted string at U+2018/U+2019/U+201A/U+201B as at ' (its
    # language spec, "single-quote-character"): each is doubled, so the value stays one
    # literal and nothing after the quote runs
    value = "it\u2019s \u2018x\u2019; \u201aRemove-Item C:\\\u201b 'y'"
    script = build_script("Write-Output $env:V", env={"V": value}, chdir="C:\\Users\\o\u2019b")
    body = script.splitlines()[len(SCRIPT_PROLOGUE) : -len(SCRIPT_EPILOGUE)]
    assert body == [
        "$env:V = 'it\u2019\u2019s \u2018\u2018x\u2019\u2019; \u201a\u201aRemove-Item C:\\"
        "\u201b\u201b ''y'''",
        "Set-Location -LiteralPath 'C:\\Users\\o\u2019\u2019b'",
        "Write-Output $env:V",
    ]
