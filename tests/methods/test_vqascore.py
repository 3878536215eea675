"""VQAScore and probability answers: the token-probability helper by hand, and runs through
the scripted OpenAI-compatible server."""

import math

import pytest

import judgekit.runner as runner
from judgekit.errors import ConfigError, VerdictParseError
from judgekit.methods.vqascore import answer_probabilities, normalized_yes
from judgekit.types import ChatResponse, TokenLogprob
from tests.judge_server import Reply


def lp(p: float) -> float:
    return math.log(p)


def test_case_and_space_variants_are_summed_at_the_first_answer_position():
    pos = TokenLogprob("Yes", lp(0.5), [("Yes", lp(0.5)), (" yes", lp(0.1)), ("YES", lp(0.05)), ("No", lp(0.2)),
                                        ("no", lp(0.05)), ("Maybe", lp(0.1))])
    later = TokenLogprob("No", lp(0.99), [("No", lp(0.99))])  # positions after the first are ignored
    p_yes, p_no = answer_probabilities([pos, later])
    assert p_yes == pytest.approx(0.65) and p_no == pytest.approx(0.25)
    assert normalized_yes(p_yes, p_no) == pytest.approx(0.65 / 0.90)


def test_leading_whitespace_token_is_skipped_and_sampled_token_counted():
    ws = TokenLogprob("\n", lp(0.9), [("\n", lp(0.9))])
    ans = TokenLogprob("yes", lp(0.3), [("no", lp(0.6))])  # sampled token missing from its own top list
    assert answer_probabilities([ws, ans]) == pytest.approx((0.3, 0.6))


def test_no_logprobs_is_a_clear_parse_error():
    with pytest.raises(VerdictParseError, match="no token logprobs"):
        answer_probabilities(None)
    # Without a top list only the sampled token is evidence.
    assert answer_probabilities([TokenLogprob("Yes", lp(0.9), [])]) == pytest.approx((0.9, 0.0))
    assert normalized_yes(0.0, 0.0) is None


def test_vqascore_through_the_server(judge_server, manifest_factory):
    manifest = manifest_factory(4)
    res = runner.score("vqascore", manifest, backend="openai:judge", base_url=judge_server.url, api_key="t", cache=False)
    assert [r.status for r in res] == ["ok"] * 4
    # The server's default top list: Yes -0.4, No -1.2, " yes" -3.0, "no" -4.0, Maybe -6.0.
    p_yes, p_no = math.exp(-0.4) + math.exp(-3.0), math.exp(-1.2) + math.exp(-4.0)
    r = res[0]
    assert r.overall == pytest.approx(p_yes) and r.scores["p_yes"] == pytest.approx(p_yes)
    assert r.scores["p_yes_normalized"] == pytest.approx(p_yes / (p_yes + p_no))
    # First the once-per-run check that the judge returns top_logprobs (backends/logprob_probe.py).
    assert judge_server.received[0]["top_logprobs"] == 5 and len(judge_server.received) == 5
    body = judge_server.received[1]
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["max_tokens"] == 1
    assert "Does this image show \"a red cube number" in str(body["messages"])


def test_vqascore_normalized_variant_is_overall_when_asked(judge_server, manifest_factory):
    manifest = manifest_factory(2)
    judge_server.script = lambda body, n: Reply(content="No", top_logprobs=[("No", -0.1), ("Yes", -2.5), ("yes", -5.0)])
    res = runner.score("vqascore", manifest, backend="openai:judge", base_url=judge_server.url, api_key="t",
                       cache=False, method_options={"variant": "p_yes_normalized"})
    p_yes, p_no = math.exp(-2.5) + math.exp(-5.0), math.exp(-0.1)
    assert res[0].overall == pytest.approx(p_yes / (p_yes + p_no))


class NoLogprobsBackend:
    """A backend that answers in text only, as many hosted APIs do."""

    spec = "test:no-logprobs"
    max_batch_size = 1
    supports_logprobs = False

    async def generate(self, requests):
        return [ChatResponse(text="Yes") for _ in requests]

    async def aclose(self):
        pass

    def describe(self):
        return {"spec": self.spec}


def test_backend_without_logprobs_stops_the_run_with_the_alternatives(manifest_factory):
    # Issue 19: found once, before any sample, rather than failing every sample the same way.
    with pytest.raises(ConfigError, match="test:no-logprobs returns no usable top_logprobs .* --answers text"):
        runner.score("vqascore", manifest_factory(2), backend=NoLogprobsBackend(), cache=False)


def test_a_reply_without_logprobs_after_the_probe_fails_its_sample_with_the_reason(manifest_factory):
    class LaterWithout(NoLogprobsBackend):
        probed = False

        async def generate(self, requests):
            if not self.probed:  # the probe gets its top list; the judge calls do not
                self.probed = True
                return [ChatResponse(text="Yes", logprobs=[TokenLogprob("Yes", -0.1, [("Yes", -0.1)])])]
            return await super().generate(requests)

    res = runner.score("vqascore", manifest_factory(2), backend=LaterWithout(), cache=False)
    assert [r.status for r in res] == ["failed", "failed"]
    assert "no token logprobs" in res[0].error and "VQAScore" in res[0].error
