"""TensorFlow itself, installed with pip into a tfprov env."""

from __future__ import annotations

import re
import shlex
from urllib.parse import unquote, urlsplit

from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version
from pyinfra import host
from pyinfra.api import OperationError, operation

from tfprov.facts.env import EnvState, env_problems
from tfprov.model.distributions import TF_DISTRIBUTIONS

LOCK_NAME = "tfprov-lock.txt"  # the lock in the env (tfprov.apply.lockfile uses this name)

# the two kinds of line ``pip check`` prints for a broken env (pip's commands/check.py)
_CONFLICT = re.compile(r"^\S+ \S+ has requirement (.+), but you have \S+ \S+\.$")
_MISSING = re.compile(r"^\S+ \S+ requires (\S+), which is not installed\.$")


def _base_name(package: str) -> str:
    return package.split("[", 1)[0].strip().lower()


def repair_requirements(problems: list[str]) -> list[str]:
    """What a repair installs besides the planned requirement: each requirement ``pip
    check`` names as unmet (``numpy>=2.0.0`` of "ml-dtypes 0.7.0 has requirement
    numpy>=2.0.0, but you have numpy 1.25.2."), so one pip run mends all of them."""
    out: list[str] = []
    for line in problems:
        m = _CONFLICT.match(line) or _MISSING.match(line)
        req = m.group(1).split(";", 1)[0].strip() if m else None
        if req and req not in out:
            out.append(req)
    return out


def wheel_version(requirement: str | None, version: str) -> str:
    """The exact version a wheel file or URL installs, local label included (``2.21.0+sse42.cpu``
    of ``…/tensorflow-2.21.0+sse42.cpu-cp311-cp311-linux_x86_64.whl``); ``version`` when
    there is no such wheel name."""
    if not requirement:
        return version
    name = unquote(urlsplit(requirement).path.rstrip("/").rsplit("/", 1)[-1])
    try:
        return str(parse_wheel_filename(name)[1])
    except InvalidWheelFilename:
        return version


