"""``judgekit cache info | clear`` on a cache a real run filled."""

import json

from judgekit.cache import ResponseCache
from judgekit.cli import main
from judgekit.types import ChatResponse


def _score(srv, manifest, tmp_path, cache):
    return main(["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", "openai:judge",
                 "--base-url", srv.url, "--out", str(tmp_path / "r.jsonl"), "--cache", str(cache), "--no-progress"])


def test_info_and_clear(judge_server, manifest_factory, tmp_path, capsys):
    cache = tmp_path / "c.sqlite"
    m = manifest_factory(2)
    assert _score(judge_server, m, tmp_path, cache) == 0
    with ResponseCache(cache) as c:  # a second backend's reply, as another run would leave
        c.put("k-other", "vllm:/models/qwen", ChatResponse(text=json.dumps({"reasoning": "r", "score": 1})))
    capsys.readouterr()

    assert main(["cache", "info", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert f"{cache}: 7 entries," in out and "oldest 20" in out
    assert [ln.split() for ln in out.splitlines()[2:]] == [["openai:judge", "6"], ["vllm:/models/qwen", "1"]]

    assert main(["cache", "clear", "--cache", str(cache), "--backend", "vllm:/models/qwen"]) == 0
    assert "removed 1 entries of vllm:/models/qwen" in capsys.readouterr().out
    assert main(["cache", "clear", "--cache", str(cache), "--backend", "hf:nope"]) == 0
    assert "the cache holds: openai:judge" in capsys.readouterr().out

    assert main(["cache", "clear", "--cache", str(cache)]) == 0
    assert "removed 6 entries (" in capsys.readouterr().out
    assert main(["cache", "info", "--cache", str(cache)]) == 0
    assert ": 0 entries," in capsys.readouterr().out

    judge_server.reset()
    assert _score(judge_server, m, tmp_path, cache) == 0  # nothing left to replay: the judge is asked again
    assert len(judge_server.received) == 6 and "(cache: 0 hits, 6 misses)" in capsys.readouterr().out


def test_missing_cache_is_reported_not_created(tmp_path, capsys):
    path = tmp_path / "none.sqlite"
    assert main(["cache", "info", "--cache", str(path)]) == 0
    assert "no cache yet" in capsys.readouterr().out
    assert main(["cache", "clear", "--cache", str(path)]) == 0
    assert "nothing removed" in capsys.readouterr().out
    assert not path.exists()


def test_default_path_follows_judgekit_cache(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JUDGEKIT_CACHE", str(tmp_path / "env.sqlite"))
    assert main(["cache", "info"]) == 0
    assert str(tmp_path / "env.sqlite") in capsys.readouterr().out


def test_a_file_that_is_not_a_cache_is_one_error(tmp_path, capsys):
    path = tmp_path / "notes.sqlite"
    path.write_text("just some text, not a database\n" * 50)
    assert main(["cache", "info", "--cache", str(path)]) == 2
    assert "not a judgekit response cache" in capsys.readouterr().err


def _score_with_cache(judge_server, manifest, cache, out):
    return main(["score", "--rubric", "viescore-t2i", "--data", str(manifest), "--backend", "openai:judge",
                 "--base-url", judge_server.url, "--no-progress", "--out", str(out), "--cache", str(cache)])


def test_score_with_a_file_that_is_not_a_cache_is_one_error(judge_server, manifest_factory, tmp_path, capsys):
    # Issue 18 item 11: `score --cache` on such a file ended in a sqlite3.DatabaseError traceback.
    m = manifest_factory(1)
    text = tmp_path / "notes.sqlite"
    text.write_text("just some text, not a database\n" * 50)
    assert _score_with_cache(judge_server, m, text, tmp_path / "r.jsonl") == 2
    err = capsys.readouterr().err.strip()
    assert err == f"judgekit: error: {text}: not a judgekit response cache (file is not a database)"
    assert text.read_text() == "just some text, not a database\n" * 50  # left as it was
    assert judge_server.received == []

    import sqlite3

    other = tmp_path / "app.sqlite"  # another program's database that happens to have the table name
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE responses (id INTEGER, body TEXT)")
    assert _score_with_cache(judge_server, m, other, tmp_path / "r.jsonl") == 2
    assert "not a judgekit response cache (its table 'responses' has columns ['id', 'body'])" in capsys.readouterr().err
    assert _score_with_cache(judge_server, m, tmp_path, tmp_path / "r.jsonl") == 2  # a directory
    assert "is a directory" in capsys.readouterr().err
    assert judge_server.received == []
