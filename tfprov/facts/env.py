"""The state of one tfprov Python environment (a venv or a conda env), in one command."""

from __future__ import annotations

import re

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact, sh_quote, split_sections
from tfprov.facts.tensorflow import TF_SCRIPT, parse_env_line, tensorflow_entry

MARK = _MARK = "@@tfprov-env "  # section markers (the Windows pip health fact prints them too)
_PIP_VERSION = re.compile(r"^pip (\S+) from ")


def pip_health(sections: dict[str, list[str]]) -> dict:
    """``pip`` (its version), ``pip_error`` (what ``python -m pip`` printed instead) and
    ``pip_check`` ({``ok``, ``problems``}) from the sections ``pip``, ``pip-check`` and
    ``pip-check-exit``; all None where the command did not get that far."""
    out: dict = {"pip": None, "pip_error": None, "pip_check": None}
    if "pip" not in sections:
        return out
    lines = [s.strip() for s in sections["pip"] if s.strip()]
    found = next((m.group(1) for m in map(_PIP_VERSION.match, lines) if m), None)
    if found is None:
        out["pip_error"] = " ".join(lines) or "python -m pip printed nothing"
        return out
    out["pip"] = found
    status = next((s.strip() for s in sections.get("pip-check-exit", []) if s.strip()), None)
    if status is not None:
        problems = [s.strip() for s in sections.get("pip-check", []) if s.strip()]
        ok = status == "0"
        out["pip_check"] = {
            "ok": ok,
            "problems": [] if ok else problems or [f"pip check exited with {status}"],
        }
    return out


def parse_env_state(lines: list[str]) -> dict:
    """Sections ``python`` (X.Y.Z), ``pip.conf`` (its text), ``tensorflow`` (one line of
    the ``Installed`` format) and the pip health sections of the :class:`EnvState`
    command."""
    sections = split_sections(lines, _MARK)
    version = next((s.strip() for s in sections.get("python", []) if s.strip()), None)
    tf = None
    for line in sections.get("tensorflow", []):
        env = parse_env_line(line)
        if env:
            tf = tensorflow_entry(env)
    pip_conf = sections.get("pip.conf")
    return {
        "exists": version is not None,
        "python": version,
        "pip_conf": "\n".join(pip_conf) + "\n" if pip_conf is not None else None,
        "tensorflow": tf,
        **pip_health(sections),
    }


def parse_pip_health(lines: list[str]) -> dict:
    """``{"exists", "pip", "pip_error", "pip_check"}`` from output with only the pip health
    sections (``exists``: the interpreter ran)."""
    sections = split_sections(lines, _MARK)
    return {"exists": "pip" in sections, **pip_health(sections)}


def env_problems(state: dict) -> list[str]:
    """What is broken in an env of the :class:`EnvState` fact: ``[]`` when it is healthy
    (or absent)."""
    if not state.get("exists"):
        return []
    if state.get("pip_error"):
        return [f"pip does not work ({state['pip_error']})"]
    check = state.get("pip_check") or {"ok": True}
    return [] if check["ok"] else list(check["problems"])


class EnvState(TfprovFact):
    """
    One environment at ``path`` (its ``bin/python``): ``{"exists": bool, "python": "3.11.2"
    | None, "pip_conf": "<text of path/pip.conf>" | None, "tensorflow": {"python", "env",
    "package", "version", "gpu"} | None, "pip": "23.0.1" | None, "pip_error": str | None,
    "pip_check": {"ok": bool, "problems": [line, …]} | None}`` (the TensorFlow entry as in
    :class:`tfprov.facts.tensorflow.Installed`, read without importing TensorFlow; ``pip``
    is what ``python -m pip --version`` says, ``pip_error`` what it printed when pip does
    not work, ``pip_check`` the exit status and lines of ``python -m pip check``).
    :func:`env_problems` says what is broken.

    .. code:: python

        from tfprov.facts.env import EnvState
        env = host.get_fact(EnvState, path="/opt/tfprov/envs/tf221")
    """

    @staticmethod
    def default() -> dict:
        return {
            "exists": False,
            "python": None,
            "pip_conf": None,
            "tensorflow": None,
            "pip": None,
            "pip_error": None,
            "pip_check": None,
        }

    def command(self, path: str) -> str:
        py = sh_quote(path.rstrip("/") + "/bin/python")
        conf = sh_quote(path.rstrip("/") + "/pip.conf")
        return (
            f"[ -x {py} ] || exit 0; "
            f"echo '{_MARK}python'; "
            f"{py} -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])'; "
            f"if [ -f {conf} ]; then echo '{_MARK}pip.conf'; cat {conf}; fi; "
            f"echo '{_MARK}tensorflow'; "
            f"printf '%s\\t%s\\n' {py} \"$({py} -c '{TF_SCRIPT}' 2>/dev/null)\"; "
            f"echo '{_MARK}pip'; {py} -m pip --version 2>&1 || exit 0; "
            f"echo '{_MARK}pip-check'; {py} -m pip check --disable-pip-version-check 2>&1; "
            f"s=$?; echo '{_MARK}pip-check-exit'; echo $s"
        )

    def process(self, output: list[str]) -> dict:
        return parse_env_state(output)


# -- Windows -------------------------------------------------------------------------------


class WinPipPackages(TfprovFact):
    """``{normalized name: version}`` of what ``PYTHON_EXE -m pip list`` reports; ``{}``
    when that Python does not exist or has no pip."""

    @staticmethod
    def default() -> dict:
        return {}

    def command(self, python_exe: str) -> str:
        exe = ps.quote(python_exe)
        return (
            f"if (Test-Path -LiteralPath {exe}) {{ "
            f"& {exe} -m pip list '--format=json' --disable-pip-version-check 2>$null }}"
        )

    def process(self, output: list[str]) -> dict:
        import json

        text = "\n".join(output)
        start = text.find("[")
        try:
            items = json.loads(text[start:]) if start >= 0 else []
        except ValueError:
            return {}
        return {
            re.sub(r"[-_.]+", "-", i["name"]).lower(): str(i["version"])
            for i in items
            if isinstance(i, dict) and i.get("name") and i.get("version") is not None
        }


class WinPipHealth(TfprovFact):
    """Whether pip works for ``python_exe`` and what ``pip check`` says, as the Linux
    EnvState fact gives it: ``{"exists", "pip", "pip_error", "pip_check"}`` (see
    :func:`tfprov.facts.env.env_problems`)."""

    @staticmethod
    def default() -> dict:
        return {"exists": False, "pip": None, "pip_error": None, "pip_check": None}

    def command(self, python_exe: str) -> str:
        exe = ps.quote(python_exe)
        run = '2>&1 | ForEach-Object {{ "$_" }}'
        return (
            f"$ErrorActionPreference = 'Continue'\n"
            f"if (Test-Path -LiteralPath {exe}) {{\n"
            f"    '{MARK}pip'\n"
            f"    & {exe} -m pip --version {run}\n"
            "    if ($LASTEXITCODE -eq 0) {\n"
            f"        '{MARK}pip-check'\n"
            f"        & {exe} -m pip check --disable-pip-version-check {run}\n"
            f"        '{MARK}pip-check-exit'\n"
            '        "$LASTEXITCODE"\n'
            "    }\n"
            "}"
        )

    def process(self, output: list[str]) -> dict:
        return parse_pip_health(output)
