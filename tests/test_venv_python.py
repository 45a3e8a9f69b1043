"""Venvs only on an interpreter that can make one; the system env prefers the distro's.

Host Pythons come from real probe output (tests/facts/python.Pythons): this build
machine's pyenv 3.6–3.13 next to Debian's /usr/bin/python3.11, and a Debian 12 image
whose python3.11 lacks python3.11-venv (with and without apt package lists).
"""

from pathlib import Path

import yaml

from tfprov.apply.steps import steps_for
from tfprov.cli import main
from tfprov.facts.python import parse_pythons
from tfprov.model.hostdata import HostSettings
from tfprov.model.profile import HostProfile
from tfprov.model.sources import DEFAULTS
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve

CASES = Path(__file__).parent / "facts" / "python.Pythons"


def debian12(case: str, keep=lambda p: True) -> HostProfile:
    out = yaml.safe_load((CASES / f"{case}.yaml").read_text())["output"]
    return HostProfile.model_validate(
        {
            "hostname": case,
            "os": {"family": "linux", "distro": "debian", "version": "12"},
            "cpu": {"flags": ["sse2", "sse4_2", "avx", "avx2"]},
            "pythons": [p for p in parse_pythons(out) if keep(p)],
            "libc": {"name": "glibc", "version": "2.36"},
        }
    )


def steps(plan, profile):
    return [(s.op.__name__, s.kwargs) for s in steps_for(plan, dict(DEFAULTS), HostSettings())]


def test_the_distro_python_is_preferred_over_a_newer_pyenv_one():
    h = debian12("live-pyenv-global-and-debian")
    p = resolve(h, StackSpec())
    assert (p.env_manager.manager, p.python.version) == ("venv", "3.11.2")
    assert (p.python.path, p.python.venv_package) == ("/usr/bin/python3.11", None)
    assert "the distro's interpreter, preferred for a system env" in p.python.reason
    st = steps(p, h)
    assert [n for n, _ in st] == ["virtualenv", "tensorflow"]  # no apt python3.13-venv
    assert st[0][1]["python"] == "/usr/bin/python3.11"


def test_a_pyenv_python_makes_its_venv_without_a_distro_package():
    h = debian12("live-pyenv-global-and-debian", keep=lambda p: p["version"] == "3.13.0")
    p = resolve(h, StackSpec())
    assert (p.python.version, p.python.venv_package) == ("3.13.0", None)
    st = steps(p, h)
    assert [n for n, _ in st] == ["virtualenv", "tensorflow"]
    assert st[0][1]["python"] == "/root/.pyenv/versions/3.13.0/bin/python3"


def test_a_distro_python_without_venv_gets_its_package_when_apt_has_it():
    h = debian12("live-debian12-no-venv-candidate-python3.11-venv")
    p = resolve(h, StackSpec())
    assert (p.python.path, p.python.venv_package) == ("/usr/bin/python3.11", "python3.11-venv")
    st = steps(p, h)
    assert st[0] == ("packages", {"packages": ["python3.11-venv"]})
    assert st[1][1]["python"] == "/usr/bin/python3.11"


def test_no_way_to_a_venv_falls_back_to_conda_or_is_refused_with_why(capsys, tmp_path):
    h = debian12("live-debian12-no-venv-no-apt-lists")
    p = resolve(h, StackSpec())
    assert p.env_manager.manager == "conda"
    why = (
        "no host Python that TF supports can make a venv (3.11.2 at /usr/bin/python3.11: "
        "no venv/ensurepip, and no package for them is available from the package lists)"
    )
    assert why in p.env_manager.reason
    refused = resolve(h, StackSpec(env_manager="venv"))
    assert not refused.ok
    assert "env_manager: venv needs Python 3.10–3.13 that can make a venv; host has" in (
        refused.error
    )
    f = tmp_path / "h.json"
    f.write_text(h.model_dump_json())
    assert main(["plan", "--profile", str(f), "--env-manager", "venv"]) == 1
    assert "no venv/ensurepip, and no package for them" in capsys.readouterr().out
