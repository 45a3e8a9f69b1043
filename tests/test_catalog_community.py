"""Community builds: the citation (`source`) and the download link (`url`) are separate,
every link names one file, and split 7-Zip archives are planned as fetch-by-hand."""

import copy
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tfprov.catalog import _read, load_catalog
from tfprov.catalog import models as m

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def test_every_download_link_is_a_direct_file_link(cat):
    for cw in cat.builds.community:
        url = cw.url
        assert m.direct_download_link(url), url
        parts = urlsplit(url)
        assert parts.scheme == "https" and not parts.query and not parts.fragment, url
        assert not any(seg in parts.path for seg in ("/tree/", "/blob/", "/commit/", "/issues/"))
        assert "/raw/master/" not in url and " " not in url and "+" not in url, url
        assert url != cat.builds.sources[cw.source].url
        if parts.netloc == "raw.githubusercontent.com":  # pinned to the commit it cites
            commit = parts.path.split("/")[3]
            assert commit in cat.builds.sources[cw.source].url, (url, cw.source)


def test_split_archives_are_marked_not_installable(cat):
    rows = cat.builds.community
    archives = [cw for cw in rows if cw.url.endswith(".7z.001")]
    assert len(archives) == 45
    assert all(not cw.installable for cw in archives)
    assert all(cw.installable for cw in rows if cw.url.endswith(".whl"))


@pytest.mark.parametrize(
    "bad",
    [
        "https://github.com/fo40225/tensorflow-windows-wheel/tree/8b3704bd783f7964951b85ec5f635436e4a916ad/raw/master/1.5.0/py36/CPU/avx/tensorflow-1.5.0-cp36-cp36m-win_amd64.whl",
        "https://github.com/yaroslavvb/tensorflow-community-wheels/issues/158/raw/master/x.whl",
        "https://raw.githubusercontent.com/fo40225/tensorflow-windows-wheel/master/1.5.0/x.whl",
    ],
)
def test_a_citation_page_is_rejected_as_a_download_link(bad):
    data = copy.deepcopy(_read("builds.yaml"))
    data["community"][0]["url"] = bad
    with pytest.raises(ValueError, match="not a direct download link"):
        m.BuildsFile.model_validate(data)


def test_an_archive_marked_installable_is_rejected():
    data = copy.deepcopy(_read("builds.yaml"))
    row = next(r for r in data["community"] if r["url"].endswith(".7z.001"))
    row["installable"] = True
    with pytest.raises(ValueError, match="split 7-Zip archive needs installable: false"):
        m.BuildsFile.model_validate(data)


def test_plan_says_a_split_archive_must_be_fetched_by_hand():
    # the example Windows host without AVX, community builds allowed: fo40225's 2.7.0 sse2
    # GPU build, which is published only as a split 7-Zip archive
    exe = os.path.join(os.path.dirname(sys.executable), "tfprov")
    res = subprocess.run(
        [exe, "plan", os.path.join(ROOT, "inventories", "mixed.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    block = res.stdout.split("== @winssh/192.0.2.53:")[1].split("\n== ")[0]
    url = (
        "https://raw.githubusercontent.com/fo40225/tensorflow-windows-wheel/"
        "8b3704bd783f7964951b85ec5f635436e4a916ad/2.7.0/py39/CPU%2BGPU/cuda115cudnn8sse2/"
        "tensorflow-2.7.0-cp39-cp39-win_amd64.7z.001"
    )
    assert (
        f"  ! TF 2.7.0 GPU (tensorflow-gpu, community:fo40225) is a split 7-Zip archive that "
        f"tfprov cannot install: fetch {url} and its further parts (.002, ...) by hand"
    ) in block
