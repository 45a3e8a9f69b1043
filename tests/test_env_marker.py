"""The completion marker and the RECORD check of an env: the marker the TensorFlow
operation writes is what the EnvState fact reads back and what proves the install; the
part of a lock a repair reinstalls keeps its hashes."""

from __future__ import annotations

import shlex
import subprocess
import sys

from tfprov.facts.env import damage_line, parse_damaged, parse_marker
from tfprov.model.lock_text import lock_subset
from tfprov.operations.tensorflow import marker_command, proven

A, B = "a" * 64, "b" * 64


def test_marker_written_by_the_operation_is_read_back_and_proves_only_its_install(tmp_path):
    cmd = marker_command(shlex.quote(sys.executable), str(tmp_path), "tensorflow-cpu==2.21.0", B)
    assert subprocess.run(["sh", "-c", cmd]).returncode == 0
    assert not (tmp_path / "tfprov-env.json.tmp").exists()  # moved into place
    marker = parse_marker((tmp_path / "tfprov-env.json").read_text().splitlines())
    assert marker["python"] == ".".join(map(str, sys.version_info[:3]))
    assert marker["written"].endswith("Z")
    assert proven(marker, "tensorflow-cpu==2.21.0", B)
    assert not proven(marker, "tensorflow-cpu==2.20.0", B)  # another requirement
    assert not proven(marker, "tensorflow-cpu==2.21.0", A)  # another lock
    assert not proven(None, "tensorflow-cpu==2.21.0", None)


def test_a_marker_that_is_not_a_json_object_reads_as_absent():
    assert parse_marker(['{"requirement": "tensorflow-cpu==2.21.0"']) is None  # cut short
    assert parse_marker(["[]"]) is None
    assert parse_marker(None) is None


def test_record_damage_lines():
    (no_record,) = parse_damaged(['[["numpy-1.26.4.dist-info", -1, 0, "x/RECORD"]]'])
    assert damage_line(no_record) == (
        "numpy 1.26.4: its RECORD is missing (an install was cut short)"
    )
    (both,) = parse_damaged(['[["tensorflow_cpu-2.21.0.dist-info", 3, 1, "t/a.so"]]'])
    assert damage_line(both) == "tensorflow_cpu 2.21.0: files 3 missing, 1 changed (e.g. t/a.so)"
    assert parse_damaged(["Traceback (most recent call last):"]) == []


def test_lock_subset_keeps_the_named_pins_with_their_hashes():
    lock = (
        f"absl-py==2.1.0 \\\n    --hash=sha256:{A}\n"
        f"tensorflow-cpu==2.21.0 \\\n    --hash=sha256:{B} \\\n    --hash=sha256:{A}\n"
        "    # via -r requirements.in\n"
    )
    assert lock_subset(lock, ["tensorflow_cpu==2.21.0"]) == (
        f"tensorflow-cpu==2.21.0 --hash=sha256:{B} --hash=sha256:{A}\n"
    )
    assert lock_subset(lock, ["numpy==1.26.4"]) == ""
