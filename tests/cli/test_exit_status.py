"""Runs that cannot succeed: the pre-flight check of ``openai:`` backends (one clear line, exit 2,
no retries per sample) and exit status 3 when a run finished with no successful sample."""

import json
import socket

import pytest

from judgekit.cli import EXIT_ALL_FAILED, main
from tests.judge_server import JudgeServer, Reply


def _dead_url() -> str:
    with socket.socket() as s:  # bound, never listening: connecting is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _score(manifest, tmp_path, url, *extra, backend="openai:judge"):
    return main(["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", backend,
                 "--base-url", url, "--out", str(tmp_path / "r.jsonl"), "--cache", str(tmp_path / "c.sqlite"),
                 "--no-progress", "--engine-arg", "max_attempts=2", "--engine-arg", "backoff_base=0.01", *extra])


def _error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("judgekit: error:")]


def test_nothing_listening_is_one_error_naming_the_url(manifest_factory, tmp_path, capsys):
    url = _dead_url()
    assert _score(manifest_factory(3), tmp_path, url) == 2
    err = capsys.readouterr().err
    [line] = _error_lines(err)
    assert url in line and "cannot connect" in line and "refused" in line.lower()
    assert "samples" not in capsys.readouterr().out  # stopped before the run, no summary


def test_wrong_model_is_refused_before_the_run(judge_server, manifest_factory, tmp_path, capsys):
    def script(body, n):
        if body["model"] != "judge":
            return Reply(status=404, error_body=json.dumps(
                {"error": {"message": f"The model `{body['model']}` does not exist."}}))
        return Reply()

    judge_server.reset(script)
    assert _score(manifest_factory(4), tmp_path, judge_server.url, backend="openai:judgee") == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert judge_server.url in line and "'judgee' not found" in line and "it serves: judge" in line
    assert len(judge_server.received) == 1  # the one probe, not 12 calls with retries
    assert judge_server.received[0]["max_tokens"] == 1


def test_refused_api_key_is_one_error(judge_server, manifest_factory, tmp_path, capsys, monkeypatch):
    judge_server.api_key = "the-right-key"
    monkeypatch.setenv("OPENAI_API_KEY", "a-wrong-key")
    assert _score(manifest_factory(2), tmp_path, judge_server.url) == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert "HTTP 401" in line and "API key" in line and judge_server.url in line
    assert "a-wrong-key" not in line


def test_server_without_models_endpoint_is_probed_with_one_tiny_request(judge_server, manifest_factory, tmp_path,
                                                                       capsys):
    judge_server.list_models = False
    assert _score(manifest_factory(2), tmp_path, judge_server.url) == 0
    sizes = [b["max_tokens"] for b in judge_server.received]
    assert sizes.count(1) == 1 and len(sizes) == 1 + 2 * 3  # the probe, then 2 samples x 3 dimensions


def test_every_sample_failing_exits_3(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.reset(lambda body, n: Reply(content="I would rather not say."))
    assert _score(manifest_factory(3), tmp_path, judge_server.url, "--parse-retries", "0") == EXIT_ALL_FAILED == 3
    captured = capsys.readouterr()
    assert "3 samples, 3 failed" in captured.out and "no sample succeeded" in captured.err
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 3  # the failures are still recorded


def test_some_samples_failing_still_exits_0(judge_server, manifest_factory, tmp_path, capsys):
    judge_server.reset(lambda body, n: Reply(content="no verdict") if "number 1" in json.dumps(body["messages"])
                       else Reply())
    assert _score(manifest_factory(3), tmp_path, judge_server.url, "--parse-retries", "0") == 0
    assert "3 samples, 1 failed" in capsys.readouterr().out


def test_fully_cached_rerun_needs_no_server(manifest_factory, tmp_path, capsys):
    """The pre-flight runs on the first cache miss: replaying a finished run works offline."""
    m = manifest_factory(2)
    with JudgeServer() as srv:
        url = srv.url
        assert _score(m, tmp_path, url) == 0
    capsys.readouterr()
    assert _score(m, tmp_path, url) == 0  # the server is gone; every answer comes from the cache
    assert "(cache: 6 hits, 0 misses)" in capsys.readouterr().out


def test_default_url_is_named(manifest_factory, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    # Any connection goes through a proxy where nothing listens: the test never leaves the machine.
    proxy = _dead_url().removesuffix("/v1")
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, proxy)
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    rc = main(["score", "--rubric", "viescore-t2i", "--data", str(manifest_factory(1)), "--backend", "openai:gpt-4o",
               "--out", str(tmp_path / "r.jsonl"), "--no-cache", "--no-progress", "--engine-arg", "max_attempts=1"])
    err = capsys.readouterr().err
    assert "no --base-url and no $OPENAI_BASE_URL; using https://api.openai.com/v1" in err
    assert rc == 2 and "cannot connect" in _error_lines(err)[0]


def test_ssim_without_any_reference_exits_3(tmp_path, capsys):
    from tests.fixtures_spine import write_png

    write_png(tmp_path / "a.png", 0)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"id": "a", "image": "a.png"}) + "\n")
    out = tmp_path / "ssim.jsonl"
    assert main(["metrics", "ssim", "--data", str(manifest), "--out", str(out), "--no-progress", "--workers", "0"]) == 3
    assert json.loads(out.read_text())["status"] == "failed"
    assert "no sample could be scored" in capsys.readouterr().err


