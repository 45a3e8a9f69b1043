"""Which host interpreter can make a venv, and what it needs first.

From the probe (:class:`tfprov.facts.python.Pythons`): ``venv`` says whether venv and
ensurepip work, ``venv_package`` which distro package adds them, ``distro_package`` who
owns the interpreter.  A profile without those fields (written by hand, or by an older
probe) is judged by the path: on Debian/Ubuntu an interpreter in /usr/bin (or of unknown
path) is taken to be the distro's, which needs the distro's venv package (Debian/Ubuntu:
``python3.X-venv``, ``distros.yaml`` ``venv_package``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tfprov.model.profile import HostProfile, PythonInfo
from tfprov.model.versions import V, minor_of


@dataclass(frozen=True)
class VenvPython:
    """An interpreter that can make a venv: its version and path, whether it is the
    distro's, the package to install first (or None) and why it qualifies."""

    version: str
    path: str | None
    distro: bool
    package: str | None
    why: str


def venv_route(p: PythonInfo, venv_package: str | None) -> VenvPython | str:
    """The way ``p`` makes a venv, or why it cannot (a text).  ``venv_package``: the
    template of the distro's venv package (``python{minor}-venv``), None where none."""
    minor = minor_of(p.version)
    if p.venv is None:  # not probed
        distro = venv_package is not None and (p.path is None or p.path.startswith("/usr/bin/"))
        if distro:
            package = venv_package.format(minor=minor)
            why = f"venv support not probed: the distro's {package} will be installed"
            return VenvPython(p.version, p.path, True, package, why)
        return VenvPython(p.version, p.path, False, None, "venv support not probed")
    distro = p.distro_package is not None
    if p.venv:
        return VenvPython(p.version, p.path, distro, None, "venv and ensurepip present")
    if p.venv_package:
        why = f"no venv/ensurepip yet: {p.venv_package} will be installed"
        return VenvPython(p.version, p.path, distro, p.venv_package, why)
    if distro:
        return "no venv/ensurepip, and no package for them is available from the package lists"
    return "no venv/ensurepip (the build lacks them)"


def venv_pythons(
    profile: HostProfile, venv_package: str | None
) -> tuple[dict[str, VenvPython], dict[str, str]]:
    """(minor -> the interpreter a system venv uses, minor -> why none of that minor can),
    preferring the distro's interpreter, then the newest patch."""
    best: dict[str, VenvPython] = {}
    unable: dict[str, str] = {}
    for p in profile.pythons:
        minor = minor_of(p.version)
        route = venv_route(p, venv_package)
        if isinstance(route, str):
            unable.setdefault(minor, f"{p.version} at {p.path or '?'}: {route}")
            continue
        have = best.get(minor)
        if have is None or (route.distro, V(route.version)) > (have.distro, V(have.version)):
            best[minor] = route
    for minor in best:
        unable.pop(minor, None)
    return best, unable
