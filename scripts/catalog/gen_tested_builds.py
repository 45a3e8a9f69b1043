"""Regenerate tf_tested_builds.yaml's tables from a TensorFlow docs file.

    python scripts/catalog/gen_tested_builds.py PATH/source.md [--commit SHA]
    python scripts/catalog/gen_tested_builds.py PATH/source_windows.md [--commit SHA]

PATH is a checkout of github.com/tensorflow/docs (site/en/install/).  source.md fills
linux_cpu, linux_gpu, macos_cpu and macos_gpu; source_windows.md fills windows_cpu and
windows_gpu: every row of the "Tested build configurations" tables, as printed (duplicates
included).  --commit points the file's source url at that docs commit.  The other tables,
`corrections` and row notes are kept.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog_yaml import DATA, flow, head, join_sections, split_sections  # noqa: E402

# docs header -> row field
COLUMNS = {
    "version": "version",
    "python version": "python",
    "compiler": "compiler",
    "build tools": "build_tools",
    "cudnn": "cudnn",
    "cuda": "cuda",
}
FIELDS = ("version", "python", "compiler", "build_tools", "cudnn", "cuda")
SOURCE_KEY = {"source.md": "tf-source-linux-macos", "source_windows.md": "tf-source-windows"}


def _cells(row: str) -> list[str]:
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S | re.I)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def parse(text: str, default_os: str) -> dict[str, list[dict]]:
    """table name ('linux_gpu', ...) -> rows, from the docs' Tested build configurations.

    The section's headings name the OS (Linux, macOS; else ``default_os``) and the
    variant (CPU, GPU); each table is HTML (<tr><th>..</th></tr>, <tr><td>..</td></tr>)."""
    start = re.search(r"^#+\s*Tested build configurations", text, flags=re.M | re.I)
    if not start:
        raise ValueError("no 'Tested build configurations' section")
    os_name, variant = default_os, None
    tables: dict[str, list[dict]] = {}
    for block in re.split(r"(^#+[^\n]*$)", text[start.end() :], flags=re.M):
        heading = re.match(r"^(#+)\s*(.*)$", block.strip())
        if heading and "\n" not in block.strip():
            title = heading[2].lower()
            if len(heading[1]) <= 2 and "tested build" not in title:
                break  # the next top-level section: the tables are over
            if "linux" in title:
                os_name = "linux"
            elif "macos" in title or "mac os" in title:
                os_name = "macos"
            if re.search(r"\bgpu\b", title):
                variant = "gpu"
            elif re.search(r"\bcpu\b", title):
                variant = "cpu"
            continue
        for table in re.findall(r"<table>(.*?)</table>", block, flags=re.S | re.I):
            rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S | re.I)
            header = [COLUMNS[h.lower()] for h in _cells(rows[0])]
            name = f"{os_name}_{variant}"
            for row in rows[1:]:
                cells = _cells(row)
                if cells:
                    tables.setdefault(name, []).append(dict(zip(header, cells, strict=True)))
    return tables


def _line(row: dict, source: str) -> str:
    entry = {f: row[f] for f in FIELDS if row.get(f)}
    if row.get("note"):
        entry["note"] = row["note"]
    entry["source"] = source
    return f"    - {flow(entry)}"


def update(text: str, tables: dict[str, list[dict]], source: str, commit: str | None) -> str:
    """tf_tested_builds.yaml's text with ``tables`` replaced; notes of rows that keep their
    version are carried over, everything else in the file is kept."""
    import yaml

    doc = yaml.safe_load(text)
    header, sections = split_sections(text)
    old = doc["tested_builds"]
    for name, rows in tables.items():
        notes: dict[str, list[str]] = {}
        for r in old.get(name, []):
            notes.setdefault(r["version"], []).append(r.get("note"))
        for r in rows:
            kept = notes.get(r["version"])
            if kept:
                r["note"] = kept.pop(0)
        old[name] = [{**r, "source": source} for r in rows]
    order = [t for t in ("linux_cpu", "linux_gpu", "macos_cpu", "macos_gpu") if t in old]
    order += [t for t in ("windows_cpu", "windows_gpu") if t in old]
    lines = head(sections["tested_builds"])
    for name in order:
        lines.append(f"  {name}:")
        lines.extend(_line(r, r.get("source", source)) for r in old[name])
    sections["tested_builds"] = lines
    if commit:
        sections["sources"] = [
            re.sub(r"/blob/[0-9a-f]{7,40}/", f"/blob/{commit}/", ln)
            if ln.startswith(f"  {source}:")
            else ln
            for ln in sections["sources"]
        ]
    return join_sections(header, sections)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("docs_file", type=Path, help="source.md or source_windows.md")
    ap.add_argument("--commit", help="the tensorflow/docs commit the file was read at")
    ap.add_argument("--file", type=Path, default=DATA / "tf_tested_builds.yaml")
    args = ap.parse_args(argv)
    name = args.docs_file.name
    if name not in SOURCE_KEY:
        ap.error(f"{args.docs_file}: expected source.md or source_windows.md")
    tables = parse(
        args.docs_file.read_text(encoding="utf-8"), "windows" if "windows" in name else "linux"
    )
    text = args.file.read_text(encoding="utf-8")
    args.file.write_text(update(text, tables, SOURCE_KEY[name], args.commit), encoding="utf-8")
    print(f"{args.file}: " + ", ".join(f"{t} {len(r)} rows" for t, r in tables.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
