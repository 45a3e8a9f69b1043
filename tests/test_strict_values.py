"""Strict host-data values (issue 10): a value that would reach a remote command or file
holding a control character or line break, an empty string, a version in non-ASCII digits,
a bad saved profile or an unreadable ``--spec`` file is one clear line naming host (or
file), field and value, before any host is touched; never truthiness, never a traceback.
"""

from __future__ import annotations

import json

import pytest

from tests.test_deploy_local import pyinfra
from tests.test_fleet_report import tfprov_cli
from tfprov.model.hostdata import settings_from_mapping
from tfprov.model.spec import SpecError, load_spec_file

SHA = "a" * 64


@pytest.mark.parametrize(
    "data, line",
    [
        # control characters / line breaks in values that reach remote commands or files
        (
            {"wheelhouse": "/srv/w\nx"},
            "field 'wheelhouse': must be plain text: it holds the control character '\\n' "
            "(got '/srv/w\\nx')",
        ),
        (
            {"tensorflow": "2.15\n"},
            "field 'tensorflow': must be plain text: it holds the control character '\\n' "
            "(got '2.15\\n')",
        ),
        (
            {"secure_boot_signing_key": "/k\x00ey"},
            "field 'secure_boot_signing_key': must be plain text: it holds the control "
            "character '\\x00' (got '/k\\x00ey')",
        ),
        (
            {"winssh_user": "admin\r"},
            "field 'winssh_user': must be plain text: it holds the control character '\\r' "
            "(got 'admin\\r')",
        ),
        (
            {"conda_channels": ["conda-forge", "nv\u200bidia"]},
            "field 'conda_channels': must be plain text: it holds the control character "
            "'\\u200b' (got ['conda-forge', 'nv\\u200bidia'])",
        ),
        (
            {"win_cuda_installers": {"12.4\n": {"url": "http://x/c.exe", "sha256": SHA}}},
            "field 'win_cuda_installers': must be plain text: it holds the control "
            "character '\\n' (got {'12.4\\n': {'url': 'http://x/c.exe', 'sha256': "
            "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa...)",
        ),
        # a secret's value is never shown, even when it is the bad one
        (
            {"winssh_password": "pa\nss"},
            "field 'winssh_password': must be plain text: it holds the control character "
            "'\\n' (got a hidden value)",
        ),
        # empty strings
        ({"wheelhouse": ""}, "field 'wheelhouse': must not be empty (got '')"),
        ({"tensorflow": ""}, "field 'tensorflow': must not be empty (got '')"),
        ({"profile": " "}, "field 'profile': must not be empty (got ' ')"),
        # non-ASCII digits in versions
        (
            {"tensorflow": "٢.١٥"},
            "field 'tensorflow': must be written in ASCII digits, not '٢.١٥'",
        ),
        (
            {"python": "٣.١١"},
            "field 'python': must be a Python minor version like \"3.11\", not '٣.١١'",
        ),
        (
            {"driver": "٥٣٥"},
            "field 'driver': must be auto, keep or a driver branch number such as 535, not '٥٣٥'",
        ),
        # typed download sources and strict booleans (kept: never AttributeError/truthiness)
        (
            {"pip_find_links": 5},
            "field 'pip_find_links': Input should be a valid string (got 5)",
        ),
        (
            {"pip_no_index": "false"},
            "field 'pip_no_index': Input should be a valid boolean (got 'false')",
        ),
    ],
)
def test_bad_value_is_one_line_naming_host_field_and_value(data, line):
    with pytest.raises(SpecError) as exc:
        settings_from_mapping(data, "host gpu-07")
    assert str(exc.value) == f"host gpu-07: {line}"


def test_plain_values_are_still_accepted_as_meant():
    s = settings_from_mapping(
        {"tensorflow": " 2.15 ", "driver": "535", "gpu": "OFF", "reboot": False}, "host h"
    )
    assert (s.tensorflow, s.driver, s.gpu, s.reboot) == ("2.15", 535, "off", False)


