"""jk.Reward against the scripted OpenAI-compatible server: the same numbers as jk.score on the
same inputs, for pointwise, VQAScore, question-graph and pairwise rubrics; failures as NaN with
reasons; calls from inside a running event loop; nothing written to disk."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import judgekit as jk
from judgekit.datasets.questions import save_questions
from judgekit.errors import ConfigError
from judgekit.questions.graph import Question, QuestionGraph
from tests.judge_server import Reply

torch = pytest.importorskip("torch")


def _images(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (24, 24, 3), dtype=np.uint8) for _ in range(n)]


PROMPTS = [f"a red cube number {i}" for i in range(6)]


@pytest.fixture
def reward_factory(judge_server):
    made = []

    def make(rubric="viescore-t2i", **kw):
        r = jk.Reward(rubric, backend="openai:judge", base_url=judge_server.url, api_key="t",
                      backend_options={"backoff_base": 0.01}, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def _score(srv, samples, rubric="viescore-t2i", **kw):
    return jk.score(rubric, samples, backend="openai:judge", base_url=srv.url, api_key="t", cache=False, **kw)


def test_reward_equals_score_overall_and_one_dimension_costs_one_call(judge_server, reward_factory, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    images = _images(6)
    want = _score(judge_server, [jk.Sample(id=str(i), image=im, prompt=p) for i, (im, p) in enumerate(zip(images, PROMPTS))])
    reward = reward_factory()
    got = reward(images, PROMPTS)
    assert got.dtype == np.float64 and got.shape == (6,)
    assert got.tolist() == [r.overall for r in want] and reward.last_failures == {}
    # a 4-D batch (N x C x H x W tensor, as diffusers' output_type="pt" gives) is the same images
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    assert reward(batch, PROMPTS).tolist() == got.tolist()
    judge_server.received.clear()
    sc = reward_factory(dimension="semantic_consistency")(images, PROMPTS)
    assert len(judge_server.received) == 6  # one dimension judged, not three
    assert sc.tolist() == [r.scores["semantic_consistency"] for r in want]
    assert list(tmp_path.iterdir()) == []  # no cache file, no results, no images written


def test_failures_are_nan_with_their_reasons(judge_server, reward_factory):
    images = _images(4)
    bad_b64 = base64.b64encode(_png(images[2])).decode()

    def script(body, n):
        urls = [p["image_url"]["url"] for m in body["messages"] if isinstance(m["content"], list)
                for p in m["content"] if p["type"] == "image_url"]
        if any(bad_b64 in u for u in urls):
            return Reply(content="I refuse to answer in JSON")
        return Reply()

    judge_server.script = script
    reward = reward_factory(dimension="semantic_consistency", parse_retries=1)
    inputs = [images[0], np.full((8, 8, 3), 2.0), images[2], images[3]]  # #1: floats outside [0, 1]
    got = reward(inputs, PROMPTS[:4])
    assert [math.isnan(x) for x in got] == [False, True, True, False]
    assert set(reward.last_failures) == {1, 2}
    assert "must lie in [0, 1]" in reward.last_failures[1]
    assert "invalid reply after 2 attempts" in reward.last_failures[2]
    with pytest.raises(ConfigError, match=r"one value per image \(4\)"):
        reward(inputs, PROMPTS[:3])
    with pytest.raises(ConfigError, match="no dimension 'beauty'"):
        jk.Reward("viescore-t2i", backend="openai:judge", dimension="beauty")


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def test_async_call_inside_a_running_loop_and_sync_call_from_a_notebook_cell(judge_server, reward_factory):
    images = _images(3, seed=5)
    reward = reward_factory()
    want = reward(images, PROMPTS[:3])

    async def training_step():
        a = await reward.acall(images, PROMPTS[:3])
        b = reward(images, PROMPTS[:3])  # a sync call while this loop runs (Jupyter)
        c, d = await asyncio.gather(reward.acall(images[:2], PROMPTS[:2]), reward.acall(images[2:], PROMPTS[2:3]))
        return a, b, np.concatenate([c, d])

    a, b, c = asyncio.run(training_step())
    assert a.tolist() == b.tolist() == c.tolist() == want.tolist()


def test_vqascore_and_question_graph_rewards_equal_score(judge_server, reward_factory, tmp_path):
    images = _images(4, seed=9)
    samples = [jk.Sample(id=str(i), image=im, prompt=p) for i, (im, p) in enumerate(zip(images, PROMPTS))]
    vqa = reward_factory("vqascore")(images, PROMPTS[:4])
    assert vqa.tolist() == [r.overall for r in _score(judge_server, samples, "vqascore")]
    assert all(0.0 <= x <= 1.0 for x in vqa)
    graphs = [QuestionGraph(str(i), p, [Question(1, "Is there a cube?", category="entity"),
                                        Question(2, "Is the cube red?", parents=(1,), category="attribute")])
              for i, p in enumerate(PROMPTS[:4])]
    save_questions(graphs, tmp_path / "q.csv")
    opts = {"questions": str(tmp_path / "q.csv")}
    with_ids = [s.model_copy(update={"prompt_id": s.id}) for s in samples]
    dsg = reward_factory("dsg", method_options=opts)(images, PROMPTS[:4], prompt_id=[str(i) for i in range(4)])
    assert dsg.tolist() == [r.overall for r in _score(judge_server, with_ids, "dsg", method_options=opts)]


def test_compare_gives_p_a_better_from_both_orders(judge_server, reward_factory):
    a_imgs, b_imgs = _images(4, seed=1), _images(4, seed=2)
    a_b64 = {base64.b64encode(_png(a)).decode(): i for i, a in enumerate(a_imgs)}
    # per pair: (winner when A is shown first, winner when B is shown first), in shown-position terms
    verdicts = {0: ("A", "B"), 1: ("B", "A"), 2: ("A", "A"), 3: ("tie", "B")}

    def script(body, n):
        user = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
        first = [p for p in user if p["type"] == "image_url"][0]["image_url"]["url"].split(",", 1)[1]
        if first in a_b64:
            label = verdicts[a_b64[first]][0]
        else:  # B shown first: find the pair by its prompt
            text = json.dumps(body["messages"])
            label = verdicts[next(i for i in range(4) if f"a red cube number {i}" in text)][1]
        return Reply(content=json.dumps({"reasoning": "compared", "winner": label}))

    judge_server.script = script
    reward = reward_factory("pairwise-t2i")
    p = reward.compare(a_imgs, b_imgs, PROMPTS[:4])
    # 0: A wins both orders; 1: B wins both; 2: the first-shown wins (contradiction); 3: tie then A
    assert p.tolist() == [1.0, 0.0, 0.5, 0.75]
    with pytest.raises(ConfigError, match="is pairwise: use reward.compare"):
        reward(a_imgs, PROMPTS[:4])
    with pytest.raises(ConfigError, match="compare needs a pairwise rubric"):
        reward_factory().compare(a_imgs, b_imgs, PROMPTS[:4])


def test_editing_reward_and_a_one_call_rubric_keep_the_requests_of_score(judge_server, reward_factory, tmp_path):
    edited, sources = _images(3, seed=20), _images(3, seed=21)
    instructions = ["make it red", "add a hat", "remove the dog"]
    samples = [jk.Sample(id=str(i), image=e, source_image=s, instruction=t)
               for i, (e, s, t) in enumerate(zip(edited, sources, instructions))]
    want = _score(judge_server, samples, "viescore-edit")
    got = reward_factory("viescore-edit")(edited, instruction=instructions, source_image=sources)
    assert got.tolist() == [r.overall for r in want]
    # per_call: all judges every dimension in one request; a dimension reward keeps that request
    text = Path(jk.load_rubric("viescore-t2i").source).read_text()
    (tmp_path / "all.yaml").write_text(text.replace("name: viescore-t2i", "name: all-in-one") + "\nper_call: all\n")
    t2i = [jk.Sample(id=str(i), image=e, prompt=p) for i, (e, p) in enumerate(zip(edited, PROMPTS))]
    want_all = _score(judge_server, t2i, str(tmp_path / "all.yaml"))
    judge_server.received.clear()
    sc = reward_factory(str(tmp_path / "all.yaml"), dimension="semantic_consistency")(edited, PROMPTS[:3])
    assert len(judge_server.received) == 3
    assert sc.tolist() == [r.scores["semantic_consistency"] for r in want_all]
