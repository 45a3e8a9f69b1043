"""The TensorFlow check (tfprov.verify): one command builder for every platform."""

import subprocess
import sys

from tfprov import verify
from tfprov.model.platform import Platform

LINUX = Platform(family="linux", distro="ubuntu", version="22.04", package_manager="apt")
WSL = Platform(family="linux", distro="ubuntu", version="22.04", wsl=True)
WINDOWS = Platform(family="windows")


def test_posix_command_runs_the_check_and_reports_the_exit_status():
    # this interpreter has no TensorFlow: the check itself must say so, not crash
    cmd = verify.command(sys.executable, LINUX)
    res = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=120)
    lines = res.stdout.splitlines()
    assert lines[-1] == f"{verify.EXIT}0"
    result = verify.parse(lines, expect_gpu=False)
    assert result["ok"] is False and result["error"].startswith("ModuleNotFoundError")


def test_wsl_is_linux_and_windows_gets_powershell():
    assert verify.command("/e/bin/python", WSL) == verify.command("/e/bin/python", LINUX)
    win = verify.command("C:\\e\\Scripts\\python.exe", WINDOWS)
    assert "& 'C:\\e\\Scripts\\python.exe' $f 2>&1" in win
    assert verify.SCRIPT.strip() in win and win.endswith(f'"{verify.EXIT}$LASTEXITCODE"')
