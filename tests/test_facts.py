"""Fact tests in pyinfra's own style: one case file per captured output.

Each directory ``tests/facts/<module>.<Fact>/`` holds YAML cases (``command``, ``output``
and the expected ``fact``, plus ``source``: where the output was captured) and becomes
one generated TestCase through the ``pyinfra-testing`` harness.
"""

from pathlib import Path

from pyinfra_testing.facts import make_fact_tests

BASE_IMPORT_PATH = "tfprov.facts"
TESTS_BASE = Path(__file__).parent / "facts"

for _fact_path in sorted(d.name for d in TESTS_BASE.iterdir() if d.is_dir()):
    locals()[f"Test_{_fact_path.replace('.', '_')}"] = make_fact_tests(
        BASE_IMPORT_PATH, _fact_path, TESTS_BASE / _fact_path
    )
