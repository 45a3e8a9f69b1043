# Defaults for every host of inventories/lab.py (pyinfra group data).
ssh_user = "root"
ssh_strict_host_key_checking = "yes"

# Where tfprov downloads from: a lab mirror of PyPI and of NVIDIA's repositories.
# Leave these out to use the public defaults (tfprov/model/sources.py).
# pip_index_url = "https://pypi.mirror.lab.example/simple"
# nvidia_repo_url = "https://mirror.lab.example/nvidia/cuda/repos"
