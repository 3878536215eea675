"""T2I-CompBench++ color/shape/texture (MLLM variant) through `judgekit bench run`.

The spaCy pipeline is built here, on disk, without a download: a blank English pipeline plus a
component (registered by this module) that sets the parts of speech, dependency labels, heads
and lemmas of this test's prompts from a table, so spaCy's own English ``doc.noun_chunks`` finds
the chunks en_core_web_sm would. judgekit loads it by path (``--set spacy_model=``). A scripted
judge describes each image, then answers each noun chunk's question with a level that depends on
the image and the chunk; Share_eval.py's aggregation (each level mapped to 10/20/75/100 %, the
image 100 x their product, the mean over images) is recomputed here in plain Python."""

from __future__ import annotations

import json
import re
import sys

import pytest

from judgekit.benchmarks.noun_chunks import load_pipeline, split_prompt
from judgekit.cli import main
from judgekit.errors import DataError, MissingDependencyError
from tests.benchmarks.scripted import last_image_marker, request_text, write_compbench_category
from tests.judge_server import Reply

spacy = pytest.importorskip("spacy")
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc  # noqa: E402

# prompt -> (word, pos, dep, head index, lemma) per token: the parse en_core_web_sm gives these.
PARSES = {
    "a green bench and a red car": [
        ("a", "DET", "det", 2, "a"), ("green", "ADJ", "amod", 2, "green"), ("bench", "NOUN", "ROOT", 2, "bench"),
        ("and", "CCONJ", "cc", 2, "and"), ("a", "DET", "det", 6, "a"), ("red", "ADJ", "amod", 6, "red"),
        ("car", "NOUN", "conj", 2, "car")],
    "two brown dogs and a blue bowl": [
        ("two", "NUM", "nummod", 2, "two"), ("brown", "ADJ", "amod", 2, "brown"), ("dogs", "NOUN", "ROOT", 2, "dog"),
        ("and", "CCONJ", "cc", 2, "and"), ("a", "DET", "det", 6, "a"), ("blue", "ADJ", "amod", 6, "blue"),
        ("bowl", "NOUN", "conj", 2, "bowl")],
    "a black cat sitting on it": [
        ("a", "DET", "det", 2, "a"), ("black", "ADJ", "amod", 2, "black"), ("cat", "NOUN", "ROOT", 2, "cat"),
        ("sitting", "VERB", "acl", 2, "sit"), ("on", "ADP", "prep", 3, "on"), ("it", "PRON", "pobj", 4, "it")],
    "it and a red apple": [
        ("it", "PRON", "ROOT", 0, "it"), ("and", "CCONJ", "cc", 0, "and"), ("a", "DET", "det", 4, "a"),
        ("red", "ADJ", "amod", 4, "red"), ("apple", "NOUN", "conj", 0, "apple")],
    "a pizza oven door": [
        ("a", "DET", "det", 3, "a"), ("pizza", "NOUN", "compound", 3, "pizza"), ("oven", "NOUN", "compound", 3, "oven"),
        ("door", "NOUN", "ROOT", 3, "door")],
    "red": [("red", "ADJ", "ROOT", 0, "red")],
}
# Share_eval.py's split_prompt worked by hand: (chunk, noun = lemma, attribute = the chunk less
# " <noun>", then less every "the ", "a ", "an ", anywhere), and whether the noun was borrowed.
CHUNKS = {
    "a green bench and a red car": [("a green bench", "bench", "green", False), ("a red car", "car", "red", False)],
    "two brown dogs and a blue bowl": [("two brown dogs", "dog", "two browns", False), ("a blue bowl", "bowl", "blue", False)],
    "a black cat sitting on it": [("a black cat", "cat", "black", False), ("it", "cat", "black", True)],
    "a pizza oven door": [("a pizza oven door", "door", "pizzoven", False)],
    "red": [],
}


@Language.component("judgekit_test_parse")
def _table_parse(doc):
    rows = PARSES[doc.text]
    assert [t.text for t in doc] == [r[0] for r in rows]
    return Doc(doc.vocab, words=[r[0] for r in rows], spaces=[bool(t.whitespace_) for t in doc],
               pos=[r[1] for r in rows], deps=[r[2] for r in rows], heads=[r[3] for r in rows],
               lemmas=[r[4] for r in rows])


