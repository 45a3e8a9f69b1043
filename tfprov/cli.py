"""tfprov command line: ``tfprov probe``, ``tfprov plan`` and ``tfprov matrix``.

    tfprov probe INVENTORY [--limit NAME ...] [--out DIR] [--json]
    tfprov plan  INVENTORY [--limit NAME ...] [--spec FILE.yml] [flags] [--json]
    tfprov plan  --profile FILE [--profile FILE ...] [--spec FILE.yml | --tensorflow X
                 --gpu auto|require|off ...] [--json]
    tfprov matrix [--tensorflow X | --cuda X | --gpu NAME] [--json]

Exit status: 0 when every host has a plan, 1 when some host was refused, 2 on bad input
(a profile or spec that does not validate: the message names the file and the field).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Literal, get_args, get_origin

from pydantic import ValidationError

from tfprov import __version__
from tfprov.apply.inventory import load_spec, spec_for, validate_hosts
from tfprov.apply.wheelhouse_index import WheelhouseError, list_wheelhouse
from tfprov.catalog import CatalogError, load_catalog
from tfprov.model.plan import Plan
from tfprov.model.profile import HostProfile
from tfprov.model.redact import redact, redact_text
from tfprov.model.spec import SPEC_KEYS, SpecError, StackSpec, format_errors
from tfprov.probe import ProbeError, ProbeResult, load_inventory, probe_hosts
from tfprov.report import (
    matrix_for_cuda,
    matrix_for_gpu,
    matrix_for_tensorflow,
    render_plan,
    summary_line,
)
from tfprov.resolve import resolve


class InputError(Exception):
    pass


def load_profile(path: str, host: str | None = None) -> HostProfile:
    """A saved profile (JSON); ``host``: the inventory host whose ``profile`` key names it."""
    at = f"host {host}: profile {path}" if host else path
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{at}: cannot read profile: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{at}: not valid JSON: {exc}") from None
    except (UnicodeDecodeError, RecursionError):
        raise InputError(f"{at}: not a UTF-8 JSON profile") from None
    if not isinstance(data, dict):
        raise InputError(f"{at}: a profile is a JSON object, not {type(data).__name__}")
    try:
        return HostProfile.model_validate(data)
    except ValidationError as exc:
        where = at if host else f"{path} (host {data.get('hostname', '?')!r})"
        raise InputError(format_errors(exc, where)) from None


def _flag_overrides(args) -> dict:
    return {k: getattr(args, k) for k in SPEC_KEYS if getattr(args, k, None) is not None}


def _spec_from_args(args) -> StackSpec:
    """The spec of hosts given as profiles: ``--spec`` file < flags."""
    base = load_spec(args.spec) if args.spec else None
    flags = _flag_overrides(args)
    if base is not None and not flags:
        return base
    where = f"{args.spec} + command-line flags" if args.spec else "command-line flags"
    return spec_for(base, flags, where)


def cmd_plan(args) -> int:
    if args.inventory:
        return _plan_inventory(args)
    if not args.profile:
        raise InputError("give an inventory to probe, or --profile FILE")
    # Validate every input before planning anything.
    profiles = [load_profile(p) for p in args.profile]
    spec = _spec_from_args(args)
    wheels = list_wheelhouse(spec.wheelhouse) if spec.wheelhouse else []
    catalog = load_catalog()
    plans: list[Plan] = [resolve(p, spec, catalog, wheels) for p in profiles]
    return _print_plans(args, profiles, plans)


def _plan_inventory(args) -> int:
    inv, hosts = load_inventory(args.inventory, args.limit)
    base = load_spec(args.spec) if args.spec else None
    checked = validate_hosts(hosts, base, _flag_overrides(args))  # all before probing
    specs = {name: c.spec for name, c in checked.items()}
    wheelhouses = {}
    for sp in specs.values():
        if sp.wheelhouse and sp.wheelhouse not in wheelhouses:
            wheelhouses[sp.wheelhouse] = list_wheelhouse(sp.wheelhouse)
    # hosts with a saved profile (host data ``profile``: a JSON file, relative to the
    # inventory) are planned from it without connecting — for planning ahead, offline
    base_dir = (
        os.path.dirname(os.path.abspath(args.inventory))
        if os.path.exists(args.inventory)
        else os.getcwd()
    )
    saved = {}
    for h in hosts:
        path = h.data.get("profile")
        if path:
            saved[h.name] = load_profile(os.path.join(base_dir, path), h.name)
    to_probe = [h for h in hosts if h.name not in saved]
    results = probe_hosts(inv, to_probe) if to_probe else []
    by_name = {r.name: r for r in results}
    results = [
        by_name.get(h.name) or ProbeResult(name=h.name, profile=saved[h.name]) for h in hosts
    ]
    catalog = load_catalog()
    profiles, plans, failed = [], [], []
    for r in results:
        if r.profile is None:
            failed.append(r)
            continue
        sp = specs[r.name]
        profiles.append(r.profile)
        plans.append(
            resolve(r.profile, sp, catalog, wheelhouses.get(sp.wheelhouse, []), host=r.name)
        )
    rc = _print_plans(args, profiles, plans, failed)
    return 1 if failed and rc == 0 else rc


def _print_plans(args, profiles, plans, failed=()) -> int:
    if args.json:
        json.dump(
            [redact(p.model_dump(mode="json")) for p in plans],
            sys.stdout,
            indent=2,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    else:
        for prof, plan in zip(profiles, plans, strict=True):
            sys.stdout.write(render_plan(prof, plan))
            sys.stdout.write("\n")
        for r in failed:
            sys.stdout.write(redact_text(f"== {r.name}: PROBE FAILED: {r.error}\n\n"))
    return 0 if all(p.ok for p in plans) else 1


def cmd_probe(args) -> int:
    inv, hosts = load_inventory(args.inventory, args.limit)
    results = probe_hosts(inv, hosts)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    out = []
    for r in results:
        if r.profile is not None and args.out:
            path = os.path.join(args.out, f"{_safe(r.name)}.json")  # the inventory name
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(r.profile.model_dump_json(indent=2, exclude_none=False))
                fh.write("\n")
        if args.json:
            out.append(
                {
                    "host": r.name,
                    "error": r.error,
                    "profile": r.profile.model_dump(mode="json") if r.profile else None,
                }
            )
        else:
            line = summary_line(r.profile) if r.profile else f"PROBE FAILED: {r.error}"
            sys.stdout.write(f"{r.name}: {line}\n")
    if args.json:
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    return 0 if all(r.profile for r in results) else 1


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in name) or "host"


def cmd_matrix(args) -> int:
    catalog = load_catalog()
    if args.cuda:
        out = matrix_for_cuda(catalog, args.cuda)
    elif args.gpu:
        out = matrix_for_gpu(catalog, args.gpu)
    else:
        out = matrix_for_tensorflow(catalog, args.tensorflow or "latest")
    if args.json:
        json.dump(out["data"], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(out["text"])
    return 0 if out["data"] else 1


def add_spec_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per stack-spec key (``env_name`` → ``--env-name``), from the model:
    a Literal's values are its choices, a bool is a switch, the description its help."""
    for key, field in StackSpec.model_fields.items():
        flag = "--" + key.replace("_", "-")
        kind = field.annotation
        if kind is bool:
            parser.add_argument(
                flag,
                dest=key,
                action="store_const",
                const=True,
                default=None,
                help=field.description,
            )
        elif get_origin(kind) is Literal:
            parser.add_argument(flag, dest=key, choices=get_args(kind), help=field.description)
        else:
            parser.add_argument(flag, dest=key, help=field.description)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tfprov", description=__doc__.split("\n")[0])
    ap.add_argument("--version", action="version", version=f"tfprov {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    r = sub.add_parser("probe", help="probe hosts of a pyinfra inventory into host profiles")
    r.add_argument("inventory", help="any pyinfra inventory: a file, @local, host names …")
    r.add_argument("--limit", action="append", metavar="NAME", help="host, group or glob")
    r.add_argument("--out", metavar="DIR", help="write one profile JSON per host here")
    r.add_argument("--json", action="store_true", help="print the profiles as JSON")
    r.set_defaults(func=cmd_probe)

    p = sub.add_parser("plan", help="plan the TensorFlow stack for hosts (probed or profiles)")
    p.add_argument("inventory", nargs="?", help="probe this pyinfra inventory, then plan")
    p.add_argument("--limit", action="append", metavar="NAME", help="host, group or glob")
    p.add_argument(
        "--profile",
        action="extend",
        nargs="+",
        metavar="FILE",
        help="host profile JSON files (repeatable; a shell glob works)",
    )
    p.add_argument("--spec", metavar="FILE.yml", help="stack spec YAML")
    add_spec_flags(p)
    p.add_argument("--json", action="store_true", help="print the plans as JSON")
    p.set_defaults(func=cmd_plan)

    q = sub.add_parser("matrix", help="query the compatibility catalog")
    g = q.add_mutually_exclusive_group()
    g.add_argument("--tensorflow", help="what a TF version needs (default: every release)")
    g.add_argument("--cuda", help="what a CUDA version needs and can target")
    g.add_argument("--gpu", help="what a GPU (any printed form of its name) can run")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_matrix)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (InputError, SpecError, CatalogError, WheelhouseError, ProbeError) as exc:
        print(f"tfprov: error: {redact_text(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `tfprov plan … | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
