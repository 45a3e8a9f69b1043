"""Add or refresh one minor's row of tf_wheels.yaml's compute_capabilities from the
TensorFlow source's Bazel configuration.

    python scripts/catalog/gen_targets.py PATH/.bazelrc --minor 2.22 --commit SHA

PATH is a checkout of github.com/tensorflow/tensorflow at the release (tag ``v2.22.0``,
commit SHA).  The targets are the value of ``HERMETIC_CUDA_COMPUTE_CAPABILITIES`` (since
hermetic CUDA) or ``TF_CUDA_COMPUTE_CAPABILITIES`` on the ``cuda_clang`` / ``cuda``
config lines, the ones the official wheels are built with; the row's source is that file at
SHA.  Other rows, sources and comments are kept.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog_yaml import DATA, flow, join_sections, split_sections  # noqa: E402

_CAPS = re.compile(
    r"^build:(?P<config>[\w-]+)\s+--(?:repo_env|action_env)[= ]"
    r"(?:HERMETIC_CUDA|TF_CUDA)_COMPUTE_CAPABILITIES=\"?(?P<caps>[^\"\s]+)\"?",
    re.M,
)
_CONFIG_ORDER = ("cuda_clang", "cuda", "release_gpu_base")  # the first found wins


def targets(bazelrc: str) -> list[str]:
    """The compute capabilities the official GPU build targets (``sm_XY`` / ``compute_XY``;
    a bare ``X.Y`` in older files means ``compute_XY``: SASS and PTX)."""
    found = {m.group("config"): m.group("caps") for m in _CAPS.finditer(bazelrc)}
    config = next((c for c in _CONFIG_ORDER if c in found), None)
    if config is None:
        raise ValueError("no CUDA compute capabilities in this .bazelrc")
    out = []
    for cap in found[config].split(","):
        cap = cap.strip()
        out.append(f"compute_{cap.replace('.', '')}" if re.fullmatch(r"\d+\.\d+", cap) else cap)
    return out


def update(text: str, minor: str, caps: list[str], commit: str) -> str:
    """``text`` (tf_wheels.yaml) with ``minor``'s compute_capabilities row set to ``caps``,
    sourced from the .bazelrc at ``commit``."""
    header, sections = split_sections(text)
    key = f"tf-bazelrc-{commit[:8]}"
    url = f"https://github.com/tensorflow/tensorflow/blob/{commit}/.bazelrc"
    src = {"url": url, "title": f"tensorflow/tensorflow .bazelrc at {commit[:8]} (TF {minor})"}
    sources = sections["sources"]
    if not any(ln.startswith(f"  {key}:") for ln in sources):
        sources.append(f"  {key}: {flow(src)}")
    row = f"  - {flow({'minor': minor, 'targets': caps, 'source': key})}"
    lines = sections["compute_capabilities"]
    mine = re.compile(rf'^  - \{{minor: "{re.escape(minor)}",')
    at = next((i for i, ln in enumerate(lines) if mine.match(ln)), None)
    if at is None:
        lines.append(row)
    else:
        lines[at] = row
    return join_sections(header, sections)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bazelrc", type=Path, help="the release's .bazelrc")
    ap.add_argument("--minor", required=True, help="the release's minor version, e.g. 2.22")
    ap.add_argument("--commit", required=True, help="the tensorflow/tensorflow commit read")
    ap.add_argument("--file", type=Path, default=DATA / "tf_wheels.yaml")
    args = ap.parse_args(argv)
    caps = targets(args.bazelrc.read_text(encoding="utf-8"))
    text = args.file.read_text(encoding="utf-8")
    args.file.write_text(update(text, args.minor, caps, args.commit), encoding="utf-8")
    print(f"{args.file}: TF {args.minor} targets {','.join(caps)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
