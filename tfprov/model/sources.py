"""Every place tfprov downloads from, with its documented default.

Each key can be overridden per host or group in pyinfra inventory data (same name,
e.g. ``group_data/gpu_lab.py``: ``nvidia_repo_url = "http://mirror.lab/nvidia/cuda/repos"``),
so a lab mirror or an air-gapped artifact server is just configuration.  Nothing is
fetched without verification: NVIDIA's repositories are signed (their key is installed
from the repository itself and pinned by fingerprint), the conda installer is checked
against ``miniforge_sha256``, wheelhouse wheels against their ``.sha256`` files, and pip
installs exact versions.
"""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # NVIDIA's CUDA repositories (driver branches, CUDA toolkits, cuDNN); the layout below
    # this URL is NVIDIA's: <distro><version without dots>/<arch>/, e.g. ubuntu2204/x86_64/
    "nvidia_repo_url": "https://developer.download.nvidia.com/compute/cuda/repos",
    # Miniforge installer (conda-forge's Miniconda): URL and its sha256, pinned together
    "miniforge_url": None,  # None: tfprov.operations.conda's pinned installer for the arch
    "miniforge_sha256": None,
    # conda channels, and an optional channel_alias / mirror for all of them
    "conda_channels": ["conda-forge"],
    "conda_channel_alias": None,
    # pip: index URL (a mirror or devpi/artifactory), extra index, and trusted hosts
    "pip_index_url": "https://pypi.org/simple",
    "pip_extra_index_url": None,
    # pip --find-links for every env (a directory on the host or an http(s) page of
    # wheels, as an artifact server serves them), and whether to use it alone
    "pip_find_links": None,
    "pip_no_index": False,
    # where tfprov puts venvs and conda (per-stack envs live under these)
    "envs_dir": "/opt/tfprov/envs",
    "conda_prefix": "/opt/tfprov/miniforge3",
    # Windows hosts: installers are not downloaded from a guessed place; each is pinned by
    # the lab with its sha256 (a URL or a UNC share path).  No public default: unset means
    # the deploy refuses the step and names the key to set.
    #   win_driver_installers = {"537.13": {"url": ..., "sha256": ...}, ...}
    #   win_cuda_installers   = {"11.2": {"url": ..., "sha256": ...}, ...}
    #   win_cudnn_zips        = {"8.1": {"url": ..., "sha256": ...}, ...}
    "win_driver_installers": {},
    "win_cuda_installers": {},
    "win_cudnn_zips": {},
    "win_miniforge_url": None,
    "win_miniforge_sha256": None,
    "win_envs_dir": "C:\\tfprov\\envs",
    "win_conda_prefix": "C:\\tfprov\\miniforge3",
}

SOURCE_KEYS = tuple(DEFAULTS)


def sources_for(host_data) -> dict:
    """The download sources for one host: defaults overridden by its inventory data."""
    out = dict(DEFAULTS)
    for key in SOURCE_KEYS:
        value = host_data.get(key) if hasattr(host_data, "get") else None
        if value is not None:
            out[key] = value
    return out
