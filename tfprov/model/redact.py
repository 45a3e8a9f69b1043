"""Credentials hidden wherever tfprov prints or writes: one helper for the plan table,
``tfprov plan --json``, the fleet report, error messages and operation names.

A URL's password becomes ``***`` (``https://user:***@host``), and a user with no
password (a token used as the URL user, ``https://TOKEN@host``) becomes ``***`` too.
URLs are found anywhere in a string (a command line, a ``pip.conf``, an error), and
:func:`redact` walks dicts, lists, tuples and sets.  pyinfra-free."""

from __future__ import annotations

import re

MASK = "***"

# scheme://userinfo@ ; userinfo stops at whitespace, quotes, '/', and the last '@'
# before the host (passwords may hold '@' only percent-encoded, as URLs require).
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<info>[^\s/'\"<>@]+)@")


def _hide(match: re.Match) -> str:
    info = match.group("info")
    user, sep, _password = info.partition(":")
    if sep:
        return f"{match.group('scheme')}{user}:{MASK}@"
    return f"{match.group('scheme')}{MASK}@"


def redact_text(text: str) -> str:
    """``text`` with every URL's credentials replaced by ``***``."""
    if "@" not in text or "://" not in text:
        return text
    return _USERINFO.sub(_hide, text)


def redact(value):
    """``value`` (a string or nested dicts/lists/tuples/sets of them) with URL
    credentials hidden; other values are returned unchanged."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact(k): redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return type(value)(redact(v) for v in value)
    return value


def has_credentials(text: str | None) -> bool:
    """Whether ``text`` holds a URL with a user or password (so a file holding it must
    not be readable by others)."""
    return bool(text) and redact_text(text) != text
