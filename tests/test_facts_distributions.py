"""The one list of TensorFlow distribution names (tfprov.model.distributions) and its use
by the TensorFlow facts."""

from tfprov.facts.tensorflow import TF_SCRIPT, tensorflow_entry
from tfprov.model.distributions import (
    TF_DISTRIBUTIONS,
    TF_NAME_PREFIXES,
    WINDOWS_COMPANIONS,
    conflicting,
    normalize,
)


def test_every_distribution_passes_the_probe_prefix_filter():
    assert all(d.startswith(TF_NAME_PREFIXES) for d in TF_DISTRIBUTIONS)
    assert len(set(TF_DISTRIBUTIONS)) == len(TF_DISTRIBUTIONS)
    assert all(c in TF_DISTRIBUTIONS for cs in WINDOWS_COMPANIONS.values() for c in cs)


def test_probe_script_filters_by_the_same_prefixes():
    line = next(ln for ln in TF_SCRIPT.splitlines() if ln.startswith("P = "))
    assert eval(line.removeprefix("P = ")) == TF_NAME_PREFIXES  # noqa: S307


def test_windows_companion_is_no_conflict():
    have = ["tensorflow", "tensorflow_intel", "Tensorflow-GPU", "numpy"]
    assert conflicting("tensorflow", have, WINDOWS_COMPANIONS) == ["tensorflow-gpu"]
    assert conflicting("tensorflow", have) == ["tensorflow-gpu", "tensorflow-intel"]
    assert conflicting("tensorflow-cpu", ["tensorflow-cpu"]) == []
    assert normalize(" TF_Nightly.Intel ") == "tf-nightly-intel"


def test_entry_picks_by_list_order_without_build_info():
    env = {
        "python": "/e/bin/python",
        "env": "/e",
        "dists": [["tf-nightly", "2.17.0", False], ["tensorflow-cpu", "2.15.0", False]],
        "build_info": None,
    }
    assert tensorflow_entry(env)["package"] == "tensorflow-cpu"