def same_version(a: str, b: str) -> bool:
    """Equal as PEP 440 versions, the local label counting (``2.21.0+sse42.cpu`` is not
    ``2.21.0``)."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def wheel_install(pip: str, env: str, package: str, exact: str, target: str, sha256: str):
    """The commands that install one wheel checked against its sha256: pip fetches it once,
    checks the hash and installs it without dependencies; the second pip run installs only
    the dependencies (``package==exact`` is then the installed wheel, which pip keeps and
    does not fetch again)."""
    req = f"{shlex.quote(env)}/tfprov-wheel.txt"
    return [
        f"printf '%s --hash=sha256:%s\\n' {shlex.quote(target)} {shlex.quote(sha256)} > {req}",
        f"{pip} --require-hashes --no-deps -r {req}",
        f"{pip} {shlex.quote(f'{package}=={exact}')}",
    ]


def lock_install(pip: str, env: str, lock: str) -> list[str]:
    """The commands that install the env from a hashed requirement lock: the lock text is
    written into the env (``tfprov-lock.txt``, a quoted here-document: no shell expansion)
    and pip installs exactly it, every file checked against its hash, nothing resolved."""
    path = f"{shlex.quote(env)}/{LOCK_NAME}"
    body = lock if lock.endswith("\n") else lock + "\n"
    return [
        f"cat > {path} <<'TFPROV_LOCK_EOF'\n{body}TFPROV_LOCK_EOF",
        f"{pip} --require-hashes --no-deps -r {path}",
    ]


def broken_env_error(where: str, problems: list[str]) -> OperationError:
    """The failure of a TensorFlow operation on a broken env with repair off."""
    return OperationError(
        f"the env {where} is broken: {'; '.join(problems)} — repair is off (repair: false), "
        "so it is left as it is"
    )


@operation()
def tensorflow(
    env: str,
    package: str,
    version: str,
    requirement: str | None = None,
    pip_args: list[str] | None = None,
    sha256: str | None = None,
    repair: bool = True,
    lock: str | None = None,
    lock_sha256: str | None = None,
):
    """
    Install TensorFlow ``package==version`` into the env at ``env`` with its own pip,
    removing other TensorFlow distributions first; repair the env when it is broken.

    + env: the env's directory (its ``bin/python`` is used)
    + package: the distribution as planned (``tensorflow-cpu``, ``tensorflow[and-cuda]`` …)
    + version: the version as planned (a wheel's own version, with its local label, is
      read from its file name: that is what "installed" compares)
    + requirement: what to install, if not ``package==version`` (e.g. a wheel's URL or path)
    + pip_args: extra pip arguments (``--no-index``, ``--find-links URL`` …)
    + sha256: for a single wheel (``requirement`` a file or URL): its expected sha256;
      pip then installs it with ``--require-hashes`` and refuses any other content; it is
      fetched once (the dependencies are installed by a second pip run that keeps it)
    + repair: when the EnvState fact says the env is broken (pip does not work, or ``pip
      check`` fails), mend it: ``ensurepip`` if pip is gone, then pip installs the planned
      requirement together with every requirement ``pip check`` names as unmet, and
      ``pip check`` must pass afterwards.  ``repair=False``: fail, saying what is broken,
      and change nothing
    + lock: a hashed requirement lock (``uv pip compile --generate-hashes`` text) of the
      whole env: pip installs exactly it with ``--require-hashes --no-deps`` (a repair
      reinstalls it too); the planned wheel's pin is in it
    + lock_sha256: the lock's digest; an env whose completion marker records another
      lock is reinstalled from this one

    **Example:**

    .. code:: python

        tensorflow.tensorflow(env="/opt/tfprov/envs/tf221", package="tensorflow-cpu",
                              version="2.21.0", pip_args=["--no-index", "--find-links", url])
    """
    state = host.get_fact(EnvState, path=env)
    have = state["tensorflow"]
    want = _base_name(package)
    problems = env_problems(state)
    if problems and not repair:
        raise broken_env_error(env, problems)
    exact = wheel_version(requirement, version)
    installed = bool(have and have["package"] == want and same_version(str(have["version"]), exact))
    marker = state.get("marker") or {}
    if installed and lock_sha256 and marker and marker.get("lock_sha256") != lock_sha256:
        installed = False  # built from another lock (or none): reinstall from this one
    if installed and not problems:
        host.noop(f"{want} {exact} is installed in {env}")
        return
    py = shlex.quote(env.rstrip("/") + "/bin/python")
    if state.get("pip_error"):
        yield f"{py} -m ensurepip --upgrade"
    pip = " ".join([f"{py} -m pip install -q", *(shlex.quote(a) for a in pip_args or [])])
    extra = "".join(f" {shlex.quote(r)}" for r in repair_requirements(problems))
    if lock:
        if have and not installed:
            others = [p for p in TF_DISTRIBUTIONS if p != want]
            yield f"{py} -m pip uninstall -y -q {' '.join(others)} || true"
        yield from lock_install(pip, env, lock)
    elif installed:
        # only the env is broken: the planned requirement (kept, it is installed) and what
        # pip check names, resolved together
        yield f"{pip} {shlex.quote(f'{package}=={exact}')}{extra}"
    else:
        others = [p for p in TF_DISTRIBUTIONS if p != want]
        if have:
            yield f"{py} -m pip uninstall -y -q {' '.join(others)} || true"
        target = requirement or f"{package}=={version}"
        if sha256:
            *wheel, deps = wheel_install(pip, env, package, exact, target, sha256)
            yield from wheel
            yield f"{deps}{extra}"
        else:
            yield f"{pip} {shlex.quote(target)}{extra}"
    if problems:
        yield f"{py} -m pip check"  # the repair must leave a consistent env
