"""Secrets never leave their place: URL credentials in pip index / extra index /
find-links / wheelhouse / conda URLs are hidden (``user:***@``) in every log, plan,
report and error, as a user meets them (real ``pyinfra -vv`` on @fake hosts, real
``tfprov plan``), and the pip.conf holding them is written mode 0600 without the
credentials on a command line."""

from __future__ import annotations

import pytest

from lab.fakehosts import write_inventory
from tests.test_fleet_report import pyinfra
from tfprov.model.hostdata import shown

SECRET = "s3cr3tPW"
TOKEN = "ghp_T0KENabc123"
SOURCES = {
    "pip_index_url": f"https://alice:{SECRET}@pypi.lab/simple",
    "pip_extra_index_url": f"https://{TOKEN}@extra.lab/simple",
    "pip_find_links": f"https://bob:{SECRET}@links.lab/wheels/",
}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("https://u:pw@h/x", "https://u:***@h/x"),
        ("https://TOKEN@h/x", "https://***@h/x"),
        ("pip install --index-url 'https://u:p%40w@h/simple' tf", None),
        ("http://h/no/creds and user@example.org", "http://h/no/creds and user@example.org"),
        ("[global]\nindex-url = https://a:b@h/s\n", "[global]\nindex-url = https://a:***@h/s\n"),
    ],
)
def test_redact_text(text, want):
    from tfprov.model.redact import redact_text

    got = redact_text(text)
    if want is None:
        assert "p%40w" not in got and "https://u:***@h/simple" in got
    else:
        assert got == want


def test_redact_walks_nested_structures_and_keeps_other_values():
    from tfprov.model.redact import has_credentials, redact

    value = {"a": [f"https://u:{SECRET}@h/", ("x", f"ftp://{TOKEN}@h")], "n": 3, "b": None}
    out = redact(value)
    assert SECRET not in repr(out) and TOKEN not in repr(out)
    assert out["n"] == 3 and out["b"] is None and out["a"][1][0] == "x"
    assert has_credentials(f"https://u:{SECRET}@h/") and not has_credentials("https://h/")


def test_error_values_hide_tokens_used_as_url_user():
    assert TOKEN not in shown("pip_extra_index_url", SOURCES["pip_extra_index_url"])
    assert SECRET not in shown("pip_index_url", SOURCES["pip_index_url"])


def _no_secret_anywhere(*texts):
    for t in texts:
        assert SECRET not in t and TOKEN not in t, t[max(0, t.find(SECRET) - 300) :][:600]


def test_pyinfra_vv_deploy_prints_and_writes_no_credentials(tmp_path):
    inv = write_inventory(
        tmp_path / "inv.py", [{"name": "a", "data": dict(SOURCES), "tensorflow": "2.21.0"}]
    )
    report = tmp_path / "r.json"
    res = pyinfra(inv, report, "-vv", "-y")
    assert "--> tfprov fleet report" in res.stderr, res.stderr[-3000:]
    # the credentialed pip.conf is made 0600 empty, then its text is uploaded
    assert "chmod 600 /opt/tfprov/envs/tf221/pip.conf" in res.stdout + res.stderr
    _no_secret_anywhere(res.stdout, res.stderr, report.read_text())


def test_plan_table_and_json_hide_credentials(tmp_path):
    inv = write_inventory(
        tmp_path / "inv.py", [{"name": "a", "data": dict(SOURCES), "tensorflow": "2.21.0"}]
    )
    from tests.test_fleet_report import tfprov_cli

    for args in ((), ("--json",)):
        res = tfprov_cli("plan", str(inv), *args)
        _no_secret_anywhere(res.stdout, res.stderr)


def test_an_unreachable_credentialed_wheelhouse_error_hides_the_password():
    from lab.fakehosts import closed_port
    from tests.test_fleet_report import tfprov_cli

    url = f"http://alice:{SECRET}@127.0.0.1:{closed_port()}/wh/"
    profile = "inventories/profiles/debian12-cpu-only.json"
    res = tfprov_cli("plan", "--profile", profile, "--wheelhouse", url)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith("tfprov: error: "), res.stderr
    assert "alice:***@127.0.0.1" in res.stderr and "Traceback" not in res.stderr
    _no_secret_anywhere(res.stdout, res.stderr)


