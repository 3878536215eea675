"""TIFA's files: question-answer JSON (``{id, caption, question, choices, answer, element_type,
element}`` per question) and the text-input list (``{id, caption}`` per prompt).

TIFA questions have no dependencies; each prompt's questions become a flat ``QuestionGraph``
with ids 1..n in file order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..errors import DataError
from ..io import read_json
from ..questions.graph import Question, QuestionGraph


def _read_json_list(path: str | Path, what: str) -> list:
    return read_json(path, f"{what} file", expect=list)


def load_tifa_questions(path: str | Path) -> dict[str, QuestionGraph]:
    """Questions grouped by prompt id, in file order. A record missing a required field is an
    error naming its index (TIFA files are generated, so a broken one should be regenerated)."""
    data = _read_json_list(path, "TIFA question")
    grouped: dict[str, tuple[str, list[Question]]] = {}
    for i, rec in enumerate(data):
        missing = [k for k in ("id", "caption", "question", "choices", "answer") if k not in rec]
        if missing:
            raise DataError(f"{path}: record {i} lacks {missing}")
        choices = tuple(str(c) for c in rec["choices"])
        answer = str(rec["answer"])
        if answer not in choices:
            raise DataError(f"{path}: record {i} ({rec['question']!r}): answer {answer!r} is not among its choices {list(choices)}")
        caption, qs = grouped.setdefault(str(rec["id"]), (rec["caption"], []))
        qs.append(Question(
            id=len(qs) + 1, text=str(rec["question"]), choices=choices, answer=answer,
            category=str(rec.get("element_type") or ""), keywords=str(rec.get("element") or ""),
        ))
    return {k: QuestionGraph(k, cap, qs) for k, (cap, qs) in grouped.items()}


def save_tifa_questions(graphs: Iterable[QuestionGraph], path: str | Path) -> None:
    """Write graphs as TIFA question JSON (dependencies are not part of that schema)."""
    out = []
    for g in graphs:
        for q in g.questions:
            out.append({"id": g.item_id, "caption": g.prompt, "question": q.text, "choices": list(q.choices),
                        "answer": q.answer, "element_type": q.category, "element": q.keywords})
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_tifa_prompts(path: str | Path) -> list[tuple[str, str]]:
    """``[(id, caption), ...]`` from TIFA's text-input file."""
    return [(str(r["id"]), str(r["caption"])) for r in _read_json_list(path, "TIFA text input")]