@pytest.mark.parametrize("reply", ["not json", json.dumps({"tuples": []})])
def test_questions_generate_with_no_question_exits_3(judge_server, tmp_path, capsys, reply):
    judge_server.reset(lambda body, n: Reply(content=reply))
    prompts = tmp_path / "p.txt"
    prompts.write_text("two apples on a table\n")
    rc = main(["questions", "generate", "--prompts", str(prompts), "--backend", "openai:judge",
               "--base-url", judge_server.url, "--out", str(tmp_path / "q.csv"), "--no-cache", "--retries", "0"])
    assert rc == 3 and "no question was generated" in capsys.readouterr().err
    assert not (tmp_path / "q.csv").exists()  # no empty question file to trip over later


def test_questions_generate_against_nothing_listening_is_one_error(tmp_path, capsys):
    prompts = tmp_path / "p.txt"
    prompts.write_text("two apples on a table\nthree pears\n")
    url = _dead_url()
    rc = main(["questions", "generate", "--prompts", str(prompts), "--backend", "openai:judge",
               "--base-url", url, "--out", str(tmp_path / "q.csv"), "--no-cache"])
    [line] = _error_lines(capsys.readouterr().err)
    assert rc == 2 and url in line and "cannot connect" in line


def test_negative_parse_retries_are_a_usage_error(judge_server, manifest_factory, tmp_path, capsys):
    # Issue 18 item 21: -1 was accepted and every sample failed with an empty reason (rc 3).
    assert _score(manifest_factory(1), tmp_path, judge_server.url, "--parse-retries", "-1") == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert "--parse-retries must be 0 or more" in line and "-1" in line
    assert judge_server.received == []
    import judgekit as jk
    from judgekit.errors import ConfigError

    with pytest.raises(ConfigError, match="parse retries must be 0 or more"):
        jk.score("viescore-t2i", str(manifest_factory(1)), backend="openai:judge", base_url=judge_server.url,
                 cache=False, parse_retries=-1)
    prompts = tmp_path / "p.txt"
    prompts.write_text("two apples on a table\n")
    rc = main(["questions", "generate", "--prompts", str(prompts), "--backend", "openai:judge",
               "--base-url", judge_server.url, "--out", str(tmp_path / "q.csv"), "--no-cache", "--retries", "-1"])
    [line] = _error_lines(capsys.readouterr().err)
    assert rc == 2 and "retries must be 0 or more" in line and judge_server.received == []


def test_a_base_url_without_v1_gets_a_hint(judge_server, manifest_factory, tmp_path, capsys):
    # Issue 18 item 21: a server that serves under /v1, given its root, answered "model not found".
    judge_server.path_prefix = "/v1"
    root = judge_server.url.removesuffix("/v1")
    assert _score(manifest_factory(1), tmp_path, root) == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert "HTTP 404" in line and f"try --base-url {root}/v1" in line
    assert _score(manifest_factory(1), tmp_path, judge_server.url) == 0  # the hint's URL works
    judge_server.reset(lambda body, n: Reply(status=404))  # a 404 for a URL with a path: no such hint
    assert _score(manifest_factory(2), tmp_path, judge_server.url, "--no-cache") == EXIT_ALL_FAILED
    err = capsys.readouterr().err
    assert "HTTP 404" in err and "try --base-url" not in err


def test_a_key_refused_mid_run_stops_at_the_first_refusal(judge_server, manifest_factory, tmp_path, capsys):
    # Issue 18 item 22: a 401 mid-run failed every remaining sample (rc 0 or 3); now the run
    # stops at the first one with rc 2, as the pre-flight does, and a rerun resumes.
    m = manifest_factory(12)
    refusal = json.dumps({"error": {"message": "Incorrect API key provided"}})
    judge_server.reset(lambda body, n: Reply(status=401, error_body=refusal) if n >= 10 else Reply())
    assert _score(m, tmp_path, judge_server.url, "--concurrency", "1") == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert "HTTP 401" in line and "refused the API key" in line and judge_server.url in line
    assert len(judge_server.received) == 11  # 10 answered, then the one refusal: nothing after it
    records = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert records and all(r["status"] == "ok" for r in records)  # no sample recorded as failed

    judge_server.reset()  # the key is fixed: the same command resumes
    assert _score(m, tmp_path, judge_server.url) == 0
    assert "(cache: 10 hits, 26 misses)" in capsys.readouterr().out
    records = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(records) == 12 and all(r["status"] == "ok" for r in records)


def test_a_key_refused_by_one_of_several_servers_stops_the_run(manifest_factory, tmp_path, capsys):
    with JudgeServer() as good, JudgeServer() as bad:
        bad.reset(lambda body, n: Reply(status=403))
        rc = main(["score", "--rubric", "viescore-t2i", "--data", str(manifest_factory(8)), "--backend", "openai:judge",
                   "--base-url", good.url, "--base-url", bad.url, "--out", str(tmp_path / "r.jsonl"),
                   "--no-cache", "--no-progress", "--concurrency", "1"])
        [line] = _error_lines(capsys.readouterr().err)
        assert rc == 2 and "HTTP 403" in line and bad.url in line
        assert len(bad.received) == 1
