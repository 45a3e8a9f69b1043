"""The deploy's refusal and bad-input paths as a user meets them: real ``pyinfra`` runs
on this machine (``@local``), asserting what pyinfra prints and its exit status.

Nothing here changes the machine: bad data stops before any fact runs, a refused host
stops before any operation, and the verify-only deploy only runs Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYINFRA = Path(sys.executable).with_name("pyinfra")
HAS_NVIDIA = os.path.exists("/proc/driver/nvidia/version")


def pyinfra(tmp_path, *data, deploy="deploys/gpu.py", inventory="@local"):
    env = {**os.environ, "TFPROV_REPORT": str(tmp_path / "report.json")}
    args = [a for d in data for a in ("--data", d)]
    res = subprocess.run(
        [str(PYINFRA), "-y", "-v", *args, inventory, str(ROOT / deploy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    return res.returncode, res.stdout + res.stderr


@pytest.mark.skipif(HAS_NVIDIA, reason="this machine has an NVIDIA GPU: gpu=require fits")
def test_refused_host_shows_the_resolvers_explanation(tmp_path):
    rc, out = pyinfra(tmp_path, "gpu=require")
    assert rc == 1, out
    assert (
        "    [@local] tfprov: no stack fits this host: gpu: require, but the host has no "
        "NVIDIA GPU\n" in out
    )
    assert "    [@local] tfprov: alternatives:\n" in out
    assert "    [@local]     - with gpu: off: TF " in out
    assert "Traceback" not in out and "TypeError" not in out
    assert (tmp_path / "report.json").exists()


def test_failed_verify_shows_why(tmp_path):
    # verify only, in an env directory that does not exist: the check cannot run
    envs = tmp_path / "no-envs"
    rc, out = pyinfra(tmp_path, f"envs_dir={envs}", "gpu=off", deploy="deploys/verify.py")
    assert rc == 1, out
    assert (
        "    [@local] tfprov: TensorFlow does not work on this host: FAILED: no result from "
        f"the check: sh: 1: {envs}/tf221/bin/python: not found\n"
    ) in out
    assert "Traceback" not in out and "VerifyError" not in out


@pytest.mark.parametrize(
    "data, line",
    [
        (
            ["gpu=sometimes"],
            "--> pyinfra error: host @local: field 'gpu': Input should be 'auto', 'require' "
            "or 'off' (got 'sometimes')",
        ),
        (
            ["tensorflw=2.15"],
            "--> pyinfra error: host @local: field 'tensorflw': unknown tfprov key (did you "
            "mean 'tensorflow'?)",
        ),
        (
            ["reboot=no"],
            "--> pyinfra error: host @local: field 'reboot': Input should be a valid boolean "
            "(got 'no')",
        ),
        (
            ["tensorflow=2.10"],  # pyinfra's --data reads 2.10 as the number 2.1
            "--> pyinfra error: host @local: field 'tensorflow': 2.1 is a number, not a "
            'version (2.10 reads as 2.1 too): write it as a string, tensorflow: "2.10" or '
            'tensorflow: "2.1"',
        ),
        (
            ["tensorflow=9.9.0"],
            "--> pyinfra error: host @local: field 'tensorflow': no TensorFlow release in the "
            "catalog matches '9.9.0' (it knows 1.0.1 … 2.21.0)",
        ),
        (
            ["env_name=-rf"],
            "--> pyinfra error: host @local: field 'env_name': '-rf' is not an env name: use "
            "letters, digits, '_', '.' and '-' (at most 64), starting with a letter, digit "
            "or '_'",
        ),
    ],
)
def test_bad_data_is_one_line_and_no_host_is_probed(tmp_path, data, line):
    rc, out = pyinfra(tmp_path, *data)
    assert rc == 2, out
    assert out.rstrip("\n").splitlines()[-1] == line
    assert out.count("pyinfra error") == 1
    assert "Traceback" not in out
    assert "Loaded fact" not in out  # -v prints every fact: none ran
    assert not (tmp_path / "report.json").exists()


def test_bad_data_of_several_hosts_is_listed_before_any_fact(tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inv = tmp_path / "inventory.py"
    inv.write_text(
        "hosts = [\n"
        "    ('@local', {'tensorflow': '2.21'}),\n"
        f"    ('127.0.0.1', {{'ssh_port': {port}, 'ssh_connect_retries': 0,\n"
        "                   'gpu': 'sometimes', 'pip_find_links': 8080}),\n"
        "]\n"
    )
    rc, out = pyinfra(tmp_path, inventory=str(inv))
    # 127.0.0.1 cannot be connected; pyinfra goes on with @local, whose first deploy call
    # checks every host's data, the unreachable one's too
    assert rc == 2, out
    assert out.rstrip("\n").splitlines()[-2:] == [
        "--> pyinfra error: host 127.0.0.1: field 'gpu': Input should be 'auto', 'require' "
        "or 'off' (got 'sometimes')",
        "host 127.0.0.1: field 'pip_find_links': Input should be a valid string (got 8080)",
    ]
    assert "Loaded fact" not in out and "Traceback" not in out
