"""Verify a TensorFlow install on the host: import it, list GPUs, run a small op.

The check runs in the env's own Python on the host and prints one JSON line; a crash
(e.g. 'Illegal instruction' on a CPU without AVX) is reported from the exit status.
"""

from __future__ import annotations

import json
import shlex

from tfprov import powershell
from tfprov.model.platform import Platform

MARK = "@@tfprov-verify "
EXIT = "@@tfprov-exit "

SCRIPT = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
out = {"ok": False, "python": "%d.%d.%d" % sys.version_info[:3]}
try:
    t0 = time.time()
    import tensorflow as tf
    out["tensorflow"] = tf.__version__
    out["import_seconds"] = round(time.time() - t0, 2)
    try:
        gpus = tf.config.list_physical_devices("GPU")
    except AttributeError:  # TF 1.x
        gpus = tf.config.experimental.list_physical_devices("GPU")
    out["gpus"] = [g.name for g in gpus]
    out["built_with_cuda"] = bool(tf.test.is_built_with_cuda())
    t0 = time.time()
    x = tf.reduce_sum(tf.random.normal([1000, 1000]))
    if tf.executing_eagerly():
        value = float(x.numpy())
        device = x.device
    else:  # TF 1.x graph mode
        with tf.compat.v1.Session() as s:
            value = float(s.run(x))
        device = x.device or ("GPU" if gpus else "CPU")
    out.update(value=value, device=device, op_seconds=round(time.time() - t0, 3), ok=True)
except Exception as e:
    out["error"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
print("@@tfprov-verify " + json.dumps(out))
"""


def command(python: str, platform: Platform) -> str:
    """The command that runs the check with ``python`` (the env's interpreter) on a host of
    *platform*: POSIX sh, or PowerShell on Windows, where the script is written to a temp
    file first (Windows PowerShell 5.1 mangles quotes in native-program arguments)."""
    if platform.windows:
        return (
            "$f = Join-Path $env:TEMP 'tfprov-verify.py'\n"
            "[IO.File]::WriteAllText($f, @'\n" + SCRIPT.strip("\n") + "\n'@, "
            "(New-Object System.Text.UTF8Encoding $false))\n"
            "$ErrorActionPreference = 'Continue'\n"
            f'& {powershell.quote(python)} $f 2>&1 | ForEach-Object {{ "$_" }}\n'
            f'"{EXIT}$LASTEXITCODE"'
        )
    return f'{shlex.quote(python)} -c {shlex.quote(SCRIPT)} 2>&1; echo "{EXIT}$?"'


# Windows reports a crash of the process as an NTSTATUS exit code
_NTSTATUS = {
    0xC000001D: "Illegal instruction (the CPU lacks an instruction this build uses, usually AVX)",
    0xC0000005: "Access violation",
}


def parse(lines: list[str], expect_gpu: bool) -> dict:
    """The check's result: ``{"ok", "tensorflow", "gpus", "device", "value", "error"…}``.

    ``ok`` is false when the import or the op failed, when Python died (the signal is
    named), or when a GPU was expected but the op did not run on one.
    """
    result: dict = {"ok": False}
    code = None
    for line in lines:
        if line.startswith(MARK):
            try:
                result = json.loads(line[len(MARK) :])
            except ValueError:
                pass
        elif line.startswith(EXIT):
            code = int(line[len(EXIT) :].strip() or 0)
    if code is not None and (code & 0xFFFFFFFF) in _NTSTATUS and "tensorflow" not in result:
        result = {"ok": False, "error": f"Python died: {_NTSTATUS[code & 0xFFFFFFFF]}"}
    elif code and 128 < code < 256 and "tensorflow" not in result:
        sig = code - 128
        name = {
            4: "Illegal instruction (the CPU lacks an instruction this build uses, usually AVX)",
            6: "Aborted",
            9: "Killed",
            11: "Segmentation fault",
        }
        result = {"ok": False, "error": f"Python died: {name.get(sig, f'signal {sig}')}"}
    elif "ok" not in result or (not result.get("ok") and "error" not in result):
        tail = [x for x in lines if not x.startswith((MARK, EXIT))][-3:]
        result = {"ok": False, "error": "no result from the check: " + " | ".join(tail)}
    result["expect_gpu"] = expect_gpu
    if result.get("ok") and expect_gpu:
        on_gpu = bool(result.get("gpus")) and "GPU" in str(result.get("device", "")).upper()
        if not on_gpu:
            result["ok"] = False
            result["error"] = (
                "the plan expects a GPU, but TensorFlow sees "
                f"{len(result.get('gpus') or [])} GPU(s) and ran the op on "
                f"{result.get('device') or 'the CPU'}"
            )
    return result


def summary(result: dict) -> str:
    if not result.get("ok"):
        return "FAILED: " + str(result.get("error", "unknown error"))
    where = "GPU" if "GPU" in str(result.get("device", "")).upper() else "CPU"
    return (
        f"ok: TF {result.get('tensorflow')}, {len(result.get('gpus') or [])} GPU(s), "
        f"reduce_sum on {where}"
    )


def dumps(result: dict) -> str:
    return json.dumps(result, sort_keys=True)
