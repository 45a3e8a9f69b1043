#!/usr/bin/env bash
# Create (or refresh) the project's virtualenv in .venv with tfprov and its test tools.
# Works on a fresh Debian/Ubuntu machine with only python3: installs python3-venv first
# when the interpreter cannot create venvs (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "bootstrap: python3 cannot create virtualenvs; installing python3-venv" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi

# Re-install only when the project's metadata changed since the last bootstrap.
stamp=.venv/.tfprov-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    touch "$stamp"
fi

# The local SSH test fleet (lab/fleet.py) needs debootstrap, iproute2, iptables and
# OpenSSH on this machine; installing them needs root.
if [ "$(id -u)" -eq 0 ]; then
    .venv/bin/python -m lab.fleet ensure-deps
else
    echo "bootstrap: not root: skipping the test fleet's packages (the fleet tests need root)" >&2
fi
