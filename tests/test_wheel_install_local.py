"""A wheelhouse wheel checked against its sha256, installed by tfprov's TensorFlow operation
in real ``pyinfra @local`` runs with the real pip of a venv under a temporary directory:
the wheel is fetched once per install (the dependencies' pip run does not fetch it again),
a converged env (the installed ``2.21.0+sse42.cpu`` of a planned ``2.21.0``) is "no
change", and another build of the same version is installed in its place.

The wheels are tiny stand-ins built here (a ``tensorflow`` distribution with one
dependency), served on the loopback address; nothing leaves this machine.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

PYINFRA = Path(sys.executable).with_name("pyinfra")
DEP = "tfprov_stub_dep-1.0-py3-none-any.whl"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(directory: Path, dist: str, version: str, files: dict, requires=()) -> Path:
    """A minimal valid ``py3-none-any`` wheel of ``dist`` ``version`` holding ``files``."""
    info = f"{dist}-{version}.dist-info"
    members = {
        **files,
        f"{info}/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {dist}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tfprov-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = [_record_line(n, t.encode()) for n, t in members.items()] + [f"{info}/RECORD,,"]
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


class _Logged(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.paths.append(self.path)
        super().do_GET()


@pytest.fixture
def wheelhouse(tmp_path):
    d = tmp_path / "wheels"
    d.mkdir()
    build_wheel(d, "tfprov_stub_dep", "1.0", {"tfprov_stub_dep.py": "X = 1\n"})
    for label in ("sse42.cpu", "avx.cpu"):
        build_wheel(
            d,
            "tensorflow",
            f"2.21.0+{label}",
            {"tensorflow/__init__.py": f"__version__ = '2.21.0+{label}'\n"},
            requires=["tfprov-stub-dep>=1.0"],
        )
    handler = lambda *a, **kw: _Logged(*a, directory=str(d), **kw)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.paths = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield d, f"http://127.0.0.1:{srv.server_address[1]}/", srv.paths
    finally:
        srv.shutdown()
        srv.server_close()


def deploy(tmp_path: Path, env: Path, url: str, wheel: Path) -> subprocess.CompletedProcess:
    """``pyinfra -y @local`` running the TensorFlow operation for ``wheel`` (pinned to its
    sha256, planned version 2.21.0), pip reading only the served directory."""
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    script = tmp_path / "deploy.py"
    script.write_text(
        "from tfprov.operations.tensorflow import tensorflow\n"
        f"tensorflow(name='tfprov: TensorFlow', env={str(env)!r}, package='tensorflow',\n"
        f"           version='2.21.0', requirement={url + wheel.name!r}, sha256={sha!r},\n"
        f"           pip_args=['--no-index', '--find-links', {url!r}])\n"
    )
    return subprocess.run(
        [str(PYINFRA), "-y", "-v", "@local", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env={**os.environ, "PYINFRA_PROGRESS": "off"},
    )


def installed(env: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pairs = (line.split("==", 1) for line in out.splitlines() if "==" in line)
    return {name.lower().replace("_", "-"): v for name, v in pairs}


def test_one_checked_fetch_no_change_when_converged_and_another_build_replaces(
    tmp_path, wheelhouse
):
    d, url, paths = wheelhouse
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=120)
    sse42 = d / "tensorflow-2.21.0+sse42.cpu-py3-none-any.whl"

    # 1. a cold install: the wheel is fetched once, the dependency with it
    res = deploy(tmp_path, env, url, sse42)
    assert res.returncode == 0, res.stdout + res.stderr
    assert paths.count("/" + sse42.name) == 1, paths
    assert installed(env)["tensorflow"] == "2.21.0+sse42.cpu"
    assert installed(env)["tfprov-stub-dep"] == "1.0"

    # 2. the converged env: nothing fetched, nothing changed
    del paths[:]
    res = deploy(tmp_path, env, url, sse42)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[@local] noop: tensorflow 2.21.0+sse42.cpu is installed in" in res.stderr, res.stderr
    assert "[@local] No changes" in res.stderr, res.stderr
    assert paths == []

    # 3. another build of the same version is planned: it replaces the installed one
    avx = d / "tensorflow-2.21.0+avx.cpu-py3-none-any.whl"
    res = deploy(tmp_path, env, url, avx)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[@local] Success" in res.stderr, res.stderr
    assert paths.count("/" + avx.name) == 1, paths
    assert installed(env)["tensorflow"] == "2.21.0+avx.cpu"
