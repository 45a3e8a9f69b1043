"""``@winssh`` — a pyinfra connector for Windows hosts over the Windows OpenSSH server.

pyinfra 3.x has no Windows support in core: its ``ssh`` connector wraps every command in
``sh -c '…'`` (plus sudo/su/env/chdir handling, all POSIX).  This connector speaks SSH with
paramiko like the ``ssh`` connector does, but runs every command as::

    powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand <b64>

where ``<b64>`` is the base64 of the UTF-16LE text of a small script (see
:func:`build_script`): UTF-8 console output, ``$ErrorActionPreference = 'Stop'``, then the
command text verbatim inside ``try { … } catch { <message to stderr>; exit 1 }``, then
``exit $LASTEXITCODE`` so the exit code of the last native program comes back.  The command
text is the raw value of pyinfra's ``StringCommand`` — write PowerShell, not ``sh``
(``QuoteString`` bits are still POSIX-quoted by pyinfra, so avoid them).  ``_sudo``,
``_su_user``, ``_doas`` and ``_dzdo`` are refused; ``_shell_executable`` is ignored;
``_chdir`` and ``_env`` become ``Set-Location`` / ``$env:NAME = …`` lines of the script.

Files go over SFTP (``put_file`` / ``get_file``), so the server needs its ``sftp`` subsystem
(Windows OpenSSH has it by default).  Remote paths are passed to SFTP unchanged
(Windows OpenSSH accepts ``C:/dir/file`` and ``/C:/dir/file``).

Command line length: Windows OpenSSH runs the command through the default shell
(``cmd.exe`` unless ``DefaultShell`` is set), which caps a command line at 8191 characters;
the base64 of UTF-16LE is about 2.7x the script, so keep commands under ~2,800 characters
(a warning is logged above the cap).

Host data (all optional; same meaning as pyinfra's ``ssh_*`` keys):

``winssh_hostname``
    Address to connect to (default: the inventory name after ``@winssh/``).
``winssh_port``
    SSH port (default 22).
``winssh_user``
    Login user (default: paramiko's default, the local user name).
``winssh_key``
    Private key file (relative paths are resolved against the deploy directory).
``winssh_key_password``
    Passphrase of ``winssh_key`` if it is encrypted.
``winssh_password``
    Password for password authentication.  Never logged nor put in error messages.
``winssh_known_hosts_file``
    known_hosts file to check the host key against (default ``~/.ssh/known_hosts``).
    Entries for a non-22 port are written ``[host]:port`` as OpenSSH does.  The file is
    never written to.
``winssh_strict_host_key_checking``
    ``"yes"`` (default): a host whose key is not in the known_hosts file is refused
    (paramiko ``RejectPolicy``).  ``"no"``: an unknown host key is accepted for this
    connection only (paramiko ``AutoAddPolicy``, in memory; a warning with the key's
    fingerprint is logged).  A key that *differs* from the known_hosts entry is refused
    in both modes.  Any other value (e.g. ``accept-new``) is a connect error.

With neither ``winssh_key`` nor ``winssh_password``, paramiko tries the SSH agent and the
default keys in ``~/.ssh`` (like the ``ssh`` connector).

Register it with pyinfra (in tfprov's ``pyproject.toml``)::

    [project.entry-points."pyinfra.connectors"]
    winssh = "tfprov.connectors.winssh:WinSSHConnector"

then target hosts as ``@winssh/HOST``, e.g. in an inventory::

    windows = [("@winssh/win-gpu-01", {"winssh_user": "admin", "winssh_key": "~/.ssh/win"})]
"""

from __future__ import annotations

import base64
import os
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

import paramiko
from paramiko import (
    AuthenticationException,
    BadHostKeyException,
    SFTPClient,
    SSHException,
)
from pyinfra import logger
from pyinfra.api.command import StringCommand
from pyinfra.api.exceptions import ConnectError, PyinfraError
from pyinfra.api.hiddenvalue import HiddenValue
from pyinfra.api.output import echo
from pyinfra.api.util import get_file_io
from pyinfra.connectors.base import BaseConnector, DataMeta
from pyinfra.connectors.ssh_util import get_private_key
from pyinfra.connectors.util import CommandOutput, OutputLine, read_output_buffers, write_stdin
from typing_extensions import TypedDict, Unpack, override

