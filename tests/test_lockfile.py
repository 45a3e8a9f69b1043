"""Hashed requirement locks (issue 10, reproducible envs): pure parts of tfprov.apply.lockfile."""

from pathlib import Path

import pytest

from tfprov.apply import lockfile as lf

H1 = "a" * 64
H2 = "b" * 64
H3 = "c" * 64

LOCK = f"""\
absl-py==2.1.0 \\
    --hash=sha256:{H1}
    # via tensorflow
numpy==1.26.4 \\
    --hash=sha256:{H2} \\
    --hash=sha256:{H3}
tensorflow==2.21.0 \\
    --hash=sha256:{H1}
"""


def _key(**kw):
    base = dict(requirement="tensorflow==2.21.0", python="3.11", platform="x86_64-manylinux_2_28")
    base.update(kw)
    return lf.LockKey(**base)


def test_parse_lock_reads_pins_and_hashes():
    pins = lf.parse_lock(LOCK)
    assert pins["numpy"] == ("1.26.4", (H2, H3))
    assert pins["absl-py"] == ("2.1.0", (H1,))
    assert set(pins) == {"absl-py", "numpy", "tensorflow"}


def test_pin_without_hash_is_refused():
    with pytest.raises(lf.LockError, match=r"numpy==1.26.4 has no --hash=sha256"):
        lf.parse_lock("numpy==1.26.4\n")


def test_unpinned_line_is_refused():
    with pytest.raises(lf.LockError, match="not a pinned requirement"):
        lf.parse_lock("numpy>=1.0 --hash=sha256:" + H1 + "\n")


def test_pin_wheel_replaces_served_hash_with_pin():
    out = lf.pin_wheel(LOCK, "tensorflow", "2.21.0+sse42.cpu", H3)
    assert lf.parse_lock(out)["tensorflow"] == ("2.21.0+sse42.cpu", (H3,))
    assert lf.parse_lock(out)["numpy"] == ("1.26.4", (H2, H3))


def test_key_digest_changes_with_each_input():
    base = _key().digest()
    assert _key().digest() == base
    for kw in (
        {"python": "3.12"},
        {"platform": "aarch64-manylinux_2_28"},
        {"index_url": "https://mirror/simple"},
        {"find_links": ("/wh",)},
        {"no_index": True, "find_links": ("/wh",)},
        {"requirement": "tensorflow==2.20.0"},
    ):
        assert _key(**kw).digest() != base, kw


def test_uv_command_uses_host_sources(tmp_path: Path):
    argv = lf.uv_compile_command(
        _key(find_links=("/srv/wh",), no_index=True), tmp_path / "in.txt", tmp_path / "out.txt"
    )
    assert argv[:4] == ["uv", "pip", "compile", "--generate-hashes"]
    assert "--no-index" in argv and "--index-url" not in argv
    assert argv[argv.index("--find-links") + 1] == "/srv/wh"
    assert argv[argv.index("--python-version") + 1] == "3.11"
    argv = lf.uv_compile_command(_key(index_url="https://m/simple"), tmp_path / "i", tmp_path / "o")
    assert argv[argv.index("--index-url") + 1] == "https://m/simple"


def test_no_index_without_sources_is_a_one_line_refusal(tmp_path: Path):
    with pytest.raises(lf.LockError) as e:
        lf.uv_compile_command(_key(no_index=True), tmp_path / "i", tmp_path / "o")
    assert "\n" not in str(e.value) and "requirements_lock" in str(e.value)


def test_mismatches_against_installed():
    inst = {"absl-py": "2.1.0", "numpy": "2.0.0", "tensorflow": "2.21.0+sse42.cpu"}
    assert lf.mismatches(LOCK, inst) == ["numpy: 2.0.0 (lock 1.26.4)"]
    assert lf.mismatches(LOCK, {}) == [
        "absl-py: missing (lock 2.1.0)",
        "numpy: missing (lock 1.26.4)",
        "tensorflow: missing (lock 2.21.0)",
    ]


def test_digest_short_and_cache_path(tmp_path: Path):
    d = lf.lock_sha256(LOCK)
    assert len(d) == 64 and lf.short(d) == d[:12] and lf.short(None) == "-"
    assert lf.cached_lock(tmp_path, _key()) == tmp_path / "locks" / f"{_key().digest()}.txt"


def test_install_command_quotes_and_requires_hashes():
    cmd = lf.install_command("/opt/env x/bin/pip", "/opt/env x")
    assert (
        cmd
        == "'/opt/env x/bin/pip' install --require-hashes --no-deps -r '/opt/env x/tfprov-lock.txt'"
    )


