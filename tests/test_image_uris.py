"""Images named by URI: read through fsspec (``file://`` and ``memory://`` here, the same code
path as ``s3://`` with s3fs installed), kept as given by the manifest, failed per sample when
the object is missing or the store unknown."""

from __future__ import annotations

import json
import sys

import fsspec
import pytest

import judgekit as jk
from judgekit.errors import MissingDependencyError, SampleError
from judgekit.image_uris import is_uri, read_uri
from judgekit.images import load_image_part
from judgekit.manifest import iter_samples
from tests.fixtures_spine import InstantJudge, write_png


class SeeingJudge(InstantJudge):
    """Keeps the image bytes and sources of every request it answers."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str | None, bytes]] = []

    async def generate(self, requests):
        for r in requests:
            self.seen += [(p.source, p.data) for m in r.messages for p in m.content if hasattr(p, "sha256")]
        return await super().generate(requests)


@pytest.mark.parametrize("value, expected", [
    ("s3://bucket/a.png", True), ("gs://b/x/y.jpg", True), ("file:///data/a.png", True), ("memory://a.png", True),
    ("images/a.png", False), ("/abs/a.png", False), ("C:/data/a.png", False), ("C://data/a.png", False), (None, False),
])
def test_what_counts_as_a_uri(value, expected):
    assert is_uri(value) is expected


def test_a_manifest_keeps_uris_and_the_judge_gets_their_bytes(tmp_path):
    local = write_png(tmp_path / "img" / "a.png", seed=1)
    fs = fsspec.filesystem("memory")
    fs.pipe("/judgekit-test/b.png", write_png(tmp_path / "b.png", seed=2).read_bytes())
    rows = [{"id": "file", "prompt": "x", "image": local.as_uri(), "model": "m"},
            {"id": "memory", "prompt": "x", "image": "memory://judgekit-test/b.png", "model": "m"},
            {"id": "gone", "prompt": "x", "image": "memory://judgekit-test/missing.png", "model": "m"},
            {"id": "nostore", "prompt": "x", "image": "nosuchstore://bucket/c.png", "model": "m"}]
    manifest = tmp_path / "sub" / "m.jsonl"
    manifest.parent.mkdir()
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [s.image for s in iter_samples(manifest)] == [r["image"] for r in rows]  # not joined to sub/

    judge = SeeingJudge()
    res = jk.score("aesthetics-simple", str(manifest), backend=judge, cache=False, progress=False)
    assert [r.status for r in res] == ["ok", "ok", "failed", "failed"]
    assert judge.seen == [(local.as_uri(), local.read_bytes()), ("memory://judgekit-test/b.png", fs.cat("/judgekit-test/b.png"))]
    assert "memory://judgekit-test/missing.png does not exist" in res[2].error
    assert "nosuchstore://bucket/c.png cannot be read" in res[3].error


def test_a_uri_is_read_like_the_file_holding_the_same_bytes(tmp_path):
    path = write_png(tmp_path / "a.png", seed=3, mode="L")  # converted to RGB: the same rule either way
    by_path, by_uri = load_image_part(str(path)), load_image_part(path.as_uri())
    assert (by_uri.data, by_uri.media_type, by_uri.sha256) == (by_path.data, by_path.media_type, by_path.sha256)
    assert by_uri.source == path.as_uri()


def test_without_fsspec_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(MissingDependencyError, match=r"judgekit\[uris\]"):
        read_uri("memory://x.png")


def test_a_missing_object_is_a_sample_error():
    with pytest.raises(SampleError, match="does not exist"):
        read_uri("memory://judgekit-test/never-written.png")
