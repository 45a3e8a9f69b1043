"""An example pyinfra inventory for tfprov: a GPU lab, a CPU-only group, a pinned group.

    pyinfra inventories/lab.py deploys/gpu.py      # probe, plan, install, verify
    tfprov plan inventories/lab.py                 # only show what would be done

Host data may set any stack-spec key (tensorflow, gpu, python, env_manager, env_name,
driver, cuda_source, allow_community_builds, wheelhouse), any download source of
tfprov/model/sources.py (nvidia_repo_url, pip_index_url, pip_find_links, conda_channels …), and
the deploy switches ``reboot`` (may tfprov reboot a host after a driver change),
``secure_boot_signing_key`` and ``driver_flavor``.  Group values live in group_data/.
The addresses below are documentation addresses: replace them with your machines.
"""

# Workstations with NVIDIA GPUs: newest TensorFlow their GPUs and drivers allow.
gpu_lab = [
    ("lab-ws-01", {"ssh_hostname": "192.0.2.11"}),
    ("lab-ws-02", {"ssh_hostname": "192.0.2.12"}),
    # an older card: keep its driver as it is, plan within it
    ("lab-ws-03", {"ssh_hostname": "192.0.2.13", "driver": "keep"}),
]

# Servers without GPUs: the CPU build (or a non-AVX build where allowed).
cpu_only = [
    ("lab-cpu-01", {"ssh_hostname": "192.0.2.21"}),
    ("lab-cpu-02", {"ssh_hostname": "192.0.2.22", "allow_community_builds": True}),
]

# A course whose notebooks need TensorFlow 2.15 and Python 3.11 exactly.
pinned = [
    ("course-01", {"ssh_hostname": "192.0.2.31"}),
    ("course-02", {"ssh_hostname": "192.0.2.32"}),
]
