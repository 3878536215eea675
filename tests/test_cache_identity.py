"""The response cache is keyed on everything that can change an answer (issue 15, item 1):
the same spec asked for JSON another way, or given other server-specific fields, must miss the
cache; and every result says, per call, whether its answer came fresh or from the cache and from
which endpoint. Which of several equivalent servers of one model answered is not part of the key
(issue 18, item 15): dropping a dead --base-url and resuming hits the cache; servers the user
says differ (``cache_tag``) do not share answers."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.backends import make_backend
from judgekit.backends.local_model import model_revision
from judgekit.cache import backend_identity, request_key
from judgekit.errors import BackendError
from judgekit.resources import data_path
from judgekit.types import ChatRequest, Message, TextPart
from tests.judge_server import JudgeServer, Reply

DIMS = ("semantic_consistency", "naturalness", "artifacts")


def _score(url: str, manifest: Path, cache: Path, **backend_options):
    return jk.score("viescore-t2i", str(manifest), backend="openai:judge", base_url=url, cache=str(cache),
                    backend_options={"backoff_base": 0.01, **backend_options})


def _dead_url() -> str:
    with socket.socket() as s:  # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def test_another_server_of_the_model_is_served_from_the_cache_and_a_tagged_one_is_asked(
        judge_server, manifest_factory, tmp_path):
    m, cache = manifest_factory(2), tmp_path / "c.sqlite"
    first = _score(judge_server.url, m, cache)
    assert len(judge_server.received) == 6
    src = first[0].details["sources"]
    assert set(src) == set(DIMS)
    assert all(s.items() >= {"from": "fresh", "endpoint": judge_server.url}.items() for s in src.values())

    with JudgeServer(lambda body, n: Reply(content=json.dumps({"reasoning": "second judge", "score": 1}))) as other:
        # The same model at another address (a replica, a moved server): the same judge.
        moved = _score(other.url, m, cache)
        assert len(other.received) == 0 and moved.run_info["cache"]["hits"] == 6
        assert [r.scores for r in moved] == [r.scores for r in first]
        # Cached answers say which server gave them, not which one is configured now.
        assert all(s.items() >= {"from": "cache", "endpoint": judge_server.url}.items() for s in moved[0].details["sources"].values())

        # The user says this server differs (other weights under the same model name).
        second = _score(other.url, m, cache, cache_tag="finetune-2")
        assert len(other.received) == 6, "a server tagged as different must be asked"
        assert all(r.reasoning[d] == "second judge" for r in second for d in DIMS)
        assert all(s.items() >= {"from": "fresh", "endpoint": other.url}.items() for s in second[0].details["sources"].values())
        again = _score(other.url, m, cache, cache_tag="finetune-2")  # now its own answers are cached
        assert len(other.received) == 6 and again.run_info["cache"]["hits"] == 6
        assert all(s.items() >= {"from": "cache", "endpoint": other.url}.items() for s in again[1].details["sources"].values())
        assert [r.scores for r in again] == [r.scores for r in second]


def test_a_fully_cached_rerun_needs_no_server(judge_server, manifest_factory, tmp_path):
    m, cache = manifest_factory(2), tmp_path / "c.sqlite"
    first = _score(judge_server.url, m, cache)
    # Every answer is cached: nothing is sent, so a server that is gone costs nothing.
    again = _score(_dead_url(), m, cache, max_attempts=1)
    assert again.run_info["cache"] == {**again.run_info["cache"], "hits": 6, "misses": 0}
    assert [r.scores for r in again] == [r.scores for r in first]
    # A new sample is a miss: the pre-flight check on it finds nothing listening.
    with pytest.raises(BackendError, match="cannot connect"):
        _score(_dead_url(), manifest_factory(3), cache, max_attempts=1)


def test_response_format_and_extra_body_are_part_of_the_key(judge_server, manifest_factory, tmp_path):
    m, cache = manifest_factory(1), tmp_path / "c.sqlite"
    _score(judge_server.url, m, cache)
    assert len(judge_server.received) == 3
    # json_object: the scripted server then answers without a schema, so script valid verdicts.
    judge_server.reset(lambda body, n: Reply(content=json.dumps({"reasoning": "json mode", "score": 4})))
    res = _score(judge_server.url, m, cache, response_format="json_object")
    assert len(judge_server.received) == 3 and res[0].reasoning["naturalness"] == "json mode"
    assert judge_server.received[0]["response_format"] == {"type": "json_object"}
    _score(judge_server.url, m, cache, response_format="json_object", extra_body={"top_k": 1})
    assert len(judge_server.received) == 6
    _score(judge_server.url, m, cache, response_format="json_object", extra_body={"top_k": 1}, concurrency=3, timeout=9)
    assert len(judge_server.received) == 6, "concurrency and timeouts change no answer: still cached"


def test_openai_identity_holds_the_model_not_the_url_and_never_the_key(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    be = make_backend("openai:gpt-x", settings={"api_key": "sk-secret-123"})
    ident = be.cache_identity()
    assert ident["model"] == "gpt-x" and ident["response_format"] == "json_schema"
    assert be.endpoint == "https://api.openai.com/v1" and "api.openai.com" not in json.dumps(ident)
    assert "sk-secret-123" not in json.dumps(ident)
    one = make_backend("openai:gpt-x", settings={"base_url": "http://h:1/v1"})
    three = make_backend("openai:gpt-x", settings={"base_url": ["http://h:1/v1", "http://h:2/v1", "http://h:3/v1"]})
    two = make_backend("openai:gpt-x", settings={"base_url": ["http://h:3/v1", "http://h:2/v1"]})
    req = ChatRequest((Message("user", (TextPart("hi"),)),))
    keys = {request_key(backend_identity(b), req) for b in (be, one, two, three)}
    assert len(keys) == 1, "one key whichever servers of the model are listed"
    tagged = make_backend("openai:gpt-x", settings={"base_url": ["http://h:1/v1", "http://h:2/v1"]}, cache_tag="q4")
    assert request_key(backend_identity(tagged), req) not in keys
    other_model = make_backend("openai:gpt-y", settings={"base_url": "http://h:1/v1"})
    assert request_key(backend_identity(other_model), req) not in keys


def test_replay_identity_follows_the_answer_file(tmp_path):
    answers = data_path("calibration", "dsg_tifa160", "mplug_dsg_tifa160.csv")
    copy = tmp_path / "answers.csv"
    copy.write_bytes(Path(answers).read_bytes())
    before = make_backend(f"replay:{copy}").cache_identity()
    lines = copy.read_text().splitlines(keepends=True)
    copy.write_text("".join(lines[:-1]))  # one recorded answer fewer: another file
    after = make_backend(f"replay:{copy}").cache_identity()
    assert before["endpoint"] == after["endpoint"] == str(copy.resolve())
    assert before["sha256"] != after["sha256"]


def test_model_revision_sees_new_weights_of_the_same_size(tmp_path, monkeypatch):
    import judgekit.backends.local_model as lm

    monkeypatch.setattr(lm, "_SMALL_FILE", 1000)  # make the "weights" below count as large
    d = tmp_path / "model"
    d.mkdir()
    (d / "config.json").write_text('{"model_type": "llava"}')
    weights = bytearray(b"\x01" * 300_000)
    (d / "model.safetensors").write_bytes(weights)
    base = model_revision(d)
    assert model_revision(d) == base
    weights[150_000] ^= 0xFF  # fine-tuned: same size, different tensor data in the middle
    (d / "model.safetensors").write_bytes(weights)
    tuned = model_revision(d)
    assert tuned != base
    (d / "chat_template.jinja").write_text("{{ messages }}")
    assert model_revision(d) != tuned


def test_a_backend_without_cache_identity_is_keyed_on_its_description():
    class Custom:
        spec, max_batch_size = "custom:x", 1

        def __init__(self, temperature):
            self.t = temperature

        def describe(self):
            return {"spec": self.spec, "setting": self.t}

    req = ChatRequest((Message("user", (TextPart("hi"),)),))
    assert backend_identity(Custom(1))["endpoint"] == "custom:x"
    assert request_key(backend_identity(Custom(1)), req) != request_key(backend_identity(Custom(2)), req)


@pytest.mark.parametrize("fmt", ["json_schema", "json_object", "none"])
def test_identity_is_json(fmt):
    json.dumps(make_backend("openai:m", settings={"response_format": fmt}).cache_identity())
