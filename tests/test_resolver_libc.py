"""Platform tags: a plan names only wheels pip can install on the host's C library.

Tags are PyPI's file names (``tf_wheels.yaml`` ``platform_tags``): TF 2.21's Linux x86_64
wheels are ``manylinux_2_27_x86_64`` (glibc ≥ 2.27), 2.20's and 2.14's
``manylinux_2_17_x86_64.manylinux2014_x86_64`` (glibc ≥ 2.17).
"""

import json

from tests.test_cli import profile
from tests.test_resolver import AVX2, host, plan
from tfprov.cli import main
from tfprov.model.profile import HostProfile
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve
from tfprov.resolve.wheelhouse import parse_wheel_name


def test_glibc_2_17_gets_tf_2_20_and_the_reason():
    p = plan(host(distro="centos", version="7.9.2009", pythons=["3.11.4"], libc=("glibc", "2.17")))
    assert p.ok, p.error
    assert (p.tensorflow.version, p.tensorflow.package) == ("2.20.0", "tensorflow-cpu")
    assert "TF 2.21 needs glibc ≥ 2.27; this host has 2.17" in p.reasons[0]
    assert p.reasons[0].startswith("TF 2.20.0: newest that fits")


def test_glibc_new_enough_keeps_tf_2_21():
    p = plan(host(distro="ubuntu", version="22.04", pythons=["3.11.4"], libc=("glibc", "2.35")))
    assert p.tensorflow.version == "2.21.0"
    assert not any("C library" in w for w in p.warnings)


def test_musl_refuses_manylinux_wheels_by_name():
    h = host(distro="alpine", version="3.20", pythons=["3.11.4"], libc=("musl", "1.2.5"))
    p = plan(h, tensorflow=">=2.20")
    assert not p.ok
    assert "TF 2.21's wheels are manylinux (glibc ≥ 2.27); this host's C library is musl 1.2.5" in (
        p.error
    )


def test_unknown_c_library_is_not_filtered_but_warned():
    p = plan(host(distro="debian", version="12", pythons=["3.11.2"]))
    assert p.tensorflow.version == "2.21.0"
    assert "C library not probed: TF 2.21's wheels need glibc ≥ 2.27 (not checked)" in p.warnings


def test_asking_for_2_21_on_centos7_is_refused_with_the_chain(capsys):
    rc = main(
        ["plan", "--profile", profile("centos7-tesla-k80"), "--tensorflow", "2.21", "--gpu", "off"]
    )
    out = capsys.readouterr().out
    assert rc == 1
    assert "TF 2.21 needs glibc ≥ 2.27; this host has 2.17" in out


def test_the_centos7_example_plan_is_installable_there():
    with open(profile("centos7-tesla-k80")) as fh:
        p = resolve(HostProfile.model_validate(json.load(fh)), StackSpec())
    assert p.ok, p.error
    assert (p.tensorflow.version, p.tensorflow.variant) == ("2.14.1", "gpu")
    # its wheels are manylinux_2_17 (glibc 2.17): what CentOS 7 has
    cpu = resolve(
        HostProfile.model_validate({**json.load(open(profile("centos7-tesla-k80"))), "gpus": []}),
        StackSpec(),
    )
    assert cpu.tensorflow.version == "2.20.0"


def test_a_wheelhouse_wheel_is_held_to_its_own_tags():
    new = parse_wheel_name("tensorflow-2.21.0+avx.cpu-cp311-cp311-manylinux_2_27_x86_64.whl")
    old = parse_wheel_name("tensorflow-2.21.0+avx.cpu-cp311-cp311-linux_x86_64.whl")
    h = host(flags=AVX2, pythons=["3.11.4"], libc=("glibc", "2.17"))
    spec = StackSpec(tensorflow="2.21", allow_community_builds=True, env_manager="venv")
    refused = resolve(h, spec, wheelhouse=[new])
    assert not refused.ok
    assert "TF 2.21 needs glibc ≥ 2.27; this host has 2.17" in refused.error
    assert resolve(h, spec, wheelhouse=[old]).tensorflow.source == "wheelhouse"


def test_macos_version_against_macosx_tags():
    from tfprov.catalog import Catalog, load_catalog

    base = load_catalog()
    tags = {"macos_arm64": ["macosx_12_0_arm64"]}  # tensorflow 2.21.0's file on PyPI
    wheels = [
        w.model_copy(update={"platform_tags": tags})
        if (w.package, w.minor) == ("tensorflow", "2.21")
        else w
        for w in base.wheels.wheels
    ]
    cat = Catalog(
        {**base.files, "tf_wheels.yaml": base.wheels.model_copy(update={"wheels": wheels})}
    )
    mac = host(
        family="darwin",
        distro="macOS",
        version="11.7",
        arch="aarch64",
        flags=[],
        pythons=["3.11.4"],
    )
    p = resolve(mac, StackSpec(), cat)
    assert p.tensorflow.version != "2.21.0"
    assert "TF 2.21 needs macOS ≥ 12.0; this host has 11.7" in p.reasons[0]
    newer = host(
        family="darwin",
        distro="macOS",
        version="14.4.1",
        arch="aarch64",
        flags=[],
        pythons=["3.11.4"],
    )
    assert resolve(newer, StackSpec(), cat).tensorflow.version == "2.21.0"