from tfprov import powershell

if TYPE_CHECKING:
    from pyinfra.api.arguments import ConnectorArguments

POWERSHELL_ARGV = (
    "powershell.exe",
    "-NoProfile",
    "-NonInteractive",
    "-ExecutionPolicy",
    "Bypass",
    "-EncodedCommand",
)

# Script text around the command.  ``UTF8Encoding $false`` is UTF-8 *without* a BOM:
# ``[System.Text.Encoding]::UTF8`` makes Windows PowerShell 5.1 start redirected output
# with a BOM (the reader strips a leading BOM anyway).
SCRIPT_PROLOGUE = (
    *powershell.PRELUDE.splitlines(),
    "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false",
    "$OutputEncoding = [Console]::OutputEncoding",
    "try {",
)
SCRIPT_EPILOGUE = (
    "} catch {",
    "    [Console]::Error.WriteLine($_.ToString())",
    "    exit 1",
    "}",
    "if ($LASTEXITCODE) { exit $LASTEXITCODE }",
    "exit 0",
)

# cmd.exe (Windows OpenSSH's default shell) limit for one command line.
CMD_LINE_LIMIT = 8191

SUDO_LIKE_ARGUMENTS = ("_sudo", "_sudo_user", "_su_user", "_doas", "_doas_user", "_dzdo")


def _unmask(value: Any) -> str:
    return value.unmask() if isinstance(value, HiddenValue) else str(value)


def command_text(command: StringCommand | str) -> str:
    """The raw text of a pyinfra command: no ``sh -c``, no sudo — just the value."""
    if isinstance(command, StringCommand):
        return command.get_raw_value()
    return str(command)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def build_script(
    text: str,
    env: dict[str, Any] | None = None,
    chdir: str | None = None,
) -> str:
    """The PowerShell script run for one command (lines joined with ``\\n``)."""
    body: list[str] = []
    for name, value in (env or {}).items():
        if not _ENV_NAME.match(name):
            raise PyinfraError(f"winssh: invalid environment variable name: {name!r}")
        body.append(f"$env:{name} = {powershell.quote(_unmask(value))}")
    if chdir:
        body.append(f"Set-Location -LiteralPath {powershell.quote(chdir)}")
    # The command text goes in unindented so here-strings keep working.
    body.append(text)
    return "\n".join((*SCRIPT_PROLOGUE, *body, *SCRIPT_EPILOGUE))


def encode_script(script: str) -> str:
    """``-EncodedCommand`` value: base64 of the UTF-16LE script."""
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def build_command_line(script: str) -> str:
    """The exact command line sent in the SSH ``exec`` request."""
    return " ".join((*POWERSHELL_ARGV, encode_script(script)))


