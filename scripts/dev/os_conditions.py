"""Count OS-dependent conditions in tfprov/: every ``if``/``elif``/ternary/``while``/
comprehension test, and every ``and``/``or`` operand of one, whose source names an OS
(windows, wsl, darwin, linux, family, os_short, package manager, distro names).

    python scripts/dev/os_conditions.py [--list]

Prints the count per module (and each condition with --list).  ARCHITECTURE.md names
the dispatch points where such conditions belong.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OS_WORDS = re.compile(
    r"windows|\bwsl\b|\.wsl|darwin|macos|\"linux\"|'linux'|\bfamily\b|os_short|"
    r"package_manager|\"apt\"|\"dnf\"|ubuntu|debian|rhel|rocky|almalinux|is_windows|"
    r"\bwin\b|winssh|driver_on_windows"
)


def conditions(tree: ast.AST, text: str):
    """(line, source) of each test expression that names an OS."""
    tests = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.IfExp, ast.While)):
            tests.append(node.test)
        elif isinstance(node, ast.comprehension):
            tests.extend(node.ifs)
        elif isinstance(node, ast.Assert):
            continue
    for t in tests:
        src = ast.get_source_segment(text, t) or ""
        if OS_WORDS.search(src):
            yield t.lineno, " ".join(src.split())


def main() -> int:
    show = "--list" in sys.argv
    total = 0
    for path in sorted((ROOT / "tfprov").rglob("*.py")):
        text = path.read_text()
        found = list(conditions(ast.parse(text), text))
        if not found:
            continue
        total += len(found)
        print(f"{len(found):4d}  {path.relative_to(ROOT)}")
        if show:
            for line, src in found:
                print(f"        {line}: {src[:110]}")
    print(f"{total:4d}  total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
