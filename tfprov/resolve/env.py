"""The environment manager (venv or conda) and the Python in it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tfprov.model.versions import V, cc_tuple
from tfprov.resolve.context import Ctx, Part, fail
from tfprov.resolve.host_view import HostView

if TYPE_CHECKING:
    from tfprov.resolve.builds import Build


def choose_env(ctx: Ctx, b: Build, cuda_origin: str | None, reasons):
    host, spec = ctx.host, ctx.spec
    env_name = spec.env_name or f"tf{b.release.key[0]}{b.release.key[1]}"
    host_pys = [p for p in b.pythons if p in host.venv]  # those that can make a venv
    needs_conda = cuda_origin == "conda" or b.origin.startswith("conda:")
    manager = spec.env_manager
    if manager == "venv" and needs_conda:
        raise fail(ctx, lambda: "env_manager: venv, but this build's CUDA comes from conda")
    if manager == "auto":
        manager = "conda" if needs_conda or not host_pys else "venv"
    if spec.python:
        py = spec.python
    elif manager == "venv":
        if not host_pys:
            raise fail(
                ctx,
                lambda: (
                    f"env_manager: venv needs Python {py_list(b.pythons)} that can make a "
                    f"venv; host has {_host_pythons(host)}"
                ),
            )
        py = _system_first(host, host_pys)
    else:
        py = b.pythons[-1]
    if manager == "venv":
        vp = host.venv.get(py)
        if vp is None:
            raise fail(
                ctx,
                lambda: (
                    f"env_manager: venv needs Python {py} on the host that can make a venv; "
                    f"host has {_host_pythons(host)}"
                ),
            )
        preferred = vp.distro and any(V(p) > V(py) and not host.venv[p].distro for p in host_pys)
        python = Part(
            action="keep",
            version=vp.version,
            origin="host",
            source="host",
            path=vp.path,
            venv_package=vp.package,
            reason=f"host Python {vp.version}"
            + (f" ({vp.path})" if vp.path else "")
            + f" is supported by TF {b.version}"
            + ("; the distro's interpreter, preferred for a system env" if preferred else "")
            + f"; {vp.why}",
        )
        env = Part(
            action="install",
            manager="venv",
            name=env_name,
            reason="host Python fits" + ("" if spec.env_manager == "venv" else "; no conda needed"),
        )
    else:
        conda = host.profile.conda
        python = Part(
            action="install",
            version=py,
            origin="conda",
            source="conda",
            reason=f"newest Python TF {b.version} supports here"
            if not spec.python
            else "requested",
        )
        why = (
            "CUDA comes from conda"
            if cuda_origin == "conda"
            else "the build comes from conda"
            if needs_conda
            else _no_host_python(host, b)
            if not host_pys
            else "requested"
        )
        env = Part(
            action="keep" if conda and env_name in conda.envs else "install",
            manager="conda",
            name=env_name,
            reason=why + ("" if conda else "; conda will be installed (Miniforge)"),
        )
    reasons.append(f"Python {python.version} in {env.manager} env '{env.name}' ({env.reason})")
    if manager == "venv":
        reasons.append(f"Python: {python.reason}")
    return env, python


def _system_first(host: HostView, minors: list[str]) -> str:
    """The minor a system venv uses: the newest one the distro's interpreter has, else
    the newest."""
    distro = [p for p in minors if host.venv[p].distro]
    return (distro or minors)[-1]


def _host_pythons(host: HostView) -> str:
    """The host's interpreters for a refusal: the venv-capable ones, then why the others
    cannot."""
    have = [host.venv[p].version for p in sorted(host.venv, key=V)]
    have += [host.no_venv[p] for p in sorted(host.no_venv, key=V)]
    return "; ".join(have) or "none"


def _no_host_python(host: HostView, b: Build) -> str:
    unable = [host.no_venv[p] for p in b.pythons if p in host.no_venv]
    if unable:
        return "no host Python that TF supports can make a venv (" + "; ".join(unable) + ")"
    return "no host Python that TF supports"


def py_list(pys) -> str:
    pys = list(pys)
    if len(pys) > 2 and all(
        cc_tuple(b)[0] == cc_tuple(a)[0] and cc_tuple(b)[1] == cc_tuple(a)[1] + 1
        for a, b in zip(pys, pys[1:], strict=False)
    ):
        return f"{pys[0]}–{pys[-1]}"
    return ", ".join(pys)