@pytest.fixture
def pipeline_dir(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("judgekit_test_parse")
    (tmp_path / "en_core_web_test").mkdir()
    nlp.to_disk(tmp_path / "en_core_web_test" / "en_core_web_test-0.0.0")
    return tmp_path / "en_core_web_test"  # the unzipped package's outer folder: judgekit finds the inner one


def test_noun_chunks_follow_share_eval_string_rules(pipeline_dir):
    nlp = load_pipeline(str(pipeline_dir))
    for prompt, expected in CHUNKS.items():
        got = [(c.text, c.noun, c.attribute, c.borrowed) for c in split_prompt(nlp, prompt)]
        assert got == expected, prompt
    with pytest.raises(DataError, match="first noun chunk 'it'"):
        split_prompt(nlp, "it and a red apple")


RUN_PROMPTS = ["a green bench and a red car", "two brown dogs and a blue bowl", "a black cat sitting on it",
               "it and a red apple"]
IMAGES = {0: [0, 1], 1: [2], 2: [3], 3: [4]}  # prompt index -> image numbers
PERCENT = {1: 10, 2: 20, 3: 75, 4: 100}  # Share_eval.py's map for color, shape, texture


def mark(n: int) -> int:
    return 60 + n


def level(m: int, chunk: str) -> int:
    return 1 + (m + len(chunk)) % 4


def make_script(asked: dict):
    def script(body, n):
        m = last_image_marker(body)
        assistant = [x for x in body["messages"] if x["role"] == "assistant"]
        last = body["messages"][-1]["content"]
        last = last if isinstance(last, str) else " ".join(p.get("text", "") for p in last)
        found = re.search(r"contain (.+?)\? 4:", last)
        if found is None:  # the description turn
            return Reply(content=f"description of image {m}")
        if assistant:  # cot: the question sees this image's own description, and no other chunk's answer
            assert len(assistant) == 1 and "description of image" in request_text(body)
            assert f"description of image {m}" in request_text(body)
        chunk = found.group(1)
        asked.setdefault(m, {})[chunk] = last
        if m == mark(1) and chunk == "a red car":
            return Reply(content="it is mostly red, I would say 3")  # never JSON: retried, then the image fails
        return Reply(content=json.dumps({"score": level(m, chunk), "explanation": "scripted"}))
    return script


@pytest.fixture
def attribute_files(tmp_path):
    return write_compbench_category(tmp_path, "color", RUN_PROMPTS, IMAGES, mark)


def _bench(data, folder, out, extra):
    return ["bench", "run", "t2i-compbench", "--data", str(data), "--images", str(folder), "--set", "category=color",
            *extra, "--out", str(out), "--no-progress", "--bootstrap", "100"]


@pytest.mark.parametrize("method", ["cot", "no_cot"])
def test_attribute_category_scores_the_product_over_noun_chunks(judge_server, attribute_files, pipeline_dir, tmp_path,
                                                              capsys, method):
    asked: dict = {}
    judge_server.reset(make_script(asked))
    data, folder = attribute_files
    out = tmp_path / "run"
    assert main(_bench(data, folder, out, ["--set", f"spacy_model={pipeline_dir}", "--method", method,
                                           "--backend", "openai:judge", "--base-url", judge_server.url,
                                           "--cache", str(tmp_path / "c.sqlite")])) == 0
    # The official aggregation from the raw answers: per image 100 x the product of the chunks'
    # percentages, then the mean over images. Image 1 (a reply that never parses) and image 4
    # (its prompt's first chunk has no noun) are excluded, not scored 100.
    chunks_of = {0: CHUNKS[RUN_PROMPTS[0]], 2: CHUNKS[RUN_PROMPTS[1]], 3: CHUNKS[RUN_PROMPTS[2]]}
    image_scores = []
    for k, chunks in chunks_of.items():
        score = 100.0
        for chunk, _noun, _attribute, _ in chunks:
            score *= PERCENT[level(mark(k), chunk)] / 100
        image_scores.append(score)
    expected = sum(image_scores) / len(image_scores)
    report = json.loads((out / "report.json").read_text())
    assert report["headline"]["estimate"] == pytest.approx(expected)
    q = report["quirks"]
    assert q["failed_samples"] == 2 and q["unparseable_replies"] == 1
    assert f"avg:{report['headline']['estimate']}" in capsys.readouterr().out
    assert main(["bench", "report", str(out), "--bootstrap", "100"]) == 0
    assert f"avg:{report['headline']['estimate']}" in capsys.readouterr().out
    # The question for the plural chunk names Share_eval.py's noun and attribute ('dog', 'two browns'),
    # the pronoun chunk borrows the cat's; each image's results record its chunks.
    assert "dog" in asked[mark(2)]["two brown dogs"] and "two browns" in asked[mark(2)]["two brown dogs"]
    assert "cat" in asked[mark(3)]["it"] and "black" in asked[mark(3)]["it"]
    rows = {r["sample_id"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert [(c["chunk"], c["noun"], c["attribute"], c["borrowed"]) for c in rows["0002:000003"]["meta"]["questions"]] \
        == CHUNKS[RUN_PROMPTS[2]]
    assert [a["level"] for a in rows["0000:000000"]["details"]["answers"]] == \
        [level(mark(0), c[0]) for c in CHUNKS[RUN_PROMPTS[0]]]
    assert rows["0003:000004"]["status"] == "failed" and "has no noun" in rows["0003:000004"]["error"]
    assert rows["0000:000001"]["status"] == "failed" and "invalid reply" in rows["0000:000001"]["error"]
    # A rerun on the same cache asks nothing that was answered (each chunk's call is cached on its own).
    before = len(judge_server.received)
    assert main(_bench(data, folder, tmp_path / "again", ["--set", f"spacy_model={pipeline_dir}", "--method", method,
                                                          "--backend", "openai:judge", "--base-url", judge_server.url,
                                                          "--cache", str(tmp_path / "c.sqlite")])) == 0
    assert len(judge_server.received) == before


def _run_error(attribute_files, tmp_path, capsys, extra) -> str:
    data, folder = attribute_files
    assert main(_bench(data, folder, tmp_path / "o", [*extra, "--backend", "openai:judge",
                                                      "--base-url", "http://127.0.0.1:9"])) == 2
    return capsys.readouterr().err


def test_attribute_category_without_a_pipeline_says_what_to_put_where(attribute_files, tmp_path, capsys):
    err = _run_error(attribute_files, tmp_path, capsys, [])
    assert "spacy_model" in err and "en_core_web_sm" in err and "3.5.0" in err and "github.com/explosion" in err
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert "no spaCy pipeline there" in _run_error(attribute_files, tmp_path, capsys, ["--set", f"spacy_model={empty}"])


def test_a_pipeline_without_a_parser_is_a_clear_error(attribute_files, tmp_path, capsys):
    spacy.blank("en").to_disk(tmp_path / "blank")
    err = _run_error(attribute_files, tmp_path, capsys, ["--set", f"spacy_model={tmp_path / 'blank'}"])
    assert "finds no noun chunks" in err and "dependency parser" in err


def test_missing_spacy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # `import spacy` now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"judgekit\[compbench\]"):
        load_pipeline("/anywhere")
