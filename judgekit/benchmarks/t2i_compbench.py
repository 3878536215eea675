"""T2I-CompBench++ (Karine-Huang/T2I-CompBench), MLLM-judge variant: spatial, 3d_spatial, action,
complex and numeracy judged by one question per image; color, shape and texture by one question
per noun chunk of the prompt.

Its ``MLLM_eval/ShareGPT4V-CoT_eval/Share_eval.py`` reads every image in ``<folder>/samples/``
(named ``<prompt>_<NNNNNN>.png``: the prompt is the name before the first ``_``). With ``--cot``
the judge first describes the image in at most 50 words, then, with that description in the
conversation, scores how well the image shows the prompt from 1 to 5 in JSON; the level maps to
20/40/60/80/100 and the category score is the mean over images (its ``score.txt`` ``avg``).

For color, shape and texture it asks, after the same description turn, one 1-4 question per
noun chunk (spaCy's ``en_core_web_sm``; ``noun_chunks.py`` splits them by its rules), each with
only the description before it; the levels map to 10/20/75/100 % and the image scores 100 times
their product (``product_replies.py``). spaCy is an optional extra and its pipeline a local
folder the user gives. The detector, BLIP-VQA, CLIP and 3-in-1 metrics are not run (weights
judgekit does not ship).

Options (``--set``): ``category`` (required: color, shape, texture, spatial, 3d_spatial, action,
complex, numeracy); ``spacy_model`` (color, shape, texture: the spaCy pipeline's folder).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError, DataError, VerdictParseError
from ..rubric import Rubric
from ..types import Result, Sample
from ..verdict import parse_json_object
from . import product_replies, replies
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard
from .noun_chunks import OFFICIAL_PIPELINE, OFFICIAL_SPACY, load_pipeline, pipeline_name, split_prompt

METHODS = ("cot", "no_cot")
LEVEL_SCORE = {1: 20, 2: 40, 3: 60, 4: 80, 5: 100}
_JSON = ' Reply with JSON only: {"score": <1-5>, "explanation": "<at most 20 words>"}.'
# judgekit's own wording (not Share_eval.py's text).
DESCRIBE = {
    "spatial": "In at most 50 words, describe the objects in this image and where they are relative to each other.",
    "3d_spatial": "In at most 50 words, describe the objects in this image and how they are arranged in depth.",
    "action": "In at most 50 words, describe the objects in this image, what they are doing and how they interact.",
    "complex": "In at most 50 words, describe the objects in this image, their colours, shapes and textures, "
               "where they are and what they are doing.",
    "numeracy": "In at most 50 words, describe the objects in this image and how many there are of each.",
}
QUESTION = {
    "spatial": "How well does the image show \"{prompt}\"? 5: every object is there in the stated layout; 4: the layout "
               "basically matches; 3: the objects are there but the layout is wrong; 2: the image does not fit the "
               "text well; 1: the image has little to do with the text.",
    "action": "How well does the image show \"{prompt}\"? 5: the actions, events and relations are all shown "
              "correctly; 4: most are, with small errors; 3: some elements are there but the actions between objects "
              "are wrong; 2: much of the text is missing; 1: no matching action or event is shown.",
    "complex": "How well does the image match \"{prompt}\"? 5: fully, with no discrepancy; 4: mostly, with small "
               "discrepancies; 3: some elements, with key parts or details missing; 2: no matching action or event; "
               "1: the text's content is not conveyed at all.",
    "numeracy": "How well does the image show \"{prompt}\"? 5: every object in the stated number; 4: the numbers "
                "basically match; 3: the numbers do not match; 2: the image does not fit the text well; 1: the image "
                "has little to do with the text.",
}
QUESTION["3d_spatial"] = QUESTION["spatial"]
#: The attribute categories: one question per noun chunk, each level mapped to a percentage.
ATTRIBUTES = {"color": "colours", "shape": "shapes", "texture": "textures"}
ATTRIBUTE_PERCENT = {1: 10, 2: 20, 3: 75, 4: 100}
for _name, _plural in ATTRIBUTES.items():
    DESCRIBE[_name] = f"In at most 50 words, describe the objects in this image and their {_plural}."
CHUNK_QUESTION = ("Does the image contain {chunk}? 4: it has a {noun} and it is {attribute}; 3: it has a {noun} that is "
                  "mostly {attribute}; 2: it has a {noun}, but not {attribute}; 1: it has no {noun}.")
_JSON4 = ' Reply with JSON only: {"score": <1-4>, "explanation": "<at most 20 words>"}.'

CARD = ProtocolCard(
    name="t2i-compbench",
    title="T2I-CompBench++ (MLLM-judge variant)",
    task="text-to-image",
    repository="Karine-Huang/T2I-CompBench",
    official_judge="detectors and scorers per category (BLIP-VQA, UniDet, CLIP, 3-in-1); MLLM variant: "
                   "Lin-Chen/ShareGPT4V-7B, sampling at temperature 0.2, top_p 0.7",
    official_prompt="MLLM_eval/ShareGPT4V-CoT_eval/Share_eval.py (a description turn, then a 1-5 rubric per prompt, "
                    "or a 1-4 rubric per noun chunk for color, shape, texture)",
    aggregation="per image the level mapped to 20/40/60/80/100 (attributes: the product over noun chunks of "
                "10/20/75/100 %); the category score is the mean over images",
    data="examples/dataset/<category>_val.txt (one prompt a line)",
    images="the folder holding samples/<prompt>_<NNNNNN>.png (the prompt is read back from the file name)",
    license="MIT",
    runnable=True,
    methods=METHODS,
    parts=(
        Part("spatial, 3d_spatial, action, complex, numeracy with the MLLM judge", "approximate",
             "the same two turns (description, then the 1-5 question with it in context) and level mapping, "
             "in judgekit's wording, at temperature 0"),
        Part("color, shape, texture with the MLLM judge", "approximate",
             "the same description turn, then one 1-4 question per noun chunk with only the description before it, "
             "in judgekit's wording, at temperature 0"),
        Part("noun chunks, and each one's noun and attribute", "exact",
             "Share_eval.py's rules (the noun: the last NOUN/PROPN token's lemma; the attribute: the chunk less "
             "' <noun>', then less every 'the ', 'a ', 'an ') on doc.noun_chunks of the spaCy pipeline --set "
             f"spacy_model names; the official run used {' '.join(OFFICIAL_PIPELINE)} with spaCy {OFFICIAL_SPACY}, "
             "and another version of the parser can split a prompt differently"),
        Part("BLIP-VQA, UniDet, CLIPScore, 3-in-1", "not", "need weights judgekit does not ship"),
        Part("aggregation", "exact", "mean over images of the mapped level (attributes: of 100 x the product of "
             "the chunks' percentages)"),
    ),
    known_issues=(
        "the MLLM judge samples (temperature 0.2, top_p 0.7), so two runs differ; judgekit uses temperature 0",
        "a reply that does not parse (after a closing quote and brace are appended to one not ending in '}') is "
        "skipped inside the product: its noun chunk counts as 100 %, and a one-question image keeps the full 100; "
        "judgekit fails the image and counts it",
        "a prompt without noun chunks gives its images 100 with no question asked, and one whose first chunk has "
        "no noun stops the script; judgekit fails those images with the reason",
        "a chunk without a noun of its own (a pronoun) is asked with the previous chunk's noun and attribute, and a "
        "plural noun's lemma leaves the plural ending in the attribute ('two brown dogs': dog, 'two browns'); "
        "judgekit asks the same, and records every chunk, noun and attribute in the results",
        "scores are keyed by the image number alone, so two images with one number (of different prompts) count "
        "once; judgekit keys them by prompt and number",
        "MiniGPT4-CoT_eval/mGPT_cot_attribute.py, the other MLLM script, differs: a 0-100 score per chunk averaged "
        "over chunks, NOUN tokens only, all chunks asked in one running conversation; judgekit follows Share_eval.py",
        "Share_eval.py's --cot is off by default, though the published MLLM numbers use the description turn",
        "a prompt containing '_' is cut at it when read back from the file name",
    ),
)


@replies.reply_parser("free_text")
def parse_free_text(text: str, fields: dict) -> dict[str, float]:
    if not text.strip():
        raise VerdictParseError("empty reply")
    return {"characters": float(len(text))}


def _mapped_level(text: str, mapping: dict[int, int]) -> dict[str, float]:
    obj = parse_json_object(text)
    level = obj.get("score")
    if isinstance(level, str) and level.strip().isdigit():
        level = int(level.strip())
    if not isinstance(level, int) or level not in mapping:
        raise VerdictParseError(f"score {level!r} is not an integer {min(mapping)}-{max(mapping)}")
    return {"overall": float(mapping[level]), "level": float(level)}


@replies.reply_parser("t2i_level")
def parse_level(text: str, fields: dict) -> dict[str, float]:
    return _mapped_level(text, LEVEL_SCORE)


@replies.reply_parser("t2i_attribute_level")
def parse_attribute_level(text: str, fields: dict) -> dict[str, float]:
    """One noun chunk's answer: its level 1-4 and the percentage the image's product takes."""
    return _mapped_level(text, ATTRIBUTE_PERCENT)


def _rubric(name: str, template: str, parser: str, max_tokens: int, kind: str = "bench-reply") -> Rubric:
    return Rubric(name=name, kind=kind, inputs=["prompt", "image"], scale={"min": 0, "max": 100, "integer": False},
                  max_tokens=max_tokens, options={"template": template, "images": ["image"], "layout": "images_first",
                                                  "parser": parser})


def _question_rubric(category: str) -> Rubric:
    if category in ATTRIBUTES:
        return _rubric(f"t2i-compbench-{category}", CHUNK_QUESTION + _JSON4, "t2i_attribute_level", 256,
                       product_replies.ProductReplyMethod.kind)
    return _rubric(f"t2i-compbench-{category}", QUESTION[category] + _JSON, "t2i_level", 256)


def _chunk_questions(req: BenchRequest, prompts: list[str]) -> tuple[dict[str, dict], list[str]]:
    """Per prompt the meta its samples carry (``questions``: one per noun chunk, or ``blocked``
    with the reason), and the notes saying which pipeline split them and what was odd."""
    nlp = load_pipeline(req.option("spacy_model", ""))
    metas: dict[str, dict] = {}
    borrowed = n_chunks = 0
    for prompt in prompts:
        try:
            chunks = split_prompt(nlp, prompt)
        except DataError as exc:
            metas[prompt] = {"blocked": str(exc)}
            continue
        if not chunks:
            metas[prompt] = {"blocked": "the prompt has no noun chunk (Share_eval.py scores its images 100 "
                                        "without asking anything)"}
            continue
        metas[prompt] = {"questions": [c.to_json() for c in chunks]}
        n_chunks += len(chunks)
        borrowed += sum(c.borrowed for c in chunks)
    notes = [f"noun chunks by the spaCy pipeline {pipeline_name(nlp)} (the official run: "
             f"{' '.join(OFFICIAL_PIPELINE)}, spaCy {OFFICIAL_SPACY}): {n_chunks} questions over "
             f"{len(prompts)} prompts, each image scored 100 x the product of its chunks' percentages"]
    if borrowed:
        notes.append("noun chunks without a noun of their own, asked with the previous chunk's noun and attribute "
                     f"as Share_eval.py does: {borrowed}")
    blocked = sum("blocked" in m for m in metas.values())
    if blocked:
        notes.append(f"prompts without a usable noun chunk, whose images fail (the reason is in each result): {blocked}")
    return metas, notes


def _follow_up(samples: list[Sample], category: str) -> Callable[[list[Result]], Prepared]:
    def build(first: list[Result]) -> Prepared:
        said = {r.sample_id: (r.details.get("reply") if r.status == "ok" else None, r.error) for r in first}
        second = []
        for s in samples:
            desc, err = said.get(s.id, (None, "not described"))
            meta = dict(s.meta)
            if desc is None:
                meta["blocked"] = f"the description turn failed: {err}"
            else:
                meta["turns"] = [["user", DESCRIBE[category]], ["assistant", desc]]
            second.append(s.model_copy(update={"meta": meta}))
        return Prepared(_question_rubric(category), second, PromptChoice("judgekit"), method="cot")
    return build


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("category", "spacy_model"))
    category = req.option("category", "")
    if category not in DESCRIBE:
        raise ConfigError(f"--set category must be one of {', '.join(DESCRIBE)} (got {category!r})")
    method = req.method or METHODS[0]
    if req.images is None or not (req.images / "samples").is_dir():
        raise ConfigError(f"--images must be the folder holding samples/<prompt>_<NNNNNN>.png (got {req.images})")
    prompts = [x.strip() for x in req.data.read_text(encoding="utf-8").splitlines() if x.strip()]
    if not prompts:
        raise DataError(f"{req.data}: no prompts")
    notes = ["judge prompts in judgekit's own wording, at temperature 0 (the official judge samples)"]
    per_prompt: dict[str, dict] = {}
    if category in ATTRIBUTES:
        per_prompt, chunk_notes = _chunk_questions(req, list(dict.fromkeys(prompts)))
        notes += chunk_notes
    by_prompt: dict[str, list[Path]] = {}
    for f in sorted((req.images / "samples").glob("*.png")):
        by_prompt.setdefault(f.name.split(".png")[0].split("_")[0], []).append(f)
    samples = []
    for i, prompt in enumerate(dict.fromkeys(prompts)):
        files = by_prompt.get(prompt, [])
        base = {"benchmark": "t2i-compbench", "category": category, "fields": {"prompt": prompt},
                **per_prompt.get(prompt, {})}
        if not files:
            samples.append(Sample(id=f"{i:04d}:none", prompt_id=f"{i:04d}", prompt=prompt, image=None, meta=base))
        for f in files:
            samples.append(Sample(id=f"{i:04d}:{f.stem.split('_')[-1]}", prompt_id=f"{i:04d}", prompt=prompt,
                                  image=str(f), meta=base))
    if method == "no_cot":
        return Prepared(_question_rubric(category), samples, PromptChoice("judgekit"), method=method, notes=notes)
    return Prepared(_rubric(f"t2i-compbench-describe-{category}", DESCRIBE[category], "free_text", 256), samples,
                    PromptChoice("judgekit"), method=method, notes=notes, follow_up=_follow_up(samples, category))


def unit(results: list[Result]) -> Unit:
    return {"scores": [float(r.overall) for r in results if r.overall is not None]}


def aggregate(units: list[Unit]) -> dict[str, float]:
    return {"average score (0-100)": mean(x for u in units for x in u["scores"])}


def official_text(estimates: dict[str, float]) -> str:
    return f"avg:{estimates['average score (0-100)']}"
