"""List a wheelhouse (directory, file:// or http(s) URL) into parsed wheels.

This is the only I/O on the planning path, done by the CLI and the deploy before
resolving, so the resolver reads no files and no network.  An http(s) wheelhouse is read
as pip's ``--find-links`` reads one: an HTML page whose links name the wheels.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import urllib.parse
import urllib.request
from html.parser import HTMLParser

from tfprov.model.redact import redact_text
from tfprov.resolve.wheelhouse import WheelhouseWheel, parse_sha256, parse_wheel_name


class WheelhouseError(ValueError):
    pass


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            for k, v in attrs:
                if k == "href" and v:
                    self.hrefs.append(v)


def _request(url: str) -> urllib.request.Request:
    """A GET of ``url`` with its ``user:password@`` (as pip sends it: HTTP Basic) moved
    into the Authorization header; urllib would take it as part of the host name."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return urllib.request.Request(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    user = urllib.parse.unquote(parts.username or "")
    secret = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    bare = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return urllib.request.Request(bare, headers={"Authorization": f"Basic {token}"})


def list_wheelhouse(location: str, timeout: float = 10.0) -> list[WheelhouseWheel]:
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(_request(location), timeout=timeout) as resp:  # noqa: S310
                page = resp.read().decode("utf-8", "replace")
        except (OSError, ValueError) as exc:
            raise WheelhouseError(
                redact_text(f"wheelhouse {location}: cannot list it: {exc}")
            ) from None
        links = _Links()
        links.feed(page)
        out = []
        hashes: dict[str, str] = {}
        base = location if location.endswith("/") else location + "/"
        for href in links.hrefs:
            url = urllib.parse.urljoin(base, href)
            name = urllib.parse.unquote(os.path.basename(urllib.parse.urlparse(url).path))
            url = re.sub(r"#.*$", "", url)
            frag = urllib.parse.urlparse(urllib.parse.urljoin(base, href)).fragment
            if frag.startswith("sha256="):  # pip's find-links convention: #sha256=<hex>
                hashes[name] = frag.split("=", 1)[1]
            if name.endswith(".whl.sha256"):
                try:
                    with urllib.request.urlopen(_request(url), timeout=timeout) as resp:  # noqa: S310
                        h = parse_sha256(resp.read(200).decode("ascii", "replace"))
                except (OSError, ValueError):
                    h = None
                if h:
                    hashes[name[: -len(".sha256")]] = h
                continue
            w = parse_wheel_name(name, url)
            if w:
                out.append(w)
        return [dataclasses.replace(w, sha256=hashes.get(w.filename)) for w in out]
    path = parsed.path if parsed.scheme == "file" else location
    if not os.path.isdir(path):
        raise WheelhouseError(f"wheelhouse {location}: not a directory")
    out = []
    for name in sorted(os.listdir(path)):
        w = parse_wheel_name(name, os.path.join(path, name))
        if w is None:
            continue
        side = os.path.join(path, name + ".sha256")
        if os.path.isfile(side):
            with open(side, encoding="ascii", errors="replace") as fh:
                w = dataclasses.replace(w, sha256=parse_sha256(fh.read(200)))
        out.append(w)
    return out
