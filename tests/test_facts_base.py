"""The shared readers of tfprov.facts.base: the one section splitter and the one
first-JSON-value scanner every fact uses."""

from tfprov.facts.base import MARKER, first_json, marked_sections, split_sections


def test_sections_keep_order_drop_the_preamble_and_strip_keys():
    lines = ["noise", MARKER + "a ", "1", "", MARKER + "b", MARKER + "a", "2"]
    assert marked_sections(lines) == [("a", ["1", ""]), ("b", []), ("a", ["2"])]
    assert split_sections(lines) == {"a": ["2"], "b": []}  # a repeated key: the last
    assert marked_sections(["== /x", "t"], "== ") == [("/x", ["t"])]


def test_first_json_skips_warnings_and_what_does_not_decode():
    # PowerShell and conda print warnings (with brackets) before their JSON
    assert first_json(["WARNING: [x] {not json", '{"a": [1]}']) == {"a": [1]}
    assert first_json('\ufeff[{"n": 1}]') == [{"n": 1}]
    assert first_json('[1] {"conda_version": "4"}', "{") == {"conda_version": "4"}
    assert first_json("") is None and first_json("no json here") is None
