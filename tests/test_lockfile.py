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
