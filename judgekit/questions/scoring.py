"""Scoring rules for question graphs: pure functions from (graph, answers) to a prompt score.

Each rule is named, because published numbers depend on which one was used:

- ``tifa``: fraction of questions answered with the gold choice; also accuracy per element type.
- ``dsg``:  a question scores 1 when answered yes; a child scores 0 when any *parent's raw
            answer* is not yes (one level: a grandparent's no reaches a grandchild only through
            the parent's own answer); prompt score = mean over all questions, in [0, 1].
- ``dpg``:  DPG-Bench's rule: walk the questions in file order and zero a question when any
            parent's *current* score is 0, so zeros propagate transitively (as far as file order
            allows); prompt score = 100 x mean, in [0, 100]. DPG-Bench's category scores use the
            raw answers (dependencies ignored): see ``category_means(..., use="raw")``.
- ``mean``: fraction of yes answers, no dependencies.
- ``all``:  1 when every question is answered yes, else 0 (GenEval's per-image correctness).

``answers`` maps question id -> the judge's answer text (``None`` or absent = no answer). A
missing answer is never a silent zero: with ``on_missing="fail"`` (the default) the prompt score
is ``None`` and the missing ids are listed; with ``"skip"`` the unanswered questions, and the
children whose gating depends on them, are left out of the mean and counted.

>>> from judgekit.questions.graph import Question, QuestionGraph
>>> g = QuestionGraph("p", "a red car", [Question(1, "Is there a car?"), Question(2, "Is the car red?", parents=(1,))])
>>> score_graph("dsg", g, {1: "no", 2: "yes"}).score
0.0
>>> score_graph("mean", g, {1: "no", 2: "yes"}).score
0.5
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigError
from .graph import QuestionGraph

OnMissing = Literal["fail", "skip"]


def normalize_answer(text: str | None) -> str:
    """Lower case, outer whitespace and trailing punctuation removed: ``" Yes."`` -> ``"yes"``."""
    if text is None:
        return ""
    return re.sub(r"[\s.!?,;:]+$", "", text.strip().lower()).strip()


def is_yes(text: str | None) -> bool:
    """DSG's test: the answer *is* yes (``"yes 100..."`` or ``"no bus"`` are not)."""
    return normalize_answer(text) == "yes"


def map_to_choice(answer: str | None, choices: tuple[str, ...] | list[str]) -> str | None:
    """The choice a free-form answer means: an exact (normalized) match; else the one choice
    whose words appear in the answer; else the closest by character similarity (TIFA maps free
    answers to the nearest choice too). ``None`` for an empty answer."""
    a = normalize_answer(answer)
    if not a:
        return None
    norm = {normalize_answer(c): c for c in choices}
    if a in norm:
        return norm[a]
    contained = [c for n, c in norm.items() if re.search(rf"\b{re.escape(n)}\b", a)]
    if len(contained) == 1:
        return contained[0]
    best = max(norm, key=lambda n: difflib.SequenceMatcher(None, a, n).ratio())
    return norm[best]


@dataclass
class GraphScore:
    """A prompt's score under one rule, with every question's detail."""

    rule: str
    score: float | None
    questions: list[dict[str, Any]]
    missing: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # left out of the mean (on_missing="skip")
    error: str | None = None

    def category_means(self, use: Literal["score", "raw"] = "score") -> dict[str, float]:
        return category_means(self.questions, use)

    def to_details(self) -> dict[str, Any]:
        return {"rule": self.rule, "questions": self.questions, "missing": self.missing, "skipped": self.skipped,
                "by_category": self.category_means("score"), "by_category_raw": self.category_means("raw")}


def category_means(questions: list[dict[str, Any]], use: Literal["score", "raw"] = "score") -> dict[str, float]:
    """Mean per-question ``score`` (after dependencies) or ``raw`` (before) per category."""
    acc: dict[str, list[float]] = {}
    for q in questions:
        v = q.get(use)
        if v is not None:
            acc.setdefault(q.get("category") or "uncategorized", []).append(float(v))
    return {k: sum(v) / len(v) for k, v in sorted(acc.items())}


def _detail(graph: QuestionGraph, answers: Mapping[int, str | None]) -> tuple[list[dict[str, Any]], list[int]]:
    rows, missing = [], []
    for q in graph.questions:
        a = answers.get(q.id)
        if a is None:
            missing.append(q.id)
        rows.append({"id": q.id, "question": q.text, "parents": list(q.parents), "category": q.category,
                     "answer": a, "raw": None if a is None else float(is_yes(a)), "score": None, "gated_by": []})
    return rows, missing


