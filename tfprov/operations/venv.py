"""Python virtual environments for TensorFlow stacks."""

from __future__ import annotations

import posixpath
import shlex

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from tfprov.facts.env import EnvState
from tfprov.model.names import env_name_problem
from tfprov.model.pip_index import PipIndex
from tfprov.operations.private_file import tighten, write_config


def pip_conf(
    index_url: str | None = None,
    extra_index_url: str | None = None,
    find_links: str | None = None,
    no_index: bool = False,
) -> str:
    """The ``pip.conf`` text for an env (:meth:`tfprov.model.pip_index.PipIndex.conf`)."""
    return PipIndex(index_url, extra_index_url, find_links, no_index).conf()


@operation()
def virtualenv(path: str, python: str, python_version: str, pip_config: str | None = None):
    """
    Create a virtualenv at ``path`` with ``python`` and write its ``pip.conf``.

    + path: the env's directory (e.g. ``/opt/tfprov/envs/tf221``)
    + python: the interpreter that creates it (e.g. ``/usr/bin/python3.11``)
    + python_version: the ``X.Y`` the env must have; an env of another version is re-created
    + pip_config: text of ``PATH/pip.conf`` (see :func:`pip_conf`), or None to leave it

    Distro prerequisites (``python3-venv``) are the deploy's business (``apt.packages``).

    **Example:**

    .. code:: python

        venv.virtualenv(path="/opt/tfprov/envs/tf221", python="/usr/bin/python3.11",
                        python_version="3.11", pip_config=pip_conf(find_links="http://w/"))
    """
    problem = env_name_problem(posixpath.basename(path.rstrip("/")))
    if not path.startswith("/") or problem:
        raise OperationValueError(
            f"not a venv path for tfprov ({path!r}): " + (problem or "must be an absolute path")
        )
    state = host.get_fact(EnvState, path=path)
    qpath = shlex.quote(path)
    have = state["python"]
    if have and not (have + ".").startswith(python_version + "."):
        yield f"rm -rf {qpath}"
        have = None
    if not have:
        yield f"mkdir -p {shlex.quote(path.rstrip('/').rsplit('/', 1)[0] or '/')}"
        yield f"{shlex.quote(python)} -m venv {qpath}"
    conf = path.rstrip("/") + "/pip.conf"
    if pip_config is not None and (not have or state["pip_conf"] != pip_config):
        yield from write_config(conf, pip_config)  # 0600 when it holds credentials
    elif have and pip_config is not None and list(tighten(conf, pip_config)):
        yield from tighten(conf, pip_config)
    elif have:
        host.noop(f"venv {path} exists (Python {have}) with its pip.conf")