# Windows PowerShell sometimes reports error/progress records on stderr as CLIXML
# (``#< CLIXML`` followed by an ``<Objs>`` document) when run with -EncodedCommand.
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _clixml_unescape(text: str) -> str:
    return _CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def decode_clixml_lines(lines: list[str]) -> list[str]:
    """Replace ``#< CLIXML`` blocks in stderr lines by the text of their Error records."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "#< CLIXML" and i + 1 < len(lines):
            doc = lines[i + 1]
            try:
                root = ET.fromstring(doc)
            except ET.ParseError:
                out.append(line)
                i += 1
                continue
            text = "".join(
                _clixml_unescape(el.text or "")
                for el in root.iter()
                if el.tag.rsplit("}", 1)[-1] == "S" and el.get("S") == "Error"
            )
            out.extend(text.replace("\r\n", "\n").rstrip("\n").split("\n") if text else [])
            i += 2
            continue
        out.append(line)
        i += 1
    return out


class ConnectorData(TypedDict):
    winssh_hostname: str
    winssh_port: int
    winssh_user: str
    winssh_key: str
    winssh_key_password: str
    winssh_password: str
    winssh_known_hosts_file: str
    winssh_strict_host_key_checking: str


connector_data_meta: dict[str, DataMeta] = {
    "winssh_hostname": DataMeta("SSH hostname (default: the name after @winssh/)"),
    "winssh_port": DataMeta("SSH port", 22),
    "winssh_user": DataMeta("SSH user"),
    "winssh_key": DataMeta("SSH private key filename"),
    "winssh_key_password": DataMeta("SSH private key passphrase"),
    "winssh_password": DataMeta("SSH password (never logged)"),
    "winssh_known_hosts_file": DataMeta(
        "SSH known_hosts filename (default ~/.ssh/known_hosts; never written)"
    ),
    "winssh_strict_host_key_checking": DataMeta(
        'SSH strict host key checking: "yes" (refuse unknown host keys) or "no" '
        "(accept unknown host keys for this connection only)",
        "yes",
    ),
}


class _WarnAutoAddPolicy(paramiko.AutoAddPolicy):
    """AutoAddPolicy (in memory only — no filename is set) that says so, loudly."""

    def missing_host_key(self, client, hostname, key):
        logger.warning(
            "winssh: no known host key for %s; accepting %s %s for this connection "
            "(winssh_strict_host_key_checking = no)",
            hostname,
            key.get_name(),
            key.fingerprint,
        )
        super().missing_host_key(client, hostname, key)


class _RejectPolicy(paramiko.RejectPolicy):
    def missing_host_key(self, client, hostname, key):
        logger.error("winssh: no host key for %s found in known_hosts", hostname)
        raise SSHException(f"No host key for {hostname} found in known_hosts (strict checking)")


class WinSSHConnector(BaseConnector):
    """
    Connect to Windows hosts over the Windows OpenSSH server and run every command
    with ``powershell.exe -EncodedCommand``.  Files are transferred over SFTP.

    .. code:: shell

        pyinfra @winssh/win-host.example.net ...
    """

    handles_execution = True

    data_cls = ConnectorData
    data_meta = connector_data_meta
    data: ConnectorData

    client: paramiko.SSHClient | None = None
    _sftp: SFTPClient | None = None

    @override
    @staticmethod
    def make_names_data(name=None):
        if not name:
            raise PyinfraError("@winssh needs a host name: @winssh/HOST")
        yield f"@winssh/{name}", {"winssh_hostname": name}, ["@winssh"]

    # Connection

    def _hostname(self) -> str:
        return self.data["winssh_hostname"] or self.host.name

    def make_paramiko_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "port": int(self.data["winssh_port"] or 22),
            "timeout": self.state.config.CONNECT_TIMEOUT,
            "allow_agent": False,
            "look_for_keys": False,
        }
        if self.data["winssh_user"]:
            kwargs["username"] = self.data["winssh_user"]
        if self.data["winssh_password"]:
            kwargs["password"] = self.data["winssh_password"]
        if self.data["winssh_key"]:
            try:
                kwargs["pkey"] = get_private_key(
                    self.state,
                    key_filename=self.data["winssh_key"],
                    key_password=self.data["winssh_key_password"],
                )
            except PyinfraError as e:
                raise ConnectError(f"winssh: {e}") from e
        if "pkey" not in kwargs and "password" not in kwargs:
            kwargs["allow_agent"] = True
            kwargs["look_for_keys"] = True
        return kwargs

    @staticmethod
    def _loggable(kwargs: dict[str, Any]) -> dict[str, Any]:
        shown = dict(kwargs)
        if "password" in shown:
            shown["password"] = "<hidden>"
        if "pkey" in shown:
            shown["pkey"] = f"<{shown['pkey'].get_name()} key>"
        return shown

    def _host_key_policy(self) -> paramiko.MissingHostKeyPolicy:
        mode = str(self.data["winssh_strict_host_key_checking"] or "yes").lower()
        if mode == "yes":
            return _RejectPolicy()
        if mode == "no":
            return _WarnAutoAddPolicy()
        raise ConnectError(
            f"winssh: winssh_strict_host_key_checking must be 'yes' or 'no', got {mode!r}"
        )

    @override
    def connect(self) -> None:
        hostname = self._hostname()
        kwargs = self.make_paramiko_kwargs()
        policy = self._host_key_policy()

        known_hosts = self.data["winssh_known_hosts_file"] or "~/.ssh/known_hosts"
        known_hosts = os.path.expanduser(known_hosts)

        client = paramiko.SSHClient()
        # Load into the HostKeys object directly: paramiko then has no filename to save
        # accepted keys to, so the known_hosts file is only ever read.
        try:
            client.get_host_keys().load(known_hosts)
        except FileNotFoundError:
            logger.debug("winssh: known_hosts file %s does not exist", known_hosts)
        except (OSError, SSHException) as e:
            raise ConnectError(f"winssh: cannot read known_hosts {known_hosts}: {e}") from e
        client.set_missing_host_key_policy(policy)

        logger.debug("winssh: connecting to %s (%r)", hostname, self._loggable(kwargs))
        try:
            client.connect(hostname, **kwargs)
        except BadHostKeyException as e:
            client.close()
            port = kwargs["port"]
            entry = e.hostname if port == 22 else f"[{e.hostname}]:{port}"
            logger.warning("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED (%s)!", entry)
            raise ConnectError(
                f"winssh: host key for {entry} does not match {known_hosts} "
                f"(got {e.key.get_name()} {e.key.fingerprint})"
            ) from None
        except AuthenticationException as e:
            client.close()
            how = []
            if "username" in kwargs:
                how.append(f"user={kwargs['username']}")
            if "pkey" in kwargs:
                how.append(f"key={self.data['winssh_key']}")
            if "password" in kwargs:
                how.append("password=<hidden>")
            raise ConnectError(
                f"winssh: authentication error ({', '.join(how)}): {type(e).__name__}"
            ) from None
        except SSHException as e:
            client.close()
            raise ConnectError(f"winssh: SSH error ({e})") from None
        except socket.gaierror as e:
            client.close()
            raise ConnectError(f"winssh: could not resolve hostname {hostname} ({e})") from None
        except (OSError, EOFError) as e:
            client.close()
            raise ConnectError(f"winssh: could not connect to {hostname} ({e})") from None

        self.client = client

    @override
    def disconnect(self) -> None:
        if self._sftp is not None:
            try:
                self._sftp.close()
            except (OSError, SSHException, EOFError):
                pass
            self._sftp = None
        if self.client is not None:
            self.client.close()
            self.client = None

    # Commands

    @staticmethod
    def _refuse_privilege_arguments(arguments: dict[str, Any]) -> None:
        used = [name for name in SUDO_LIKE_ARGUMENTS if arguments.get(name)]
        if used:
            raise PyinfraError(
                "winssh: Windows hosts have no sudo/su/doas/dzdo; connect as a user with the "
                f"needed rights instead of using {', '.join(used)}"
            )

    def make_command_line(self, command: StringCommand | str, **arguments: Any) -> str:
        """The exact ``exec`` command line for ``command`` with pyinfra arguments."""
        self._refuse_privilege_arguments(arguments)
        script = build_script(
            command_text(command),
            env=arguments.get("_env") or None,
            chdir=arguments.get("_chdir") or None,
        )
        line = build_command_line(script)
        if len(line) > CMD_LINE_LIMIT:
            logger.warning(
                "winssh: command line is %d characters; cmd.exe (Windows OpenSSH's default "
                "shell) accepts at most %d",
                len(line),
                CMD_LINE_LIMIT,
            )
        return line

    @override
    def run_shell_command(
        self,
        command: StringCommand,
        print_output: bool = False,
        print_input: bool = False,
        **arguments: Unpack[ConnectorArguments],
    ) -> tuple[bool, CommandOutput]:
        """Run ``command`` (PowerShell text) on the host; returns (success, output)."""
        get_pty = arguments.pop("_get_pty", False)
        timeout = arguments.pop("_timeout", None)
        stdin = arguments.pop("_stdin", None)
        success_exit_codes = arguments.pop("_success_exit_codes", None)

        command_line = self.make_command_line(command, **arguments)

        # Log / echo the masked command text, never the encoded blob (it holds unmasked
        # HiddenValues).
        logger.debug("winssh: running on %s: %s", self.host.name, command)
        if print_input:
            echo(f"{self.host.print_prefix}>>> {command}", err=True)

        if self.client is None:
            raise ConnectError(f"winssh: {self.host.name} is not connected")
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise ConnectError(f"winssh: connection to {self.host.name} is closed")

        channel = transport.open_session(timeout=self.state.config.CONNECT_TIMEOUT)
        try:
            if get_pty:
                channel.get_pty()
            if timeout:
                channel.settimeout(timeout)
            channel.exec_command(command_line)

            stdin_file = channel.makefile_stdin("wb")
            if stdin:
                write_stdin(stdin, stdin_file)
            stdin_file.close()

            timed_out: list[bool] = []
            output = read_output_buffers(
                _decoded_lines(channel.makefile("rb"), timed_out),
                _decoded_lines(channel.makefile_stderr("rb"), timed_out),
                timeout=timeout,
                print_output=print_output,
                print_prefix=self.host.print_prefix,
            )
            if timed_out:
                raise TimeoutError()

            exit_status = channel.recv_exit_status()
        finally:
            channel.close()
        logger.debug("winssh: exit status %i", exit_status)

        stderr_lines = output.stderr_lines
        if any(line.strip() == "#< CLIXML" for line in stderr_lines):
            cleaned = decode_clixml_lines(stderr_lines)
            output = CommandOutput(
                [line for line in output.combined_lines if line.buffer_name == "stdout"]
                + [OutputLine("stderr", line) for line in cleaned]
            )

        if success_exit_codes:
            status = exit_status in success_exit_codes
        else:
            status = exit_status == 0
        return status, output

    # Files

    def get_sftp(self) -> SFTPClient:
        """The SFTP session of this connection (opened on first use)."""
        if self._sftp is not None:
            return self._sftp
        if self.client is None:
            raise ConnectError(f"winssh: {self.host.name} is not connected")
        try:
            sftp = self.client.open_sftp()
        except SSHException as e:
            raise ConnectError(
                f"winssh: cannot open SFTP on {self.host.name}; is the sftp subsystem enabled? "
                f"({e})"
            ) from e
        self._sftp = sftp
        return sftp

    @override
    def put_file(
        self,
        filename_or_io,
        remote_filename: str,
        remote_temp_filename: str | None = None,
        print_output: bool = False,
        print_input: bool = False,
        **arguments: Unpack[ConnectorArguments],
    ) -> bool:
        """Upload a local file or file object to ``remote_filename`` over SFTP."""
        self._refuse_privilege_arguments(dict(arguments))
        logger.debug("winssh: uploading %s to %s", filename_or_io, remote_filename)
        with get_file_io(filename_or_io) as file_io:
            self.get_sftp().putfo(file_io, remote_filename)
        if print_output:
            echo(f"{self.host.print_prefix}file uploaded: {remote_filename}", err=True)
        return True

    @override
    def get_file(
        self,
        remote_filename: str,
        filename_or_io,
        remote_temp_filename: str | None = None,
        print_output: bool = False,
        print_input: bool = False,
        **arguments: Unpack[ConnectorArguments],
    ) -> bool:
        """Download ``remote_filename`` over SFTP into a local file or file object."""
        self._refuse_privilege_arguments(dict(arguments))
        logger.debug("winssh: downloading %s to %s", remote_filename, filename_or_io)
        with get_file_io(filename_or_io, "wb") as file_io:
            self.get_sftp().getfo(remote_filename, file_io)
        if print_output:
            echo(f"{self.host.print_prefix}file downloaded: {remote_filename}", err=True)
        return True


def _decoded_lines(fileobj: IO[bytes] | Iterable[bytes], timed_out: list[bool]) -> Iterator[str]:
    """UTF-8 lines of a channel stream: CRLF/LF stripped, a leading BOM dropped.

    A read timeout is recorded in ``timed_out`` (the reader runs in a greenlet, which
    would swallow the exception).
    """
    first = True
    try:
        for raw in fileobj:
            line = raw.decode("utf-8", errors="replace")
            if first:
                line = line.removeprefix("\ufeff")
                first = False
            yield line.rstrip("\r\n")
    except TimeoutError:
        timed_out.append(True)
