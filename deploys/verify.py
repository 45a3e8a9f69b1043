"""Verify only: import TensorFlow, list GPUs and run a small op in each host's planned env.

    pyinfra inventories/lab.py deploys/verify.py

Changes nothing on any host; prints the fleet report like ``deploys/gpu.py``.
"""

from pyinfra import host, state

from tfprov.apply.deploy import deploy_host

deploy_host(host, state, verify_only=True)
