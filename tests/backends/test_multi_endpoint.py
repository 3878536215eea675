"""Several scripted OpenAI-compatible servers on 127.0.0.1 behind one ``openai:`` backend: one
stops accepting connections mid-run (or answers 500s): every sample completes exactly once and
the per-endpoint counts say who served what."""

import threading

import judgekit as jk
from judgekit.backends import make_backend
from judgekit.backends.multi import MultiEndpointBackend
from judgekit.backends.openai import OpenAIBackend
from judgekit.cli import main
from tests.judge_server import JudgeServer, Reply


def _score(urls, manifest, **kw):
    kw.setdefault("cache", False)
    return jk.score("viescore-t2i", str(manifest), backend="openai:judge", base_url=urls, concurrency=4,
                    backend_options={"backoff_base": 0.2, "timeout": 10}, **kw)


def test_make_backend_takes_a_list_of_urls():
    one = make_backend("openai:j", settings={"base_url": ["http://h1/v1"]})
    assert isinstance(one, OpenAIBackend) and one.base_url == "http://h1/v1"
    many = make_backend("openai:j", settings={"base_url": ["http://h1/v1", "http://h2/v1"], "concurrency": 8})
    assert isinstance(many, MultiEndpointBackend) and many.concurrency == 16
    assert many.spec == one.spec == "openai:j"  # same judge, same cache keys
    assert many.describe()["base_urls"] == ["http://h1/v1", "http://h2/v1"]


def test_one_server_dies_mid_run(manifest_factory):
    m = manifest_factory(40)
    servers = [JudgeServer().start() for _ in range(3)]
    dying = servers[2]

    def script(body, n):
        if n == 8:  # stop listening and drop open connections, from outside the server's loop
            threading.Thread(target=dying.stop).start()
        if n >= 8:  # whatever still reaches it before the listener closes is dropped
            return Reply(drop=True)
        return Reply(delay=0.01)

    dying.reset(script)
    for s in servers[:2]:
        s.reset(lambda body, n: Reply(delay=0.01))
    try:
        res = _score([s.url for s in servers], m)
    finally:
        for s in servers[:2]:
            s.stop()
    assert [r.sample_id for r in res] == [f"s{i}" for i in range(40)]  # all, once, in order
    assert all(r.status == "ok" for r in res), [r.error for r in res if r.error][:3]
    counts = {c["url"]: c for c in res.run_info["endpoints"]}
    assert sum(c["served"] for c in counts.values()) == 40 * 3  # every call served exactly once
    for s in servers[:2]:
        assert counts[s.url]["served"] == len(s.received) and counts[s.url]["failed"] == 0
    dead = counts[dying.url]
    # It answered some of its first 8 (those still in flight when it stopped were lost and resent).
    assert 0 < dead["served"] <= 8 and dead["failed"] >= 1 and dead["taken_out"] >= 1
    assert len(servers[0].received) + len(servers[1].received) == 120 - dead["served"]  # the rest, each once


def test_a_5xx_storm_moves_work_to_the_others(manifest_factory, tmp_path, capsys):
    m = manifest_factory(20)
    with JudgeServer() as good, JudgeServer() as bad:
        bad.reset(lambda body, n: Reply(status=503) if n >= 3 else Reply())
        out = tmp_path / "r.jsonl"
        rc = main(["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "openai:judge",
                   "--base-url", good.url, "--base-url", bad.url, "--concurrency", "4", "--no-cache",
                   "--no-progress", "--engine-arg", "backoff_base=0.2", "--out", str(out)])
        assert rc == 0
        printed = capsys.readouterr().out
        res = jk.load_results(out)
        assert len(res) == 20 and all(r.status == "ok" for r in res)
        assert len({r.sample_id for r in res}) == 20
        assert f"endpoint {good.url}: {len(good.received)} served, 0 failed" in printed
        assert f"endpoint {bad.url}: 3 served, " in printed
        assert 3 < len(bad.received) < 20  # it was tried, then mostly left alone


def test_every_server_down_fails_each_sample_cleanly(manifest_factory):
    m = manifest_factory(2)
    a, b = JudgeServer().start(), JudgeServer().start()
    urls = [a.url, b.url]
    a.stop()
    b.stop()
    res = jk.score("viescore-t2i", str(m), backend="openai:judge", base_url=urls, cache=False,
                   backend_options={"backoff_base": 0.01, "max_attempts": 3})
    assert len(res) == 2 and all(r.status == "failed" for r in res)
    assert "failed on every endpoint after 3 attempts" in res[0].error
    assert all(c["served"] == 0 and c["failed"] > 0 for c in res.run_info["endpoints"])


def test_sources_name_the_one_server_that_answered(manifest_factory, tmp_path):
    # Issue 18 item 7: every source read "URL1 | URL2" instead of the server that answered.
    m = manifest_factory(8)
    with JudgeServer() as a, JudgeServer() as b:
        res = _score([a.url, b.url], m, cache=str(tmp_path / "c.sqlite"))
        named = [s["endpoint"] for r in res for s in r.details["sources"].values()]
        assert set(named) <= {a.url, b.url}
        assert named.count(a.url) == len(a.received) and named.count(b.url) == len(b.received)
        assert len(a.received) > 0 and len(b.received) > 0


def test_dropping_a_dead_server_and_resuming_hits_the_cache(manifest_factory, tmp_path):
    # Issue 18 item 15: the key held the joined list of URLs, so a resume without the dead
    # server re-sent every call (0 hits).
    m, cache = manifest_factory(8), str(tmp_path / "c.sqlite")
    with JudgeServer() as a, JudgeServer() as b:
        first = _score([a.url, b.url], m, cache=cache)
        served = {a.url: len(a.received), b.url: len(b.received)}
    with JudgeServer() as c:
        resumed = _score([c.url], m, cache=cache)  # a and b are gone; c serves the same model
        assert len(c.received) == 0 and resumed.run_info["cache"]["hits"] == 24
        named = [s["endpoint"] for r in resumed for s in r.details["sources"].values()]
        assert {u: named.count(u) for u in served} == served  # each answer still names its server
        again = _score([c.url, _dead_url()], manifest_factory(10), cache=cache)
        assert again.run_info["cache"]["hits"] == 24 and len(c.received) == 6  # only the new samples
    assert [r.scores for r in resumed] == [r.scores for r in first]


def _dead_url():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def test_each_image_is_encoded_once_and_every_body_carries_it(manifest_factory):
    """viescore-t2i asks 3 dimensions of each sample: one base64 encoding per image, shared by
    its three request bodies (which are sent as JSON the servers read like any other)."""
    import base64
    import json

    from judgekit.backends.openai import image_data_uri

    m = manifest_factory(6)
    servers = [JudgeServer().start() for _ in range(2)]
    for s in servers:
        s.reset(lambda body, n: Reply(delay=0.0))
    image_data_uri.cache_clear()
    try:
        res = _score([s.url for s in servers], m)
    finally:
        for s in servers:
            s.stop()
    assert all(r.status == "ok" for r in res)
    info = image_data_uri.cache_info()
    assert (info.misses, info.hits) == (6, 12)  # 6 images, each encoded once for its 3 calls
    files = {(m.parent / json.loads(line)["image"]).read_bytes() for line in m.read_text().splitlines()}
    sent = [b if isinstance(b, dict) else json.loads(b) for s in servers for b in s.received]
    urls = {p["image_url"]["url"] for b in sent for msg in b["messages"] if isinstance(msg["content"], list)
            for p in msg["content"] if p["type"] == "image_url"}
    assert {base64.b64decode(u.split(",", 1)[1]) for u in urls} == files
