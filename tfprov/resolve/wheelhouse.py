"""A lab's own wheelhouse of TensorFlow builds (e.g. non-AVX builds), and its naming rule.

A wheelhouse is a directory (or an http(s) directory listing, as pip's ``--find-links``
reads) of standard wheel files whose *local version label* says what the wheel was built
for, as dot-separated tags::

    tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl
    tensorflow_gpu-2.10.1+avx.cuda112.cudnn81-cp310-cp310-win_amd64.whl

Tags: one instruction-set level (``sse2``, ``sse41``, ``sse42``, ``avx``, ``avx2``,
``avx512``), ``cpu`` or ``cuda<MAJOR><MINOR>`` (a GPU build), optionally ``cudnn<MAJOR><MINOR>``.
A wheel without a level tag is not a wheelhouse build and is ignored, as are files that
are not wheels.  A ``<wheel>.sha256`` file beside a wheel gives its checksum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from tfprov.model.versions import minor_of

_LEVELS = {
    "sse2": "sse2",
    "sse41": "sse4.1",
    "sse42": "sse4.2",
    "avx": "avx",
    "avx2": "avx2",
    "avx512": "avx512",
}
_PLATFORM_TAGS = (
    (re.compile(r"(manylinux|linux).*_x86_64$"), "linux_x86_64"),
    (re.compile(r"(manylinux|linux).*_aarch64$"), "linux_aarch64"),
    (re.compile(r"^win_amd64$"), "windows"),
    (re.compile(r"^macosx_.*_x86_64$"), "macos_x86_64"),
    (re.compile(r"^macosx_.*_arm64$"), "macos_arm64"),
)


@dataclass(frozen=True)
class WheelhouseWheel:
    filename: str
    location: str  # path or URL of the wheel
    project: str
    version: str  # public version, without the local label
    minor: str
    python: str  # '3.11'
    platform: str
    simd: str
    variant: str  # 'cpu' | 'gpu'
    cuda: str | None = None
    cudnn: str | None = None
    sha256: str | None = None  # from the <wheel>.sha256 file beside it, when there is one


def parse_sha256(text: str) -> str | None:
    """The hash in a ``.sha256`` file (``sha256sum`` format or the bare hex digest)."""
    word = text.strip().split()[0].lower() if text.strip() else ""
    return word if re.fullmatch(r"[0-9a-f]{64}", word) else None


def parse_wheel_name(filename: str, location: str | None = None) -> WheelhouseWheel | None:
    """Parse a wheelhouse file name by the rule above; None when it does not follow it."""
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    if not str(name).startswith("tensorflow") or not version.local:
        return None
    level = variant = cuda = cudnn = None
    for tag in version.local.split("."):
        if tag in _LEVELS:
            level = _LEVELS[tag]
        elif tag == "cpu":
            variant = "cpu"
        elif m := re.fullmatch(r"cuda(\d+)(\d)", tag):
            variant, cuda = "gpu", f"{m.group(1)}.{m.group(2)}"
        elif m := re.fullmatch(r"cudnn(\d)(\d*)", tag):
            cudnn = f"{m.group(1)}.{m.group(2) or 0}"
    if level is None or variant is None:
        return None
    tag = next(iter(tags))
    py = re.fullmatch(r"cp(\d)(\d+)", tag.interpreter)
    platform = next((p for rx, p in _PLATFORM_TAGS if rx.search(tag.platform)), None)
    if py is None or platform is None:
        return None
    public = version.public
    return WheelhouseWheel(
        filename=filename,
        location=location or filename,
        project=str(name),
        version=public,
        minor=minor_of(public),
        python=f"{py.group(1)}.{py.group(2)}",
        platform=platform,
        simd=level,
        variant=variant,
        cuda=cuda,
        cudnn=cudnn,
    )
