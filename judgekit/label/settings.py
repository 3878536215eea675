"""What a labelling campaign asks: its questions (one per rubric dimension), the anchors of the
buttons, its settings, and raters' names.

Anchors speak the buttons' scale: a rubric scored 0-10 asked on 1-5 Likert buttons has its
anchor sentences moved onto 1-5 (:func:`rescale_anchors`), so the instructions never name a
number no button has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError
from .assign import DEFAULT_TTL

LIKERT = (1, 2, 3, 4, 5)
DEFAULT_ANCHORS = {1: "very poor", 2: "poor", 3: "acceptable", 4: "good", 5: "excellent"}
DEFAULT_CRITERIA = {
    "likert": "How well the image shows what the prompt asks for, and how well it is made. "
              "1 = very poor, 5 = excellent.",
    "binary": "Pass when the image shows what the prompt asks for without a serious flaw; otherwise fail.",
    "pairwise": "Which image is the better result for the prompt: first prompt adherence, then visual "
                "quality. Choose tie only when neither is better in any way that matters.",
}
MAX_NAME = 64


class BadLabel(DataError):
    """HTTP 422: an answer or a name the campaign cannot accept."""


_MEANS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(\s+means\b)")


class _Renumber:
    """``re.sub`` replacement: the n-th anchor number becomes the n-th mapped value."""

    def __init__(self, values: list[float]):
        self._values = iter(values)

    def __call__(self, m: re.Match) -> str:
        return f"{round(next(self._values))}{m.group(2)}"


def rescale_anchors(text: str, lo: float, hi: float, mode: str) -> str:
    """The rubric's anchor sentences ("0 means ...; 10 means ...") for the scale raters answer.

    Likert raters answer 1-5: each anchor is moved linearly onto 1-5 ("0 means" -> "1 means",
    "10 means" -> "5 means", "5 means" -> "3 means"). An anchor that lands between two buttons,
    or any anchor in a pass/fail or pairwise question (no numbers to press), is dropped with its
    sentence rather than shown with a number no button has."""
    if hi <= lo or not _MEANS.search(text):
        return text
    sentences = re.split(r"(?<=[.;])\s+", text)
    out = []
    for sent in sentences:
        nums = [float(m.group(1)) for m in _MEANS.finditer(sent)]
        if not nums:
            out.append(sent)
            continue
        if mode != "likert":
            continue
        mapped = [1 + (v - lo) * 4 / (hi - lo) for v in nums]
        if not all(abs(m - round(m)) < 1e-9 and 1 <= round(m) <= 5 for m in mapped):
            continue
        out.append(_MEANS.sub(_Renumber(mapped), sent))
    return " ".join(out).strip()


@dataclass(frozen=True)
class RatingQuestion:
    dimension: str  # "" without a rubric
    criteria: str
    #: False for a dimension judged without the prompt (e.g. visual quality): the page hides it,
    #: as the judge's template does, so people and judge answer the same question.
    show_prompt: bool = True


@dataclass
class Settings:
    mode: str
    k: int = 3
    seed: int = 0
    questions: list[RatingQuestion] = field(default_factory=list)
    anchors: dict[int, str] = field(default_factory=lambda: dict(DEFAULT_ANCHORS))
    title: str = "judgekit label"
    description: str = ""
    rubric: str | None = None
    ttl: float = DEFAULT_TTL
    #: The first ``overlap`` labellable items (manifest order) go to every rater, before others.
    overlap: int = 0
    #: item -> {dimension: known answer} (canonical: 1-5, "pass"/"fail", "model_a"/"model_b"/"tie");
    #: gold items go to every rater, before others, and their answers are checked against these.
    gold: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Answers faster than this many seconds are listed for the operator.
    min_seconds: float = 2.0

    def __post_init__(self):
        if not self.questions:
            self.questions = [RatingQuestion("", DEFAULT_CRITERIA[self.mode])]
        if self.k < 1:
            raise DataError("--raters must be at least 1")
        if self.overlap < 0:
            raise DataError("--overlap must be >= 0")

    @classmethod
    def from_rubric(cls, mode: str, rubric=None, **kw) -> Settings:
        """Questions from the rubric's dimensions (a pairwise rubric's ``primary`` first: it is
        the ``winner`` of a labels record), anchors from its scale when that scale is 1-5."""
        if rubric is None:
            return cls(mode=mode, **kw)
        dims = list(rubric.dimensions)
        primary = rubric.options.get("primary")
        dims.sort(key=lambda d: d.name != primary)  # stable: only moves the primary to the front
        anchors = dict(DEFAULT_ANCHORS)
        lo, hi = float(rubric.scale.min), float(rubric.scale.max)
        if (lo, hi) == (1, 5):
            anchors.update({int(k): v for k, v in rubric.scale.labels.items() if int(k) in anchors})
        questions = [RatingQuestion(d.name, rescale_anchors(" ".join(d.criteria.split()), lo, hi, mode),
                              show_prompt=bool({"prompt", "instruction"} & set(d.inputs or rubric.inputs)))
                     for d in dims]
        return cls(mode=mode, questions=questions,
                   anchors=anchors, title=rubric.name,
                   description=rescale_anchors(" ".join(rubric.description.split()), lo, hi, mode),
                   rubric=rubric.name, **kw)

    def bound(self) -> dict[str, Any]:
        """The settings a database is bound to (see ``LabelStore.bind``)."""
        return {"mode": self.mode, "dimensions": [q.dimension for q in self.questions], "seed": self.seed,
                "raters_per_item": self.k, "rubric": self.rubric, "overlap": self.overlap, "gold": self.gold,
                "min_seconds": self.min_seconds}


def clean_rater(name: Any) -> str:
    """A rater's name as stored: whitespace collapsed and case-folded ("Alice" and "alice " are
    one rater, never two who each label the same item)."""
    if not isinstance(name, str) or not name.strip():
        raise BadLabel("a rater name is required")
    name = " ".join(name.split()).casefold()
    if len(name) > MAX_NAME or not name.isprintable():
        raise BadLabel(f"a rater name must be printable and at most {MAX_NAME} characters")
    return name