def test_local_venv_pip_conf_with_credentials_is_0600_and_never_printed(tmp_path):
    """A real ``pyinfra -vv @local`` run of the venv operation (env under tmp_path)."""
    import stat
    import subprocess
    import sys
    from pathlib import Path

    env = tmp_path / "envs" / "tf221"
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    deploy = tmp_path / "deploy.py"
    deploy.write_text(
        "from tfprov.operations.venv import pip_conf, virtualenv\n"
        f"virtualenv(name='env', path={str(env)!r}, python={sys.executable!r}, "
        f"python_version={py!r}, pip_config=pip_conf(index_url={SOURCES['pip_index_url']!r},"
        f" extra_index_url={SOURCES['pip_extra_index_url']!r}))\n"
    )
    pyinfra_bin = Path(sys.executable).with_name("pyinfra")

    def run():
        res = subprocess.run(
            [str(pyinfra_bin), "-y", "-vv", "@local", str(deploy)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=180,
        )
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        _no_secret_anywhere(res.stdout, res.stderr)
        return res.stdout + res.stderr

    conf = env / "pip.conf"
    run()
    assert SECRET in conf.read_text() and TOKEN in conf.read_text()  # pip can read it
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    conf.chmod(0o644)  # made readable by others: the next run tightens it
    run()
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    out = run()  # converged: nothing to do
    assert "No changes" in out or "with its pip.conf" in out, out[-2000:]
    for path in env.rglob("*"):  # no file of the env others can read holds the secret
        if path.is_file() and path.stat().st_mode & 0o044:
            text = path.read_bytes()
            assert SECRET.encode() not in text and TOKEN.encode() not in text, path


def test_plan_table_and_plan_json_hide_a_credentialed_wheel_url(capsys):
    """A plan whose TensorFlow comes from a credentialed wheelhouse URL: the table
    (``tfprov plan``) and ``tfprov plan --json`` show the URL with the password hidden."""
    import argparse
    import json

    from tfprov.cli import _print_plans
    from tfprov.model.profile import HostProfile
    from tfprov.model.spec import StackSpec
    from tfprov.report import render_plan
    from tfprov.resolve import resolve

    prof = HostProfile.model_validate(
        {
            "hostname": "h",
            "os": {"family": "linux", "distro": "debian", "arch": "x86_64"},
            "cpu": {"flags": ["avx", "avx2"]},
            "pythons": ["3.11.2"],
        }
    )
    plan = resolve(prof, StackSpec(gpu="off"))
    assert plan.ok, plan.error
    url = f"https://alice:{SECRET}@wh.lab/tensorflow_cpu-2.21.0-cp311-cp311-linux_x86_64.whl"
    tf = plan.tensorflow.model_copy(update={"requirement": url, "source": url})
    plan = plan.model_copy(update={"tensorflow": tf, "reasons": [*plan.reasons, f"from {url}"]})
    table = render_plan(prof, plan)
    assert "alice:***@wh.lab" in table
    _no_secret_anywhere(table)
    _print_plans(argparse.Namespace(json=True), [prof], [plan])
    out = capsys.readouterr().out
    assert json.loads(out)[0]["tensorflow"]["source"].startswith("https://alice:***@wh.lab/")
    _no_secret_anywhere(out)


def test_fleet_report_printed_and_written_hides_credentials(tmp_path):
    import io
    import json

    from tfprov.apply.fleet_report import write

    url = f"https://{TOKEN}@wh.lab/tf.whl"
    row = {"host": "a", "line": f"failed: pip could not fetch {url}", "ran_at": "t"}
    row |= {"tfprov_version": "x", "pyinfra_version": "y", "error": {"detail": [url]}}
    stream, path = io.StringIO(), tmp_path / "r.json"
    write([row], str(path), stream)
    assert "https://***@wh.lab/tf.whl" in stream.getvalue()
    assert json.loads(path.read_text())[0]["error"]["detail"] == ["https://***@wh.lab/tf.whl"]
    _no_secret_anywhere(stream.getvalue(), path.read_text())


def test_the_refusal_pyinfra_prints_hides_credentials():
    from tfprov.apply.deploy import refusal_text
    from tfprov.model.plan import Plan

    plan = Plan.model_construct(
        host="a", ok=False, error=f"no wheel in https://u:{SECRET}@wh.lab/ fits", alternatives=[]
    )
    text = refusal_text(plan)
    assert "https://u:***@wh.lab/ fits" in text
    _no_secret_anywhere(text)
