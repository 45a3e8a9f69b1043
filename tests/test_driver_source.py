"""The plan's driver source names what the driver operation installs, per distro.

Each case takes a driver operation fixture (facts of a real distro, its platform) and a
host profile with that distro and GPU; the resolver plans the same branch (pinned), and the package
or module stream its ``driver.source`` names must be what the operation's commands
install on those facts.
"""

from pathlib import Path

import pytest
import yaml
from pyinfra.context import ctx_host, ctx_state
from pyinfra_testing.util import FakeState, create_host

from tfprov.model.profile import HostProfile
from tfprov.model.spec import StackSpec
from tfprov.operations.driver import nvidia_driver
from tfprov.resolve import resolve

CASES = Path(__file__).parent / "operations" / "driver.nvidia_driver"


def _commands(case: str) -> tuple[dict, list[str]]:
    data = yaml.safe_load((CASES / f"{case}.yaml").read_text())
    state = FakeState()
    host = create_host(state, facts=data["facts"])
    with ctx_state.use(state), ctx_host.use(host):
        commands = [str(c) for c in nvidia_driver._inner(**data["kwargs"])]
    return data, commands


@pytest.mark.parametrize(
    ("case", "gpu", "source"),
    [
        ("ubuntu-20.04-install-535", "NVIDIA GeForce RTX 3060", "Ubuntu: nvidia-driver-535"),
        (
            "ubuntu-22.04-auto-open-570-reboot",
            "NVIDIA GeForce RTX 3080",
            "Ubuntu: nvidia-driver-570-open",
        ),
        (
            "ubuntu-22.04-auto-proprietary-pascal-560",
            "Tesla P40",
            "Ubuntu: nvidia-driver-560",
        ),
        (
            "debian-12-debian-nvidia-driver-535",
            "NVIDIA GeForce RTX 3060",
            "Debian bookworm: nvidia-driver=535.*",
        ),
        ("debian-11-tesla-470", "Tesla K80", "Debian bullseye: nvidia-tesla-470-driver=470.*"),
        (
            "debian-12-nvidia-repo-550-replaces-debian-535",
            "NVIDIA GeForce RTX 3060",
            "NVIDIA's CUDA repository: cuda-drivers-550",
        ),
        (
            "debian-12-nvidia-repo-open-570",
            "NVIDIA GeForce RTX 4080 SUPER",
            "NVIDIA's CUDA repository: nvidia-open-570",
        ),
        (
            "rocky-8-install-535-dkms",
            "NVIDIA GeForce RTX 3060",
            "NVIDIA's module stream nvidia-driver:535-dkms",
        ),
    ],
)
def test_plan_driver_source_is_what_the_operation_installs(case, gpu, source):
    data, commands = _commands(case)
    platform = data["kwargs"]["platform"]  # the fixture's distro, as the plan carries it
    profile = HostProfile.model_validate(
        {
            "hostname": case,
            "os": {"family": "linux", "distro": platform["distro"], "version": platform["version"]},
            "cpu": {"flags": ["sse2", "sse4_2", "avx", "avx2"]},
            "gpus": [{"name": gpu}],
            "pythons": [{"version": "3.10.12", "path": "/usr/bin/python3.10"}],
        }
    )
    branch = data["kwargs"]["branch"]
    plan = resolve(profile, StackSpec(gpu="require", driver=branch))
    assert plan.ok, plan.error
    assert (plan.driver.action, plan.driver.branch) == ("install", branch)
    assert plan.driver.source == source
    # the operation's arguments are the plan's: its flavor and packages
    assert plan.driver.flavor == data["kwargs"]["flavor"]
    assert plan.driver.packages.model_dump(exclude_defaults=True) == data["kwargs"]["packages"]
    installed = source.rsplit(" ", 1)[-1]  # the package spec or module stream it names
    assert any(installed in c for c in commands), commands


def test_a_distro_without_driver_packages_is_refused():
    profile = HostProfile.model_validate(
        {
            "hostname": "c7",
            "os": {"family": "linux", "distro": "centos", "version": "7.9.2009"},
            "cpu": {"flags": ["sse2", "sse4_2", "avx", "avx2"]},
            "gpus": [{"name": "NVIDIA GeForce RTX 3060"}],
            "pythons": [{"version": "3.6.8", "path": "/usr/bin/python3"}],
        }
    )
    plan = resolve(profile, StackSpec(gpu="require", driver=535, tensorflow="2.6"))
    # the driver install the plan needs is refused when planning, with the text the
    # operations gave at apply time
    assert not plan.ok
    assert "tfprov does not provision centos 7.9.2009 (supported: ubuntu 20.04/22.04/24.04, " in (
        plan.error
    )
