"""Recorded VQA answers, as released with DSG (``vqa_answers_release/*.csv``): columns
``dsg_prompt_split, qg_model, t2i_model, item_id, question, question_id, dependency_id, answer``.

Each row is one answer of a VQA model to one question about the image that one text-to-image
model (``t2i_model``) made for one prompt (``item_id``). The key is
``(item_id, t2i_model, question_id)``; a repeated key is an error (which answer would count?).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError

REQUIRED = ("item_id", "t2i_model", "question_id", "answer")


@dataclass
class RecordedAnswers:
    path: str
    answers: dict[tuple[str, str, int], str]
    questions: dict[tuple[str, str, int], str] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)  # item_id -> prompt text, when the file has it

    def pairs(self) -> list[tuple[str, str]]:
        """Distinct (item_id, t2i_model) pairs in file order."""
        return list(dict.fromkeys((i, m) for i, m, _ in self.answers))

    def get(self, item_id: str, model: str, question_id: int) -> str | None:
        return self.answers.get((item_id, model, int(question_id)))

    def __len__(self) -> int:
        return len(self.answers)


def load_answers(path: str | Path, *, split: str | None = None, models: list[str] | None = None,
                 items: set[str] | None = None) -> RecordedAnswers:
    """Load an answer CSV, optionally keeping one ``dsg_prompt_split``, some models or items."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"answer file {p} does not exist")
    answers: dict[tuple[str, str, int], str] = {}
    questions: dict[tuple[str, str, int], str] = {}
    prompts: dict[str, str] = {}
    with p.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{p}: not an answer file; missing columns {missing} (has {reader.fieldnames})")
        for rec in reader:
            if split is not None and rec.get("dsg_prompt_split") != split:
                continue
            if models is not None and rec["t2i_model"] not in models:
                continue
            if items is not None and rec["item_id"] not in items:
                continue
            try:
                key = (rec["item_id"], rec["t2i_model"], int(rec["question_id"]))
            except ValueError:
                raise DataError(f"{p} line {reader.line_num}: question_id {rec['question_id']!r} is not an integer") from None
            if key in answers:
                raise DataError(f"{p} line {reader.line_num}: a second answer for item {key[0]}, model {key[1]}, question {key[2]}")
            answers[key] = rec["answer"]
            if rec.get("question"):
                questions[key] = rec["question"]
            if rec.get("text"):
                prompts.setdefault(rec["item_id"], rec["text"])
    return RecordedAnswers(str(p), answers, questions, prompts)
