"""A hypothesis fuzz of what an admin gives tfprov (issue 10): host data, a ``--spec``
file's bytes, ``tfprov plan INVENTORY`` with saved profiles, and profile JSON.

Every input is either accepted and then resolves/plans without error, or rejected with
one clean error naming the field (host data) or the file; never another exception, and
never accepted-but-wrong: a boolean key accepted from anything but a real bool, or an
accepted string holding a control character / line break, an empty string or a
non-ASCII version.  Derandomized, a fixed number of examples per target; the counts per
target are written to the terminal (seen in CI logs without ``-s``).
"""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfprov import cli
from tfprov.apply.inventory import check_catalog
from tfprov.catalog import load_catalog
from tfprov.model.hostdata import HOST_KEYS, HostSettings, settings_from_mapping
from tfprov.model.profile import HostProfile
from tfprov.model.spec import SPEC_KEYS, SpecError, load_spec_file
from tfprov.resolve import resolve

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "inventories/profiles/debian12-cpu-only.json"
FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
BOOL_KEYS = [k for k, f in HostSettings.model_fields.items() if f.annotation in (bool, bool | None)]
_CONTROL = {"Cc", "Cf", "Cs", "Zl", "Zp"}

# values an admin might write (or mistype), and hostile ones
words = st.sampled_from(
    ["auto", "off", "no", "false", "0", "yes", "true", "1", "2.15", "2.15.1", "latest",
     ">=2.10,<2.13", "3.11", "535", "keep", "venv", "conda", "pip", "https://h/simple",
     "file:///srv/w", "/srv/wheels", "C:\\tfprov\\envs", "tf215", "", " ", "٢.١٥", "3.1١",
     "a\nb", "x;rm -rf /", "$(id)", "`id`", "a\x00b", "a\u200bb", "a\x1b[31m", "a" * 64]
)  # fmt: skip
scalars = st.one_of(
    words,
    st.text(max_size=12),
    st.booleans(),
    st.integers(-5, 100000),
    st.floats(allow_nan=True),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=2),
    max_leaves=6,
)
keys = st.one_of(st.sampled_from(HOST_KEYS), st.sampled_from(["tensorflw", "Reboot", "x"]))
host_data = st.dictionaries(keys, values, max_size=5)

COUNTS: dict[str, Counter] = {}


@pytest.fixture
def counts(request):
    name = request.node.name.removeprefix("test_fuzz_")
    c = COUNTS.setdefault(name, Counter())
    yield c
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    line = (
        f"fuzz {name}: {sum(c.values())} inputs: {c['accepted']} accepted, "
        f"{c['rejected']} rejected, {c['crash']} crashes, {c['wrong']} accepted-but-wrong"
    )
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if tr is not None and capman is not None:
        with capman.global_and_fixture_disabled():  # shown without -s
            tr.write_line("")
            tr.write_line(line)


