"""Capture the EnvState fact of a real env on this machine as a fact-test case.

    .venv/bin/python scripts/dev/capture_env_state.py ENV_PATH NAME "what the env is"

writes tests/facts/env.EnvState/live-NAME.yaml: the fact's command run with sh, its
output, and the fact parsed from it (review it before committing).
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import yaml

from tfprov.facts.env import EnvState, parse_env_state

OUT = Path(__file__).resolve().parents[2] / "tests" / "facts" / "env.EnvState"


def main(path: str, name: str, what: str) -> Path:
    command = EnvState().command(path=path)
    res = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = res.stdout.splitlines()
    case = {
        "source": f"live capture {when} on the tfprov build machine "
        f"(sh exit {res.returncode}, stderr {res.stderr.strip()!r})",
        "captured": f"captured live: {what}; the fact's command run with sh",
        "arg": {"path": path},
        "command": command,
        "output": lines,
        "fact": parse_env_state(lines),
    }
    dest = OUT / f"live-{name}.yaml"
    dest.write_text(yaml.safe_dump(case, sort_keys=False, width=100, allow_unicode=True))
    return dest


if __name__ == "__main__":
    print(main(*sys.argv[1:4]))
