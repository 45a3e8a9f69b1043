"""Operation tests in pyinfra's own style: facts in → exact commands out.

Each directory ``tests/operations/<module>.<operation>/`` holds YAML cases (``args``,
``kwargs``, ``facts``, and the expected ``commands`` or ``noop_description`` or
``exception``) and becomes one generated TestCase through ``pyinfra-testing``.
"""

from pathlib import Path

from pyinfra_testing.operations import make_operation_tests

BASE_IMPORT_PATH = "tfprov.operations"
TESTS_BASE = Path(__file__).parent / "operations"

for _op_path in sorted(d.name for d in TESTS_BASE.iterdir() if d.is_dir()):
    locals()[f"Test_{_op_path.replace('.', '_')}"] = make_operation_tests(
        BASE_IMPORT_PATH, _op_path, TESTS_BASE / _op_path
    )
