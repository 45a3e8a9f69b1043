"""Files that hold credentials (a ``pip.conf`` with a URL password or token): written
mode 0600, owned by the user the operation runs as (root under ``_sudo``), their text
uploaded (never on a command line that ``ps`` or ``pyinfra -vv`` shows)."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterator
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand
from pyinfra.facts.files import File

from tfprov.model.redact import has_credentials


def write_private(dest: str, text: str) -> Iterator:
    """Commands that write *text* to *dest* with mode 0600: the empty file is made 0600
    first, then the text is uploaded into it (an upload keeps the existing file's mode)."""
    qdest = shlex.quote(dest)
    yield f"mkdir -p {shlex.quote(posixpath.dirname(dest) or '/')}"
    yield f"(umask 077 && : > {qdest}) && chmod 600 {qdest}"
    yield FileUploadCommand(StringIO(text), dest, remote_temp_filename=host.get_temp_filename(dest))


def write_config(dest: str, text: str) -> Iterator:
    """*text* to *dest*: privately (:func:`write_private`) when it holds credentials, else
    with a plain ``printf`` (its text is harmless on a command line)."""
    if has_credentials(text):
        yield from write_private(dest, text)
    else:
        yield f"printf '%s' {shlex.quote(text)} > {shlex.quote(dest)}"


def tighten(dest: str, text: str) -> Iterator:
    """``chmod 600`` an existing *dest* whose *text* holds credentials when others (group
    or world) can read it; nothing otherwise (so a converged run runs nothing)."""
    if not has_credentials(text):
        return
    info = host.get_fact(File, path=dest)
    mode = info.get("mode") if isinstance(info, dict) else None
    if mode is None or int(str(mode), 8) & 0o077:
        yield f"chmod 600 {shlex.quote(dest)}"
