"""The layout rules of ARCHITECTURE.md, checked on the source: what each folder may import,
no module over 600 lines, OS-dependent conditions only at the dispatch points.

Each rule has a KNOWN_VIOLATIONS set: today's violations, while the redesign moves code.
A violation not in its set fails, and so does a listed one that no longer exists, so the
sets only shrink and never go stale.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TFPROV = ROOT / "tfprov"

_spec = importlib.util.spec_from_file_location(
    "os_conditions", ROOT / "scripts/dev/os_conditions.py"
)
os_conditions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(os_conditions)

MAX_LINES = 600

# (folder or module, what it may import, or what it must not import) — ARCHITECTURE.md
ONLY = "only"
NEVER = "never"
IMPORT_RULES = [
    ("tfprov.model", ONLY, ("tfprov.model",)),
    ("tfprov.model", NEVER, ("pyinfra", "pyinfra_cli")),
    ("tfprov.catalog", ONLY, ("tfprov.model", "tfprov.catalog")),
    (
        "tfprov.facts",
        NEVER,
        ("tfprov.catalog", "tfprov.resolve", "tfprov.operations", "tfprov.apply"),
    ),
    (
        "tfprov.probe",
        NEVER,
        ("tfprov.catalog", "tfprov.resolve", "tfprov.operations", "tfprov.apply"),
    ),
    (
        "tfprov.resolve",
        NEVER,
        (
            "tfprov.facts",
            "tfprov.probe",
            "tfprov.operations",
            "tfprov.apply",
            "pyinfra",
            "pyinfra_cli",
        ),
    ),
    ("tfprov.operations", NEVER, ("tfprov.catalog", "tfprov.resolve", "tfprov.apply")),
    # verify runs its check through the one PowerShell module on Windows hosts
    ("tfprov.verify", ONLY, ("tfprov.model", "tfprov.verify", "tfprov.powershell")),
    ("tfprov.powershell", ONLY, ("tfprov.model", "tfprov.powershell")),
    ("tfprov", NEVER, ("lab", "tests")),
]

# (importing file, imported module) pairs that break a rule today
KNOWN_IMPORT_VIOLATIONS: set[tuple[str, str]] = set()

# files over MAX_LINES today
KNOWN_LONG_MODULES: set[str] = set()

# Where OS-dependent conditions belong (ARCHITECTURE.md, "Where the OS is decided"):
# file patterns, each with the conditions it may hold (None: any).
PACKAGE_MANAGER = re.compile(r"package_manager|\"apt\"|\"dnf\"")
# an operation's guard that WSL has no Linux driver of its own
OPERATION_OS = re.compile(PACKAGE_MANAGER.pattern + r"|^platform\.wsl$")
OS_DISPATCH_POINTS = [
    (re.compile(r"tfprov/model/platform\.py"), None),  # the Platform's own properties
    (re.compile(r"tfprov/resolve/platform\.py"), None),  # the OS decided, once
    (re.compile(r"tfprov/probe/__init__\.py"), None),  # the connector picks the probe command
    (re.compile(r"tfprov/connectors/.*\.py"), None),  # the Windows connector itself
    (re.compile(r"tfprov/facts/.*\.py"), None),  # what the host says it is (observed)
    (re.compile(r"tfprov/apply/steps/\w+\.py"), None),  # one dispatch per component
    (re.compile(r"tfprov/verify\.py"), None),  # the check's command: sh or PowerShell
    (re.compile(r"tfprov/report\.py"), re.compile(r"\.wsl$")),  # the profile's " (WSL)" label
    (re.compile(r"tfprov/operations/\w+\.py"), OPERATION_OS),  # apt vs dnf in an operation
]

# files with OS conditions outside the dispatch points today
KNOWN_OS_CONDITIONS: set[str] = set()


def _files():
    return sorted(TFPROV.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> set[str]:
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(text: str, package: str) -> set[str]:
    """Every module the source ``text`` of a module in ``package`` imports, anywhere in
    it (functions too): absolute names, with relative imports resolved; ``from pkg import
    mod`` names ``pkg.mod`` when that is a module."""
    tree = ast.parse(text)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            else:
                base = node.module
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.add(sub if _is_module(sub) else base)
    return out


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def import_violations() -> dict[tuple[str, str], str]:
    """{(file, imported module): the rule it breaks}."""
    found = {}
    for path in _files():
        me = module_name(path)
        for imported in sorted(imports_of(path)):
            for folder, kind, names in IMPORT_RULES:
                if not _under(me, folder):
                    continue
                tfprov_import = _under(imported, "tfprov")
                if kind == ONLY and tfprov_import and not any(_under(imported, n) for n in names):
                    found[(_rel(path), imported)] = f"{folder} imports only {', '.join(names)}"
                elif kind == NEVER and any(_under(imported, n) for n in names):
                    found[(_rel(path), imported)] = f"{folder} never imports {', '.join(names)}"
    return found


def long_modules() -> dict[str, int]:
    out = {}
    for path in _files():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            out[_rel(path)] = n
    return out


def os_condition_violations() -> dict[str, list[str]]:
    """{file: its OS-dependent conditions that no dispatch point allows there}."""
    out = {}
    for path in _files():
        rel = _rel(path)
        text = path.read_text(encoding="utf-8")
        bad = []
        for line, src in os_conditions.conditions(ast.parse(text), text):
            point = next((p for p in OS_DISPATCH_POINTS if p[0].fullmatch(rel)), None)
            if point and (point[1] is None or point[1].search(src)):
                continue
            bad.append(f"{rel}:{line}: {src[:100]}")
        if bad:
            out[rel] = bad
    return out


def _compare(found: set, known: set, what: str, details) -> None:
    new = sorted(found - known)
    gone = sorted(known - found)
    lines = [f"{details(v)}" for v in new]
    lines += [f"{v}: listed in {what} but no longer a violation: remove it" for v in gone]
    assert not lines, "\n".join(lines)


def test_import_rules():
    found = import_violations()
    _compare(
        set(found),
        KNOWN_IMPORT_VIOLATIONS,
        "KNOWN_IMPORT_VIOLATIONS",
        lambda v: f"{v[0]} imports {v[1]}: {found[v]}",
    )


def test_no_module_over_600_lines():
    found = long_modules()
    _compare(
        set(found),
        KNOWN_LONG_MODULES,
        "KNOWN_LONG_MODULES",
        lambda v: f"{v}: {found[v]} lines, over {MAX_LINES}",
    )


def test_os_conditions_only_at_the_dispatch_points():
    found = os_condition_violations()
    _compare(
        set(found),
        KNOWN_OS_CONDITIONS,
        "KNOWN_OS_CONDITIONS",
        lambda v: (
            "OS condition outside the dispatch points (ARCHITECTURE.md): " + "; ".join(found[v])
        ),
    )


def test_the_import_walk_resolves_relative_and_function_imports():
    text = (
        "from . import cuda\n"
        "from ..model import plan\n"
        "from ..model.versions import V\n"
        "def f():\n"
        "    import pyinfra.api\n"
        "    from tfprov.catalog import load_catalog\n"
    )
    assert imports_in(text, "tfprov.operations") == {
        "tfprov.operations.cuda",
        "tfprov.model.plan",
        "tfprov.model.versions",
        "pyinfra.api",
        "tfprov.catalog",
    }


def test_the_rules_name_folders_that_exist():
    for folder, _kind, _names in IMPORT_RULES:
        assert _is_module(folder), folder
    assert (ROOT / "ARCHITECTURE.md").is_file()


def test_the_docs_name_files_that_exist():
    missing = []
    for doc in ("README.md", "ARCHITECTURE.md", "docs/formats.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        named = re.findall(r"(?<![/\w])(?:tfprov|lab|tests|bench|scripts)/[\w/.*-]*\w", text)
        for path in sorted(set(named)):
            if not list(ROOT.glob(path)):
                missing.append(f"{doc} names {path}, which does not exist")
    assert not missing, "\n".join(missing)
