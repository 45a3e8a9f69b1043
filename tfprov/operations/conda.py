"""
conda for TensorFlow stacks: a verified Miniforge installation, its ``.condarc``, and one
conda env per stack (``tf215``, ``tf1`` ... side by side), conda packages first and pip
packages after.

Every location is an argument (apply passes the host's download sources); the Miniforge
installer is only ever run after its sha256 matched.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from io import StringIO

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pyinfra import host
from pyinfra.api import FileUploadCommand, OperationError, OperationValueError, operation
from pyinfra.facts.files import Directory, File, Sha256File
from pyinfra.facts.server import Arch

from tfprov.facts.conda_env import CondaEnvPackages
from tfprov.model.names import env_name_problem
from tfprov.model.pip_index import PipIndex
from tfprov.model.redact import has_credentials
from tfprov.operations.private_file import write_private

# Miniforge3 26.1.1-3, the Linux installers and their sha256 as pinned by Spack:
# spack/spack-packages, repos/spack_repo/builtin/packages/miniforge3/package.py at commit
# 96b3e8eb6f36fccccf6ebdcbf2c13f8f9b6feef0 ("miniforge3: add 26.1.1-3 (#3405)"; Spack
# builds the URL as releases/download/<ver>/Miniforge3-<ver>-Linux-<arch>.sh).  The x86_64
# hash is also pinned, for the same release, by independent public Dockerfiles and install
# notes (found with the search tool).  To update: take both values from one trusted source
# (the release's own ``<installer>.sha256`` files on GitHub), never from the download itself.
MINIFORGE_INSTALLERS: dict[str, dict[str, str]] = {
    "x86_64": {
        "url": "https://github.com/conda-forge/miniforge/releases/download/26.1.1-3/"
        "Miniforge3-26.1.1-3-Linux-x86_64.sh",
        "sha256": "b25b828b702df4dd2a6d24d4eb56cfa912471dd8e3342cde2c3d86fe3dc2d870",
    },
    "aarch64": {
        "url": "https://github.com/conda-forge/miniforge/releases/download/26.1.1-3/"
        "Miniforge3-26.1.1-3-Linux-aarch64.sh",
        "sha256": "83280e4ee71a5bd547d6b318f96e9ababe1054911ff6cc2b8801ce5493fe67e5",
    },
}

_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PYTHON = re.compile(r"^(\d+)\.(\d+)")

q = shlex.quote


# -- shared helpers ------------------------------------------------------------------------


def _prefix(prefix: str) -> str:
    prefix = (prefix or "").rstrip("/")
    if not prefix.startswith("/"):
        raise OperationValueError(f"conda prefix must be an absolute path, not {prefix!r}")
    return prefix


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _upload(dest: str, text: str) -> Iterator:
    """Write *text* to *dest* (its directory created first)."""
    yield f"mkdir -p {q(posixpath.dirname(dest))}"
    yield FileUploadCommand(StringIO(text), dest, remote_temp_filename=host.get_temp_filename(dest))


def _yaml_scalar(value: str) -> str:
    """*value* as a YAML scalar: plain when unambiguous, else JSON-quoted."""
    plain = re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./:@+~-]*", value) and not re.fullmatch(
        r"[-+.0-9eE]+|true|false|yes|no|on|off|null|y|n", value, re.IGNORECASE
    )
    return value if plain else json.dumps(value)


# -- miniforge -----------------------------------------------------------------------------


def _explicit_installer(
    installer_url: str | None, sha256: str | None
) -> tuple[str | None, str | None]:
    """The installer URL and sha256 given, checked; (None, None) when none is given (then
    the pinned default for the host's arch)."""
    if installer_url is None:
        if sha256 is not None:
            raise OperationValueError("sha256 given without installer_url")
        return None, None
    if not sha256:
        raise OperationValueError(
            f"refusing to run the Miniforge installer {installer_url} unverified: "
            "give its sha256 (argument sha256 or inventory miniforge_sha256)"
        )
    sha256 = sha256.strip().lower()
    if not _SHA256.match(sha256):
        raise OperationValueError(f"not a sha256 (64 hex digits): {sha256!r}")
    return installer_url, sha256


@operation()
def miniforge(
    prefix: str,
    installer_url: str | None = None,
    sha256: str | None = None,
):
    """
    Install Miniforge (conda from conda-forge) unattended into ``prefix``.

    + prefix: install directory (the ``conda_prefix`` source, ``/opt/tfprov/miniforge3``)
    + installer_url: the Miniforge installer (``Miniforge3-<ver>-Linux-<arch>.sh``, the
      ``miniforge_url`` source); None: the pinned :data:`MINIFORGE_INSTALLERS` entry of the
      host's architecture
    + sha256: the installer's sha256; required with any installer_url (the
      ``miniforge_sha256`` source)

    The installer is downloaded to a temporary file and run (``bash FILE -b -p PREFIX``)
    only if ``sha256sum -c`` accepts it: a different hash fails the operation before the
    installer runs.  Nothing is done when ``PREFIX/bin/conda`` exists.  A ``PREFIX``
    directory without conda (a broken earlier install) is installed over (``-u``).

    **Example:**

    .. code:: python

        from tfprov.operations import conda
        conda.miniforge(name="Install Miniforge", prefix="/opt/tfprov/miniforge3")
    """
    prefix = _prefix(prefix)
    installer_url, sha256 = _explicit_installer(installer_url, sha256)

    if host.get_fact(File, path=f"{prefix}/bin/conda"):
        host.noop(f"conda is already installed in {prefix}")
        return

    if installer_url is None:
        arch = str(host.get_fact(Arch) or "").strip()
        pinned = MINIFORGE_INSTALLERS.get(_ARCH_ALIASES.get(arch, arch))
        if pinned is None:
            raise OperationError(
                f"no pinned Miniforge installer for architecture {arch!r}: "
                "set miniforge_url and miniforge_sha256"
            )
        installer_url, sha256 = pinned["url"], pinned["sha256"]
    assert sha256 is not None
    update = "-u " if host.get_fact(Directory, path=prefix) else ""

    tmp = host.get_temp_filename(f"tfprov-miniforge-{sha256}")
    yield (
        f"if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o {q(tmp)} "
        f"{q(installer_url)}; else wget -q -O {q(tmp)} {q(installer_url)}; fi"
    )
    # One command: the installer can only run after the check succeeded.
    yield (
        f"echo {q(f'{sha256}  {tmp}')} | sha256sum -c - && bash {q(tmp)} -b {update}-p {q(prefix)}"
    )
    yield f"rm -f {q(tmp)}"


# -- condarc -------------------------------------------------------------------------------


def condarc_text(
    channels: list[str],
    channel_alias: str | None = None,
    custom_channels: dict[str, str] | None = None,
) -> str:
    """The ``.condarc`` tfprov writes (strict channel priority, no conda self-update)."""
    lines = [
        "# Managed by tfprov (tfprov.operations.conda.condarc); changes here are overwritten.",
        "channels:",
        *(f"  - {_yaml_scalar(c)}" for c in channels),
    ]
    if channel_alias:
        lines.append(f"channel_alias: {_yaml_scalar(channel_alias)}")
    if custom_channels:
        lines.append("custom_channels:")
        lines.extend(
            f"  {_yaml_scalar(k)}: {_yaml_scalar(v)}" for k, v in sorted(custom_channels.items())
        )
    lines += ["channel_priority: strict", "auto_update_conda: false"]
    return "\n".join(lines) + "\n"


@operation()
def condarc(
    prefix: str,
    channels: list[str],
    channel_alias: str | None = None,
    custom_channels: dict[str, str] | None = None,
):
    """
    Write the conda installation's own configuration, ``PREFIX/.condarc``.

    + prefix: the conda installation
    + channels: channels in priority order (the ``conda_channels`` source, default
      ``["conda-forge"]``)
    + channel_alias: base URL that channel names resolve against (a mirror of
      ``https://conda.anaconda.org``; the ``conda_channel_alias`` source)
    + custom_channels: per-channel mirrors, ``{channel: base URL}`` (conda looks up
      ``<base URL>/<channel>``)

    The file also sets ``channel_priority: strict`` and ``auto_update_conda: false``.
    Compared by content (sha256): an unchanged file is left alone.

    **Example:**

    .. code:: python

        conda.condarc(
            name="conda channels from the lab mirror",
            prefix="/opt/tfprov/miniforge3",
            channels=["conda-forge", "nvidia"],
            channel_alias="https://mirror.lab/conda",
        )
    """
    prefix = _prefix(prefix)
    channels = list(channels or [])
    if not channels or not all(isinstance(c, str) and c.strip() for c in channels):
        raise OperationValueError(f"channels must be a non-empty list of names: {channels!r}")
    text = condarc_text(channels, channel_alias, custom_channels)
    dest = f"{prefix}/.condarc"

    if host.get_fact(Sha256File, path=dest) == _sha256_text(text):
        host.noop(f"{dest} is up to date")
        return
    # a channel_alias / custom channel with credentials: the file is 0600 (upload only)
    yield from (write_private if has_credentials(text) else _upload)(dest, text)


# -- env -----------------------------------------------------------------------------------


def _fuzzy(want: str) -> Callable[[str], bool]:
    """conda's ``=1.2`` / ``1.2.*``: that version or any below it."""
    want = want.rstrip("*").rstrip(".")
    return lambda have: have == want or have.startswith(want + ".")


def _exact(want: str) -> Callable[[str], bool]:
    def ok(have: str) -> bool:
        try:
            return Version(have) == Version(want)
        except InvalidVersion:
            return have == want

    return ok


def _ranges(text: str) -> Callable[[str], bool]:
    """conda's ``>=1.2,<2|==3.0``: comma is "and", ``|`` is "or"."""
    try:
        alternatives = [SpecifierSet(part) for part in text.split("|")]
    except InvalidSpecifier:
        raise OperationValueError(f"conda version constraint not understood: {text!r}") from None

    def ok(have: str) -> bool:
        try:
            version = Version(have)
        except InvalidVersion:
            return False  # cannot tell: install, conda decides
        return any(s.contains(version, prereleases=True) for s in alternatives)

    return ok


_CONDA_SPEC = re.compile(
    r"^(?:[^\s:]+(?::[^\s:]+)*::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.+-]*)(?P<rest>.*)$"
)


def parse_conda_spec(spec: str) -> tuple[str, Callable[[str], bool]]:
    """A conda match spec -> (name, test of an installed version).

    Understood: ``name``, ``name=1.2`` (1.2.*), ``name==1.2``, ``name 1.2 [build]``,
    ``name=1.2=build``, ``name>=1.2,<2`` (``|`` for "or"), with an optional ``channel::``;
    build strings are not compared.
    """
    m = _CONDA_SPEC.match(spec.strip())
    if not m:
        raise OperationValueError(f"conda package spec not understood: {spec!r}")
    name, rest = m["name"].lower(), m["rest"].strip()
    if not rest:
        return name, lambda have: True
    if rest.startswith("=="):
        want = rest[2:].split("=")[0]
        return name, _fuzzy(want) if "*" in want else _exact(want)
    if rest.startswith("="):
        return name, _fuzzy(rest[1:].split("=")[0])
    if rest[0].isdigit():
        want = rest.split()[0]
        return name, _fuzzy(want) if "*" in want else _exact(want)
    if rest[0] in "<>!~":
        return name, _ranges(rest.replace(" ", ""))
    raise OperationValueError(f"conda package spec not understood: {spec!r}")


def _pip_norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pip_spec(spec: str) -> Requirement:
    try:
        return Requirement(spec)
    except InvalidRequirement:
        raise OperationValueError(f"pip requirement not understood: {spec!r}") from None


def _pip_satisfied(req: Requirement, installed: dict[str, str]) -> bool:
    have = installed.get(_pip_norm(req.name))
    if have is None:
        return False
    if req.url:
        return True
    try:
        return req.specifier.contains(Version(have), prereleases=True)
    except InvalidVersion:
        return False


def cuda_hooks(env_name: str, python: str) -> tuple[str, str]:
    """The conda ``activate.d`` and ``deactivate.d`` scripts (POSIX sh, sourced by bash and
    zsh too) that put ``$CONDA_PREFIX/lib`` and the ``lib`` directories of pip's nvidia-*
    wheels on ``LD_LIBRARY_PATH``, and restore the previous value (unset stays unset)."""
    m = _PYTHON.match(python)
    if not m:
        raise OperationValueError(f"python must start with MAJOR.MINOR, not {python!r}")
    site = f"$CONDA_PREFIX/lib/python{m[1]}.{m[2]}/site-packages"
    var = re.sub(r"[^A-Za-z0-9_]", "_", env_name)
    saved, old = f"TFPROV_CUDA_SAVED_{var}", f"TFPROV_CUDA_OLD_{var}"
    activate = f"""\
# Managed by tfprov (tfprov.operations.conda.env): puts the CUDA libraries of conda env
# {env_name} on LD_LIBRARY_PATH; deactivate.d/tfprov-cuda.sh restores the previous value.
if [ -n "${{LD_LIBRARY_PATH+x}}" ]; then
    {saved}=set
    {old}=$LD_LIBRARY_PATH
else
    {saved}=unset
    {old}=
fi
export {saved} {old}
tfprov_cuda_dirs=$CONDA_PREFIX/lib
tfprov_cuda_nv=$(find "{site}/nvidia" -mindepth 2 -maxdepth 2 -type d -name lib \\
    2>/dev/null | LC_ALL=C sort | tr '\\n' ':')
if [ -n "$tfprov_cuda_nv" ]; then
    tfprov_cuda_dirs=$tfprov_cuda_dirs:${{tfprov_cuda_nv%:}}
fi
if [ -n "${{LD_LIBRARY_PATH:-}}" ]; then
    export LD_LIBRARY_PATH="$tfprov_cuda_dirs:$LD_LIBRARY_PATH"
else
    export LD_LIBRARY_PATH="$tfprov_cuda_dirs"
fi
unset tfprov_cuda_dirs tfprov_cuda_nv
"""
    deactivate = f"""\
# Managed by tfprov (tfprov.operations.conda.env): restores LD_LIBRARY_PATH as it was
# before activate.d/tfprov-cuda.sh of conda env {env_name} changed it.
case "${{{saved}:-}}" in
    set) export LD_LIBRARY_PATH="${old}" ;;
    unset) unset LD_LIBRARY_PATH ;;
esac
unset {saved} {old}
"""
    return activate, deactivate


def env_specs(env_name, python, conda_packages, pip_packages):
    """Validate a conda env request and parse its specs (the same on every OS): returns
    ``(conda_specs, conda_checks, pip_specs, pip_reqs)``, with ``pip`` added to the conda
    packages when pip packages follow."""
    if env_name_problem(env_name):
        raise OperationValueError(f"not a name for a tfprov conda env: {env_name!r}")
    if not _PYTHON.match(python or ""):
        raise OperationValueError(f"python must start with MAJOR.MINOR, not {python!r}")
    conda_specs = [f"python={python}", *(conda_packages or [])]
    conda_checks = [parse_conda_spec(s) for s in conda_specs]
    if [n for n, _ in conda_checks].count("python") > 1:
        raise OperationValueError("give the Python version as python=..., not in conda_packages")
    pip_specs = list(pip_packages or [])
    pip_reqs = [parse_pip_spec(s) for s in pip_specs]
    if pip_specs and "pip" not in (n for n, _ in conda_checks):
        conda_specs.append("pip")
        conda_checks.append(parse_conda_spec("pip"))
    return conda_specs, conda_checks, pip_specs, pip_reqs


def env_changes(state: dict, conda_specs, conda_checks, pip_specs, pip_reqs):
    """What a conda env lacks, the same rule on every OS: conda packages first, pip after;
    an env that already has pip packages is re-created rather than given conda packages.

    Returns ``(exists, fresh, recreate, conda_missing, pip_missing, have_conda)``.
    """
    exists = bool(state["exists"])
    have_conda = {k.lower(): str(v) for k, v in (state["conda"] or {}).items()}
    have_pip = {_pip_norm(k): str(v) for k, v in (state["pip"] or {}).items()}
    conda_missing = [
        spec
        for spec, (pkg, ok) in zip(conda_specs, conda_checks, strict=True)
        if not exists or pkg not in have_conda or not ok(have_conda[pkg])
    ]
    recreate = exists and bool(conda_missing) and bool(have_pip)
    fresh = not exists or recreate
    if fresh:
        pip_missing = list(pip_specs)
    else:
        installed = {_pip_norm(k): v for k, v in have_conda.items()} | have_pip
        pip_missing = [
            spec
            for spec, req in zip(pip_specs, pip_reqs, strict=True)
            if not _pip_satisfied(req, installed)
        ]
    return exists, fresh, recreate, conda_missing, pip_missing, have_conda


@operation()
def env(
    prefix: str,
    *,
    env_name: str,
    python: str,
    conda_packages: list[str] | None = None,
    pip_packages: list[str] | None = None,
    pip_index: PipIndex | dict,
    cuda_lib_hooks: bool = False,
):
    """
    Make the conda env ``PREFIX/envs/ENV_NAME`` hold the planned Python and packages.

    + prefix: the conda installation
    + env_name: the env, one per stack (``tf215``, ``tf1`` ...); pyinfra reserves ``name``
    + python: the Python version, as conda's ``python=<python>`` (``3.11`` means 3.11.*)
    + conda_packages: conda match specs (``cudatoolkit=11.8``, ``cudnn>=8.6,<9``)
    + pip_packages: pip requirements, installed after the conda packages
      (``tensorflow==2.15.1``)
    + pip_index: where pip installs from (:class:`tfprov.model.pip_index.PipIndex`, or a
      mapping of its fields): index, extra index, find-links, no index
    + cuda_lib_hooks: write ``etc/conda/activate.d/tfprov-cuda.sh`` and
      ``deactivate.d/tfprov-cuda.sh`` in the env, which put ``$CONDA_PREFIX/lib`` and the
      ``nvidia/*/lib`` directories of pip's nvidia-* wheels on ``LD_LIBRARY_PATH`` and
      restore the previous value (with False, existing hooks are left alone)

    Conda packages always go in before pip packages.  When conda packages are missing (or
    of another version) in an env that already holds pip-installed packages, the env is
    removed and created again rather than mixing conda over pip.  Versions are compared by
    version only (not build strings); pip requirements are checked against what pip and
    conda installed.

    **Example:**

    .. code:: python

        conda.env(
            name="TensorFlow 2.15 env",
            prefix="/opt/tfprov/miniforge3",
            env_name="tf215",
            python="3.11",
            pip_packages=["tensorflow[and-cuda]==2.15.1"],
            pip_index=PipIndex(index_url="https://pypi.org/simple"),
            cuda_lib_hooks=True,
        )
    """
    prefix = _prefix(prefix)
    index = pip_index if isinstance(pip_index, PipIndex) else PipIndex(**pip_index)
    conda_specs, conda_checks, pip_specs, pip_reqs = env_specs(
        env_name, python, conda_packages, pip_packages
    )

    env_path = f"{prefix}/envs/{env_name}"
    hook_files: list[tuple[str, str]] = []
    if cuda_lib_hooks:
        activate, deactivate = cuda_hooks(env_name, python)
        hook_files = [
            (f"{env_path}/etc/conda/activate.d/tfprov-cuda.sh", activate),
            (f"{env_path}/etc/conda/deactivate.d/tfprov-cuda.sh", deactivate),
        ]

    # Facts first.
    state = host.get_fact(CondaEnvPackages, prefix=prefix, env_name=env_name)
    exists, fresh, recreate, conda_missing, pip_missing, have_conda = env_changes(
        state, conda_specs, conda_checks, pip_specs, pip_reqs
    )
    hooks_to_write = [
        (path, text)
        for path, text in hook_files
        if fresh or host.get_fact(Sha256File, path=path) != _sha256_text(text)
    ]

    if not (fresh or conda_missing or pip_missing or hooks_to_write):
        host.noop(
            f"conda env {env_name} in {prefix} is up to date "
            f"(Python {have_conda.get('python', '?')})"
        )
        return

    conda = q(f"{prefix}/bin/conda")
    qenv = q(env_path)
    specs = " ".join(q(s) for s in conda_specs)
    if recreate:
        # conda packages would have to go in over pip-installed ones: start again
        yield f"{conda} remove -y -q -p {qenv} --all"
        yield f"rm -rf {qenv}"
    if fresh:
        yield f"{conda} create -y -q -p {qenv} {specs}"
    elif conda_missing:
        yield f"{conda} install -y -q -p {qenv} {specs}"

    if pip_missing:
        conf = index.conf()
        if has_credentials(conf):
            # credentials go in the env's own pip.conf (0600; pip reads sys.prefix's
            # pip.conf), never on the pip command line that `ps` and `-vv` show
            yield from write_private(f"{env_path}/pip.conf", conf)
            args = ["--no-input", "--disable-pip-version-check"] + [q(s) for s in pip_missing]
        else:
            args = [q(a) for a in index.args()] + [q(s) for s in pip_missing]
        yield f"{q(env_path + '/bin/python')} -m pip install {' '.join(args)}"

    for path, text in hooks_to_write:
        yield from _upload(path, text)