def _tiny_wheel(d: Path, name: str, version: str, body: str, requires: str = "") -> Path:
    """A tiny real wheel; ``requires``: a ``Requires-Dist`` (a dependency for uv to lock)."""
    import base64
    import hashlib
    import zipfile

    whl = d / f"{name}-{version}-py3-none-any.whl"
    di = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": body,
        f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + (f"Requires-Dist: {requires}\n" if requires else ""),
        f"{di}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    rec = []
    for p, t in files.items():
        h = base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b"=").decode()
        rec.append(f"{p},sha256={h},{len(t.encode())}")
    rec.append(f"{di}/RECORD,,")
    files[f"{di}/RECORD"] = "\n".join(rec) + "\n"
    with zipfile.ZipFile(whl, "w") as z:
        for p, t in files.items():
            z.writestr(p, t)
    return whl


def test_real_pip_require_hashes_installs_lock_and_refuses_tampered(tmp_path: Path):
    import hashlib
    import subprocess
    import sys

    wh = tmp_path / "wh"
    wh.mkdir()
    whl = _tiny_wheel(wh, "tinydep", "1.0", "X = 1\n")
    good = hashlib.sha256(whl.read_bytes()).hexdigest()
    lock = tmp_path / lf.LOCK_NAME
    lock.write_text(f"tinydep==1.0 \\\n    --hash=sha256:{good}\n")
    assert lf.parse_lock(lock.read_text())["tinydep"] == ("1.0", (good,))
    base = [sys.executable, "-m", "pip", "install", "--require-hashes", "--no-deps"]
    base += ["--no-index", "--find-links", str(wh), "--disable-pip-version-check"]
    ok = subprocess.run(
        [*base, "--target", str(tmp_path / "t1"), "-r", str(lock)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "t1" / "tinydep.py").read_text() == "X = 1\n"
    _tiny_wheel(wh, "tinydep", "1.0", "X = 'tampered'\n")  # same name, other bytes
    bad = subprocess.run(
        [*base, "--target", str(tmp_path / "t2"), "-r", str(lock)], capture_output=True, text=True
    )
    assert bad.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in bad.stderr
    assert not (tmp_path / "t2" / "tinydep.py").exists()


def test_real_uv_resolves_hashed_lock_once_and_caches_it(tmp_path: Path):
    import hashlib
    import subprocess
    import sys
    import time

    wh = tmp_path / "wh"
    wh.mkdir()
    app = _tiny_wheel(wh, "tinyapp", "2.0", "A = 1\n", requires="tinydep>=1.0")
    dep = _tiny_wheel(wh, "tinydep", "1.0", "X = 1\n")
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    key = _key(
        requirement="tinyapp==2.0",
        python=py,
        platform="x86_64-manylinux_2_28",
        find_links=(str(wh),),
        no_index=True,
    )
    cache = tmp_path / "cache"
    t0 = time.monotonic()
    text, cached = lf.resolve(key, cache)
    cold = time.monotonic() - t0
    assert not cached
    pins = lf.parse_lock(text)
    assert pins["tinyapp"] == ("2.0", (hashlib.sha256(app.read_bytes()).hexdigest(),))
    assert pins["tinydep"] == ("1.0", (hashlib.sha256(dep.read_bytes()).hexdigest(),))
    assert lf.cached_lock(cache, key).read_text() == text
    assert "tfprov-lock-" not in text  # no temp path: the same text wherever resolved
    import shutil

    shutil.rmtree(cache)
    assert lf.resolve(key, cache) == (text, False)  # re-resolved: identical bytes
    t0 = time.monotonic()
    again, cached = lf.resolve(key, cache)
    warm = time.monotonic() - t0
    assert cached and again == text
    print(f"lock resolution: cold {cold * 1000:.0f} ms, cached {warm * 1000:.1f} ms")
    # the lock installs with --require-hashes, and a tampered dependency is refused
    lock = tmp_path / lf.LOCK_NAME
    lock.write_text(text)
    base = [sys.executable, "-m", "pip", "install", "--require-hashes", "--no-deps"]
    base += ["--no-index", "--find-links", str(wh), "--disable-pip-version-check"]
    ok = subprocess.run(
        [*base, "--target", str(tmp_path / "t1"), "-r", str(lock)], text=True, capture_output=True
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "t1" / "tinyapp.py").exists() and (tmp_path / "t1" / "tinydep.py").exists()
    _tiny_wheel(wh, "tinydep", "1.0", "X = 'tampered'\n")
    bad = subprocess.run(
        [*base, "--target", str(tmp_path / "t2"), "-r", str(lock)], text=True, capture_output=True
    )
    assert bad.returncode != 0 and "THESE PACKAGES DO NOT MATCH THE HASHES" in bad.stderr


def test_unresolvable_lock_is_one_line_with_credentials_masked(tmp_path: Path):
    wh = tmp_path / "wh"
    wh.mkdir()
    key = _key(requirement="nosuchpkg==1.0", find_links=(str(wh),), no_index=True)
    with pytest.raises(lf.LockError) as e:
        lf.resolve(key, tmp_path / "cache")
    msg = str(e.value)
    assert "\n" not in msg and "nosuchpkg" in msg and "requirements_lock" in msg
    assert not (tmp_path / "cache" / "locks").exists()
    assert lf.redact_text("https://bob:s3cret@idx/simple") == "https://bob:***@idx/simple"
