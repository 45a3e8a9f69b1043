"""Hashed requirement locks: one reproducible requirement set per (TF build, Python, platform).

The controller resolves the full requirement set once per key with
``uv pip compile --generate-hashes`` from the host's own sources, caches the
lock text under the tfprov cache dir, and hosts install it with
``pip install --require-hashes -r <env>/tfprov-lock.txt``. The lock's digest
(sha256 of its text) is what the env step records as ``lock_sha256``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from tfprov.model.lock_text import PIN as _PIN
from tfprov.model.lock_text import logical_lines as _logical_lines
from tfprov.model.redact import redact_text
from tfprov.operations.tensorflow import LOCK_NAME

_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


class LockError(ValueError):
    """A lock that cannot be made or used; the message is one line for the user."""


@dataclass(frozen=True)
class LockKey:
    requirement: str
    python: str  # "3.11"
    platform: str  # uv --python-platform, e.g. "x86_64-manylinux_2_28"
    index_url: str | None = None
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    extra: tuple[str, ...] = field(default_factory=tuple)  # pinned wheel lines

    def digest(self) -> str:
        blob = json.dumps(
            [
                self.requirement,
                self.python,
                self.platform,
                self.index_url,
                list(self.find_links),
                self.no_index,
                list(self.extra),
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def uv_compile_command(key: LockKey, requirements_in: Path, output: Path) -> list[str]:
    """The argv of the uv run that resolves ``key`` into a hashed lock."""
    if key.no_index and not key.find_links:
        raise LockError(
            "pip_no_index is set with no pip_find_links/wheelhouse: nothing to resolve "
            "the lock from; set requirements_lock to a lock file"
        )
    argv = [
        "uv",
        "pip",
        "compile",
        "--generate-hashes",
        "--no-header",
        "--quiet",
        "--python-version",
        key.python,
        "--python-platform",
        key.platform,
        "--output-file",
        str(output),
    ]
    if key.no_index:
        argv.append("--no-index")
    elif key.index_url:
        argv += ["--index-url", key.index_url]
    for link in key.find_links:
        argv += ["--find-links", link]
    argv.append(str(requirements_in))
    return argv


def lock_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def short(digest: str | None) -> str:
    return digest[:12] if digest else "-"


def parse_lock(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """name (normalised) -> (version, sha256 hashes). Every pin must carry a hash."""
    pins: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in _logical_lines(text):
        if line.startswith("-"):
            continue
        m = _PIN.match(line)
        if not m:
            raise LockError(f"lock line is not a pinned requirement: {line.split()[0]!r}")
        hashes = tuple(_HASH.findall(line))
        name = canonicalize_name(m.group(1))
        if not hashes:
            raise LockError(f"lock pin {name}=={m.group(2)} has no --hash=sha256")
        pins[name] = (m.group(2), hashes)
    return pins


def pin_wheel(text: str, name: str, version: str, sha256: str) -> str:
    """Replace ``name``'s hashes in the lock by the pinned wheel hash (the pin wins)."""
    norm = canonicalize_name(name)
    kept = [
        line
        for line in _logical_lines(text)
        if not ((m := _PIN.match(line)) and canonicalize_name(m.group(1)) == norm)
    ]
    kept.append(f"{name}=={version} --hash=sha256:{sha256}")
    return "\n".join(kept) + "\n"


def mismatches(lock_text: str, installed: dict[str, str]) -> list[str]:
    """Lock pins that the installed env (name -> version) does not match."""
    out = []
    for name, (version, _h) in sorted(parse_lock(lock_text).items()):
        have = installed.get(name)
        if have is None:
            out.append(f"{name}: missing (lock {version})")
        elif have.split("+", 1)[0] != version.split("+", 1)[0]:
            out.append(f"{name}: {have} (lock {version})")
    return out


def cached_lock(cache_dir: Path, key: LockKey) -> Path:
    return cache_dir / "locks" / f"{key.digest()}.txt"


def install_command(pip: str, env: str) -> str:
    return (
        f"{shlex.quote(pip)} install --require-hashes --no-deps "
        f"-r {shlex.quote(env + '/' + LOCK_NAME)}"
    )


def _uv_bin() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def resolve(key: LockKey, cache_dir: Path, timeout: float = 600) -> tuple[str, bool]:
    """The lock text for ``key`` and whether it came from the cache: resolved once with uv
    from the host's sources and kept under ``cache_dir/locks`` keyed by every input, so
    each host of a fleet with the same key gets the same lock.  A failed resolution is a
    one-line LockError (credentials in URLs masked), never a fallback to unpinned pip."""
    path = cached_lock(cache_dir, key)
    if path.is_file():
        text = path.read_text()
        parse_lock(text)
        return text, True
    with tempfile.TemporaryDirectory(prefix="tfprov-lock-") as tmp:
        req_in, out = Path(tmp) / "requirements.in", Path(tmp) / LOCK_NAME
        req_in.write_text(key.requirement + "\n")
        # relative names, run in the temp dir: the lock's "# via -r requirements.in"
        # annotations are the same text (and digest) wherever it is resolved
        argv = uv_compile_command(key, Path(req_in.name), Path(out.name))
        argv[0] = _uv_bin()
        env = {**os.environ, "UV_NO_CONFIG": "1", "NO_COLOR": "1"}
        what = f"{key.requirement} for Python {key.python} on {key.platform}"
        start = time.monotonic()
        try:
            run = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp
            )
        except subprocess.TimeoutExpired:
            raise LockError(f"resolving the lock of {what} took over {timeout:.0f}s") from None
        if run.returncode != 0 or not out.is_file():
            lines = [ln.strip() for ln in run.stderr.splitlines() if ln.strip()]
            why = redact_text(" ".join(lines[-3:])) or f"uv exited {run.returncode}"
            raise LockError(
                f"cannot resolve the lock of {what} from the host's sources: {why}; "
                "fix the sources or set requirements_lock to a lock file"
            )
        text = out.read_text()
    parse_lock(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(f".{os.getpid()}.part")
    part.write_text(text)
    os.replace(part, path)
    resolve.last_seconds = time.monotonic() - start  # type: ignore[attr-defined]
    return text, False
