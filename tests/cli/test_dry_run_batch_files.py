"""`judgekit score --dry-run`, `--export-batch` and `--import-batch` against the scripted server
(which counts tokens as tests/token_counting.py documents)."""

import json

import httpx
import pytest

from judgekit.cli import main

PRICES = "gpt-4o:\n  input: 2.5\n  output: 10.0\n  batch_discount: 0.5\n"


def _score(manifest, tmp_path, url, *extra, cache="c.sqlite", out="r.jsonl"):
    return main(["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", "openai:gpt-4o",
                 "--base-url", url, "--out", str(tmp_path / out), "--cache", str(tmp_path / cache),
                 "--no-progress", "--concurrency", "2", *extra])


def _judge_calls(server):
    return [(b, c) for b, c in zip(server.received, server.counted) if b.get("max_tokens") != 1]


def _comparable(path):
    """A results file without what differs between a live and an imported run: provenance
    (creation time), where each answer came from, and its usage (batch or live)."""
    recs = [json.loads(x) for x in path.read_text().splitlines()]
    for r in recs:
        r.pop("provenance")
        r["details"].pop("sources")
        r["details"].pop("usage")
        # Where the answer came from: the server (live) or the imported output file.
        r.get("judge", {}).pop("endpoint_host", None)
    return sorted(recs, key=lambda r: r["sample_id"])


def test_dry_run_counts_what_the_live_run_sends_and_estimates_its_text_tokens(judge_server, manifest_factory, tmp_path,
                                                                            capsys):
    manifest = manifest_factory(5)
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    assert _score(manifest, tmp_path, judge_server.url, "--dry-run", "--prices", str(prices)) == 0
    out = capsys.readouterr().out
    assert not judge_server.received  # nothing sent, not even the pre-flight probe
    assert not (tmp_path / "r.jsonl").exists()
    report = {ln.split(":")[0]: ln for ln in out.splitlines()}
    count = int(report["dry run"].split(": ")[1].split()[0])
    est_line = report["estimated prompt tokens"]
    text_est = int(est_line.split("(text ")[1].split(",")[0])
    image_est = int(est_line.split("images ")[1].split(",")[0])

    assert _score(manifest, tmp_path, judge_server.url) == 0
    calls = _judge_calls(judge_server)
    assert count == len(calls) == 15
    counted_text = sum(t for _, (t, _, _) in calls)
    assert abs(text_est - counted_text) <= 0.10 * counted_text
    assert image_est == sum(i for _, (_, i, _) in calls)  # the same documented tile formula
    prompt = text_est + image_est
    assert f"${prompt * 2.5 / 1e6:.4f} for the prompts" in report["estimated cost live"]
    assert f"${prompt * 2.5 / 1e6 * 0.5:.4f} for the prompts" in report["estimated cost by batch"]

    # Once answered, a dry run has nothing left to send.
    judge_server.reset()
    assert _score(manifest, tmp_path, judge_server.url, "--dry-run") == 0
    assert "dry run: 0 requests would be sent (15 answers already in the cache)" in capsys.readouterr().out


