"""ImgEdit, single-turn (PKU-YuanGroup/ImgEdit, ``Benchmark/Basic``): 737 edits over nine edit
types, each judged in one call on three 1-5 criteria that depend on the type.

Its ``basic_bench.py`` sends the type's prompt (from ``prompts.json``, the instruction put in
place of ``<edit_prompt>``), then the source and the edited image, and keeps the reply text;
``step1_get_avgscore.py`` averages every ``Name: digit`` line of a reply (rounded to 2
decimals); ``step2_typescore.py`` averages those per edit type (rounded to 2 decimals). The
paper's overall column is the mean of the type scores.

Options (``--set``): ``origin_root`` (the original-images root, required; ``id`` in
basic_edit.json is a path under it).
"""

from __future__ import annotations

import re
from typing import Any

from ..datasets.imgedit import load_imgedit
from ..errors import ConfigError, SampleError, VerdictParseError
from ..images import load_image_part
from ..io import read_json
from ..kinds import register_kind
from ..methods.base import CallOutcome, JudgeCall
from ..rubric import Rubric
from ..types import ChatRequest, Message, Result, Sample, TextPart
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard

#: The three criteria each edit type is scored on (names as its prompts.json asks for them).
CRITERIA: dict[str, tuple[str, str, str]] = {
    "replace": ("Prompt Compliance", "Visual Naturalness", "Physical & Detail Integrity"),
    "add": ("Prompt Compliance", "Visual Naturalness", "Physical & Detail Coherence"),
    "adjust": ("Prompt Compliance", "Visual Seamlessness", "Physical & Detail Fidelity"),
    "remove": ("Prompt Compliance", "Visual Naturalness", "Physical & Detail Integrity"),
    "style": ("Style Fidelity", "Content Preservation", "Rendering Quality"),
    "action": ("Action Fidelity", "Identity Preservation", "Visual & Anatomical Coherence"),
    "extract": ("Object Identity", "Mask Precision", "Visual Quality"),
    "background": ("Instruction Compliance", "Visual Seamlessness", "Physical Consistency"),
    "compose": ("Instruction Compliance", "Visual Naturalness", "Physical Consistency & Fine Detail"),
}

# judgekit's own wording (not the official prompts.json text).
OWN_PROMPT = (
    "You will see two images: first the original, then the result of editing it with this instruction: "
    "\"<edit_prompt>\". Rate the edit ({edit_type}) from 1 (worst) to 5 (best) on each criterion: {criteria}. "
    "The later criteria can be no higher than the first: a poor edit cannot be saved by quality. "
    "Reply with one line 'Brief reasoning: ...' (at most 20 words), then one line 'Criterion: score' per criterion."
)

CARD = ProtocolCard(
    name="imgedit",
    title="ImgEdit (single-turn)",
    task="image editing",
    repository="PKU-YuanGroup/ImgEdit (Benchmark/Basic)",
    official_judge="the paper names GPT-4.1; basic_bench.py calls the undated alias gpt-4o at the API's default "
                   "temperature",
    official_prompt="Benchmark/Basic/prompts.json (one prompt per edit type)",
    aggregation="per edit the mean of the 'Name: digit' scores of the reply (rounded to 2 decimals); per edit type "
                "the mean (rounded to 2 decimals); overall = mean of the edit types",
    data="Benchmark/Basic/basic_edit.json (key -> id, prompt, edit_type)",
    images="the result folder of <key>.png (basic_bench.py --result_img_folder); --set origin_root=PATH for the "
           "original images",
    license="see the repository",
    runnable=True,
    protocol_dir="Benchmark/Basic/prompts.json of an ImgEdit checkout",
    parts=(
        Part("one call per edit, type-specific criteria, 1-5", "exact", "the same three criteria per edit type, the "
             "prompt text then the source and the edited image"),
        Part("judge prompt", "approximate", "judgekit's own wording unless --protocol-dir reads prompts.json"),
        Part("reply parsing", "approximate", "judgekit needs the type's three 'Criterion: score' lines with scores "
             "1-5, else retries and fails the edit; step1 averages whatever 'Name: digit' lines it finds and drops "
             "a reply without any"),
        Part("aggregation", "exact", "step1's and step2's means with their rounding; overall = mean of edit types"),
        Part("decoding", "approximate", "judgekit judges at temperature 0; basic_bench.py sets no temperature"),
    ),
    known_issues=(
        "paper says GPT-4.1, code calls undated gpt-4o (PKU-YuanGroup/ImgEdit #34); gpt-4o-2024-08-06 and -11-20 "
        "give different results (#16)",
        "an edit whose reply has no 'Name: digit' line is dropped from its type's mean silently (step1)",
        "the style prompt announces three images (input, reference style, output) and the extract prompt one, "
        "but basic_bench.py always sends two (source, edited)",
    ),
)


