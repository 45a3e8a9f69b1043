"""TensorFlow itself, installed with pip into a tfprov env."""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import operation

from ..facts.env import EnvState

# TensorFlow distributions that conflict with each other inside one env.
CONFLICTING = (
    "tensorflow",
    "tensorflow-gpu",
    "tensorflow-cpu",
    "tensorflow-intel",
    "tf-nightly",
    "tf-nightly-gpu",
    "tf-nightly-cpu",
)


def _base_name(package: str) -> str:
    return package.split("[", 1)[0].strip().lower()


@operation()
def tensorflow(
    env: str,
    package: str,
    version: str,
    requirement: str | None = None,
    pip_args: list[str] | None = None,
    sha256: str | None = None,
):
    """
    Install TensorFlow ``package==version`` into the env at ``env`` with its own pip,
    removing other TensorFlow distributions first.

    + env: the env's directory (its ``bin/python`` is used)
    + package: the distribution as planned (``tensorflow-cpu``, ``tensorflow[and-cuda]`` …)
    + version: the version as planned
    + requirement: what to install, if not ``package==version`` (e.g. a wheel's URL or path)
    + pip_args: extra pip arguments (``--no-index``, ``--find-links URL`` …)
    + sha256: for a single wheel (``requirement`` a file or URL): its expected sha256;
      pip then installs it with ``--require-hashes`` and refuses any other content

    **Example:**

    .. code:: python

        tensorflow.tensorflow(env="/opt/tfprov/envs/tf221", package="tensorflow-cpu",
                              version="2.21.0", pip_args=["--no-index", "--find-links", url])
    """
    state = host.get_fact(EnvState, path=env)
    have = state["tensorflow"]
    want = _base_name(package)
    if have and have["package"] == want and have["version"] == version:
        host.noop(f"{want} {version} is installed in {env}")
        return
    py = shlex.quote(env.rstrip("/") + "/bin/python")
    others = [p for p in CONFLICTING if p != want]
    if have:
        yield f"{py} -m pip uninstall -y -q {' '.join(others)} || true"
    pip = " ".join([f"{py} -m pip install -q", *(shlex.quote(a) for a in pip_args or [])])
    target = requirement or f"{package}=={version}"
    if sha256:
        # a single wheel: pip checks it against the hash before installing anything
        yield (
            f"printf '%s --hash=sha256:%s\\n' {shlex.quote(target)} {shlex.quote(sha256)}"
            f" > {shlex.quote(env)}/tfprov-wheel.txt"
        )
        yield f"{pip} --require-hashes --no-deps -r {shlex.quote(env)}/tfprov-wheel.txt"
        yield f"{pip} {shlex.quote(target)}"
    else:
        yield f"{pip} {shlex.quote(target)}"
