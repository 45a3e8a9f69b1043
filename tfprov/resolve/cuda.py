"""Where CUDA and cuDNN come from: pip wheels (tensorflow[and-cuda]), conda, or a system
toolkit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tfprov.catalog import models as m
from tfprov.model.plan import Component
from tfprov.model.versions import V, minor_of, spec_set
from tfprov.resolve.context import Ctx, Part, fail

if TYPE_CHECKING:
    from tfprov.resolve.builds import Build


def _pin_of(reqs, prefix: str) -> str | None:
    for r in reqs:
        if not r.startswith(prefix):
            continue
        mt = re.search(r"(==|>=|~=)\s*([0-9][0-9.]*)", r)
        if mt:
            return mt.group(2) if mt.group(1) == "==" else f">={mt.group(2)}"
    return None


def _conda_recipe(ctx: Ctx, b: Build) -> m.CondaRecipe | None:
    os_name = ctx.host.os.conda_os
    memo = ctx.cache.conda_recipe
    key = (os_name, b.release.version)
    if key not in memo:
        memo[key] = next(
            (
                r
                for r in ctx.cat.builds.conda_recipes
                if r.os == os_name and V(b.release.version) in spec_set(r.tensorflow)
            ),
            None,
        )
    return memo[key]


def choose_cuda(ctx: Ctx, b: Build, reasons) -> tuple[Component, Component, str]:
    host, spec = ctx.host, ctx.spec
    want = spec.cuda_source
    options: list[str] = []
    if b.origin.startswith("conda:"):
        options = ["conda-build"]
    else:
        if host.os.pip_cuda and b.release.and_cuda and b.origin == "pypi":
            options.append("pip")
        recipe = _conda_recipe(ctx, b)
        if recipe and spec.env_manager != "venv":
            options.append("conda")
        options.append("system")
    if want != "auto":
        allowed = {"pip": ["pip"], "conda": ["conda", "conda-build"], "system": ["system"]}[want]
        options = [o for o in options if o in allowed]
        if not options:
            why = {
                "pip": "CUDA pip wheels (tensorflow[and-cuda]) exist only for TF ≥ 2.14 on Linux",
                "conda": "no conda recipe for this release/OS (or env_manager: venv)",
                "system": "this build brings its own CUDA",
            }[want]
            raise fail(ctx, lambda: f"cuda_source: {want} is not possible: {why}")
    elif (
        "system" in options
        and b.cuda
        and minor_of(b.cuda) in host.toolkits
        and ("pip" not in options)
    ):
        options.insert(0, "system")  # a matching toolkit is already there: use it
    choice = options[0]
    cudnn_have = host.cudnn
    if choice == "pip":
        reqs = b.release.and_cuda.requires
        cv = _pin_of(reqs, "nvidia-cuda-runtime") or b.cuda
        dv = _pin_of(reqs, "nvidia-cudnn") or b.cudnn
        reasons.append(f"CUDA {cv} and cuDNN {dv}: pip wheels pulled by tensorflow[and-cuda]")
        return (
            Part(
                action="install",
                version=cv,
                origin="pip",
                source="pip: nvidia-*-cu wheels (and-cuda)",
                reason=f"TF {b.version} on Linux ships CUDA as pip wheels",
            ),
            Part(
                action="install",
                version=dv,
                origin="pip",
                source="pip: nvidia-cudnn wheel (and-cuda)",
                reason="pinned by tensorflow[and-cuda]",
            ),
            "pip",
        )
    if choice == "conda-build":
        cb = b.conda_build
        chan = cb.channel if cb else "conda"
        reasons.append(
            f"CUDA {b.cuda} and cuDNN {b.cudnn}: pulled by conda {b.package}={b.version}"
        )
        return (
            Part(
                action="install",
                version=b.cuda,
                origin="conda",
                channel=chan,
                source=f"conda:{chan} cudatoolkit",
                reason=f"dependency of {b.package}={b.version} on {chan}",
            ),
            Part(
                action="install",
                version=b.cudnn,
                origin="conda",
                channel=chan,
                source=f"conda:{chan} cudnn",
                reason=f"dependency of {b.package}={b.version} on {chan}",
            ),
            "conda",
        )
    if choice == "conda":
        r = _conda_recipe(ctx, b)
        tk = next((x.split("=", 1)[1] for x in r.conda if x.startswith("cudatoolkit=")), b.cuda)
        dn = next((x.split("=", 1)[1] for x in r.conda if x.startswith("cudnn=")), None)
        dn = dn or _pin_of(r.pip, "nvidia-cudnn") or b.cudnn
        dn_conda = any(x.startswith("cudnn=") for x in r.conda)
        dn_src = f"conda:{r.channel} cudnn" if dn_conda else "pip: nvidia-cudnn wheel"
        tk_req = f"cudatoolkit={tk}" if tk else None
        dn_req = f"cudnn={dn}" if dn_conda else f"nvidia-cudnn-cu{V(tk).major}=={dn}"
        reasons.append(f"CUDA {tk} / cuDNN {dn}: the official conda recipe for TF {b.version}")
        return (
            Part(
                action="install",
                version=tk,
                origin="conda",
                channel=r.channel,
                requirement=tk_req,
                source=f"conda:{r.channel} cudatoolkit",
                reason="TensorFlow's install guide for this release",
            ),
            Part(
                action="install",
                version=dn,
                origin="conda" if dn_conda else "pip",
                channel=r.channel if dn_conda else None,
                requirement=dn_req,
                source=dn_src,
                reason="TensorFlow's install guide for this release",
            ),
            "conda",
        )
    # system toolkit
    have_tk = b.cuda and minor_of(b.cuda) in host.toolkits
    have_dn = cudnn_have and b.cudnn and _same_prefix(cudnn_have, b.cudnn)
    unsupported = host.os.unsupported
    if unsupported and not (have_tk and have_dn):  # system packages on a distro tfprov lacks
        raise fail(ctx, lambda: unsupported)
    src = host.os.system_cuda_source
    reasons.append(f"CUDA {b.cuda} / cuDNN {b.cudnn}: system toolkit, as the build was tested")
    return (
        Part(
            action="keep" if have_tk else "install",
            version=b.cuda,
            origin="host" if have_tk else "system",
            source=f"system: {src}",
            reason="installed toolkit matches" if have_tk else "tested build configuration",
        ),
        Part(
            action="keep" if have_dn else "install",
            version=b.cudnn,
            origin="host" if have_dn else "system",
            source="system: NVIDIA cuDNN (configurable URL)",
            reason=("installed cuDNN matches" if have_dn else "tested build configuration"),
        ),
        "system",
    )


def _same_prefix(have: str, want: str) -> bool:
    w = V(want).release
    return V(have).release[: len(w)] == w
