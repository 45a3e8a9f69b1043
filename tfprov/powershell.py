"""PowerShell text, the one place it is written: quoting, script preludes, running a
native program, and a download that is used only once its sha256 matches.

Used by the Windows facts, operations, the ``@winssh`` connector and the verify check.
Values reach scripts only as single-quoted literals (:func:`quote`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from pyinfra.api import OperationValueError

# operations stop at the first error; facts read what they can and print nothing else
PRELUDE = "$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'"
OBSERVE_PRELUDE = (
    "$ErrorActionPreference = 'SilentlyContinue'\n$ProgressPreference = 'SilentlyContinue'\n"
)
# Windows PowerShell 5.1 on older builds does not offer TLS 1.2 by default
TLS12 = (
    "[Net.ServicePointManager]::SecurityProtocol = "
    "[Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12"
)
# Runs a native program; stops the script with its exit code when that is not 0.  Native
# stderr must not become a terminating error under 'Stop' (it does in remoting sessions of
# Windows PowerShell 5.1), hence 'Continue' inside the function only.
INVOKE_NATIVE = """\
function Invoke-Native {
    param([string]$Exe, [string[]]$Arguments)
    $ErrorActionPreference = 'Continue'
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}"""

SHA256 = re.compile(r"^[0-9a-f]{64}$")
ABS_WIN = re.compile(r"^(?:[A-Za-z]:\\|\\\\[^\\]+\\[^\\]+)")
URL = re.compile(r"^https?://", re.I)


def quote(text) -> str:
    """*text* as a PowerShell single-quoted string literal.  PowerShell also takes the
    typographic quotes U+2018, U+2019, U+201A and U+201B as single quotes (language spec,
    "single-quote-character"), so those are doubled too."""
    return "'" + re.sub("(['\u2018\u2019\u201a\u201b])", r"\1\1", str(text)) + "'"


def array(items: Iterable[str]) -> str:
    return "@(" + ", ".join(quote(i) for i in items) + ")"


def script(*parts: str) -> str:
    """An operation's script: :data:`PRELUDE`, then *parts*, one per line."""
    return "\n".join([PRELUDE, *parts])


def native(exe: str, args: Iterable[str]) -> str:
    """Run *exe* with *args* through ``Invoke-Native`` (needs :data:`INVOKE_NATIVE`)."""
    return f"Invoke-Native {quote(exe)} {array(args)}"


def basename(src: str, default: str) -> str:
    """A safe file name for a download from *src* (URL or path)."""
    path = urlsplit(src).path if URL.match(src) else src
    name = re.split(r"[\\/]", path.rstrip("\\/"))[-1]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("._")
    return name or default


def checked_sha256(sha256: str | None, what: str) -> str:
    if not sha256:
        raise OperationValueError(f"refusing to use {what} unverified: give its sha256")
    sha256 = sha256.strip().lower()
    if not SHA256.match(sha256):
        raise OperationValueError(f"not a sha256 (64 hex digits): {sha256!r}")
    return sha256


def fetch_verified(src: str, sha256: str, default_name: str) -> list[str]:
    """PowerShell lines that leave *src* in ``$file`` (under ``%TEMP%``) only if its sha256
    is *sha256*; otherwise the file is deleted and the script fails before anything runs."""
    name = f"tfprov-{sha256[:12]}-{basename(src, default_name)}"
    lines = [f"$file = Join-Path $env:TEMP {quote(name)}"]
    if URL.match(src):
        lines += [TLS12, f"Invoke-WebRequest -UseBasicParsing -Uri {quote(src)} -OutFile $file"]
    elif ABS_WIN.match(src):
        lines.append(f"Copy-Item -LiteralPath {quote(src)} -Destination $file -Force")
    else:
        raise OperationValueError(f"not an http(s) URL or an absolute Windows/UNC path: {src!r}")
    lines += [
        "$got = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()",
        f"if ($got -ne {quote(sha256)}) {{",
        "    Remove-Item -LiteralPath $file -Force",
        f"    throw ('sha256 mismatch for ' + {quote(src)} + ': got ' + $got"
        f" + ', expected {sha256}')",
        "}",
    ]
    return lines
