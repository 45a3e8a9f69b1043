"""The pip distribution names TensorFlow is published under: one list, for the operations
that replace one TensorFlow with another and for the facts that look for them."""

from __future__ import annotations

# TensorFlow distributions that conflict with each other inside one env.
TF_DISTRIBUTIONS = (
    "tensorflow",
    "tensorflow-gpu",
    "tensorflow-cpu",
    "tensorflow-intel",
    "tf-nightly",
    "tf-nightly-gpu",
    "tf-nightly-cpu",
)
# on Windows also the nightly Windows build
WINDOWS_TF_DISTRIBUTIONS = (*TF_DISTRIBUTIONS, "tf-nightly-intel")
# ``tensorflow`` 2.11-2.15 on Windows *depends on* ``tensorflow-intel`` (the Windows
# build), so those pairs are not conflicts
WINDOWS_COMPANIONS = {"tensorflow": {"tensorflow-intel"}, "tf-nightly": {"tf-nightly-intel"}}
