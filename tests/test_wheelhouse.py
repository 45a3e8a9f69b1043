import pytest

from lab.harness import WheelhouseServer
from tfprov.apply.wheelhouse_index import WheelhouseError, list_wheelhouse
from tfprov.resolve.wheelhouse import parse_wheel_name


def test_naming_rule():
    w = parse_wheel_name("tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl")
    assert (w.project, w.version, w.minor, w.python, w.platform, w.simd, w.variant) == (
        "tensorflow",
        "2.15.1",
        "2.15",
        "3.11",
        "linux_x86_64",
        "sse4.2",
        "cpu",
    )
    g = parse_wheel_name("tensorflow_gpu-2.10.1+avx.cuda112.cudnn81-cp310-cp310-win_amd64.whl")
    assert (g.project, g.variant, g.cuda, g.cudnn, g.platform, g.simd) == (
        "tensorflow-gpu",
        "gpu",
        "11.2",
        "8.1",
        "windows",
        "avx",
    )
    m = parse_wheel_name(
        "tensorflow-2.12.0+sse2.cpu-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    )
    assert m.platform == "linux_x86_64" and m.python == "3.9"


@pytest.mark.parametrize(
    "name",
    [
        "tensorflow-2.15.1-cp311-cp311-linux_x86_64.whl",  # no local label: an ordinary wheel
        "tensorflow-2.15.1+cpu-cp311-cp311-linux_x86_64.whl",  # no instruction-set level
        "tensorflow-2.15.1+avx-cp311-cp311-linux_x86_64.whl",  # neither cpu nor cudaXY
        "numpy-1.26.4+avx.cpu-cp311-cp311-linux_x86_64.whl",  # not TensorFlow
        "README.txt",
        "tensorflow-2.15.1+avx.cpu.tar.gz",
    ],
)
def test_names_outside_the_rule_are_ignored(name):
    assert parse_wheel_name(name) is None


NAMES = [
    "tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl",
    "tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl.sha256",
    "notes.txt",
]


def test_directory_listing(tmp_path):
    for n in NAMES:
        (tmp_path / n).write_text("x")
    found = list_wheelhouse(str(tmp_path))
    assert [w.filename for w in found] == [NAMES[0]]
    assert found[0].location == str(tmp_path / NAMES[0])
    assert list_wheelhouse(f"file://{tmp_path}")[0].filename == NAMES[0]
    with pytest.raises(WheelhouseError, match="not a directory"):
        list_wheelhouse(str(tmp_path / "missing"))


def test_http_listing_on_loopback(tmp_path):
    for n in NAMES:
        (tmp_path / n).write_text("x")

    with WheelhouseServer(None, tmp_path) as server:
        url = server.url
        found = list_wheelhouse(url)
        assert [w.location for w in found] == [url + NAMES[0].replace("+", "%2B")] or [
            w.location for w in found
        ] == [url + NAMES[0]]
        assert found[0].simd == "sse4.2"
    with pytest.raises(WheelhouseError, match="cannot list"):
        list_wheelhouse(url, timeout=2)


def test_http_listing_with_credentials_sends_basic_auth(tmp_path):
    """A wheelhouse URL with ``user:password@`` is listed as pip reads it (HTTP Basic);
    before, urllib took ``user:password@127.0.0.1`` for the host name and failed."""
    import base64
    import hashlib
    import http.server
    import threading

    (tmp_path / NAMES[0]).write_text("x")
    digest = hashlib.sha256(b"x").hexdigest()
    (tmp_path / (NAMES[0] + ".sha256")).write_text(f"{digest}  {NAMES[0]}\n")
    want = "Basic " + base64.b64encode(b"lab:s3cr@t").decode()
    seen = []

    class Auth(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *a):
            pass

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            if self.headers.get("Authorization") != want:
                self.send_error(401)
                return
            super().do_GET()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Auth)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        port = srv.server_address[1]
        found = list_wheelhouse(f"http://lab:s3cr%40t@127.0.0.1:{port}/")
        assert [w.filename for w in found] == [NAMES[0]]
        assert found[0].sha256 == digest  # the sidecar was read with the credentials too
        assert found[0].location.startswith(f"http://lab:s3cr%40t@127.0.0.1:{port}/")
        assert seen and all(h == want for _, h in seen)
        with pytest.raises(WheelhouseError, match="cannot list it: HTTP Error 401") as err:
            list_wheelhouse(f"http://lab:wrong@127.0.0.1:{port}/")
        assert "wrong" not in str(err.value) and "lab:***@" in str(err.value)
    finally:
        srv.shutdown()
        srv.server_close()
