"""The example inventory loads with pyinfra and every host's spec validates."""

import os

from tfprov.apply.inventory import validate_hosts
from tfprov.probe import load_inventory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_example_inventory_specs():
    inv, hosts = load_inventory(os.path.join(ROOT, "inventories", "lab.py"))
    specs = {name: checked.spec for name, checked in validate_hosts(hosts).items()}
    assert specs["course-01"].tensorflow == "2.15" and specs["course-01"].python == "3.11"
    assert specs["lab-cpu-01"].gpu == "off"
    assert specs["lab-cpu-02"].allow_community_builds is True
    assert specs["lab-ws-03"].driver == "keep"
    assert specs["lab-ws-01"].driver == "auto"
    assert {h.name for h in inv.get_group("gpu_lab")} == {"lab-ws-01", "lab-ws-02", "lab-ws-03"}


def test_mixed_linux_windows_inventory_plans_from_saved_profiles():
    import json
    import subprocess
    import sys

    exe = os.path.join(os.path.dirname(sys.executable), "tfprov")
    res = subprocess.run(
        [exe, "plan", os.path.join(ROOT, "inventories", "mixed.py"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    plans = {p["host"]: p for p in json.loads(res.stdout)}
    # the host name in a plan is the inventory name (the profile's hostname differs)
    laptop = plans["@winssh/192.0.2.51"]
    assert (
        laptop["tensorflow"]["version"],
        laptop["cuda"]["version"],
        laptop["cudnn"]["version"],
    ) == ("2.1.4", "10.1", "7.6")
    w11 = plans["@winssh/192.0.2.52"]  # native Windows GPU support ended with 2.10
    assert (w11["tensorflow"]["version"], w11["tensorflow"]["variant"]) == ("2.10.1", "gpu")
    noavx = plans["@winssh/192.0.2.53"]  # community non-AVX builds allowed
    assert noavx["tensorflow"]["source"] == "community:fo40225"
    assert plans["ws-ubuntu-4090"]["tensorflow"]["version"] == "2.21.0"
    assert plans["node-k80"]["tensorflow"]["version"] == "2.14.1"


def test_windows_hosts_get_the_windows_profile_fact():
    from tfprov.facts.profile import HostProbe, WinHostProbe
    from tfprov.probe import is_windows, profile_fact_for

    inv, hosts = load_inventory(os.path.join(ROOT, "inventories", "mixed.py"))
    kinds = {h.name: profile_fact_for(h) for h in hosts}
    assert kinds["@winssh/192.0.2.51"] is WinHostProbe
    assert kinds["ws-ubuntu-4090"] is HostProbe
    assert [h.name for h in hosts if is_windows(h)] == [
        "@winssh/192.0.2.51",
        "@winssh/192.0.2.52",
        "@winssh/192.0.2.53",
    ]


def test_example_group_data_does_not_enable_reboots():
    """A copied example must never reboot a lab's machines by default."""
    import runpy
    from pathlib import Path

    for path in sorted((Path(__file__).parent.parent / "inventories" / "group_data").glob("*.py")):
        assert runpy.run_path(str(path)).get("reboot", False) is False, path


def test_docs_the_code_points_to_exist():
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    for py in sorted((root / "tfprov").rglob("*.py")):
        for doc in re.findall(r"docs/[\w.-]+\.md", py.read_text(encoding="utf-8")):
            assert (root / doc).is_file(), f"{py} refers to missing {doc}"
