"""The state of one tfprov Python environment (a venv or a conda env), in one command."""

from __future__ import annotations

import json
import re

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact, first_json, sh_quote, split_sections
from tfprov.facts.tensorflow import TF_SCRIPT, parse_env_line, tensorflow_entry

MARK = _MARK = "@@tfprov-env "  # section markers (the Windows pip health fact prints them too)
_PIP_VERSION = re.compile(r"^pip (\S+) from ")
MARKER_NAME = "tfprov-env.json"  # the completion marker, written last by an install

# Prints one JSON list: for each ``*.dist-info`` on sys.path whose files do not match its
# RECORD, ``[dist-info name, files missing, files of another size, first such path]``
# (files missing -1: the dist-info has no RECORD, pip stopped before writing it).  Sizes,
# not hashes: stat of every file of a TF env (≈ 22,000) costs ≈ 0.15 s; hashing its
# 1.6 GB would cost seconds on every run.  No single quotes: it is sent inside them.
RECORD_SCRIPT = """import csv, json, os, sys
out = []
for top in dict.fromkeys(p for p in sys.path if p and os.path.isdir(p)):
    for di in sorted(os.listdir(top)):
        if not di.endswith(".dist-info"):
            continue
        try:
            rows = list(csv.reader(open(os.path.join(top, di, "RECORD"))))
        except (OSError, ValueError):
            out.append([di, -1, 0, di + "/RECORD"])
            continue
        miss = bad = 0
        ex = ""
        for r in rows:
            if len(r) < 3 or not r[2]:
                continue
            try:
                same = str(os.stat(os.path.join(top, r[0])).st_size) == r[2]
            except OSError:
                miss += 1
                ex = ex or r[0]
                continue
            if not same:
                bad += 1
                ex = ex or r[0]
        if miss or bad:
            out.append([di, miss, bad, ex])
print(json.dumps(out))"""


def parse_damaged(lines: list[str]) -> list[dict]:
    """The ``record`` section: ``[{"name", "version", "missing", "changed", "example"}]``
    (name as in the dist-info directory; ``missing`` -1: no RECORD)."""
    found = first_json(lines, "[") or []
    out = []
    for item in found:
        if not (isinstance(item, list) and len(item) == 4 and str(item[0]).endswith(".dist-info")):
            continue
        name, _, version = str(item[0])[: -len(".dist-info")].rpartition("-")
        out.append(
            {
                "name": name or version,
                "version": version if name else None,
                "missing": int(item[1]),
                "changed": int(item[2]),
                "example": str(item[3]),
            }
        )
    return out


def parse_marker(lines: list[str] | None) -> dict | None:
    """The completion marker's JSON object, or None (absent or not a JSON object)."""
    if lines is None:
        return None
    try:
        value = json.loads("\n".join(lines))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def damage_line(d: dict) -> str:
    if d["missing"] < 0:
        return f"{d['name']} {d['version']}: its RECORD is missing (an install was cut short)"
    said = ", ".join(f"{d[k]} {k}" for k in ("missing", "changed") if d[k])
    return f"{d['name']} {d['version']}: files {said} (e.g. {d['example']})"


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
        "marker": parse_marker(sections.get("marker")),
        "damaged": parse_damaged(sections.get("record", [])),
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
    damaged = [damage_line(d) for d in state.get("damaged") or []]
    if state.get("pip_error"):
        return [f"pip does not work ({state['pip_error']})", *damaged]
    check = state.get("pip_check") or {"ok": True}
    return damaged + ([] if check["ok"] else list(check["problems"]))


class EnvState(TfprovFact):
    """
    One environment at ``path`` (its ``bin/python``): ``{"exists": bool, "python": "3.11.2"
    | None, "pip_conf": "<text of path/pip.conf>" | None, "tensorflow": {"python", "env",
    "package", "version", "gpu"} | None, "marker": {…} | None, "damaged": [{"name",
    "version", "missing", "changed", "example"}, …], "pip": "23.0.1" | None, "pip_error":
    str | None, "pip_check": {"ok": bool, "problems": [line, …]} | None}`` (the TensorFlow
    entry as in :class:`tfprov.facts.tensorflow.Installed`, read without importing
    TensorFlow; ``marker`` the env's completion marker ``tfprov-env.json``, written last by
    a finished install; ``damaged`` the distributions whose files do not match their
    RECORD; ``pip`` is what ``python -m pip --version`` says, ``pip_error`` what it printed
    when pip does not work, ``pip_check`` the exit status and lines of ``python -m pip
    check``).
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
            "marker": None,
            "damaged": [],
            "pip": None,
            "pip_error": None,
            "pip_check": None,
        }

    def command(self, path: str) -> str:
        py = sh_quote(path.rstrip("/") + "/bin/python")
        conf = sh_quote(path.rstrip("/") + "/pip.conf")
        marker = sh_quote(path.rstrip("/") + "/" + MARKER_NAME)
        return (
            f"[ -x {py} ] || exit 0; "
            f"echo '{_MARK}python'; "
            f"{py} -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])'; "
            f"if [ -f {conf} ]; then echo '{_MARK}pip.conf'; cat {conf}; fi; "
            f"echo '{_MARK}tensorflow'; "
            f"printf '%s\\t%s\\n' {py} \"$({py} -c '{TF_SCRIPT}' 2>/dev/null)\"; "
            f"if [ -f {marker} ]; then echo '{_MARK}marker'; cat {marker}; echo; fi; "
            f"echo '{_MARK}record'; {py} -c '{RECORD_SCRIPT}' 2>&1; "
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
