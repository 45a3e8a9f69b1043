"""The Windows operations' PowerShell, checked with a real PowerShell grammar.

The YAML cases in ``tests/operations/<component>_windows.*/`` (run by
``tests/test_operations.py``) pin every script the operations generate, exactly.  Here
every one of those scripts, and the command of every Windows fact the operations read
(:data:`WINDOWS_FACTS`), must parse with
tree-sitter's PowerShell grammar without an error node (dev extra: ``tree-sitter``,
``tree-sitter-powershell``).  A grammar check is not a run: it catches unbalanced quotes,
braces and broken escaping, not wrong cmdlet parameters.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ts = pytest.importorskip("tree_sitter")
tsp = pytest.importorskip("tree_sitter_powershell")

CASES = Path(__file__).parent / "operations"
CASE_FILES = sorted(CASES.glob("*_windows.*/*.yaml"))
WINDOWS_OPERATIONS = (
    "conda_windows",
    "cuda_windows",
    "cudnn_windows",
    "driver_windows",
    "system_windows",
    "tensorflow_windows",
    "venv_windows",
)
# the facts the Windows operations read, beside the Linux facts of their subject
WINDOWS_FACTS = (
    ("system", "WinMachineEnv"),
    ("files", "WinFileExists"),
    ("files", "WinFileSha256"),
    ("cuda", "WinCudnnAt"),
    ("env", "WinPipPackages"),
    ("env", "WinPipHealth"),
    ("conda_env", "WinCondaEnvPackages"),
)


def _parser():
    return ts.Parser(ts.Language(tsp.language()))


def _errors(tree, source: bytes) -> list[str]:
    """The text around every ERROR / missing node, for the assertion message."""
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            line = node.start_point[0]
            text = source.decode().splitlines()[line] if source else ""
            out.append(f"line {line + 1}: {node.type} in {text.strip()!r}")
        stack.extend(node.children)
    return out


def parse_ok(script: str) -> list[str]:
    source = script.encode()
    tree = _parser().parse(source)
    return _errors(tree, source) if tree.root_node.has_error else []


def _case_scripts():
    for path in CASE_FILES:
        data = yaml.safe_load(path.read_text())
        for i, command in enumerate(data.get("commands") or []):
            yield pytest.param(command, id=f"{path.parent.name}/{path.stem}#{i}")


def test_every_windows_operation_has_cases():
    import inspect
    from importlib import import_module

    ops = set()
    for module_name in WINDOWS_OPERATIONS:
        module = import_module(f"tfprov.operations.{module_name}")
        ops |= {
            f"{module_name}.{name}"
            for name, obj in vars(module).items()
            if callable(obj) and hasattr(obj, "_inner") and inspect.getmodule(obj) is module
        }
    with_cases = {p.parent.name for p in CASE_FILES}
    assert ops and ops <= with_cases, sorted(ops - with_cases)


def test_cases_cover_changes_and_no_changes():
    kinds: dict[str, set[str]] = {}
    for path in CASE_FILES:
        data = yaml.safe_load(path.read_text())
        kind = "exception" if "exception" in data else "noop" if not data["commands"] else "change"
        kinds.setdefault(path.parent.name, set()).add(kind)
    for op, seen in kinds.items():
        assert {"change", "noop"} <= seen, (op, seen)


@pytest.mark.parametrize("script", list(_case_scripts()))
def test_case_script_parses_as_powershell(script):
    assert isinstance(script, str) and script.strip()
    assert parse_ok(script) == []


def _fact_commands():
    import inspect
    from importlib import import_module

    args = {
        "variable": "Path",
        "path": r"C:\Program Files\it's here",
        "python_exe": r"C:\tfprov\envs\tf215\Scripts\python.exe",
        "prefix": r"C:\tfprov\miniforge3",
        "env_name": "tf210",
    }
    for module, name in WINDOWS_FACTS:
        cls = getattr(import_module(f"tfprov.facts.{module}"), name)
        params = [p for p in inspect.signature(cls.command).parameters if p != "self"]
        yield pytest.param(cls().command(**{p: args[p] for p in params}), id=name)


@pytest.mark.parametrize("command", list(_fact_commands()))
def test_fact_command_parses_as_powershell(command):
    assert parse_ok(command) == []


def test_the_grammar_rejects_broken_powershell():
    # the check is only worth something if it fails on what it is meant to catch
    assert parse_ok("if ($x -eq 'a') { 'b'")
    assert parse_ok("Write-Output 'it's'")


@pytest.mark.parametrize(
    "value",
    ["plain", "it's", "‘curly’ ‚low‛", "$env:TEMP `n $(calc)", '"double" ;|&', "C:\\a b\\c\\"],
)
def test_ps_quote_is_one_literal(value):
    from tfprov.powershell import quote as ps_quote
    from tfprov.powershell import script

    text = script(f"$v = {ps_quote(value)}", "Write-Output $v")
    assert parse_ok(text) == []
    tree = _parser().parse(text.encode())
    literals = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "verbatim_string_characters":
            literals.append(node.text.decode())
        stack.extend(node.children)
    quoted = ps_quote(value)
    assert quoted in literals, (literals, quoted)


def test_nvidia_driver_never_reboots_the_machine_pyinfra_runs_on():
    from pyinfra.connectors.local import LocalConnector
    from pyinfra.context import ctx_host, ctx_state
    from pyinfra_testing.util import FakeState, create_host

    from tfprov.operations.driver_windows import nvidia_driver
    from tfprov.operations.system_windows import reboot_if_needed

    case = CASES / "driver_windows.nvidia_driver" / "unc-share-no-driver-allow-reboot.yaml"
    data = yaml.safe_load(case.read_text())
    assert "    Restart-Computer -Force" in data["commands"][0].splitlines()
    state = FakeState()
    host = create_host(state, facts=data["facts"])
    host.connector_cls = LocalConnector
    with ctx_state.use(state), ctx_host.use(host):
        commands = list(nvidia_driver._inner(**data["kwargs"]))
    assert "Restart-Computer" not in commands[0]

    case = CASES / "system_windows.reboot_if_needed" / "pending-allowed.yaml"
    data = yaml.safe_load(case.read_text())
    host = create_host(state, facts=data["facts"])
    host.connector_cls = LocalConnector
    with ctx_state.use(state), ctx_host.use(host):
        assert list(reboot_if_needed._inner(**data["kwargs"])) == []
    assert host.noop_description.endswith("(not rebooting the machine pyinfra runs on)")


def test_machine_path_merge():
    from tfprov.operations.system_windows import merged_path

    cur = r"C:\Windows;C:\CUDA\v12.8\bin;;C:\cuda\V11.2\bin\;C:\Windows"
    # ours first in the given order, no duplicate of ours, other entries (and their own
    # duplicates) kept in order, empty entries dropped
    assert merged_path(cur, [r"C:\CUDA\v11.2\bin", r"C:\CUDA\v11.2\bin"]) == [
        r"C:\CUDA\v11.2\bin",
        r"C:\Windows",
        r"C:\CUDA\v12.8\bin",
        r"C:\Windows",
    ]
    assert merged_path(cur, [r"C:\new"], prepend=False)[-1] == r"C:\new"
    assert merged_path(None, [r"C:\a"]) == [r"C:\a"]


def test_win_pip_health_reads_what_pip_prints():
    # pip prints the same lines on every OS: those captured live on Linux (the EnvState
    # fixtures), framed by the section markers the Windows command echoes itself
    from tfprov.facts.env import MARK, WinPipHealth

    facts = Path(__file__).parent / "facts" / "env.EnvState"
    case = facts / "live-venv-tensorflow-cpu-2.21.0-numpy-1.25.2.yaml"
    broken = yaml.safe_load(case.read_text())
    lines = broken["output"][broken["output"].index(f"{MARK}pip") :]
    health = WinPipHealth().process(lines)
    assert health == {
        "exists": True,
        "pip": "23.2.1",
        "pip_error": None,
        "pip_check": broken["fact"]["pip_check"],
    }
    assert not health["pip_check"]["ok"] and len(health["pip_check"]["problems"]) == 2
    nopip = yaml.safe_load((facts / "live-venv-without-pip.yaml").read_text())
    lines = nopip["output"][nopip["output"].index(f"{MARK}pip") :]
    assert WinPipHealth().process(lines)["pip_error"] == nopip["fact"]["pip_error"]
    assert WinPipHealth().process([]) == WinPipHealth.default()  # no such python.exe
