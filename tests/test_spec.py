import pytest

from tfprov.model.spec import SpecError, StackSpec, load_spec_file, spec_from_mapping


def write(tmp_path, text):
    p = tmp_path / "spec.yml"
    p.write_text(text)
    return str(p)


def test_yaml_off_means_off_and_versions_stay_text(tmp_path):
    text = "tensorflow: 2.10\ngpu: off\npython: 3.10\ndriver: 535\n"
    spec = load_spec_file(write(tmp_path, text))
    assert spec.tensorflow == "2.10"  # not the float 2.1
    assert spec.python == "3.10"
    assert spec.gpu == "off"
    assert spec.driver == 535


def test_defaults():
    s = StackSpec()
    assert (s.tensorflow, s.gpu, s.env_manager, s.driver, s.cuda_source) == (
        "latest",
        "auto",
        "auto",
        "auto",
        "auto",
    )
    assert s.allow_community_builds is False


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"gpu": "maybe"}, "gpu", "'auto', 'require' or 'off'"),
        ({"gpu": True}, "gpu", "ambiguous"),
        ({"tensorflow": 2.1}, "tensorflow", "write it as a string"),
        ({"tensorflow": ">=2.x"}, "tensorflow", "not a version specifier"),
        ({"python": "3"}, "python", "Python minor version"),
        ({"driver": 42}, "driver", "not an NVIDIA driver branch"),
        ({"driver": "newest"}, "driver", ""),
        ({"env_name": "my env"}, "env_name", "letters, digits"),
        ({"tensorfow": "2.15"}, "tensorfow", "unknown field"),
    ],
)
def test_bad_values_name_host_and_field(data, field, words):
    with pytest.raises(SpecError) as exc:
        spec_from_mapping(data, "host lab-07")
    msg = str(exc.value)
    assert msg.startswith("host lab-07: field '" + field)
    assert words in msg


def test_spec_file_errors_name_the_file(tmp_path):
    path = write(tmp_path, "gpu: [1, 2]\n")
    with pytest.raises(SpecError, match=r"spec.yml: field 'gpu'"):
        load_spec_file(path)
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec_file(write(tmp_path, "gpu: [\n"))
    with pytest.raises(SpecError, match="a spec is a mapping"):
        load_spec_file(write(tmp_path, "- a\n- b\n"))


@pytest.mark.parametrize(
    "wanted, version, ok",
    [
        ("2.15", "2.15.1", True),
        ("2.1", "2.10.1", False),
        ("2.1", "2.1.4", True),
        ("2", "2.21.0", True),
        ("2.15.0", "2.15.1", False),
        (">=2.10,<2.13", "2.12.1", True),
        (">=2.10,<2.13", "2.13.1", False),
        ("latest", "1.0.1", True),
        ("~=2.14.0", "2.14.1", True),
    ],
)
def test_matches(wanted, version, ok):
    assert StackSpec(tensorflow=wanted).matches(version) is ok
