"""Cached replies that never validated (issue 18 item 20): by default the cache replays them, so
a rerun makes the first run's decisions again; ``--retry-failed`` asks the judge again for those
calls only, replaces them, and keeps every valid cached reply. Both `score` and
`questions generate`, against the scripted OpenAI-compatible server."""

import json

from judgekit.cli import main
from tests.judge_server import Reply
from tests.questions.test_generate import DEPS, QUESTIONS, TUPLES, scripted


def _score(judge_server, manifest, tmp_path, *extra):
    return main(["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--no-progress", "--out", str(tmp_path / "r.jsonl"),
                 "--cache", str(tmp_path / "c.sqlite"), *extra])


def _records(tmp_path):
    return [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]


def test_retry_failed_asks_again_only_for_replies_that_never_validated(judge_server, manifest_factory, tmp_path, capsys):
    m = manifest_factory(4)  # s0, s1 judge prompt 0; s2, s3 prompt 1
    # A broken server: the prompt-0 semantic-consistency calls (the only calls that see "number 0")
    # get prose; everything else is a valid verdict.
    judge_server.reset(lambda body, n: Reply(content="I think it is fine") if "number 0" in json.dumps(body) else Reply())
    assert _score(judge_server, m, tmp_path) == 0
    assert len(judge_server.received) == 2 * 3 + 10  # 2 calls x 3 attempts, 10 valid calls
    first = _records(tmp_path)
    assert [r["status"] for r in first] == ["failed", "failed", "ok", "ok"]
    capsys.readouterr()

    judge_server.reset()  # the server is fixed
    assert _score(judge_server, m, tmp_path) == 0  # default: the cache replays the same failures
    assert judge_server.received == [] and [r["status"] for r in _records(tmp_path)] == ["failed", "failed", "ok", "ok"]
    capsys.readouterr()

    assert _score(judge_server, m, tmp_path, "--retry-failed") == 0
    assert "(cache: 10 hits, 2 misses)" in capsys.readouterr().out  # valid replies kept, not wiped
    assert len(judge_server.received) == 2 and all("number 0" in json.dumps(b) for b in judge_server.received)
    again = _records(tmp_path)
    assert all(r["status"] == "ok" for r in again)
    for old, new in zip(first[2:], again[2:]):
        assert old["scores"] == new["scores"]  # the cached valid answers, unchanged

    assert _score(judge_server, m, tmp_path) == 0  # the new replies replaced the invalid ones
    assert "(cache: 12 hits, 0 misses)" in capsys.readouterr().out and len(judge_server.received) == 2


def test_questions_generate_retry_failed(judge_server, tmp_path, capsys):
    prompts = tmp_path / "p.txt"
    prompts.write_text("two apples on a table\n")
    out, cache = tmp_path / "q.csv", tmp_path / "c.sqlite"

    def generate(*extra):
        return main(["questions", "generate", "--style", "dsg", "--prompts", str(prompts), "--backend", "openai:judge",
                     "--base-url", judge_server.url, "--out", str(out), "--cache", str(cache), "--retries", "0", *extra])

    judge_server.script = scripted({"tuplesout": [TUPLES], "dependenciesout": ["not json"], "questionsout": [QUESTIONS]})
    assert generate() == 3
    assert [b["response_format"]["json_schema"]["name"] for b in judge_server.received] == ["tuplesout", "dependenciesout"]
    capsys.readouterr()
    judge_server.reset(scripted({"tuplesout": [TUPLES], "dependenciesout": [DEPS], "questionsout": [QUESTIONS]}))
    assert generate() == 3 and judge_server.received == []  # replayed from the cache
    capsys.readouterr()
    assert generate("--retry-failed") == 0
    assert "1 of 1 prompts -> 4 questions" in capsys.readouterr().out
    # The valid tuples came from the cache; only the invalid step (and the one after it) was asked.
    assert [b["response_format"]["json_schema"]["name"] for b in judge_server.received] == ["dependenciesout", "questionsout"]
