"""Shared pytest configuration for tfprov's tests."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fleet: brings up local Debian 12 test hosts over SSH (lab/fleet.py); needs root and "
        "network access to the package registries; deselect with -m 'not fleet'",
    )
