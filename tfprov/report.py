"""Human-readable output: plans as tables with reasons, and catalog queries (matrix)."""

from __future__ import annotations

from tfprov.catalog import Catalog, load_catalog, runnable
from tfprov.model.plan import Plan
from tfprov.model.profile import HostProfile
from tfprov.model.redact import redact_text
from tfprov.model.spec import StackSpec
from tfprov.model.versions import V, minor_of
from tfprov.resolve.host_view import gpu_view


def _ccs(p: HostProfile) -> list[str | None]:
    """Each GPU's compute capability: nvidia-smi's, else the GPU catalog's for its name or
    PCI id (the profile holds only what was observed)."""
    cat = load_catalog()
    return [gpu_view(cat, g).cc for g in p.gpus]


def _os_label(p: HostProfile, with_arch: bool = False) -> str:
    """``Ubuntu 22.04 x86_64 (WSL)``: the profile's OS as the host named it."""
    name = p.os.distro or p.os.family
    version = p.os.version if p.os.version and p.os.version not in name else None
    label = " ".join(x for x in (name, version, p.os.arch if with_arch else None) if x)
    return label + (" (WSL)" if p.os.wsl else "")


def _host_line(p: HostProfile) -> str:
    os_ = _os_label(p, with_arch=True)
    gpus = (
        ", ".join(
            g.name + (f" CC {cc}" if cc else "") for g, cc in zip(p.gpus, _ccs(p), strict=True)
        )
        or "no NVIDIA GPU"
    )
    drv = f"driver {p.nvidia_driver}" if p.nvidia_driver else "no driver"
    return f"{os_}; {gpus}; {drv}"


def cpu_level(p: HostProfile) -> str:
    """The best x86 SIMD level TensorFlow cares about, or the arch for other CPUs."""
    if p.os.arch != "x86_64":
        return p.os.arch
    flags = set(p.cpu.flags)
    for level in ("avx512f", "avx2", "avx", "sse4_2", "sse2"):
        if level in flags:
            return {"avx512f": "AVX-512", "sse4_2": "SSE4.2"}.get(level, level.upper())
    return "x86_64 (flags unknown)" if not flags else "x86_64 (no SSE4.2)"


def summary_line(p: HostProfile) -> str:
    """One line per probed host: OS, CPU level, GPUs with CC, driver, CUDA."""
    gpus = (
        ", ".join(
            g.name + (f" (CC {cc})" if cc else "") for g, cc in zip(p.gpus, _ccs(p), strict=True)
        )
        or "no NVIDIA GPU"
    )
    drv = p.nvidia_driver or "no driver"
    if p.driver_error:
        drv += f" [{p.driver_error}]"
    cuda = ", ".join(t.version for t in p.cuda_toolkits) or "none"
    os_ = _os_label(p)
    return f"{os_}; CPU {cpu_level(p)}; GPUs: {gpus}; driver: {drv}; CUDA: {cuda}"


def render_plan(profile: HostProfile, plan: Plan) -> str:
    """The plan table of one host, URL credentials hidden (:mod:`tfprov.model.redact`)."""
    return redact_text(_render_plan(profile, plan))


def _render_plan(profile: HostProfile, plan: Plan) -> str:
    out = [f"== {plan.host}: {_host_line(profile)}"]
    if not plan.ok:
        out.append(f"  REFUSED: {plan.error}")
        if plan.alternatives:
            out.append("  alternatives:")
            out += [f"    - {a.summary}" for a in plan.alternatives]
        out += [f"  ! {w}" for w in plan.warnings]
        return "\n".join(out) + "\n"
    tf = plan.tensorflow
    rows = [
        ("TensorFlow", f"{tf.version} {tf.variant.upper()}", "install", tf.requirement, tf.source),
        ("Python", plan.python.version or "-", plan.python.action, plan.python.source or "", ""),
    ]
    for label, c in (("CUDA", plan.cuda), ("cuDNN", plan.cudnn)):
        rows.append((label, c.version or "-", c.action, c.source or "", c.reason))
    d = plan.driver
    dv = d.version or "-"
    if d.action in ("install", "upgrade"):
        dv = f"branch {d.branch}" + (f" (≥ {d.min_version})" if d.min_version else "")
    elif d.min_version:
        dv = f"{d.version} (≥ {d.min_version})"
    rows.append(("driver", dv, d.action, d.source or "", d.reason))
    e = plan.env_manager
    rows.append(("env", f"{e.manager} '{e.name}'", e.action, "", e.reason))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    for r in rows:
        out.append(f"  {r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]:<{w2}}  {r[3]}".rstrip())
    out.append("  why:")
    out += [f"    - {r}" for r in plan.reasons]
    out += [f"  ! {w}" for w in plan.warnings]
    return "\n".join(out) + "\n"


# --- matrix ---------------------------------------------------------------------------------