@pytest.mark.parametrize(
    "data, line",
    [
        (
            ["wheelhouse=/srv/w\x1bx"],
            "--> pyinfra error: host @local: field 'wheelhouse': must be plain text: it "
            "holds the control character '\\x1b' (got '/srv/w\\x1bx')",
        ),
        (
            ["tensorflow=>=2.1٥"],
            "--> pyinfra error: host @local: field 'tensorflow': must be written in ASCII "
            "digits, not '>=2.1٥'",
        ),
        (
            ["wheelhouse="],
            "--> pyinfra error: host @local: field 'wheelhouse': must not be empty (got '')",
        ),
    ],
)
def test_pyinfra_prints_one_line_and_touches_no_host(tmp_path, data, line):
    # envs_dir in tmp: even a wrongly accepted value could not install into /opt
    rc, out = pyinfra(tmp_path, *data, f"envs_dir={tmp_path / 'envs'}")
    assert rc == 2, out
    assert out.rstrip("\n").splitlines()[-1] == line
    assert out.count("pyinfra error") == 1
    assert "Traceback" not in out
    assert "Loaded fact" not in out  # no fact ran: no host touched
    assert not (tmp_path / "report.json").exists()


def test_spec_file_that_is_not_utf8_is_one_line_naming_the_file(tmp_path):
    spec = tmp_path / "spec.yml"
    spec.write_bytes(b"tensorflow: \xff\xfe2.15\n")
    with pytest.raises(SpecError) as exc:
        load_spec_file(str(spec))
    assert str(exc.value) == f"{spec}: not UTF-8 text (byte 12)"


def test_spec_file_errors_through_the_cli_are_one_line(tmp_path):
    prof = tmp_path / "p.json"
    prof.write_text(json.dumps({"hostname": "a", "os": {"family": "linux"}}))
    bad = tmp_path / "bad.yml"
    bad.write_bytes(b"\xff")
    res = tfprov_cli("plan", "--profile", str(prof), "--spec", str(bad))
    assert res.returncode != 0
    assert res.stderr == f"tfprov: error: {bad}: not UTF-8 text (byte 0)\n"
    bad.write_text("tensorflow: [\n")
    res = tfprov_cli("plan", "--profile", str(prof), "--spec", str(bad))
    assert res.stderr.count("\n") == 1 and res.stderr.startswith(f"tfprov: error: {bad}: not")
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "content, line",
    [
        (b"\xff\xfe", "{p}: not a UTF-8 JSON profile"),
        (b"[1, 2]", "{p}: a profile is a JSON object, not list"),
        (
            json.dumps(
                {
                    "hostname": "a",
                    "os": {"family": "linux"},
                    "gpus": [{"name": "g", "memory_mib": -1}],
                }
            ).encode(),
            "{p} (host 'a'): field 'gpus.0.memory_mib': Input should be greater than or equal "
            "to 0 (got -1)",
        ),
        (
            json.dumps(
                {
                    "hostname": "a",
                    "os": {"family": "linux"},
                    "gpus": [{"name": "g", "memory_mib": "12"}],
                }
            ).encode(),
            "{p} (host 'a'): field 'gpus.0.memory_mib': Input should be a valid integer (got '12')",
        ),
        (
            json.dumps({"hostname": "a", "os": {"family": "linux", "wsl": "no"}}).encode(),
            "{p} (host 'a'): field 'os.wsl': Input should be a valid boolean (got 'no')",
        ),
        (
            json.dumps({"hostname": "a", "os": {"family": "linux", "distro": "ub\nuntu"}}).encode(),
            "{p} (host 'a'): field 'os.distro': must be plain text: it holds the control "
            "character '\\n' (got 'ub\\nuntu')",
        ),
    ],
)
def test_bad_profile_is_one_line_naming_the_file_and_field(tmp_path, content, line):
    prof = tmp_path / "p.json"
    prof.write_bytes(content)
    res = tfprov_cli("plan", "--profile", str(prof))
    assert res.returncode != 0
    assert res.stderr == "tfprov: error: " + line.format(p=prof) + "\n"


def test_inventory_profile_error_names_the_host_and_file(tmp_path):
    (tmp_path / "p.json").write_text('{"hostname": "a", "os": {"family": "linux", "wsl": 1}}')
    inv = tmp_path / "inv.py"
    inv.write_text("hosts = [('lab-07', {'profile': 'p.json'})]\n")
    res = tfprov_cli("plan", str(inv))
    assert res.returncode != 0
    assert res.stderr == (
        f"tfprov: error: host lab-07: profile {tmp_path / 'p.json'}: field 'os.wsl': "
        "Input should be a valid boolean (got 1)\n"
    )