def _scores(text: str, names: tuple[str, str, str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in text.splitlines():
        m = re.match(r"^\s*[*#\-\s]*(.+?)[*\s]*:\s*\**\s*(\d+)\s*\**\s*$", line)
        if m:
            found.setdefault(m.group(1).strip().lower(), int(m.group(2)))
    out = {}
    for n in names:
        v = found.get(n.lower())
        if v is None:
            raise VerdictParseError(f"reply lacks a '{n}: <1-5>' line")
        if not 1 <= v <= 5:
            raise VerdictParseError(f"{n} = {v} is outside 1-5")
        out[n] = v
    return out


class ImgEditMethod:
    kind = "imgedit"

    def __init__(self, rubric: Rubric, parse_retries: int = 2, replay: bool = False, **options: Any):
        self.rubric = rubric
        opts = {**rubric.options, **options}
        self.prompts: dict[str, str] = dict(opts.get("prompts") or {})
        self.parse_retries = parse_retries

    def provenance(self) -> dict[str, Any]:
        return {"rubric": self.rubric.name, "rubric_version": self.rubric.version, "rubric_hash": self.rubric.hash()}

    def _text(self, edit_type: str, instruction: str) -> str:
        if edit_type in self.prompts:
            return self.prompts[edit_type].replace("<edit_prompt>", instruction)
        return OWN_PROMPT.replace("<edit_prompt>", instruction).format(
            edit_type=edit_type, criteria=", ".join(CRITERIA[edit_type]))

    def plan(self, sample: Sample) -> list[JudgeCall]:
        edit_type = str(sample.meta.get("task_type"))
        if edit_type not in CRITERIA:
            raise SampleError(f"edit {sample.id!r}: edit_type {edit_type!r} is not one of {sorted(CRITERIA)}")
        if not sample.source_image or not sample.image:
            raise SampleError(f"edit {sample.id!r} lacks its source or edited image")
        parts = (TextPart(self._text(edit_type, sample.instruction or "")),
                 load_image_part(sample.source_image, "source_image"), load_image_part(sample.image, "image"))
        req = ChatRequest((Message("user", parts),), None, max_tokens=self.rubric.max_tokens)
        names = CRITERIA[edit_type]
        return [JudgeCall("scores", req, lambda r: _scores(r.text, names), self.parse_retries)]

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        o = outcomes["scores"]
        if not o.ok:
            return Result.for_sample(sample, self.rubric.name, status="failed", error=o.error,
                                     details={"raw_reply": o.response.text if o.response else None})
        scores = {k: float(v) for k, v in o.value.items()}
        avg = round(sum(scores.values()) / len(scores), 2)  # step1's rounding
        return Result.for_sample(sample, self.rubric.name, status="ok", scores=scores, overall=avg,
                                 details={"reply": o.response.text if o.response else ""})


register_kind("imgedit", ImgEditMethod)


def official_prompts(protocol_dir) -> PromptChoice:
    src = protocol_dir / "Benchmark" / "Basic" / "prompts.json"
    if not src.is_file():
        src = protocol_dir / "prompts.json"
    data = read_json(src, "ImgEdit prompts.json", dict)
    missing = sorted(set(CRITERIA) - set(data))
    if missing:
        raise ConfigError(f"{src}: no prompt for edit types {missing}")
    return PromptChoice("official", {k: str(data[k]) for k in CRITERIA}, str(src))


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("origin_root",))
    root = req.option("origin_root", None, (str, type(None)))
    if root is None:
        raise ConfigError("ImgEdit needs --set origin_root=PATH (the original images basic_edit.json's ids point into)")
    if req.images is None or not req.images.is_dir():
        raise ConfigError(f"--images must be the folder of edited <key>.png files (got {req.images})")
    samples = load_imgedit(req.data, root, {req.images.name: req.images})
    prompt = official_prompts(req.protocol_dir) if req.protocol_dir else PromptChoice("judgekit")
    rubric = Rubric(name="imgedit-basic", kind="imgedit", inputs=["source_image", "instruction", "image"],
                    scale={"min": 1, "max": 5, "integer": False}, max_tokens=512,
                    options={"prompts": prompt.texts})
    notes = ["decoding at temperature 0; the official script uses the API default"]
    if not req.protocol_dir:
        notes.insert(0, "judge prompt in judgekit's own wording, not prompts.json (pass --protocol-dir to use it)")
    return Prepared(rubric, samples, prompt, notes=notes)


def unit(results: list[Result]) -> Unit:
    r = results[0]
    return {"type": r.meta.get("task_type"), "score": r.overall}


def aggregate(units: list[Unit]) -> dict[str, float]:
    types = {t: mean(u["score"] for u in units if u["type"] == t) for t in CRITERIA}
    present = {t: v for t, v in types.items() if v == v}
    out = {"overall (mean of edit types)": mean(present.values())}
    out.update({f"type {t}": v for t, v in present.items()})
    return out


def official_text(estimates: dict[str, float]) -> str:
    types = {k[5:]: round(v, 2) for k, v in estimates.items() if k.startswith("type ")}
    body = ",\n".join(f'  "{k}": {v}' for k, v in types.items())
    return "{\n" + body + "\n}" + f"\noverall (mean of edit types): {round(mean(types.values()), 2)}"
