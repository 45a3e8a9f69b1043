"""The state of one tfprov Python environment (a venv or a conda env), in one command."""

from __future__ import annotations

from .base import TfprovFact, sh_quote, split_marked
from .tensorflow import TF_SCRIPT, parse_env_line, tensorflow_entry

_MARK = "@@tfprov-env "


def parse_env_state(lines: list[str]) -> dict:
    """Sections ``python`` (X.Y.Z), ``pip.conf`` (its text) and ``tensorflow`` (one line of
    the ``Installed`` format) of the :class:`EnvState` command."""
    sections = split_marked(lines, _MARK)
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
    }


class EnvState(TfprovFact):
    """
    One environment at ``path`` (its ``bin/python``): ``{"exists": bool, "python": "3.11.2"
    | None, "pip_conf": "<text of path/pip.conf>" | None, "tensorflow": {"python", "env",
    "package", "version", "gpu"} | None}`` (the TensorFlow entry as in
    :class:`tfprov.facts.tensorflow.Installed`, read without importing TensorFlow).

    .. code:: python

        from tfprov.facts.env import EnvState
        env = host.get_fact(EnvState, path="/opt/tfprov/envs/tf221")
    """

    @staticmethod
    def default() -> dict:
        return {"exists": False, "python": None, "pip_conf": None, "tensorflow": None}

    def command(self, path: str) -> str:
        py = sh_quote(path.rstrip("/") + "/bin/python")
        conf = sh_quote(path.rstrip("/") + "/pip.conf")
        return (
            f"[ -x {py} ] || exit 0; "
            f"echo '{_MARK}python'; "
            f"{py} -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])'; "
            f"if [ -f {conf} ]; then echo '{_MARK}pip.conf'; cat {conf}; fi; "
            f"echo '{_MARK}tensorflow'; "
            f"printf '%s\\t%s\\n' {py} \"$({py} -c '{TF_SCRIPT}' 2>/dev/null)\"; true"
        )

    def process(self, output: list[str]) -> dict:
        return parse_env_state(output)
