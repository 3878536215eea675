"""Text rendering (LongText-Bench style): the judge transcribes the image's text and the
transcription is compared with the strings the prompt asked to render.

Scores (all in [0, 1], all recorded; ``options.metric`` picks ``overall``, default ``recall``):

- ``recall``: bag-of-tokens recall of the target tokens in the transcription, word-level for
  English (lower-cased, punctuation stripped), character-level for Chinese (CJK characters,
  letters and digits, punctuation and spaces ignored). Extra text is not penalized (as in
  LongText-Bench). Summing ``details.matched`` / ``details.total`` over samples gives the
  benchmark's micro average.
- ``edit_similarity``: 1 - normalized Levenshtein distance between the joined targets and the
  transcription (after the same normalization), which also penalizes extra or misordered text.

Samples carry the targets in ``meta["targets"]`` (a list of strings) and optionally
``meta["language"]`` (``en`` / ``zh``; detected from the targets otherwise).

>>> text_recall(["OPEN 24 hours"], "open 24 HOURS daily", "en")
(3, 3)
>>> text_recall(["每日新鲜"], "每日新", "zh")
(3, 4)
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any, Literal

from ..datasets.longtext import detect_language
from ..errors import SampleError, VerdictParseError
from ..images import load_image_part
from ..prompts import render_messages
from ..rubric import Rubric
from ..types import ChatRequest, Result, Sample
from ..verdict import parse_json_object
from ._common import MethodOptions, parse_options
from .base import CallOutcome, JudgeCall, rubric_provenance

METRICS = ("recall", "edit_similarity")


def _strip_punct(text: str) -> str:
    return "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text)


def tokens(text: str, language: str) -> list[str]:
    """Words (en) or characters (zh) after lower-casing and removing punctuation."""
    t = _strip_punct(unicodedata.normalize("NFKC", text).lower())
    if language == "zh":
        return [ch for ch in t if not ch.isspace()]
    return t.split()


def text_recall(targets: list[str], transcription: str, language: str) -> tuple[int, int]:
    """(matched, total) target tokens, counting each transcribed token at most once."""
    want = Counter(tok for t in targets for tok in tokens(t, language))
    have = Counter(tokens(transcription, language))
    matched = sum(min(n, have[tok]) for tok, n in want.items())
    return matched, sum(want.values())


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def edit_similarity(targets: list[str], transcription: str, language: str) -> float:
    """1 - Levenshtein(target, transcription) / max(len); both normalized to their tokens
    joined by single spaces (no spaces for Chinese)."""
    sep = "" if language == "zh" else " "
    a = sep.join(tok for t in targets for tok in tokens(t, language))
    b = sep.join(tokens(transcription, language))
    if not a and not b:
        return 1.0
    return 1.0 - levenshtein(a, b) / max(len(a), len(b))


class TextRenderingOptions(MethodOptions):
    metric: Literal["recall", "edit_similarity"] = "recall"  # which score is ``overall``


class TextRenderingMethod:
    kind = "text-rendering"

    def __init__(self, rubric: Rubric, parse_retries: int = 2, replay: bool = False, **options: Any):
        self.rubric = rubric
        self.metric = parse_options(TextRenderingOptions, rubric, options).metric
        self.parse_retries = parse_retries
        self.template = rubric.template if rubric.template != "pointwise.j2" else "text_rendering.j2"
        self._provenance = rubric_provenance(rubric, [self.template], metric=self.metric)

    def provenance(self) -> dict[str, Any]:
        return self._provenance

    def plan(self, sample: Sample) -> list[JudgeCall]:
        targets = sample.meta.get("targets")
        if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
            raise SampleError(f"sample {sample.id!r} needs meta 'targets': a non-empty list of strings to find in the image")
        if not sample.image:
            raise SampleError(f"sample {sample.id!r} has no 'image'")
        image = load_image_part(sample.image, "image")
        msgs = render_messages(self.template, {}, {"image": image}, self.rubric.base_dir)
        schema = {"type": "object", "properties": {"transcription": {"type": "string"}},
                  "required": ["transcription"], "additionalProperties": False}

        def parse(resp) -> str:
            try:
                obj = parse_json_object(resp.text)
                if not isinstance(obj.get("transcription"), str):
                    raise VerdictParseError("reply lacks a string 'transcription'")
                return obj["transcription"]
            except VerdictParseError as exc:
                raise VerdictParseError(exc.reason, resp.text) from None

        req = ChatRequest(msgs, schema, "transcription", max_tokens=max(self.rubric.max_tokens, 1024))
        return [JudgeCall("transcription", req, parse, self.parse_retries)]

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        o = outcomes["transcription"]
        base: dict[str, Any] = dict(sample_id=sample.id, prompt_id=sample.prompt_id, model=sample.model, rubric=self.rubric.name,
                    meta=sample.meta)
        if not o.ok:
            return Result(**base, status="failed", error=o.error,
                          details={"raw_reply": o.response.text if o.response else None})
        targets = sample.meta["targets"]
        lang = sample.meta.get("language") or detect_language(targets)
        matched, total = text_recall(targets, o.value, lang)
        scores = {"recall": matched / total if total else None, "edit_similarity": edit_similarity(targets, o.value, lang)}
        if scores[self.metric] is None:
            return Result(**base, status="failed", scores=scores, error="the targets contain no token to look for")
        return Result(**base, status="ok", scores=scores, overall=scores[self.metric],
                      details={"transcription": o.value, "language": lang, "matched": matched, "total": total})
