"""TensorFlow itself, installed with pip into a tfprov env."""

from __future__ import annotations

import json
import re
import shlex
from urllib.parse import unquote, urlsplit

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version
from pyinfra import host
from pyinfra.api import OperationError, operation

from tfprov.facts.env import MARKER_NAME, EnvState, env_problems
from tfprov.model.distributions import TF_DISTRIBUTIONS
from tfprov.model.lock_text import lock_subset

LOCK_NAME = "tfprov-lock.txt"  # the lock in the env (tfprov.apply.lockfile uses this name)
REPAIR_NAME = "tfprov-repair.txt"  # the part of the lock a repair reinstalls

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


def wheel_install(pip: str, env: str, target: str, sha256: str, force: bool = False):
    """The commands that install one wheel checked against its sha256, without its
    dependencies (``force``: over an installed copy of it)."""
    req = f"{shlex.quote(env)}/tfprov-wheel.txt"
    again = " --force-reinstall" if force else ""
    return [
        f"printf '%s --hash=sha256:%s\\n' {shlex.quote(target)} {shlex.quote(sha256)} > {req}",
        f"{pip}{again} --require-hashes --no-deps -r {req}",
    ]


def lock_install(pip: str, env: str, lock: str, force: bool = False) -> list[str]:
    """The commands that install the env from a hashed requirement lock: the lock text is
    written into the env (``tfprov-lock.txt``, a quoted here-document: no shell expansion)
    and pip installs exactly it, every file checked against its hash, nothing resolved.
    ``force``: ``lock`` is a part of the env's lock, reinstalled over what is installed
    (from ``tfprov-repair.txt``)."""
    path = f"{shlex.quote(env)}/{REPAIR_NAME if force else LOCK_NAME}"
    body = lock if lock.endswith("\n") else lock + "\n"
    again = " --force-reinstall" if force else ""
    return [
        f"cat > {path} <<'TFPROV_LOCK_EOF'\n{body}TFPROV_LOCK_EOF",
        f"{pip}{again} --require-hashes --no-deps -r {path}",
    ]


def broken_env_error(where: str, problems: list[str]) -> OperationError:
    """The failure of a TensorFlow operation on a broken env with repair off."""
    return OperationError(
        f"the env {where} is broken: {'; '.join(problems)} — repair is off (repair: false), "
        "so it is left as it is"
    )


def marker_command(py: str, env: str, requirement: str, lock_sha256: str | None) -> str:
    """Writes the env's completion marker (``tfprov-env.json``: what was installed, the
    env's Python, the lock's digest, when) with the env's own Python, atomically: the last
    command of an install, so an install cut short leaves no marker."""
    fields = json.dumps({"requirement": requirement, "lock_sha256": lock_sha256})
    path = f"{env.rstrip('/')}/{MARKER_NAME}"
    return f"{py} -c {shlex.quote(_MARKER_SCRIPT)} {shlex.quote(fields)} {shlex.quote(path)}"


_MARKER_SCRIPT = (
    "import json, os, sys, time; d = json.loads(sys.argv[1]); "
    'd["python"] = "%d.%d.%d" % sys.version_info[:3]; '
    'd["written"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()); '
    't = sys.argv[2] + ".tmp"; open(t, "w").write(json.dumps(d, sort_keys=True) + "\\n"); '
    "os.replace(t, sys.argv[2])"
)


def proven(marker: dict | None, requirement: str, lock_sha256: str | None) -> bool:
    """The marker says this requirement (and this lock, when there is one) was installed
    to the end."""
    return bool(
        marker
        and marker.get("requirement") == requirement
        and (not lock_sha256 or marker.get("lock_sha256") == lock_sha256)
    )


def damaged_pins(state: dict, want: str) -> tuple[bool, list[str]]:
    """Whether ``want`` (TensorFlow) is among the distributions whose files do not match
    their RECORD, and ``name==version`` of the others."""
    tf, others = False, []
    for d in state.get("damaged") or []:
        if canonicalize_name(d["name"]) == canonicalize_name(want):
            tf = True
        elif d["version"]:
            others.append(f"{d['name']}=={d['version']}")
    return tf, others


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
    + repair: when the EnvState fact says the env is broken (pip does not work, ``pip
      check`` fails, files differ from their RECORD) or unproven (no completion marker for
      this requirement and lock: an install was cut short), mend it: ``ensurepip`` if pip
      is gone, reinstall (``--force-reinstall --no-deps``) what is damaged or unproven,
      then pip installs the planned requirement together with every requirement ``pip
      check`` names as unmet.  ``repair=False``: fail, saying what is broken, and change
      nothing.  Every install removes the marker first and ends with ``pip check`` and
      the marker
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
    exact = wheel_version(requirement, version)
    pinned = f"{want}=={exact}"
    installed = bool(have and have["package"] == want and same_version(str(have["version"]), exact))
    tf_damaged, damaged = damaged_pins(state, want)  # TF itself is reinstalled as unproven
    unproven = installed and (tf_damaged or not proven(state.get("marker"), pinned, lock_sha256))
    if not repair and (problems or unproven):
        if unproven and not tf_damaged:
            problems.append(f"{want} {exact} has no completion marker ({MARKER_NAME}) for it")
        raise broken_env_error(env, problems)
    if installed and not problems and not unproven:
        host.noop(f"{want} {exact} is installed in {env}")
        return
    py = shlex.quote(env.rstrip("/") + "/bin/python")
    yield f"rm -f {shlex.quote(env.rstrip('/') + '/' + MARKER_NAME)}"
    if state.get("pip_error"):
        yield f"{py} -m ensurepip --upgrade"
    pip = " ".join([f"{py} -m pip install -q", *(shlex.quote(a) for a in pip_args or [])])
    extra = "".join(f" {shlex.quote(r)}" for r in repair_requirements(problems))
    if have and not installed:
        others = [p for p in TF_DISTRIBUTIONS if p != want]
        yield f"{py} -m pip uninstall -y -q {' '.join(others)} || true"
    if lock:
        yield from lock_install(pip, env, lock)
        again = lock_subset(lock, damaged + ([pinned] if unproven else []))
        if again:  # what is installed but cannot be trusted: its locked wheel, again
            yield from lock_install(pip, env, again, force=True)
    else:
        if damaged:
            yield f"{pip} --force-reinstall --no-deps {' '.join(map(shlex.quote, damaged))}"
        target = requirement or f"{package}=={version}"
        if sha256 and (unproven or not installed):
            yield from wheel_install(pip, env, target, sha256, force=installed)
        elif unproven:
            yield f"{pip} --force-reinstall --no-deps {shlex.quote(target)}"
        # the dependencies (the installed wheel is kept) and what pip check names
        deps = f"{package}=={exact}" if installed or sha256 else target
        yield f"{pip} {shlex.quote(deps)}{extra}"
    yield f"{py} -m pip check"  # a finished install is a consistent env
    yield marker_command(py, env, pinned, lock_sha256)