def _answer_batch_file(requests, outputs, url, fail=()):
    """A scripted batch runner: posts each request line's body to the scripted server and writes
    the Batch API output line; custom_ids in ``fail`` get a per-request error instead."""
    lines = []
    with httpx.Client(base_url=url.rsplit("/v1", 1)[0]) as client:
        for n, raw in enumerate(requests.read_text().splitlines()):
            req = json.loads(raw)
            assert req["method"] == "POST" and req["url"] == "/v1/chat/completions" and req["body"]["model"] == "gpt-4o"
            if req["custom_id"] in fail:
                lines.append({"id": f"batch_req_{n}", "custom_id": req["custom_id"], "response": None,
                              "error": {"code": "server_error", "message": "scripted failure"}})
                continue
            r = client.post(req["url"], json=req["body"])
            lines.append({"id": f"batch_req_{n}", "custom_id": req["custom_id"],
                          "response": {"status_code": r.status_code, "request_id": f"r{n}", "body": r.json()},
                          "error": None})
    outputs.write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_export_then_a_batch_runner_then_import_equals_the_live_run(judge_server, manifest_factory, tmp_path, capsys):
    manifest = manifest_factory(4)
    assert _score(manifest, tmp_path, judge_server.url, cache="live.sqlite", out="live.jsonl") == 0
    judge_server.reset()

    requests, outputs = tmp_path / "requests.jsonl", tmp_path / "outputs.jsonl"
    assert _score(manifest, tmp_path, judge_server.url, "--export-batch", str(requests)) == 0
    assert not judge_server.received
    ids = [json.loads(x)["custom_id"] for x in requests.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 12
    assert "exported 12 requests" in capsys.readouterr().out

    # One request fails in the batch: the import judges the other samples and says what is left.
    _answer_batch_file(requests, outputs, judge_server.url, fail={ids[0]})
    answered = len(judge_server.received)
    assert _score(manifest, tmp_path, judge_server.url, "--import-batch", str(outputs)) == 0
    out = capsys.readouterr().out
    assert len(judge_server.received) == answered  # the import sends nothing
    assert "imported 11 replies (1 failed lines)" in out and "1 requests still unanswered" in out
    assert "usage gpt-4o, this run: 11 requests (11 by batch)" in out  # charged to the run that imported them
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 3

    # Export again: only the failed request; answer it, import, and the results equal the live run's.
    assert _score(manifest, tmp_path, judge_server.url, "--export-batch", str(requests)) == 0
    assert [json.loads(x)["custom_id"] for x in requests.read_text().splitlines()] == [ids[0]]
    _answer_batch_file(requests, outputs, judge_server.url)
    assert _score(manifest, tmp_path, judge_server.url, "--import-batch", str(outputs)) == 0
    assert _comparable(tmp_path / "r.jsonl") == _comparable(tmp_path / "live.jsonl")
    recs = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert sum(r["details"]["usage"]["batch_requests"] for r in recs) == 12
    # An imported answer names the output file it came from, never a server that did not answer.
    hosts = {h for r in recs for h in r["judge"]["endpoint_host"].split(" | ")}
    assert hosts <= {f"batch output {p.resolve()}" for p in tmp_path.glob("*.jsonl")} and hosts


@pytest.mark.parametrize("flags, words", [
    (["--dry-run", "--export-batch", "x.jsonl"], "cannot be combined"),
    (["--export-batch", "x.jsonl", "--no-cache"], "needs the response cache"),
    (["--dry-run", "--max-tokens", "10"], "this one sends none"),
])
def test_conflicting_flags_are_one_error(flags, words, judge_server, manifest_factory, tmp_path, capsys):
    assert _score(manifest_factory(1), tmp_path, judge_server.url, *flags) == 2
    assert words in capsys.readouterr().err


def test_an_import_that_completes_no_sample_exits_3_not_0(judge_server, manifest_factory, tmp_path, capsys):
    """Exit 0 promises at least one sample judged: an output file whose every line failed (or the
    request file passed by mistake) completes none, so the import ends with exit status 3."""
    manifest = manifest_factory(2)
    requests, outputs = tmp_path / "requests.jsonl", tmp_path / "outputs.jsonl"
    assert _score(manifest, tmp_path, judge_server.url, "--export-batch", str(requests)) == 0
    ids = [json.loads(x)["custom_id"] for x in requests.read_text().splitlines()]
    _answer_batch_file(requests, outputs, judge_server.url, fail=set(ids))
    capsys.readouterr()
    assert _score(manifest, tmp_path, judge_server.url, "--import-batch", str(outputs)) == 3
    err = capsys.readouterr().err
    assert "no sample completed" in err and "6 requests still unanswered" in err
