"""A run over a streamed manifest holds no record in memory: results go to disk as samples
finish, the file is put in manifest order at the end, and ids are checked in 16 bytes each.

The memory test drives the real runner with an in-process backend (a ``Backend`` object that
answers at once: what is measured is the driver, and an HTTP or engine judge would only make
the test slower) and compares the peak Python allocation of 500 and 5,000 samples."""

from __future__ import annotations

import json
import random
import tracemalloc

import pytest

import judgekit as jk
from judgekit.errors import DataError
from judgekit.result_spool import ResultSpool, SpooledRecords
from judgekit.results import Results
from judgekit.sample_ids import SeenIds
from judgekit.types import Result
from tests.fixtures_spine import InstantJudge, write_png


def _manifest(folder, n, images=50):
    for k in range(images):
        write_png(folder / f"{k}.png", seed=k, size=8)
    lines = (json.dumps({"id": f"s{i}", "prompt": f"p {i}", "image": f"{i % images}.png", "model": "m"}) for i in range(n))
    path = folder / "manifest.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_spool_puts_lines_in_manifest_order_and_keeps_the_last_of_a_rewritten_sample(tmp_path):
    out = tmp_path / "r.jsonl"
    spool = ResultSpool(out)
    order = list(range(40))
    random.Random(3).shuffle(order)
    for i in order:
        spool.write(i, Result(sample_id=f"s{i}", rubric="r", status="ok"))
    spool.write(7, Result(sample_id="s7", rubric="r", status="failed", error="internal error: again"))
    records = spool.finish()
    assert isinstance(records, SpooledRecords) and len(records) == 40
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["sample_id"] for x in lines] == [f"s{i}" for i in range(40)]
    assert lines[7]["status"] == "failed"  # one line for sample 7: the last written


def test_spool_leaves_gaps_for_samples_never_written_and_needs_no_rewrite_in_order(tmp_path):
    out = tmp_path / "r.jsonl"
    spool = ResultSpool(out)
    for i in (0, 2, 5):  # 1, 3, 4 not judged in this run (a budget stop)
        spool.write(i, Result(sample_id=f"s{i}", rubric="r", status="ok"))
    assert [r.sample_id for r in spool.finish()] == ["s0", "s2", "s5"]


def test_results_over_a_spool_load_only_when_asked(tmp_path):
    out = tmp_path / "r.jsonl"
    spool = ResultSpool(out)
    for i in (1, 0):
        spool.write(i, Result(sample_id=f"s{i}", rubric="r", status="ok", scores={"q": float(i)}))
    res = Results(spool.finish(), {"x": 1})
    assert len(res) == 2 and "records in" in repr(res)  # neither reads the file
    assert isinstance(res._records, SpooledRecords)  # still on disk
    copy = tmp_path / "copy.jsonl"
    res.save(copy)  # streamed from disk
    assert copy.read_text() == out.read_text()
    assert [r.scores for r in res] == [{"q": 0.0}, {"q": 1.0}]


def test_seen_ids_agree_with_a_set_of_strings():
    rng = random.Random(0)
    ids = [f"id-{rng.randrange(40_000)}" for _ in range(60_000)]
    seen, reference = SeenIds(), set()
    for x in ids:
        assert seen.add(x) == (x not in reference), x
        reference.add(x)
    assert len(seen) == len(reference)


def test_a_repeated_id_in_a_long_manifest_is_still_refused(tmp_path):
    path = _manifest(tmp_path, 9000, images=3)
    with path.open("a") as fh:
        fh.write(json.dumps({"id": "s17", "prompt": "again", "image": "0.png"}) + "\n")
    with pytest.raises(DataError, match="duplicate sample id 's17'"):
        list(jk.load_samples(path))


def _peak_bytes(manifest, out) -> tuple[int, Results, InstantJudge]:
    judge = InstantJudge()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        res = jk.score("aesthetics-simple", str(manifest), backend=judge, out=out, cache=False, progress=False)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, res, judge


@pytest.mark.timeout(600)
def test_driver_memory_stays_flat_as_a_streamed_manifest_grows(tmp_path):
    small = _manifest(tmp_path / "small", 500)
    large = _manifest(tmp_path / "large", 5000)
    _peak_bytes(small, tmp_path / "warm.jsonl")  # imports and template caches, once
    peak_small, _, _ = _peak_bytes(small, tmp_path / "small.jsonl")
    peak_large, res, judge = _peak_bytes(large, tmp_path / "large.jsonl")
    assert judge.requests == 5000 and len(res) == 5000
    # 4,500 more samples may cost the ids' digests and the lines' offsets (32 bytes each) and
    # little else: under 100 bytes a sample. Holding the records would cost kilobytes each.
    assert peak_large - peak_small < 4500 * 100, (peak_small, peak_large)
    lines = (tmp_path / "large.jsonl").read_text().splitlines()
    assert [json.loads(x)["sample_id"] for x in lines] == [f"s{i}" for i in range(5000)]
    assert res[4999].sample_id == "s4999" and res[0].scores == {"aesthetics": 4.0}
