"""The packages of one conda environment, split into conda-installed and pip-installed.

:class:`CondaEnvPackages` is what :func:`tfprov.operations.conda.env` decides from: whether
the env exists, and which packages conda and pip put into it (conda packages go first, pip
after; an env that already holds pip packages is re-created rather than mixed).
"""

from __future__ import annotations

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact, first_json, sh_quote


def empty() -> dict:
    return {"exists": False, "conda": {}, "pip": {}}


def parse_conda_list_json(text: str) -> dict:
    """Parse ``conda list --json`` into ``{"exists", "conda": {name: version}, "pip": {name:
    version}}``.

    A JSON array is the env's package list: objects with ``name``, ``version`` and
    ``channel``, pip-installed packages having channel ``pypi``.  Anything else -- nothing
    printed (no conda at the prefix) or conda's JSON error object (no such env) -- means
    the env does not exist.
    """
    value = first_json(text)
    if not isinstance(value, list):
        return empty()
    out = {"exists": True, "conda": {}, "pip": {}}
    for pkg in value:
        if not isinstance(pkg, dict):
            continue
        name, version = pkg.get("name"), pkg.get("version")
        if not name or version is None:
            continue
        kind = "pip" if pkg.get("channel") == "pypi" else "conda"
        out[kind][str(name)] = str(version)
    return out


class CondaEnvPackages(TfprovFact):
    """
    The packages in the conda env *env_name* of the conda installation at *prefix*::

        {"exists": True,
         "conda": {"python": "3.11.8", "cudnn": "8.9.7.29", "pip": "24.0", ...},
         "pip": {"tensorflow": "2.15.1", "nvidia-cudnn-cu12": "8.9.4.25", ...}}

    From ``PREFIX/bin/conda list -n ENV_NAME --json``: ``pip`` holds what pip installed
    (conda lists it with channel ``pypi``), ``conda`` everything else.  Names are as conda
    prints them (pip names as their distributions spell them).  The env is named by
    ``env_name``: pyinfra reserves ``name`` for its global arguments.

    + default: ``{"exists": False, "conda": {}, "pip": {}}`` -- also when *prefix* holds no
      conda, or conda answers that there is no such env

    .. code:: python

        from tfprov.facts.conda_env import CondaEnvPackages
        pkgs = host.get_fact(
            CondaEnvPackages, prefix="/opt/tfprov/miniforge3", env_name="tf215"
        )
        if pkgs["exists"] and pkgs["pip"]:
            ...
    """

    @staticmethod
    def default():
        return empty()

    def command(self, prefix: str, env_name: str) -> str:
        conda = sh_quote(f"{prefix.rstrip('/')}/bin/conda")
        listing = f"{conda} list -n {sh_quote(env_name)} --json 2>/dev/null"
        return f"if [ -x {conda} ]; then {listing}; fi\ntrue"

    def process(self, output: list[str]):
        return parse_conda_list_json("\n".join(output))


# -- Windows -------------------------------------------------------------------------------


class WinCondaEnvPackages(TfprovFact):
    """The packages of the conda env ``PREFIX\\envs\\ENV_NAME``, as
    :class:`tfprov.facts.conda_env.CondaEnvPackages` gives them on Linux:
    ``{"exists", "conda": {name: version}, "pip": {name: version}}``."""

    @staticmethod
    def default() -> dict:
        return empty()

    def command(self, prefix: str, env_name: str) -> str:
        conda = ps.quote(prefix.rstrip("\\") + "\\Scripts\\conda.exe")
        env = ps.quote(prefix.rstrip("\\") + "\\envs\\" + env_name)
        return (
            f"if ((Test-Path -LiteralPath {conda}) -and (Test-Path -LiteralPath {env})) {{ "
            f"& {conda} list -p {env} --json 2>$null }}"
        )

    def process(self, output: list[str]) -> dict:
        return parse_conda_list_json("\n".join(output))
