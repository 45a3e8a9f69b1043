"""tfprov's main deploy: probe → plan → apply → verify on every host.

    pyinfra inventories/lab.py deploys/gpu.py

Each host's stack spec (the keys of ``tfprov/model/spec.py``), download sources
(``tfprov/model/sources.py``) and deploy switches come from its inventory data, checked
for every host before any is touched (``tfprov/apply/inventory.py``).
A second run on a converged host changes nothing.  Each host's plan table is printed
before pyinfra's changes and prompt; the fleet report (every host, reached or not) is
printed at the end and written to ``$TFPROV_REPORT`` (default ``./tfprov-report.json``).
"""

from pyinfra import host, state

from tfprov.apply.deploy import deploy_host

deploy_host(host, state)
