"""TensorFlow facts: which environments have TensorFlow installed, which build, GPU or not.

Nothing here imports TensorFlow: importing it is slow and, on a CPU without AVX, kills the
interpreter with 'Illegal instruction' — the very machines tfprov has to handle.  The
installed distributions are read from their metadata (``importlib.metadata``, or
``pkg_resources`` before Python 3.8) and the build flavour from the text of
``tensorflow/python/platform/build_info.py``.
"""

from __future__ import annotations

import json
import re

from tfprov.facts.base import TfprovFact, sh_quote
from tfprov.facts.conda import CONDA_PREFIX_SH, conda_candidates_sh, norm_path
from tfprov.facts.python import python_candidates_sh
from tfprov.model.distributions import TF_DISTRIBUTIONS, TF_NAME_PREFIXES

# Where tfprov's deploy creates its virtualenvs (the default of the fact's argument).
DEFAULT_ENVS_DIR = "/opt/tfprov/envs"

# The build-info file, below ``tensorflow/`` — or ``tensorflow_core/`` in TF 1.15 and 2.0,
# whose ``tensorflow/`` only forwards there.
BUILD_INFO = "python/platform/build_info.py"
_PREFIXES = "(" + ", ".join(f'"{p}"' for p in TF_NAME_PREFIXES) + ")"

# Prints one JSON line for the environment of the interpreter running it, on Python 2.7
# to 3.14: sys.prefix; the installed distributions whose names start like TensorFlow's,
# with version and whether their RECORD lists a build_info.py (the one carrying the build,
# where e.g. 'tensorflow' on Windows is only a shim depending on 'tensorflow-intel'); and
# the lines of the first build_info.py on sys.path (tensorflow/ or tensorflow_core/) that
# mention cuda, cudnn or rocm.  No single quotes: it is sent inside them.
TF_SCRIPT = f"""import json, os, sys
sys.path = [p for p in sys.path if p]
B = "/{BUILD_INFO}"
P = {_PREFIXES}
d = []
def add(n, v, r):
    n = n.lower().replace("_", "-").replace(".", "-")
    if n.startswith(P) and n not in [x[0] for x in d]:
        d.append([n, v, B in (r or "")])
try:
    from importlib import metadata as m
    for x in m.distributions():
        try:
            n = x.metadata.get("Name") or ""
            if n.lower().replace("_", "-").startswith(P):
                add(n, x.version, x.read_text("RECORD") or x.read_text("installed-files.txt"))
        except Exception:
            pass
except ImportError:
    try:
        import pkg_resources as k
        for x in k.working_set:
            if x.project_name.lower().replace("_", "-").startswith(P):
                r = [x.get_metadata(f) for f in ("RECORD", "installed-files.txt")
                     if x.has_metadata(f)]
                add(x.project_name, x.version, r and r[0])
    except Exception:
        pass
b = None
for f in [os.path.join(p, t + B) for p in sys.path for t in ("tensorflow", "tensorflow_core")]:
    if os.path.isfile(f):
        try:
            b = [s.strip() for s in open(f) if "cud" in s or "rocm" in s]
        except Exception:
            pass
        break
print(json.dumps({{"prefix": sys.prefix, "dists": d, "build_info": b}}))"""

_FLAG = r"""['"]?{key}['"]?\s*[,:=]\s*(True|False)\b"""
_VALUE = r"""['"]?{key}['"]?\s*[,:=]\s*['"]([^'"]*)['"]"""


def parse_build_info(text: str | list[str] | None) -> dict:
    """Read TensorFlow's ``build_info.py`` as text (all of it, or some of its lines) in each
    of its formats — ``is_cuda_build = True`` (TF 1.x to 2.2), ``build_info = {...,
    'is_cuda_build': True}`` (2.3), ``collections.OrderedDict([... ('is_cuda_build', True)
    ...])`` (2.4+) — into ``{"is_cuda_build", "is_rocm_build", "cuda_version",
    "cudnn_version"}``, None where the text says nothing.  Versions are as written (Windows
    builds write ``'64_112'`` for CUDA 11.2)."""
    if text is None:
        text = ""
    if isinstance(text, list):
        text = "\n".join(text)
    out: dict = {}
    for key in ("is_cuda_build", "is_rocm_build"):
        m = re.search(_FLAG.format(key=key), text)
        out[key] = (m.group(1) == "True") if m else None
    for key, old in (
        ("cuda_version", "cuda_version_number"),
        ("cudnn_version", "cudnn_version_number"),
    ):
        m = re.search(_VALUE.format(key=key), text) or re.search(_VALUE.format(key=old), text)
        out[key] = m.group(1) if m else None
    return out


def gpu_build(package: str | None, build_info: dict | None) -> bool | None:
    """Whether a TensorFlow build can use a GPU: from its build info (a CUDA or ROCm build),
    else from the distribution name (``…-gpu``/``…-rocm``: True, ``…-cpu…``: False), else
    None."""
    bi = build_info or {}
    if bi.get("is_cuda_build") or bi.get("is_rocm_build"):
        return True
    if bi.get("is_cuda_build") is False:
        return False
    words = (package or "").split("-")
    if "gpu" in words or "rocm" in words:
        return True
    if "cpu" in words:
        return False
    return None


