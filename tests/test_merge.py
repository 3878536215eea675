"""Sharded runs through the scripted server, merged: equal to the unsharded run; overlapping,
missing and mismatched parts are refused, naming what is wrong."""

import json

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import DataError
from judgekit.merge import merge_results


def _score(srv, manifest, **kw):
    kw.setdefault("cache", False)
    kw.setdefault("backend_options", {"backoff_base": 0.01})
    return jk.score("viescore-t2i", str(manifest), backend="openai:judge", base_url=srv.url, **kw)


def _strip_time(records):
    out = []
    for r in records:
        d = r.model_dump()
        d["provenance"].pop("created")
        out.append(d)
    return out


@pytest.fixture
def sharded(judge_server, manifest_factory, tmp_path):
    m = manifest_factory(100)
    parts = []
    for i in range(1, 5):
        out = tmp_path / f"r.part{i}.jsonl"
        res = _score(judge_server, m, shard=f"{i}/4", out=out)
        assert all(r.provenance["shard"] == {"index": i, "count": 4} for r in res)
        parts.append(out)
    return m, parts


def test_four_shards_merged_equal_the_unsharded_run(judge_server, sharded, tmp_path):
    m, parts = sharded
    sizes = [len(jk.load_results(p)) for p in parts]
    assert sum(sizes) == 100 and all(s > 0 for s in sizes)
    whole = _score(judge_server, m, out=tmp_path / "whole.jsonl")
    merged = merge_results(parts, manifest=m, out=tmp_path / "merged.jsonl")
    assert _strip_time(merged) == _strip_time(whole)
    assert _strip_time(jk.load_results(tmp_path / "merged.jsonl")) == _strip_time(whole)
    # The merged file has its judge card, as a single run's file has: the same judge and counts.
    card, whole_card = (json.loads((tmp_path / f"{n}.card.json").read_text()) for n in ("merged", "whole"))
    assert card["records"] == whole_card["records"] == 100
    assert card["served_models"] == whole_card["served_models"] and card["usage"] == whole_card["usage"]
    # Without the manifest: shard order, every shard covered, the same records.
    by_id = {d["sample_id"]: d for d in _strip_time(whole)}
    loose = merge_results(list(reversed(parts)))
    assert sorted(d["sample_id"] for d in _strip_time(loose)) == sorted(by_id)
    assert all(by_id[d["sample_id"]] == d for d in _strip_time(loose))


def test_cli_merge(sharded, tmp_path, capsys):
    m, parts = sharded
    assert main(["merge", *map(str, parts), "--data", str(m), "-o", str(tmp_path / "all.jsonl")]) == 0
    assert "merged 100 samples" in capsys.readouterr().out
    assert len(jk.load_results(tmp_path / "all.jsonl")) == 100
    assert main(["merge", *map(str, parts[:3]), "--data", str(m), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "are in no part" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()  # a refused merge writes nothing


def test_overlap_is_refused_naming_the_sample(sharded, tmp_path):
    m, parts = sharded
    dup = tmp_path / "dup.jsonl"
    first = jk.load_results(parts[0])[0]
    dup.write_text(parts[1].read_text() + first.model_dump_json() + "\n")
    with pytest.raises(DataError, match=rf"more than one part \('{first.sample_id}'.*is in .*part1.jsonl and in .*dup.jsonl"):
        merge_results([parts[0], dup, parts[2], parts[3]], manifest=m)
    with pytest.raises(DataError, match="more than one part"):
        merge_results([parts[0], parts[0], parts[1], parts[2], parts[3]])


def test_missing_samples_are_refused_naming_them(sharded, tmp_path):
    m, parts = sharded
    gone = [r.sample_id for r in jk.load_results(parts[2])]
    with pytest.raises(DataError, match=rf"{len(gone)} sample\(s\) of .* are in no part: '{gone[0]}'"):
        merge_results([parts[0], parts[1], parts[3]], manifest=m)
    with pytest.raises(DataError, match="no part covers shard\\(s\\) 3/4"):
        merge_results([parts[0], parts[1], parts[3]])
    # A part with one record removed: that sample is named.
    short = tmp_path / "short.jsonl"
    lines = parts[0].read_text().splitlines(keepends=True)
    short.write_text("".join(lines[1:]))
    lost = json.loads(lines[0])["sample_id"]
    with pytest.raises(DataError, match=f"in no part: '{lost}'$"):
        merge_results([short, *parts[1:]], manifest=m)


def test_parts_judged_differently_are_refused(judge_server, sharded, tmp_path):
    m, parts = sharded
    other = tmp_path / "other.jsonl"
    rows = [json.loads(x) for x in parts[1].read_text().splitlines()]
    for row in rows:
        row["provenance"]["rubric_hash"] = "0" * 16
    other.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match="differ in rubric_hash"):
        merge_results([parts[0], other, *parts[2:]], manifest=m)
    for row in rows:
        row["provenance"]["rubric_hash"] = json.loads(parts[0].read_text().splitlines()[0])["provenance"]["rubric_hash"]
        row["provenance"]["backend"]["spec"] = "openai:another-judge"
    other.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match="differ in backend"):
        merge_results([parts[0], other, *parts[2:]], manifest=m)
    # A different server for the same model is the same run.
    for row in rows:
        row["provenance"]["backend"]["spec"] = "openai:judge"
        row["provenance"]["backend"]["base_url"] = "http://elsewhere:8000/v1"
    other.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert len(merge_results([parts[0], other, *parts[2:]], manifest=m)) == 100


def test_cli_score_shard(judge_server, manifest_factory, tmp_path, capsys):
    m = manifest_factory(20)
    out = tmp_path / "p.jsonl"
    rc = main(["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "openai:judge",
               "--base-url", judge_server.url, "--no-cache", "--no-progress", "--shard", "2/3", "--out", str(out)])
    assert rc == 0
    res = jk.load_results(out)
    assert 0 < len(res) < 20 and all(r.provenance["shard"] == {"index": 2, "count": 3} for r in res)
    assert main(["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--shard", "4/3", "--out", str(out)]) == 2
    assert "I/N" in capsys.readouterr().err
