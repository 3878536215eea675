"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 with faults on the wire."""

import asyncio
import json
import time

from judgekit.backends import make_backend
from judgekit.types import ChatRequest, ImagePart, Message, TextPart
from tests.judge_server import Reply

IMG = ImagePart(b"\x89PNG\r\n\x1a\nnot-really", "image/png", "image")
SCHEMA = {
    "type": "object",
    "properties": {"reasoning": {"type": "string"}, "score": {"type": "integer", "minimum": 0, "maximum": 10}},
    "required": ["reasoning", "score"],
    "additionalProperties": False,
}


def _req(text="judge this", **kw):
    return ChatRequest((Message("user", (IMG, TextPart(text))),), SCHEMA, **kw)


def _backend(srv, **kw):
    kw.setdefault("backoff_base", 0.01)
    return make_backend("openai:judge", base_url=srv.url, api_key="sk-secret-123", **kw)


def _gen(backend, reqs):
    async def go():
        try:
            return await backend.generate(reqs)
        finally:
            await backend.aclose()

    return asyncio.run(go())


def test_request_shape_on_the_wire(judge_server):
    (resp,) = _gen(_backend(judge_server), [_req()])
    assert resp.error is None and json.loads(resp.text)["score"] in range(11)
    (body,) = judge_server.received
    content = body["messages"][0]["content"]
    assert content[0]["type"] == "image_url"
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[1] == {"type": "text", "text": "judge this"}
    assert body["temperature"] == 0 and body["seed"] == 0
    rf = body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    assert list(rf["json_schema"]["schema"]["properties"]) == ["reasoning", "score"]
    assert "logprobs" not in body
    assert judge_server.headers_seen[0]["authorization"] == "Bearer sk-secret-123"


def test_json_object_mode_and_logprobs(judge_server):
    (resp,) = _gen(_backend(judge_server, response_format="json_object"), [_req(logprobs=True, top_logprobs=3)])
    body = judge_server.received[0]
    assert body["response_format"] == {"type": "json_object"}
    assert body["logprobs"] is True and body["top_logprobs"] == 3
    assert resp.logprobs[0].top[:2] == [("Yes", -0.4), ("No", -1.2)]


def test_429_retry_after_is_honoured(judge_server):
    arrivals = []

    def script(body, n):
        arrivals.append(time.monotonic())
        return Reply(status=429, headers={"retry-after": "0.6"}) if n == 0 else Reply()

    judge_server.reset(script)
    (resp,) = _gen(_backend(judge_server), [_req()])
    assert resp.error is None
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.55


def test_transient_faults_are_retried(judge_server):
    faults = {0: Reply(status=500), 1: Reply(drop=True), 2: Reply(delay=1.5), 3: Reply(status=503)}
    judge_server.reset(lambda body, n: faults.get(n, Reply()))
    (resp,) = _gen(_backend(judge_server, timeout=0.5), [_req()])
    assert resp.error is None
    assert len(judge_server.received) == 5


def test_persistent_failure_becomes_error_without_the_key(judge_server):
    judge_server.reset(lambda body, n: Reply(status=500, error_body='{"error": {"message": "boom sk-secret-123"}}'))
    (resp,) = _gen(_backend(judge_server, max_attempts=3), [_req()])
    assert resp.error and "500" in resp.error
    assert "sk-secret-123" not in resp.error
    assert len(judge_server.received) == 3


def test_client_errors_are_not_retried(judge_server):
    judge_server.reset(lambda body, n: Reply(status=400))
    (resp,) = _gen(_backend(judge_server), [_req()])
    assert "HTTP 400" in resp.error and len(judge_server.received) == 1


def test_connection_refused_is_a_per_request_error():
    b = make_backend("openai:judge", base_url="http://127.0.0.1:9/v1", max_attempts=2, backoff_base=0.01)
    (resp,) = _gen(b, [_req()])
    assert resp.error and "connection" in resp.error.lower()


def test_concurrency_is_bounded(judge_server):
    # Each reply takes long enough that an unbounded client would have all 12 in flight at once;
    # the server counts what it really had in flight at the same moment.
    judge_server.reset(lambda body, n: Reply(delay=0.15))
    b = _backend(judge_server, concurrency=3)
    _gen(b, [_req(f"r{i}") for i in range(12)])
    assert len(judge_server.received) == 12
    assert judge_server.max_in_flight == 3


def test_backend_object_reusable_across_event_loops(judge_server):
    b = _backend(judge_server)
    for _ in range(2):  # each asyncio.run is a new loop, as with two jk.score calls
        (resp,) = asyncio.run(b.generate([_req()]))
        assert resp.error is None
    asyncio.run(b.aclose())


def test_a_refused_schema_keyword_is_dropped_and_the_request_sent_again(judge_server):
    # A strict server that refuses minLength (as some hosted APIs do) answers 400 once; the
    # backend resends without it and keeps doing so for the rest of the run.
    refusal = json.dumps({"error": {"message": "Invalid schema for response_format 'verdict': In context=('properties', "
                                               "'reasoning'), 'minLength' is not permitted."}})

    def script(body, n):
        if "minLength" in json.dumps(body.get("response_format")):
            return Reply(status=400, error_body=refusal)
        return Reply()

    judge_server.reset(script)
    schema = {"type": "object", "properties": {"reasoning": {"type": "string", "minLength": 1}, "score": {"type": "integer"}},
              "required": ["reasoning", "score"], "additionalProperties": False}
    b = _backend(judge_server)
    first, second = (_gen(b, [ChatRequest((Message("user", (TextPart(t),)),), schema)]) for t in "ab")
    assert first[0].error is None and second[0].error is None
    sent = [json.dumps(r["response_format"]) for r in judge_server.received]
    assert ["minLength" in s for s in sent] == [True, False, False]  # refused once, then never sent


def test_other_400s_are_not_retried_without_keywords(judge_server):
    judge_server.reset(lambda body, n: Reply(status=400, error_body='{"error": {"message": "bad image"}}'))
    schema = {"type": "object", "properties": {"reasoning": {"type": "string", "minLength": 1}}}
    (resp,) = _gen(_backend(judge_server), [ChatRequest((Message("user", (TextPart("x"),)),), schema)])
    assert "HTTP 400" in resp.error and len(judge_server.received) == 1


def test_a_short_key_is_not_scrubbed_letter_by_letter(judge_server):
    # Issue 18 item 6: with OPENAI_API_KEY=o every "o" of a stored error became "***".
    judge_server.reset(lambda body, n: Reply(status=400, error_body='{"error": {"message": "bad request from the proxy"}}'))
    (resp,) = _gen(make_backend("openai:judge", base_url=judge_server.url, api_key="o"), [_req()])
    assert "HTTP 400 from server" in resp.error and "bad request from the proxy" in resp.error
    assert "***" not in resp.error


def test_a_real_key_is_scrubbed_exactly(judge_server):
    key = "sk-live-0123456789abcdef"
    judge_server.reset(lambda body, n: Reply(status=400, error_body=json.dumps(
        {"error": {"message": f"key {key} revoked; sk-live-0123 is another prefix"}})))
    (resp,) = _gen(make_backend("openai:judge", base_url=judge_server.url, api_key=key), [_req()])
    assert key not in resp.error
    assert "key *** revoked; sk-live-0123 is another prefix" in resp.error  # only the exact key goes
