import pytest

from judgekit.errors import VerdictParseError
from judgekit.rubric import Scale
from judgekit.verdict import dimension_schema, parse_json_object, parse_verdict

S = Scale(min=0, max=10, integer=True)


@pytest.mark.parametrize(
    "text, score",
    [
        ('{"reasoning": "fine", "score": 7}', 7),
        ('```json\n{"reasoning": "fine", "score": 7}\n```', 7),
        ('```\n{"reasoning": "fine", "score": 0}\n```', 0),
        ('Here is my verdict: {"reasoning": "a {brace} inside", "score": 10} Thanks.', 10),
        ('{"reasoning": "fine", "score": 7.0}', 7),
    ],
)
def test_valid_and_losslessly_repaired(text, score):
    v = parse_verdict(text, S)
    assert v.score == score


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("the score is 7", "no JSON object"),
        ('{"reasoning": "x", "score": 11}', "outside the scale"),
        ('{"reasoning": "x", "score": -1}', "outside the scale"),
        ('{"reasoning": "x", "score": 7.5}', "whole number"),
        ('{"reasoning": "x", "score": "7"}', "must be a number"),
        ('{"reasoning": "x", "score": true}', "must be a number"),
        ('{"reasoning": "x"}', "lacks"),
        ('{"score": 3}', "lacks"),
        ('{"reasoning": 5, "score": 3}', "reasoning must be a string"),
        ('{"reasoning": "", "score": 3}', "reasoning is empty"),
        ('{"reasoning": "  \\n ", "score": 3}', "reasoning is empty"),
        ('[1, 2]', "not an object"),
        ('{"reasoning": "a", "score": 1} and {"reasoning": "b", "score": 2}', "2 JSON objects"),
        ('{"reasoning": "x", "score": NaN}', "finite"),
        ('{"reasoning": "unterminated, "score": 3', "no JSON object"),
    ],
)
def test_invalid_is_failure_never_clamped(text, reason):
    with pytest.raises(VerdictParseError) as ei:
        parse_verdict(text, S)
    assert reason in ei.value.reason
    assert ei.value.raw == text


def test_real_valued_scale():
    assert parse_verdict('{"reasoning": "x", "score": 0.25}', Scale(min=0, max=1, integer=False)).score == 0.25


def test_schema_lists_reasoning_first_and_forbids_extras():
    s = dimension_schema(S)
    assert list(s["properties"]) == ["reasoning", "score"]
    assert s["required"] == ["reasoning", "score"]
    assert s["additionalProperties"] is False
    assert s["properties"]["reasoning"]["minLength"] == 1  # a bare score is not a verdict
    assert s["properties"]["score"] == {"type": "integer", "minimum": 0, "maximum": 10, "description": "from 0 (worst) to 10 (best)"}


def test_parse_json_object_ignores_non_object_json_in_prose():
    assert parse_json_object('["x"] then {"a": 1}') == {"a": 1}


def test_empty_reasoning_is_retried_then_fails_through_the_runner(judge_server, manifest_factory, tmp_path):
    import json

    import judgekit as jk
    from tests.judge_server import Reply

    judge_server.reset(lambda body, n: Reply(content=json.dumps({"reasoning": " ", "score": 3})))
    res = jk.score("aesthetics-simple", str(manifest_factory(1)), backend="openai:judge", base_url=judge_server.url,
                   cache=False, parse_retries=1)
    assert res[0].status == "failed" and "reasoning is empty" in res[0].error
    assert len(judge_server.received) == 2  # asked again once, never accepted