def parse_env_line(line: str) -> dict | None:
    """Parse one line of the ``Installed`` command, ``<python path>\\t<JSON>``, into
    ``{"python", "env", "dists": [[name, version, ships_build_info]], "build_info"}``;
    None for anything else."""
    path, sep, payload = line.strip().partition("\t")
    if not sep or not path.startswith("/"):
        return None
    try:
        obj = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("prefix"), str):
        return None
    dists = [
        [str(d[0]), str(d[1]), bool(d[2])]
        for d in obj.get("dists") or []
        if isinstance(d, list) and len(d) == 3
    ]
    bi = obj.get("build_info")
    return {
        "python": path,
        "env": obj["prefix"],
        "dists": dists,
        "build_info": bi if isinstance(bi, list) else None,
    }


def tensorflow_entry(env: dict) -> dict | None:
    """The ``Installed`` entry of a parsed env line (:func:`parse_env_line`), or None when
    the env has no TensorFlow distribution.  With several installed, the one whose files
    include ``build_info.py`` is reported (the others being shims or leftovers), ties going
    by the order of :data:`tfprov.model.distributions.TF_DISTRIBUTIONS`."""
    tf = [d for d in env["dists"] if d[0] in TF_DISTRIBUTIONS]
    if not tf:
        return None
    pick = min([d for d in tf if d[2]] or tf, key=lambda d: TF_DISTRIBUTIONS.index(d[0]))
    info = parse_build_info(env["build_info"]) if env["build_info"] is not None else None
    return {
        "python": env["python"],
        "env": env["env"],
        "package": pick[0],
        "version": pick[1],
        "gpu": gpu_build(pick[0], info),
    }


def parse_installed(lines: list[str]) -> list[dict]:
    """Parse the ``Installed`` command's output: one entry per environment (by prefix,
    first interpreter found kept) that has a TensorFlow distribution, in discovery order."""
    seen: set[str] = set()
    found: list[dict] = []
    for line in lines:
        env = parse_env_line(line)
        if env is None:
            continue
        key = norm_path(env["env"])
        if key in seen:
            continue
        seen.add(key)
        entry = tensorflow_entry(env)
        if entry:
            found.append(entry)
    return found


class Installed(TfprovFact):
    """
    TensorFlow installations, one per environment that has a TensorFlow distribution::

        [{"python": "/opt/tfprov/envs/tf215/bin/python", "env": "/opt/tfprov/envs/tf215",
          "package": "tensorflow", "version": "2.15.1", "gpu": True}]

    Environments looked at: the system interpreters (as :class:`~tfprov.facts.python.
    Pythons` finds them); every env of the conda installations found as :class:`~tfprov.
    facts.conda.Conda` finds them (``<prefix>``, ``<prefix>/envs/*``), plus
    ``~/.conda/envs/*`` and the envs listed in ``~/.conda/environments.txt`` of root, the
    login user and the sudo user; and the virtualenvs ``<envs_dir>/*`` (argument, default
    ``/opt/tfprov/envs``).  An environment reached through several interpreters is reported
    once, under the first.

    ``package`` is the distribution (``tensorflow``, ``tensorflow-gpu``, ``tensorflow-cpu``,
    ``tensorflow-intel``, ``tensorflow-macos``, ``tf-nightly`` …; see
    :data:`tfprov.model.distributions.TF_DISTRIBUTIONS`) that ships the build; ``gpu`` is
    True for a CUDA or ROCm build and False for a CPU-only one, read from ``build_info.py``,
    else guessed from the name (``-gpu``/``-cpu``), else None.  TensorFlow is never imported.

    + default: ``[]``

    .. code:: python

        from tfprov.facts.tensorflow import Installed
        for tf in host.get_fact(Installed, envs_dir="/opt/tfprov/envs"):
            if tf["gpu"] is False:
                ...  # a CPU-only build where a GPU one is wanted
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self, envs_dir: str = DEFAULT_ENVS_DIR) -> str:
        return (
            "tft_seen=:\n"
            "tft_ask() {\n"
            '  case "$tft_seen" in *":$1:"*) return 0 ;; esac\n'
            '  tft_seen="$tft_seen$1:"\n'
            '  [ -f "$1" ] && [ -x "$1" ] || return 0\n'
            f"  tft_o=$(\"$1\" -c '{TF_SCRIPT}' 2>/dev/null) &&\n"
            '    printf \'%s\\t%s\\n\' "$1" "$tft_o"\n'
            "  return 0\n"
            "}\n" + python_candidates_sh("tft_ask") + "\ntfc_seen=:\n"
            "tft_conda() {\n" + CONDA_PREFIX_SH + '  tft_ask "$tfc_x/bin/python"\n'
            '  for tft_e in "$tfc_x"/envs/*/; do tft_ask "${tft_e}bin/python"; done\n'
            "  return 0\n"
            "}\n"
            + conda_candidates_sh("tft_conda")
            + '\nfor tft_h in "${HOME:-}" /root "$tfc_uh"; do\n'
            '  [ -n "$tft_h" ] || continue\n'
            '  for tft_e in "$tft_h"/.conda/envs/*/; do tft_ask "${tft_e}bin/python"; done\n'
            '  [ -r "$tft_h/.conda/environments.txt" ] || continue\n'
            "  while IFS= read -r tft_e; do\n"
            '    case "$tft_e" in /*) tft_ask "${tft_e%/}/bin/python" ;; esac\n'
            '  done < "$tft_h/.conda/environments.txt"\n'
            "done\n"
            f"for tft_e in {sh_quote(envs_dir.rstrip('/') or '/')}/*/; do "
            'tft_ask "${tft_e}bin/python"; done\n'
            "true"
        )

    def process(self, output: list[str]) -> list[dict]:
        return parse_installed(output)
