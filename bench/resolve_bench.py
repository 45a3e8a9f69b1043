"""Resolver throughput: plan N generated host profiles and print profiles/second.

    .venv/bin/python bench/resolve_bench.py [N]

Profiles are generated deterministically (seeded) across OSes, CPUs with and without
AVX, GPUs of every architecture in the catalog, drivers, Pythons and conda, and each is
resolved against a few typical specs.  Target: 10,000 profiles in under 1 s on a 2-core
machine.  Figures are printed, never asserted.  The baseline in the same process is the
cost of merely validating the same profiles with pydantic, so the ratio says how much
the decision itself costs on top of reading its input.
"""

from __future__ import annotations

import random
import sys
import time

from tfprov.catalog import load_catalog
from tfprov.model.profile import HostProfile
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve

OSES = [
    {"family": "linux", "distro": "ubuntu", "version": "22.04", "arch": "x86_64"},
    {"family": "linux", "distro": "debian", "version": "12", "arch": "x86_64"},
    {"family": "linux", "distro": "rocky", "version": "9", "arch": "x86_64"},
    {"family": "linux", "distro": "ubuntu", "version": "24.04", "arch": "aarch64"},
    {"family": "windows", "distro": "Windows 10", "version": "10.0.19045", "arch": "x86_64"},
    {"family": "linux", "distro": "ubuntu", "version": "22.04", "arch": "x86_64", "wsl": True},
    {"family": "darwin", "distro": "macOS", "version": "14.4", "arch": "aarch64"},
]
FLAGS = [
    ["sse2", "sse4_1"],
    ["sse2", "sse4_1", "sse4_2"],
    ["sse2", "sse4_1", "sse4_2", "avx"],
    ["sse2", "sse4_1", "sse4_2", "avx", "avx2", "fma"],
    ["sse2", "sse4_1", "sse4_2", "avx", "avx2", "fma", "avx512f"],
]
DRIVERS = [None, "390.157", "470.256.02", "535.183.01", "550.127.05", "456.71", "580.95.05"]
PYTHONS = ["3.6.8", "3.8.10", "3.10.12", "3.11.2", "3.12.3"]
SPECS = [
    StackSpec(),
    StackSpec(tensorflow="2.15"),
    StackSpec(tensorflow="2.10", gpu="require"),
    StackSpec(tensorflow=">=2.12,<2.17", driver="keep"),
    StackSpec(gpu="off"),
    StackSpec(tensorflow="1.15", allow_community_builds=True),
]


def generate(n: int, seed: int = 7) -> list[dict]:
    cat = load_catalog()
    names = [g.name for g in cat.gpus_file.gpus]
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        os_ = dict(rnd.choice(OSES))
        gpus = [
            {"name": rnd.choice(names), "compute_capability": None, "memory_mib": 8192}
            for _ in range(rnd.choice([0, 1, 1, 1, 2, 4]))
        ]
        out.append(
            {
                "hostname": f"h{i:05d}",
                "os": os_,
                "cpu": {
                    "vendor": "GenuineIntel",
                    "model": "generated",
                    "flags": [] if os_["arch"] == "aarch64" else rnd.choice(FLAGS),
                },
                "gpus": gpus,
                "nvidia_driver": rnd.choice(DRIVERS) if gpus else None,
                "cuda_toolkits": rnd.choice(
                    [[], [{"version": "11.8.89"}], [{"version": "12.2.140"}]]
                ),
                "cudnn": None,
                "pythons": [{"version": rnd.choice(PYTHONS)}],
                "conda": rnd.choice(
                    [None, {"version": "24.1.2", "prefix": "/opt/conda", "envs": ["base"]}]
                ),
            }
        )
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    t0 = time.perf_counter()
    cat = load_catalog()
    t_load = time.perf_counter() - t0
    raw = generate(n)

    # Best of 3 for both, as timing on a shared VM varies from run to run; the first
    # resolve round also pays for the per-process memo tables, so it is reported apart.
    t_validate = min(_timed(lambda: [HostProfile.model_validate(d) for d in raw]) for _ in range(3))
    profiles = [HostProfile.model_validate(d) for d in raw]

    def run():
        return sum(resolve(p, SPECS[i % len(SPECS)], cat).ok for i, p in enumerate(profiles))

    t_cold = _timed(run)
    t_resolve = min(_timed(run) for _ in range(3))
    ok = run()

    print(f"catalog load (once per process): {t_load * 1000:.0f} ms")
    print(f"profiles: {n}  planned ok: {ok}  refused: {n - ok}")
    print(f"baseline, validate {n} profiles: {t_validate:.3f} s")
    print(f"resolve {n} profiles, first round (fills the memo tables): {t_cold:.3f} s")
    print(
        f"resolve {n} profiles:            {t_resolve:.3f} s  "
        f"({n / t_resolve:,.0f} profiles/s; target: {n} in < 1 s)"
    )
    print(f"ratio resolve / validate: {t_resolve / t_validate:.2f}")


if __name__ == "__main__":
    main()
