"""The TensorFlow distribution names: the PyPI projects that install the ``tensorflow``
import package, in one list for the facts (which one is installed), the operations (what
to uninstall before installing another) and the catalog.

All of them write the same ``tensorflow/`` package, so two in one environment damage
each other — except a distribution and its Windows companion: on Windows ``tensorflow``
2.11-2.15 is a shim that depends on ``tensorflow-intel`` (the build), and ``tf-nightly``
on ``tf-nightly-intel``.
"""

from __future__ import annotations

# In the order used to pick one when several are installed and none (or more than one)
# ships the build-info file.
TF_DISTRIBUTIONS: tuple[str, ...] = (
    "tensorflow",
    "tensorflow-gpu",
    "tensorflow-cpu",
    "tensorflow-intel",
    "tensorflow-macos",
    "tensorflow-aarch64",
    "tensorflow-cpu-aws",
    "tensorflow-rocm",
    "tensorflow-directml",
    "intel-tensorflow",
    "intel-tensorflow-avx512",
    "tf-nightly",
    "tf-nightly-gpu",
    "tf-nightly-cpu",
    "tf-nightly-intel",
    "tf-nightly-macos",
    "tf-nightly-rocm",
)

# How every name above starts (the probe's filter before the exact match).
TF_NAME_PREFIXES: tuple[str, ...] = ("tensorflow", "tf-nightly", "intel-tensorflow")

# distribution -> the distributions it installs as its own dependency on Windows: present
# together, they are one installation, not a conflict.
WINDOWS_COMPANIONS: dict[str, tuple[str, ...]] = {
    "tensorflow": ("tensorflow-intel",),
    "tf-nightly": ("tf-nightly-intel",),
}


def normalize(name: str) -> str:
    """A distribution name as compared here: lowercase, ``_`` and ``.`` as ``-`` (PEP 503)."""
    return name.strip().lower().replace("_", "-").replace(".", "-")


def conflicting(want: str, installed, companions: dict[str, tuple[str, ...]] | None = None):
    """The TensorFlow distributions among *installed* (names) that conflict with *want*:
    every other one, less *want*'s *companions* (pass :data:`WINDOWS_COMPANIONS` on
    Windows).  In :data:`TF_DISTRIBUTIONS` order."""
    have = {normalize(n) for n in installed}
    want = normalize(want)
    keep = {want, *(companions or {}).get(want, ())}
    return [d for d in TF_DISTRIBUTIONS if d in have and d not in keep]
