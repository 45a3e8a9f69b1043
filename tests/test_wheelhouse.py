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
