"""TEST DOUBLE of the remote end of tfprov's ``winssh`` connector.  THIS IS NOT POWERSHELL.

PowerShell does not exist on the test machine, so the throw-away sshd of
``tests/test_winssh_connector.py`` runs every session through this file
(``ForceCommand <python> powershell.py --log FILE --sftp-server PATH``).  It stands in for
what a Windows OpenSSH server + ``powershell.exe`` would do with what the connector sends,
and nothing more:

1. It appends one JSON line to ``--log``: the exact command line that arrived
   (``$SSH_ORIGINAL_COMMAND``), its words, and the script decoded from
   ``-EncodedCommand`` (base64 → UTF-16LE), so the tests can check both.
2. A session whose command is not ``powershell.exe … -EncodedCommand <b64>`` fails with
   exit 127 and a message (as ``cmd.exe`` would for an unknown program): an ``sh -c`` or
   ``sudo`` wrapper leaking out of pyinfra shows up here.
3. It *interprets* only the statements the tests send — the connector's own prologue and
   epilogue (as literal lines; a changed prologue is rejected, so the tests notice) and,
   in the body, one statement per line:

       Write-Output '<text>'                 -> stdout
       Write-Output $env:NAME                -> stdout
       Write-Output (Get-Location).Path      -> stdout
       [Console]::Error.WriteLine('<text>')  -> stderr
       exit <n>                              -> exit status n
       throw '<text>'                        -> terminating error
       cmd.exe /c exit <n>                   -> a native command; sets $LASTEXITCODE = n
       $env:NAME = '<text>'                  -> sets an environment variable
       Set-Location -LiteralPath '<path>'    -> changes directory (error if missing)

   Any other body line is a terminating error ("fake powershell cannot interpret").
   Output is written with CRLF line ends, in UTF-8 only if the prologue set
   ``[Console]::OutputEncoding`` to UTF-8 (cp437, the OEM code page, otherwise), like
   Windows PowerShell does.
4. When the session is the ``sftp`` subsystem (``$SSH_ORIGINAL_COMMAND`` is the configured
   subsystem command, ``internal-sftp``: sshd runs the ForceCommand for subsystem requests
   too), it execs OpenSSH's ``sftp-server`` — Windows OpenSSH has its own sftp-server.exe.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import sys

PROLOGUE = {
    "$ErrorActionPreference = 'Stop'": "stop",
    "$ProgressPreference = 'SilentlyContinue'": None,
    "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false": "utf8",
    "$OutputEncoding = [Console]::OutputEncoding": None,
}
CATCH_BLOCK = ["    [Console]::Error.WriteLine($_.ToString())", "    exit 1"]
EPILOGUE = ["}", "if ($LASTEXITCODE) { exit $LASTEXITCODE }", "exit 0"]

SQ = r"'((?:[^']|'')*)'"  # a PowerShell single-quoted string


def _sq(text: str) -> str:
    return text.replace("''", "'")


class Thrown(Exception):
    """A PowerShell terminating error."""


class Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class Fake:
    def __init__(self) -> None:
        self.encoding = "cp437"
        self.last_exit_code: int | None = None

    def out(self, stream, text: str) -> None:
        stream.buffer.write((text + "\r\n").encode(self.encoding, errors="replace"))
        stream.flush()

    def statement(self, line: str) -> None:
        s = line.strip()
        if not s:
            return
        if m := re.fullmatch(rf"Write-Output {SQ}", s):
            self.out(sys.stdout, _sq(m.group(1)))
        elif m := re.fullmatch(r"Write-Output \$env:([A-Za-z_][A-Za-z0-9_]*)", s):
            self.out(sys.stdout, os.environ.get(m.group(1), ""))
        elif s == "Write-Output (Get-Location).Path":
            self.out(sys.stdout, os.getcwd())
        elif m := re.fullmatch(rf"\[Console\]::Error\.WriteLine\({SQ}\)", s):
            self.out(sys.stderr, _sq(m.group(1)))
        elif m := re.fullmatch(r"exit (\d+)", s):
            raise Exit(int(m.group(1)))
        elif m := re.fullmatch(rf"throw {SQ}", s):
            raise Thrown(_sq(m.group(1)))
        elif m := re.fullmatch(r"cmd\.exe /c exit (\d+)", s):
            self.last_exit_code = int(m.group(1))
        elif m := re.fullmatch(rf"\$env:([A-Za-z_][A-Za-z0-9_]*) = {SQ}", s):
            os.environ[m.group(1)] = _sq(m.group(2))
        elif m := re.fullmatch(rf"Set-Location -LiteralPath {SQ}", s):
            path = _sq(m.group(1))
            try:
                os.chdir(path)
            except OSError:
                raise Thrown(f"Cannot find path '{path}' because it does not exist.") from None
        else:
            raise Thrown(f"fake powershell cannot interpret: {s}")

    def run(self, script: str) -> int:
        lines = script.split("\n")
        i = 0
        while i < len(lines) and lines[i] != "try {":
            if lines[i] not in PROLOGUE:
                return self.reject(f"unexpected prologue line: {lines[i]!r}")
            if PROLOGUE[lines[i]] == "utf8":
                self.encoding = "utf-8"
            i += 1
        try:
            end = lines.index("} catch {", i)
        except ValueError:
            return self.reject("no '} catch {' after the command")
        if lines[end + 1 : end + 3] != CATCH_BLOCK or lines[end + 3 :] != EPILOGUE:
            return self.reject(f"unexpected epilogue: {lines[end:]!r}")
        if "$ErrorActionPreference = 'Stop'" not in lines[:i]:
            return self.reject("$ErrorActionPreference = 'Stop' missing")
        try:
            for line in lines[i + 1 : end]:
                self.statement(line)
        except Exit as e:
            return e.code
        except Thrown as e:  # the catch block: message to stderr, exit 1
            self.out(sys.stderr, str(e))
            return 1
        # epilogue: if ($LASTEXITCODE) { exit $LASTEXITCODE }; exit 0
        return self.last_exit_code or 0

    def reject(self, why: str) -> int:
        self.out(sys.stderr, f"fake powershell: {why}")
        return 98


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--sftp-server", required=True)
    opts = ap.parse_args()

    original = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    if original in ("internal-sftp", "sftp"):
        os.execv(opts.sftp_server, [opts.sftp_server])

    words = original.split(" ")
    record: dict = {"original_command": original, "words": words, "script": None}
    script = None
    if words and words[0].lower() == "powershell.exe":
        flags = [w.lower() for w in words]
        if "-encodedcommand" in flags and flags.index("-encodedcommand") + 1 < len(words):
            blob = words[flags.index("-encodedcommand") + 1]
            try:
                script = base64.b64decode(blob, validate=True).decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError) as e:
                record["decode_error"] = str(e)
    record["script"] = script
    with open(opts.log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    if script is None:
        sys.stderr.write(f"not a powershell.exe -EncodedCommand command line: {original!r}\r\n")
        return 127
    return Fake().run(script)


if __name__ == "__main__":
    sys.exit(main())
