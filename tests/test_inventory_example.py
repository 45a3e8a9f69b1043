"""The example inventory loads with pyinfra and every host's spec validates."""

import os

from tfprov.probe import host_specs, load_inventory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_example_inventory_specs():
    inv, hosts = load_inventory(os.path.join(ROOT, "inventories", "lab.py"))
    specs = host_specs(hosts)
    assert specs["course-01"].tensorflow == "2.15" and specs["course-01"].python == "3.11"
    assert specs["lab-cpu-01"].gpu == "off"
    assert specs["lab-cpu-02"].allow_community_builds is True
    assert specs["lab-ws-03"].driver == "keep"
    assert specs["lab-ws-01"].driver == "auto"
    assert {h.name for h in inv.get_group("gpu_lab")} == {"lab-ws-01", "lab-ws-02", "lab-ws-03"}