def _finish(rule: str, rows: list[dict[str, Any]], missing: list[int], on_missing: OnMissing,
            scale: float = 1.0) -> GraphScore:
    if on_missing not in ("fail", "skip"):
        raise ConfigError(f"on_missing must be 'fail' or 'skip', not {on_missing!r}")
    if missing and on_missing == "fail":
        return GraphScore(rule, None, rows, missing, error=f"no answer for question ids {missing}")
    counted = [r["score"] for r in rows if r["score"] is not None]
    skipped = [r["id"] for r in rows if r["score"] is None]
    if not counted:
        return GraphScore(rule, None, rows, missing, skipped, error="no question could be scored")
    return GraphScore(rule, scale * sum(counted) / len(counted), rows, missing, skipped)


def score_dsg(graph: QuestionGraph, answers: Mapping[int, str | None], on_missing: OnMissing = "fail") -> GraphScore:
    """DSG: gate each question on its parents' raw answers (one level)."""
    rows, missing = _detail(graph, answers)
    raw = {r["id"]: r["raw"] for r in rows}
    for r in rows:
        if r["raw"] is None:
            continue
        parents = r["parents"]
        if any(raw[p] is None for p in parents):
            continue  # undetermined: a parent has no answer
        r["gated_by"] = [p for p in parents if raw[p] == 0.0]
        r["score"] = 0.0 if r["gated_by"] else r["raw"]
    return _finish("dsg", rows, missing, on_missing)


def score_dpg(graph: QuestionGraph, answers: Mapping[int, str | None], on_missing: OnMissing = "fail") -> GraphScore:
    """DPG-Bench: in file order, zero a question whose parent currently scores 0 (transitive
    as far as file order allows); 100 x mean."""
    rows, missing = _detail(graph, answers)
    current: dict[int, float | None] = {r["id"]: r["raw"] for r in rows}
    for r in rows:  # file order, updating in place: that is what makes zeros propagate
        if current[r["id"]] is None or any(current[p] is None for p in r["parents"]):
            current[r["id"]] = None
            continue
        r["gated_by"] = [p for p in r["parents"] if current[p] == 0.0]
        if r["gated_by"]:
            current[r["id"]] = 0.0
        r["score"] = current[r["id"]]
    return _finish("dpg", rows, missing, on_missing, scale=100.0)


def score_mean(graph: QuestionGraph, answers: Mapping[int, str | None], on_missing: OnMissing = "fail") -> GraphScore:
    """Fraction of yes answers; dependencies ignored."""
    rows, missing = _detail(graph, answers)
    for r in rows:
        r["score"] = r["raw"]
    return _finish("mean", rows, missing, on_missing)


def score_all(graph: QuestionGraph, answers: Mapping[int, str | None], on_missing: OnMissing = "fail") -> GraphScore:
    """1 when every question is answered yes (GenEval's per-image correctness), else 0."""
    res = score_mean(graph, answers, on_missing)
    if res.score is not None:
        res.score = float(all(r["score"] == 1.0 for r in res.questions if r["score"] is not None))
    res.rule = "all"
    return res


def score_tifa(graph: QuestionGraph, answers: Mapping[int, str | None], on_missing: OnMissing = "fail") -> GraphScore:
    """TIFA: an answer is mapped to the nearest of the question's choices and scores 1 when it
    is the gold answer. ``category_means()`` gives the accuracy per element type."""
    rows, missing = _detail(graph, answers)
    for r, q in zip(rows, graph.questions):
        if r["answer"] is None:
            continue
        chosen = map_to_choice(r["answer"], q.choices)
        r["choice"], r["gold"] = chosen, q.answer
        r["raw"] = r["score"] = float(chosen is not None and normalize_answer(chosen) == normalize_answer(q.answer))
    return _finish("tifa", rows, missing, on_missing)


RULES: dict[str, Callable[..., GraphScore]] = {
    "tifa": score_tifa, "dsg": score_dsg, "dpg": score_dpg, "mean": score_mean, "all": score_all,
}


def score_graph(rule: str, graph: QuestionGraph, answers: Mapping[int, str | None],
                on_missing: OnMissing = "fail") -> GraphScore:
    """Apply the named rule (one of ``RULES``)."""
    if rule not in RULES:
        raise ConfigError(f"unknown question scoring rule {rule!r}; expected one of {sorted(RULES)}")
    return RULES[rule](graph, answers, on_missing=on_missing)
