"""Inputs the CLI and the library must refuse with one line instead of losing data or writing an
empty result with exit 0: a results file that is the manifest, empty inputs, duplicate ids given
from Python; and manifests that are fine after all (a UTF-8 byte-order mark) or plainly not JSONL."""

from __future__ import annotations

import json
import os

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import DataError


def _score(manifest, out, url, tmp_path):
    return main(["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", "openai:judge",
                 "--base-url", url, "--out", str(out), "--cache", str(tmp_path / "c.sqlite"), "--no-progress"])


def _one_error(err: str) -> str:
    [line] = [ln for ln in err.splitlines() if ln.startswith("judgekit: error:")]
    return line


@pytest.mark.parametrize("spelling", ["same", "relative", "symlink", "hardlink"])
def test_score_out_equal_to_data_is_refused_and_the_manifest_kept(judge_server, manifest_factory, tmp_path, capsys,
                                                                  monkeypatch, spelling):
    manifest = manifest_factory(2)
    before = manifest.read_bytes()
    out = {"same": manifest, "relative": tmp_path / "img" / ".." / manifest.name}.get(spelling)
    if spelling == "symlink":
        out = tmp_path / "link.jsonl"
        out.symlink_to(manifest)
    elif spelling == "hardlink":
        out = tmp_path / "hard.jsonl"
        os.link(manifest, out)
    assert _score(manifest, out, judge_server.url, tmp_path) == 2
    assert "would overwrite it" in _one_error(capsys.readouterr().err)
    assert manifest.read_bytes() == before
    assert judge_server.received == []  # refused before any call


def test_library_score_refuses_out_equal_to_the_manifest(manifest_factory, tmp_path):
    manifest = manifest_factory(2)
    before = manifest.read_bytes()
    with pytest.raises(DataError, match="would overwrite it"):
        jk.score("viescore-t2i", manifest, "openai:judge", base_url="http://127.0.0.1:9/v1", cache=False,
                 out=tmp_path / "." / manifest.name)
    assert manifest.read_bytes() == before


def test_library_score_refuses_duplicate_ids_like_the_cli(manifest_factory, tmp_path, judge_server):
    manifest = manifest_factory(2)
    rows = [json.loads(x) for x in manifest.read_text().splitlines()]
    rows[1]["id"] = rows[0]["id"]
    for r in rows:
        r["image"] = str(tmp_path / r["image"])
    with pytest.raises(DataError, match=r"sample #1: duplicate sample id 's0'"):
        jk.score("viescore-t2i", rows, "openai:judge", base_url=judge_server.url, cache=False)
    assert judge_server.received == []
    with pytest.raises(DataError, match="duplicate sample id 's0'"):
        jk.load_samples([jk.Sample(id="s0"), jk.Sample(id="s0")])
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert _score(manifest, tmp_path / "r.jsonl", judge_server.url, tmp_path) == 2  # the CLI: the same DataError


def test_empty_manifest_is_an_error_not_zero_samples(judge_server, tmp_path, capsys):
    empty = tmp_path / "m.jsonl"
    empty.write_text("\n")
    assert _score(empty, tmp_path / "r.jsonl", judge_server.url, tmp_path) == 2
    assert "no samples to judge" in _one_error(capsys.readouterr().err)
    assert not (tmp_path / "r.jsonl").exists()


def test_manifest_with_a_byte_order_mark_is_read(manifest_factory, tmp_path):
    manifest = manifest_factory(2)
    plain = jk.load_samples(manifest)
    manifest.write_bytes(b"\xef\xbb\xbf" + manifest.read_bytes())
    assert jk.load_samples(manifest) == plain


@pytest.mark.parametrize("name,text,what", [
    ("m.csv", "id,prompt,image\na,x,a.png\n", "a CSV file"),
    ("m.txt", "id,prompt,image\na,x,a.png\n", "its first line does not start with '{'"),
    ("m.json", '[{"id": "a"}]', "a JSON list"),
])
def test_a_manifest_that_is_not_jsonl_says_manifests_are_jsonl(tmp_path, capsys, name, text, what):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(DataError, match="manifests are JSONL") as exc:
        jk.load_samples(p)
    assert what in str(exc.value)
    assert main(["rubrics", "render", "viescore-t2i", "--data", str(p)]) == 2
    assert "manifests are JSONL" in _one_error(capsys.readouterr().err)


def test_pairs_of_a_one_model_manifest_is_an_error(manifest_factory, tmp_path, capsys):
    manifest = manifest_factory(3, models=("sdxl",))
    assert main(["pairs", str(manifest), "--out", str(tmp_path / "p.jsonl")]) == 2
    line = _one_error(capsys.readouterr().err)
    assert "no pairs to write" in line and "['sdxl']" in line
    assert not (tmp_path / "p.jsonl").exists()


def test_edit_manifest_without_rows_is_an_error(tmp_path, capsys):
    rows = tmp_path / "gedit.jsonl"
    rows.write_text("")
    assert main(["edit", "manifest", "gedit", str(rows), "--out", str(tmp_path / "m.jsonl")]) == 2
    assert "no gedit samples found" in _one_error(capsys.readouterr().err)
    assert not (tmp_path / "m.jsonl").exists()
