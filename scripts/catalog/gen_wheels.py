"""Regenerate tf_wheels.yaml's `wheels:` rows (with `platform_tags`) and `and_cuda:` pins
from PyPI's JSON API.

    python scripts/catalog/gen_wheels.py --fetch DIR   # record PyPI's answers in DIR, then update
    python scripts/catalog/gen_wheels.py --from DIR    # update from answers recorded earlier

The projects are the ones tf_wheels.yaml already lists.  Per project and minor version:
the newest final (not rc/dev) release; per platform the CPython versions of its wheel
files and their platform tags, as the file names carry them.  A newest release without
wheel files is a placeholder.  and_cuda: the `[and-cuda]` pins of `tensorflow`'s releases
(requires_dist of the per-release JSON).  Sources, notes and compute_capabilities are kept.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog_yaml import DATA, body, flow, head, join_sections, split_sections  # noqa: E402

PYPI = "https://pypi.org/pypi"
PLATFORMS = ("linux_x86_64", "linux_aarch64", "windows", "macos_x86_64", "macos_arm64")


# --- PyPI answers -------------------------------------------------------------------------


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=120) as r:  # noqa: S310 - fixed https host
        return json.load(r)


def trim_project(doc: dict) -> dict:
    """Only what the generator reads: each release's file names and yanked flags."""
    return {
        "name": doc["info"]["name"],
        "releases": {
            v: [{"filename": f["filename"], "yanked": f["yanked"]} for f in files]
            for v, files in doc["releases"].items()
        },
    }


def public_url(json_url: str, file_url: str) -> str:
    """A file's address as PyPI publishes it (a mirror may answer with relative paths)."""
    url = urllib.parse.urljoin(json_url, file_url)
    return re.sub(
        r"^https://pypi\.org/packages/packages/", "https://files.pythonhosted.org/packages/", url
    )


def _metadata_files(files: list[dict]) -> list[dict]:
    """Wheels whose core metadata (PEP 658) can be read, Linux x86_64 CPython 3.11 first."""
    with_meta = [f for f in files if f.get("core-metadata") and f["filename"].endswith(".whl")]
    return sorted(
        with_meta, key=lambda f: ("-cp311-" not in f["filename"], "x86_64" not in f["filename"])
    )


def requires_dist(json_url: str, f: dict) -> tuple[str, list[str]]:
    """(metadata url, its Requires-Dist lines), checked against PyPI's sha256 of it."""
    url = urllib.parse.urljoin(json_url, f["url"]) + ".metadata"
    with urllib.request.urlopen(url, timeout=120) as r:  # noqa: S310 - PyPI, https
        body = r.read()
    want = f["core-metadata"]["sha256"]
    if hashlib.sha256(body).hexdigest() != want:
        raise SystemExit(f"{url}: sha256 differs from PyPI's {want}")
    lines = body.decode("utf-8").splitlines()
    reqs = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Requires-Dist:")]
    return public_url(json_url, f["url"]) + ".metadata", reqs


def fetch(projects: list[str], out: Path) -> None:
    """Record PyPI's project JSON (trimmed) as DIR/<project>.json; for `tensorflow` also
    each chosen release's Requires-Dist, read from its wheel's core metadata."""
    out.mkdir(parents=True, exist_ok=True)
    today = datetime.date.today().isoformat()
    for name in projects:
        url = f"{PYPI}/{name}/json"
        doc = _get(url)
        rec = trim_project(doc)
        rec["fetched"] = f"{url} on {today}"
        if name == "tensorflow":
            rec["requires_dist"] = {}
            for v in newest_finals(rec["releases"]).values():
                for f in _metadata_files(doc["releases"][v]):
                    try:
                        meta_url, reqs = requires_dist(url, f)
                    except urllib.error.HTTPError:  # this mirror lacks that file: next one
                        continue
                    rec["requires_dist"][v] = {"url": meta_url, "requires_dist": reqs}
                    break
                else:
                    print(f"{name} {v}: no core metadata readable; its and_cuda row is kept")
        (out / f"{name}.json").write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n")


# --- from answers to rows --------------------------------------------------------------


def minor(v: str) -> str:
    r = Version(v).release
    return f"{r[0]}.{r[1] if len(r) > 1 else 0}"


