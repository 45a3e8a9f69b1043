"""End to end on one real SSH host: a TensorFlow env broken after the deploy (numpy
replaced by 1.25.2, which tensorflow-cpu 2.21.0 and ml-dtypes 0.7.0 do not accept) is
repaired by the next `pyinfra … deploys/gpu.py` run and verified, the run after changes
nothing, a TensorFlow `.so` deleted behind pip's back (metadata and `pip check` still
clean) is seen by the RECORD check and reinstalled, and with `repair: false` the run
fails saying what is broken and leaves the env as it is.

The host's wheelhouse is the e2e one (lab/harness.py) plus numpy 1.25.2 from PyPI (pip
checks it against PyPI's hashes), served on this test's own fleet network.
"""

from __future__ import annotations

import json

import pytest

from lab.harness import (
    WheelhouseServer,
    cache_dir,
    download_wheels,
    e2e_network,
    fill_wheelhouse,
    lab_fleet,
    run_deploy,
    write_inventory,
)

pytestmark = pytest.mark.fleet

ENV = "/opt/tfprov/envs/tf221"
OLD_NUMPY = "1.25.2"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    old = download_wheels([f"numpy=={OLD_NUMPY}"], cache_dir() / f"numpy-{OLD_NUMPY}", deps=False)
    served = tmp_path_factory.mktemp("wheelhouse")
    for src in [*fill_wheelhouse(["2.21.0"]).iterdir(), *old.iterdir()]:
        (served / src.name).symlink_to(src)
    with lab_fleet("e2e-fleet", *e2e_network("repair")) as f:
        (h,) = f.up(1)
        with WheelhouseServer(f, served) as server:
            yield f, h, server.url


def numpy_and_pip_check(f, h) -> tuple[str, int, str]:
    """(numpy's version in the env, pip check's exit status, its output) on the host."""
    py = f"{ENV}/bin/python"
    ver = f.ssh(h, f"{py} -c 'import importlib.metadata as m; print(m.version(\"numpy\"))'")
    check = f.ssh(h, f"{py} -m pip check")
    return ver.stdout.strip(), check.returncode, check.stdout.strip()


def break_env(f, h) -> list[str]:
    """numpy 1.25.2 into the env (from the served wheelhouse); returns pip check's lines."""
    res = f.ssh(h, f"{ENV}/bin/python -m pip install -q numpy=={OLD_NUMPY}")
    assert res.returncode == 0, res.stderr
    numpy, status, out = numpy_and_pip_check(f, h)
    assert numpy == OLD_NUMPY and status == 1, (numpy, out)
    assert (
        f"tensorflow-cpu 2.21.0 has requirement numpy>=1.26.0, but you have numpy {OLD_NUMPY}."
        in out
    )
    return out.splitlines()


def test_broken_env_is_repaired_by_default_and_only_reported_with_repair_off(lab, tmp_path):
    f, h, url = lab
    inv = write_inventory(
        tmp_path / "inv.py", f.inventory_path, url, {h.name: {"tensorflow": "2.21"}}
    )

    # 1. a cold deploy: TensorFlow 2.21.0 in a venv, verified
    results, rows, _ = run_deploy(inv, tmp_path / "r1.json")
    assert results["failed_hosts"] == [] and rows[0]["verify"]["ok"], rows
    good_numpy, status, _ = numpy_and_pip_check(f, h)
    assert status == 0

    # 2. the env is broken behind tfprov's back: TensorFlow no longer imports
    break_env(f, h)
    assert f.ssh(h, f"{ENV}/bin/python -c 'import tensorflow'").returncode != 0

    # 3. the next run repairs it (on by default) and verifies it
    results, rows, _ = run_deploy(inv, tmp_path / "r2.json")
    assert results["failed_hosts"] == [] and results["totals"]["error"] == 0, results
    changed = [op["name"] for op in results["operations"] if h.name in op["success"]]
    assert changed == ["tfprov: TensorFlow", "tfprov: verify TensorFlow"], changed
    assert rows[0]["verify"]["ok"] and rows[0]["verify"]["tensorflow"] == "2.21.0", rows
    assert numpy_and_pip_check(f, h)[:2] == (good_numpy, 0)

    # 4. converged: the run after changes nothing
    results, rows, _ = run_deploy(inv, tmp_path / "r3.json")
    assert results["totals"]["success"] == 0 and results["failed_hosts"] == [], results
    assert rows[0]["verify"]["ok"]

    # 4b. one of TensorFlow's .so files deleted (pip check stays clean, the metadata still
    # says 2.21.0): the RECORD check sees it, TensorFlow is reinstalled, verify passes
    so = f.ssh(h, f"ls {ENV}/lib/python3*/site-packages/tensorflow/python/*.so | head -1")
    assert so.returncode == 0 and so.stdout.strip(), so.stderr
    assert f.ssh(h, f"rm {so.stdout.strip()}").returncode == 0
    assert f.ssh(h, f"{ENV}/bin/python -m pip check").returncode == 0
    results, rows, _ = run_deploy(inv, tmp_path / "r3b.json")
    changed = [op["name"] for op in results["operations"] if h.name in op["success"]]
    assert changed == ["tfprov: TensorFlow", "tfprov: verify TensorFlow"], changed
    assert rows[0]["verify"]["ok"], rows
    assert f.ssh(h, f"test -f {so.stdout.strip()}").returncode == 0
    marker = json.loads(f.ssh(h, f"cat {ENV}/tfprov-env.json").stdout)
    assert marker["requirement"] == "tensorflow-cpu==2.21.0", marker

    # 5. broken again, with repair: false — the host fails, saying what is broken, and the
    # env is left as it is
    problems = break_env(f, h)
    off = write_inventory(
        tmp_path / "off.py",
        f.inventory_path,
        url,
        {h.name: {"tensorflow": "2.21", "repair": False}},
    )
    # the only host fails, so pyinfra ends with "No hosts remaining" and prints no JSON
    with pytest.raises(RuntimeError) as exc:
        run_deploy(off, tmp_path / "r4.json")
    message = (
        f"tfprov: TensorFlow: the env {ENV} is broken: {'; '.join(problems)} — "
        "repair is off (repair: false), so it is left as it is"
    )
    rows = json.loads((tmp_path / "r4.json").read_text())
    assert rows[0]["error"] == message, rows
    assert f"    {h.name}: " in str(exc.value) and f"REFUSED: {message}" in str(exc.value)
    # the host failed as refused, not by the queued operation aborting the whole run
    assert "--> Operation error" not in str(exc.value), str(exc.value)
    assert numpy_and_pip_check(f, h)[:2] == (OLD_NUMPY, 1)