def matrix_for_tensorflow(cat: Catalog, wanted: str) -> dict:
    spec = StackSpec(tensorflow=wanted)
    data = []
    for r in cat.releases:
        if not (spec.matches(r.version) or (wanted[0].isdigit() and minor_of(wanted) == r.minor)):
            continue
        lg, wg = cat.gpu_build(r, "linux_x86_64"), cat.gpu_build(r, "windows")
        data.append(
            {
                "version": r.version,
                "needs_avx": r.needs_avx,
                "python": {k: list(v.pythons) for k, v in r.cpu_packages.items()},
                "cpu_package": {k: v.name for k, v in r.cpu_packages.items()},
                "gpu_package": {k: v.name for k, v in r.gpu_packages.items()},
                "linux_gpu": {"cuda": lg.cuda, "cudnn": lg.cudnn} if lg else None,
                "windows_gpu": {"cuda": wg.cuda, "cudnn": wg.cudnn} if wg else None,
                "gpu_targets": list(r.targets),
                "documented_min_cc": r.documented_min_cc,
                "and_cuda": bool(r.and_cuda),
            }
        )
    lines = []
    for d in data:
        lg = d["linux_gpu"]
        wg = d["windows_gpu"]
        pys = d["python"].get("linux_x86_64") or next(iter(d["python"].values()), [])
        lines.append(
            f"TF {d['version']:<8} python {_span(pys):<10} "
            f"linux GPU: {('CUDA ' + lg['cuda'] + ' cuDNN ' + lg['cudnn']) if lg else '-':<22} "
            f"windows GPU: {('CUDA ' + wg['cuda'] + ' cuDNN ' + wg['cudnn']) if wg else '-':<22} "
            f"AVX: {'yes' if d['needs_avx'] else 'no':<3} "
            f"targets: {','.join(d['gpu_targets']) or (d['documented_min_cc'] or '-')}"
        )
    if not data:
        lines.append(f"no TensorFlow release matches {wanted!r}")
    return {"data": data, "text": "\n".join(lines) + "\n"}


def _span(pys) -> str:
    pys = list(pys)
    return f"{pys[0]}-{pys[-1]}" if len(pys) > 1 else (pys[0] if pys else "-")


def matrix_for_cuda(cat: Catalog, cuda: str) -> dict:
    mi = minor_of(cuda)
    rows = [t for t in cat.cuda.toolkits if minor_of(t.version) == mi]
    cc = cat.cuda_cc_range(mi)
    mc = cat.minor_compat(V(mi).major)
    tfs = [r.version for r in cat.releases if any(minor_of(b.cuda) == mi for b in r.gpu.values())]
    data = (
        {
            "cuda": mi,
            "releases": [
                {"release": t.release, "version": t.version, "linux": t.linux, "windows": t.windows}
                for t in rows
            ],
            "minor_version_compatibility": mc.model_dump(exclude={"source", "note"})
            if mc
            else None,
            "compute_capability": {"min": cc.min, "max": cc.max} if cc else None,
            "tensorflow": tfs,
        }
        if rows
        else {}
    )
    if not rows:
        return {"data": {}, "text": f"no CUDA {cuda} in the catalog\n"}
    lines = [f"CUDA {mi}"]
    lines += [
        f"  {t.release:<45} driver ≥ linux {t.linux or '-':<12} windows {t.windows or '-'}"
        for t in rows
    ]
    if mc:
        lines.append(
            f"  minor version compatibility ({mc.major}.x): linux ≥ {mc.linux}, "
            f"windows ≥ {mc.windows}"
        )
    if cc:
        lines.append(f"  compute capability {cc.min} … {cc.max}")
    lines.append(f"  TensorFlow built with it: {', '.join(tfs) or '-'}")
    return {"data": data, "text": "\n".join(lines) + "\n"}


def matrix_for_gpu(cat: Catalog, name: str) -> dict:
    g = cat.gpu(name)
    if g is None:
        return {"data": {}, "text": f"GPU {name!r} is not in the catalog\n"}
    arch = cat.architectures[g.arch]
    last = cat.branch(arch.last_branch) if arch.last_branch else None
    runs = []
    for r in cat.releases:
        if "linux_gpu" not in r.gpu:
            continue
        how = (
            None
            if g.cc is None  # no CUDA on this GPU
            else runnable(g.cc, r.targets)
            if r.targets
            else ("sass" if r.documented_min_cc and V(g.cc) >= V(r.documented_min_cc) else None)
        )
        if how:
            runs.append({"tensorflow": r.version, "how": how, "cuda": r.gpu["linux_gpu"].cuda})
    data = {
        "name": g.name,
        "compute_capability": g.cc,
        "architecture": g.arch,
        "driver_branches": {
            "first": arch.first_branch,
            "last": arch.last_branch,
            "last_version": last.latest if last else None,
        },
        "tensorflow_gpu": runs,
    }
    lines = [
        f"{g.name}: {g.arch}, compute capability {g.cc or 'none (no CUDA)'}",
        f"  driver branches {arch.first_branch or '?'} … "
        f"{arch.last_branch or 'current'}" + (f" (newest {last.latest})" if last else ""),
        "  official TensorFlow GPU builds it can run (Linux):",
    ]
    lines += [
        f"    TF {x['tensorflow']:<8} CUDA {x['cuda']:<5} "
        f"{'native' if x['how'] == 'sass' else 'PTX JIT'}"
        for x in runs
    ] or ["    none"]
    return {"data": data, "text": "\n".join(lines) + "\n"}