def _bad_text(v) -> bool:
    """Does ``v`` hold a string a remote command or file must not get?"""
    if isinstance(v, str):
        return not v.strip() or any(unicodedata.category(c) in _CONTROL for c in v)
    if isinstance(v, dict):
        return any(_bad_text(k) or _bad_text(x) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return any(_bad_text(x) for x in v)
    return False


def _wrong(data: dict, s: HostSettings) -> str | None:
    """Why an accepted input was accepted wrongly, or None."""
    for k in BOOL_KEYS:
        if k in data and data[k] is not None and not isinstance(data[k], bool):
            return f"{k}={data[k]!r} accepted as {getattr(s, k)!r}"
    for k, v in data.items():
        if _bad_text(v):
            return f"{k}={v!r} accepted"
    for k in ("tensorflow", "python"):
        if not str(getattr(s, k) or "").isascii():
            return f"{k}={getattr(s, k)!r} accepted"
    return None


def _field_lines(msg: str, where: str) -> bool:
    return all(ln.startswith(f"{where}: field '") for ln in msg.splitlines()) and bool(msg)


CATALOG = load_catalog()
BASE_PROFILE = HostProfile.model_validate_json(PROFILE.read_text())


@settings(FUZZ, max_examples=300)
@given(data=host_data)
def _host_data_case(data, c):
    try:
        s = settings_from_mapping(data, "host h")
        spec = check_catalog(s.stack_spec(), "host h")
    except SpecError as exc:
        c["rejected"] += 1
        assert _field_lines(str(exc), "host h"), str(exc)
        return
    except Exception:
        c["crash"] += 1
        raise
    why = _wrong(data, s)
    if why:
        c["wrong"] += 1
        raise AssertionError(f"accepted but wrong: {why}")
    c["accepted"] += 1
    s.sources()
    resolve(BASE_PROFILE, spec, CATALOG, [], host="h")  # a plan (possibly a refusal)


def test_fuzz_host_data(counts):
    _host_data_case(c=counts)
    assert counts["crash"] == counts["wrong"] == 0


@settings(FUZZ, max_examples=300)
@given(
    raw=st.one_of(
        st.binary(max_size=60),
        st.builds(
            lambda d: json.dumps(d).encode(),  # JSON is YAML: a mapping of fuzzed values
            st.dictionaries(st.sampled_from([*SPEC_KEYS, "x"]), values, max_size=4),
        ),
        st.lists(st.sampled_from([b"tensorflow: ", b"2.15", b"\n", b"gpu: off", b"[", b"{",
                                  b"- ", b": ", b"\xff", b"!!python/object:os.system", b"&a *a",
                                  b"python: 3.11", b"\t", b"'"]), max_size=8).map(b"".join),
    )
)  # fmt: skip
def _spec_case(raw, c, tmp):
    path = os.path.join(tmp, "spec.yml")
    Path(path).write_bytes(raw)
    try:
        spec = load_spec_file(path)
        spec = check_catalog(spec, path)
    except SpecError as exc:
        c["rejected"] += 1
        lines = str(exc).splitlines()
        assert lines and all(ln.startswith(f"{path}: ") for ln in lines), str(exc)
        return
    except Exception:
        c["crash"] += 1
        raise
    c["accepted"] += 1
    resolve(BASE_PROFILE, spec, CATALOG, [], host="h")


def test_fuzz_spec_file(counts, tmp_path):
    _spec_case(c=counts, tmp=str(tmp_path))
    assert counts["crash"] == counts["wrong"] == 0


def _mutated_profile():
    base = json.loads(PROFILE.read_text())
    paths = [("hostname",), ("os", "family"), ("os", "version"), ("os", "arch"), ("os", "wsl"),
             ("cpu", "flags"), ("gpus",), ("libc", "version"), ("pythons",), ("nvidia_driver",),
             ("extra",)]  # fmt: skip
    gpu = st.fixed_dictionaries(
        {"name": values}, optional={"memory_mib": values, "compute_capability": values}
    )

    def put(muts):
        doc = json.loads(json.dumps(base))
        for path, v in muts:
            node = doc
            for p in path[:-1]:
                node = node.setdefault(p, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node[path[-1]] = v
        return json.dumps(doc).encode()

    mut = st.tuples(st.sampled_from(paths), st.one_of(values, st.lists(gpu, max_size=2)))
    return st.one_of(st.lists(mut, max_size=3).map(put), st.binary(max_size=30))


@settings(FUZZ, max_examples=300)
@given(raw=_mutated_profile())
def _profile_case(raw, c, tmp):
    path = os.path.join(tmp, "p.json")
    Path(path).write_bytes(raw)
    try:
        prof = cli.load_profile(path)
    except cli.InputError as exc:
        c["rejected"] += 1
        lines = str(exc).splitlines()
        assert lines and all(ln.startswith(path) for ln in lines), str(exc)
        return
    except Exception:
        c["crash"] += 1
        raise
    if _bad_text(prof.hostname) or not isinstance(prof.os.wsl, bool):
        c["wrong"] += 1
        raise AssertionError(f"accepted but wrong: {raw!r}")
    c["accepted"] += 1
    resolve(prof, check_catalog(cli.StackSpec(), path), CATALOG, [], host="h")


def test_fuzz_profile_json(counts, tmp_path):
    _profile_case(c=counts, tmp=str(tmp_path))
    assert counts["crash"] == counts["wrong"] == 0


@settings(FUZZ, max_examples=100)
@given(data=host_data)
def _plan_case(data, c, tmp, capsys):
    # every host plans from its saved profile: nothing is probed
    data = {**data, "profile": "p.json"}
    n = sum(c.values())  # a new file per input: an inventory module is loaded once per path
    inv = os.path.join(tmp, f"inv{n}.py")
    Path(inv).write_text(f"nan, inf = float('nan'), float('inf')\nhosts = [('lab-07', {data!r})]\n")
    try:
        rc = cli.main(["plan", inv])
    except Exception:
        c["crash"] += 1
        raise
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if rc in (0, 1):  # planned (1: the plan is a refusal, printed as such)
        c["accepted"] += 1
        assert "== lab-07: " in out, out + err
        mine = {k: v for k, v in data.items() if k in HOST_KEYS and v is not None}
        why = _wrong(mine, settings_from_mapping(mine, "host lab-07"))  # others: not tfprov's
        if why:
            c["wrong"] += 1
            raise AssertionError(f"accepted but wrong: {why}")
        return
    c["rejected"] += 1
    lines = err.splitlines()
    assert rc == 2 and lines and lines[0].startswith("tfprov: error: host lab-07: "), err
    assert all("host lab-07: " in ln for ln in lines), err


def test_fuzz_plan_inventory(counts, tmp_path, capsys):
    shutil.copy(PROFILE, tmp_path / "p.json")
    _plan_case(c=counts, tmp=str(tmp_path), capsys=capsys)
    assert counts["crash"] == counts["wrong"] == 0