def newest_finals(releases: dict[str, list]) -> dict[str, str]:
    """minor -> newest final release with files (not a pre-release, dev or yanked-only)."""
    best: dict[str, Version] = {}
    for v, files in releases.items():
        try:
            pv = Version(v)
        except InvalidVersion:
            continue
        if pv.is_prerelease or pv.is_devrelease or not files:
            continue
        if all(f.get("yanked") for f in files):
            continue
        mi = minor(v)
        if mi not in best or pv > best[mi]:
            best[mi] = pv
    raw = {str(Version(v)): v for v in releases}
    return {mi: raw.get(str(pv), str(pv)) for mi, pv in best.items()}


def platforms_of(tag: str) -> set[str]:
    """The catalog platforms a wheel's platform tag installs on."""
    if "linux" in tag and tag.endswith("x86_64"):
        return {"linux_x86_64"}
    if "linux" in tag and tag.endswith("aarch64"):
        return {"linux_aarch64"}
    if tag == "win_amd64":
        return {"windows"}
    m = re.fullmatch(r"macosx_\d+_\d+_(\w+)", tag)
    if m:
        arch = m[1]
        if arch in ("x86_64", "intel", "fat64", "fat3", "universal"):  # fat binaries hold x86_64
            return {"macos_x86_64"}
        if arch == "arm64":
            return {"macos_arm64"}
        if arch == "universal2":
            return {"macos_x86_64", "macos_arm64"}
    return set()


def _python(tag: str) -> str | None:
    m = re.fullmatch(r"cp(\d)(\d+)", tag)
    return f"{m[1]}.{m[2]}" if m else None


def wheel_facts(files: list[dict]) -> tuple[dict[str, set], dict[str, set]]:
    """platform -> CPython versions, platform -> compressed platform-tag strings."""
    pythons: dict[str, set] = {}
    tags: dict[str, set] = {}
    for f in files:
        if not f["filename"].endswith(".whl"):
            continue
        _, _, _, tagset = parse_wheel_filename(f["filename"])
        plat_tag = f["filename"][:-4].split("-")[
            -1
        ]  # as printed, e.g. manylinux_2_17_x86_64.manylinux2014_x86_64
        plats = set().union(*(platforms_of(t.platform) for t in tagset))
        pys = {_python(t.interpreter) for t in tagset} - {None}
        for plat in plats:
            pythons.setdefault(plat, set()).update(pys)
            tags.setdefault(plat, set()).add(plat_tag)
    return pythons, tags


def _key(v: str):
    return tuple(int(x) for x in v.split("."))


def wheel_rows(project: dict, source: str) -> list[dict]:
    rows = []
    releases = project["releases"]
    for mi, v in sorted(newest_finals(releases).items(), key=lambda kv: _key(kv[0])):
        pythons, tags = wheel_facts(releases[v])
        row: dict = {"package": project["name"].lower(), "minor": mi, "version": v}
        if not pythons:
            row["placeholder"] = True
        for plat in PLATFORMS:
            if pythons.get(plat):
                row[plat] = sorted(pythons[plat], key=_key)
        if tags:
            row["platform_tags"] = {p: sorted(tags[p]) for p in PLATFORMS if p in tags}
        row["source"] = source
        rows.append(row)
    return rows


def and_cuda_pins(requires_dist: list[str]) -> list[str]:
    """The requirements `tensorflow[and-cuda]` adds, as METADATA prints them."""
    pins = []
    for line in requires_dist:
        req = Requirement(line)
        if (
            req.marker
            and req.marker.evaluate({"extra": "and-cuda"})
            and not (req.marker.evaluate({"extra": ""}))
        ):
            pins.append(f"{req.name}{req.specifier}" if req.specifier else req.name)
    return pins


# --- merging into the file ------------------------------------------------------------------


def _comments_before(lines: list[str], field: str) -> dict[str, list[str]]:
    """Comment lines of a section, by the `field` value of the row they precede."""
    out: dict[str, list[str]] = {}
    pending: list[str] = []
    for line in body(lines):
        if line.lstrip().startswith("#"):
            pending.append(line)
        elif pending:
            m = re.search(rf"\b{field}: \"?([^\",}}]+)", line)
            if m:
                out.setdefault(m[1], []).extend(pending)
            pending = []
    return out


