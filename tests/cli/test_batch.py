"""`judgekit score --batch` against a scripted Batch API server (tests/batch_server.py): records
equal to the live run's, re-attaching after SIGKILL without a second submission, expired and
failed requests answered by the fallback, every sample once."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from judgekit.cli import main
from tests.batch_server import BatchServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def batch_server_module():
    with BatchServer() as srv:
        yield srv


@pytest.fixture
def batch_server(batch_server_module):
    srv = batch_server_module
    srv.reset()
    srv.files, srv.batches, srv.submissions = {}, {}, []
    srv.expire_after, srv.fail_ids, srv.steps_in_progress = None, set(), 1
    return srv


def _args(manifest, tmp_path, url, *extra, cache="c.sqlite", out="r.jsonl"):
    return ["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", "openai:gpt-4o",
            "--base-url", url, "--out", str(tmp_path / out), "--cache", str(tmp_path / cache),
            "--no-progress", "--concurrency", "2", *extra]


def _comparable(path):
    recs = [json.loads(x) for x in path.read_text().splitlines()]
    for r in recs:
        r.pop("provenance")
        r["details"].pop("sources")
        r["details"].pop("usage")
    return sorted(recs, key=lambda r: r["sample_id"])


def _live(manifest, tmp_path, srv):
    assert main(_args(manifest, tmp_path, srv.url, cache="live.sqlite", out="live.jsonl")) == 0
    srv.reset()
    return _comparable(tmp_path / "live.jsonl")


def _chat_calls(srv):
    return [b for b in srv.received if b.get("max_tokens") != 1]


def test_batch_run_equals_the_live_run_and_is_charged_at_batch_price(batch_server, manifest_factory, tmp_path, capsys):
    manifest = manifest_factory(4)
    live = _live(manifest, tmp_path, batch_server)
    prices = tmp_path / "p.yaml"
    prices.write_text("gpt-4o: {input: 2.5, output: 10.0, batch_discount: 0.5}\n")
    code = main(_args(manifest, tmp_path, batch_server.url, "--batch", "--batch-poll", "0.01", "--batch-size", "5",
                      "--prices", str(prices)))
    captured = capsys.readouterr()
    assert code == 0
    assert _comparable(tmp_path / "r.jsonl") == live
    assert [len(s) for s in batch_server.submissions] == [5, 5, 2]  # split under --batch-size
    ids = [c for s in batch_server.submissions for c in s]
    assert len(ids) == len(set(ids)) == 12
    assert len(_chat_calls(batch_server)) == 12  # all answered by the batches, none live
    assert "usage gpt-4o, this run: 12 requests (12 by batch)" in captured.out
    assert "submitted: 5 requests" in captured.err and "re-attached" not in captured.err
    assert "batches: 3 submitted (12 requests): 3 in_progress (12 requests), 0 done (0 requests)" in captured.err
    assert "batches: 3 submitted (12 requests): 3 done (12 requests)" in captured.err
    # The charge is the batch price: half of the live price of the same tokens.
    recs = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    u = [r["details"]["usage"] for r in recs]
    live_usd = sum((x["prompt_tokens"] * 2.5 + x["completion_tokens"] * 10.0) / 1e6 for x in u)
    assert sum(x["cost_usd"] for x in u) == pytest.approx(live_usd / 2, abs=1e-7)


@pytest.mark.parametrize("fallback", ["live", "batch"])
def test_expired_and_failed_requests_are_answered_by_the_fallback(fallback, batch_server, manifest_factory, tmp_path,
                                                                  capsys):
    manifest = manifest_factory(4)
    live = _live(manifest, tmp_path, batch_server)
    batch_server.expire_after = 8  # the first batch answers 8 of its 12 requests, then expires
    requests = tmp_path / "req.jsonl"
    assert main(_args(manifest, tmp_path, batch_server.url, "--export-batch", str(requests))) == 0
    failing = json.loads(requests.read_text().splitlines()[0])["custom_id"]
    batch_server.fail_ids = {failing}  # and one of the 8 fails
    code = main(_args(manifest, tmp_path, batch_server.url, "--batch", "--batch-poll", "0.01",
                      "--batch-fallback", fallback))
    err = capsys.readouterr().err
    assert code == 0, err
    assert "expired: 7 of 12 requests answered, 5 not answered" in err
    assert _comparable(tmp_path / "r.jsonl") == live  # every sample once, as live
    first, *rest = batch_server.submissions
    assert len(first) == 12
    if fallback == "live":
        assert rest == []
        assert len(_chat_calls(batch_server)) == 12  # 7 by batch + 5 live
    else:  # one more batch with exactly the 5 unanswered requests, nothing live
        assert [sorted(s) for s in rest] == [sorted({*first[8:], failing})]
        assert len(_chat_calls(batch_server)) == 12


def test_sigkill_while_a_batch_is_pending_then_rerun_reattaches_without_resubmitting(batch_server, manifest_factory,
                                                                                   tmp_path):
    manifest = manifest_factory(4)
    live = _live(manifest, tmp_path, batch_server)
    batch_server.steps_in_progress = 10_000  # stays in progress until the test lets it finish
    cmd = [sys.executable, "-m", "judgekit", *_args(manifest, tmp_path, batch_server.url, "--batch", "--batch-poll", "0.05")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(b["status"] == "in_progress" for b in batch_server.batches.values()):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(batch_server.submissions) == 1, "the kill must land while the batch is pending"
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert db.execute("SELECT count(*) FROM batch_jobs WHERE batch_id IS NOT NULL").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 0

    batch_server.steps_in_progress = 1
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "re-attached (12 requests)" in done.stderr
    assert len(batch_server.submissions) == 1  # exactly one submission for those requests
    assert len(_chat_calls(batch_server)) == 12
    assert _comparable(tmp_path / "r.jsonl") == live


def test_batch_status_and_cancel_list_and_cancel_the_pending_jobs(batch_server, tmp_path, capsys):
    import asyncio

    from judgekit.backends.batch_api import BatchApi
    from judgekit.backends.batch_store import BatchStore
    from judgekit.backends.openai import OpenAIBackend

    batch_server.steps_in_progress = 10_000
    requests = tmp_path / "req.jsonl"
    requests.write_text('{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {}}\n')
    cache = tmp_path / "c.sqlite"

    async def submit():
        be = OpenAIBackend("gpt-4o", base_url=batch_server.url)
        api = BatchApi(be)
        fid = await api.upload(requests)
        store = BatchStore(cache)
        store.uploaded(fid, api.endpoint, ["a"])
        batch = await api.create(fid)
        store.submitted(fid, batch.id, batch.status)
        store.close()
        await be.aclose()
        return batch.id

    bid = asyncio.run(submit())
    assert main(["batch", "status", "--cache", str(cache)]) == 0
    assert f"{bid}  in_progress  1 requests" in capsys.readouterr().out  # asked the server: validating -> in_progress
    assert main(["batch", "cancel", "--cache", str(cache)]) == 0
    assert batch_server.batches[bid]["status"] == "cancelled"
    assert f"{bid}  cancelled" in capsys.readouterr().out
    assert main(["batch", "cancel", "--cache", str(cache), "--batch-id", "batch_x"]) == 2
    assert "records no batch 'batch_x'" in capsys.readouterr().err


def test_a_run_killed_between_creating_a_batch_and_recording_its_id_finds_it(batch_server, manifest_factory, tmp_path):
    import asyncio

    from judgekit.backends.batch_api import BatchApi
    from judgekit.backends.batch_store import BatchStore
    from judgekit.backends.openai import OpenAIBackend

    manifest = manifest_factory(2)
    live = _live(manifest, tmp_path, batch_server)
    requests = tmp_path / "req.jsonl"
    assert main(_args(manifest, tmp_path, batch_server.url, "--export-batch", str(requests))) == 0
    ids = [json.loads(x)["custom_id"] for x in requests.read_text().splitlines()]

    async def upload_create_and_die():  # what a run did before a kill: upload recorded, batch id not
        be = OpenAIBackend("gpt-4o", base_url=batch_server.url)
        api = BatchApi(be)
        fid = await api.upload(requests)
        store = BatchStore(tmp_path / "c.sqlite")
        store.uploaded(fid, api.endpoint, ids)
        store.close()
        await api.create(fid)
        await be.aclose()

    asyncio.run(upload_create_and_die())
    assert main(_args(manifest, tmp_path, batch_server.url, "--batch", "--batch-poll", "0.01")) == 0
    assert len(batch_server.submissions) == 1  # found by its input file, not created again
    assert _comparable(tmp_path / "r.jsonl") == live


def test_a_budget_holds_back_the_batch_files_that_could_exceed_it_and_a_rerun_finishes(batch_server, manifest_factory,
                                                                                     tmp_path, capsys):
    manifest = manifest_factory(4)
    live = _live(manifest, tmp_path, batch_server)
    # What a request could cost at the batch price: its prompt (as the server counted it live)
    # plus max_tokens completion tokens. The judge's own estimate of the prompt is within 10% of
    # the server's count (tests/cli/test_dry_run_batch_files.py), far inside the margins below.
    batch_server.reset()
    assert main(_args(manifest, tmp_path, batch_server.url, cache="count.sqlite", out="count.jsonl")) == 0
    calls = [(b, c) for b, c in zip(batch_server.received, batch_server.counted) if b.get("max_tokens") != 1]
    bound = [((t + i) * 2.5 + b["max_tokens"] * 10.0) / 1e6 * 0.5 for b, (t, i, _) in calls]
    per_file = 5 * max(bound)
    budget = 1.5 * per_file  # the first file of 5 fits, the first two could not
    assert 5 * min(bound) * 2 > budget * 1.1 and per_file < budget / 1.1
    prices = tmp_path / "p.yaml"
    prices.write_text("gpt-4o: {input: 2.5, output: 10.0, batch_discount: 0.5}\n")
    batch_server.reset()
    capsys.readouterr()
    args = ("--batch", "--batch-poll", "0.01", "--batch-size", "5", "--prices", str(prices))
    code = main(_args(manifest, tmp_path, batch_server.url, *args, "--max-cost", f"{budget:.8f}"))
    err = capsys.readouterr().err
    assert code == 5, err
    assert [len(s) for s in batch_server.submissions] == [5]  # the second and third files were never uploaded
    assert len(batch_server.files) == 2  # the first request file and the job's output file
    assert "batch not submitted: its 5 requests could use up to $" in err and "judgekit: budget reached" in err
    chat = _chat_calls(batch_server)
    assert len(chat) == 5  # nothing sent live either
    spent = sum(((t + i) * 2.5 + c * 10.0) / 1e6 * 0.5 for b, (t, i, c) in zip(batch_server.received, batch_server.counted)
                if b.get("max_tokens") != 1)
    assert spent <= budget
    first = set(batch_server.submissions[0])
    recs = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert 1 <= len(recs) < 4  # the samples whose 3 requests were all in the first file
    assert all(r["details"]["usage"]["requests"] == 3 and r["details"]["usage"]["batch_requests"] == 3 for r in recs)

    # A larger budget: the rest is submitted, nothing is asked twice, and the results are the live run's.
    assert main(_args(manifest, tmp_path, batch_server.url, *args, "--max-cost", f"{budget * 10:.8f}")) == 0
    rest = [c for s in batch_server.submissions[1:] for c in s]
    assert len(rest) == 7 and not first & set(rest)
    assert _comparable(tmp_path / "r.jsonl") == live


def test_max_tokens_holds_back_a_batch_file_too(batch_server, manifest_factory, tmp_path, capsys):
    # A budget of one token: not even the first file could fit; nothing is uploaded or sent.
    code = main(_args(manifest_factory(2), tmp_path, batch_server.url, "--batch", "--batch-poll", "0.01",
                      "--max-tokens", "1"))
    err = capsys.readouterr().err
    assert code == 5, err
    assert batch_server.submissions == [] and batch_server.files == {} and not _chat_calls(batch_server)
    assert "more than the 1 of 1 tokens left of the budget" in err
    assert not (tmp_path / "r.jsonl").read_text().strip()


def test_batch_status_on_a_cache_that_does_not_exist_is_an_error_and_creates_nothing(tmp_path, capsys):
    """A mistyped --cache said "no batch jobs recorded" (as if the run had none) and left an empty
    database, and its folder, behind."""
    missing = tmp_path / "nodir" / "typo.sqlite"
    for action in ("status", "cancel"):
        assert main(["batch", action, "--cache", str(missing)]) == 2
        assert f"response cache {missing} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nodir").exists()