def update(text: str, projects: dict[str, dict]) -> str:
    """tf_wheels.yaml's text with `wheels:` and `and_cuda:` regenerated from ``projects``
    (name -> recorded PyPI answer); rows of projects not given, sources and the rest kept."""
    import yaml

    doc = yaml.safe_load(text)
    header, sections = split_sections(text)
    old_rows = doc["wheels"]
    order = list(dict.fromkeys(r["package"] for r in old_rows))
    source_of = {r["package"]: r["source"] for r in old_rows}
    notes = {(r["package"], r["minor"]): r["note"] for r in old_rows if r.get("note")}
    new: list[dict] = []
    for name in order + sorted(set(projects) - set(order)):
        mine = [r for r in old_rows if r["package"] == name]
        if name not in projects:
            new.extend(mine)
            continue
        # the file's scope: no minors older than those it lists (TF 0.12, a 0.0.1 name holder)
        oldest = min((_key(r["minor"]) for r in mine), default=(0, 0))
        for row in wheel_rows(projects[name], source_of.get(name, f"pypi-{name}")):
            if _key(row["minor"]) < oldest:
                continue
            note = notes.get((row["package"], row["minor"]))
            if note:
                row = {
                    **{k: v for k, v in row.items() if k != "source"},
                    "note": note,
                    "source": row["source"],
                }
            new.append(row)
    comments = _comments_before(sections["wheels"], "package")
    lines = head(sections["wheels"])
    for r in new:
        lines.extend(comments.pop(r["package"], []))
        lines.append(f"  - {flow(r)}")
    sections["wheels"] = lines
    srcs = doc["sources"]
    for name in projects:
        key = source_of.get(name, f"pypi-{name}")
        if key not in srcs:
            srcs[key] = {
                "url": f"https://pypi.org/simple/{name}/",
                "title": f"PyPI simple index: {name}",
            }
            sections["sources"].append(f"  {key}: {flow(srcs[key])}")

    tf = projects.get("tensorflow")
    if tf and "requires_dist" in tf:
        old = {r["minor"]: r for r in doc.get("and_cuda") or []}
        read = {minor(v): (v, meta) for v, meta in tf["requires_dist"].items()}
        rows = []
        for mi in sorted(set(read) | set(old), key=_key):
            if mi not in read:  # no metadata recorded for it: keep what the file says
                rows.append(old[mi])
                continue
            v, meta = read[mi]
            pins = and_cuda_pins(meta["requires_dist"])
            if not pins:
                continue
            prev = old.get(mi)
            if prev and prev["version"] == v and sorted(prev["requires"]) == sorted(pins):
                rows.append(prev)  # unchanged: keep its source (the file it was read from)
                continue
            key = f"pypi-metadata-tensorflow-{v}"
            if key not in srcs:
                file = meta["url"].rsplit("/", 1)[1].removesuffix(".metadata")
                srcs[key] = {"url": meta["url"], "title": f"PEP 658 core metadata of {file} (PyPI)"}
                sections["sources"].append(f"  {key}: {flow(srcs[key])}")
            rows.append({"minor": mi, "version": v, "requires": pins, "source": key})
        sections["and_cuda"] = head(sections["and_cuda"]) + [f"  - {flow(r)}" for r in rows]
    return join_sections(header, sections)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--fetch", type=Path, metavar="DIR", help="ask PyPI, record in DIR, update")
    g.add_argument("--from", dest="src", type=Path, metavar="DIR", help="recorded answers")
    ap.add_argument("--file", type=Path, default=DATA / "tf_wheels.yaml")
    args = ap.parse_args(argv)
    import yaml

    text = args.file.read_text(encoding="utf-8")
    names = list(dict.fromkeys(r["package"] for r in yaml.safe_load(text)["wheels"]))
    src = args.src
    if args.fetch:
        fetch(names, args.fetch)
        src = args.fetch
    projects = {}
    for name in names:
        path = src / f"{name}.json"
        if path.exists():
            projects[name] = json.loads(path.read_text())
    args.file.write_text(update(text, projects), encoding="utf-8")
    print(f"{args.file}: wheels of {len(projects)} project(s) from {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
