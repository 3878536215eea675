"""A prompt's questions as a directed acyclic graph (DSG / DPG-Bench), or as a flat list (TIFA).

Every question has an integer id unique within its prompt and the ids of its parents (a question
about an attribute depends on the question asking whether the entity exists). Parent id ``0`` in
the files means "root"; here roots simply have no parents. A graph is validated when built:
unknown parents and cycles are rejected with the offending ids, because a scoring rule that
follows a broken graph would silently score the wrong thing.

>>> g = QuestionGraph("p1", "a red car", [
...     Question(1, "Is there a car?"),
...     Question(2, "Is the car red?", parents=(1,)),
... ])
>>> [q.id for q in g.topological_order()]
[1, 2]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import GraphError

YES_NO = ("yes", "no")


@dataclass(frozen=True)
class Question:
    """One atomic question. ``answer`` is the gold answer (``yes`` for DSG questions) and
    ``choices`` the allowed answers; the other fields are what the source files carry
    (DSG: category and tuple; TIFA: element type and element)."""

    id: int
    text: str
    parents: tuple[int, ...] = ()
    choices: tuple[str, ...] = YES_NO
    answer: str = "yes"
    category: str = ""  # DSG category_broad / TIFA element_type
    category_detailed: str = ""
    tuple: str = ""  # DSG's semantic tuple, e.g. "attribute - color (car, red)"
    keywords: str = ""  # DSG keywords / TIFA element

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": self.text, "parents": list(self.parents), "choices": list(self.choices),
            "answer": self.answer, "category": self.category, "category_detailed": self.category_detailed,
            "tuple": self.tuple, "keywords": self.keywords,
        }


@dataclass
class QuestionGraph:
    """The questions of one prompt, in file order (the order DPG-Bench's rule depends on)."""

    item_id: str
    prompt: str
    questions: list[Question]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.questions = list(self.questions)
        self.validate()

    # -- structure -------------------------------------------------------------------------------

    def by_id(self) -> dict[int, Question]:
        return {q.id: q for q in self.questions}

    def __len__(self) -> int:
        return len(self.questions)

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    def validate(self) -> None:
        """Raise ``GraphError`` naming repeated ids, unknown parents and one cycle, if any."""
        counts: dict[int, int] = {}
        for q in self.questions:
            counts[q.id] = counts.get(q.id, 0) + 1
        dupes = sorted(i for i, n in counts.items() if n > 1)
        ids = {q.id for q in self.questions}
        unknown = {q.id: [p for p in q.parents if p not in ids] for q in self.questions}
        unknown = {k: v for k, v in unknown.items() if v}
        cycle = [] if dupes or unknown else _find_cycle(self.questions)
        if dupes or unknown or cycle:
            raise GraphError(self.item_id, unknown=unknown, cycle=cycle, duplicates=dupes)

    def topological_order(self) -> list[Question]:
        """Parents before children; ties keep file order (stable, so output is deterministic)."""
        placed: set[int] = set()
        order: list[Question] = []
        pending = list(self.questions)
        while pending:
            rest = []
            for q in pending:
                if all(p in placed for p in q.parents):
                    order.append(q)
                    placed.add(q.id)
                else:
                    rest.append(q)
            pending = rest
        return order

    def ancestors(self, qid: int) -> set[int]:
        index = self.by_id()
        out: set[int] = set()
        stack = list(index[qid].parents)
        while stack:
            p = stack.pop()
            if p not in out:
                out.add(p)
                stack.extend(index[p].parents)
        return out

    def without_dependencies(self) -> QuestionGraph:
        """The same questions with every parent link removed (the ``mean`` rule's view)."""
        return QuestionGraph(self.item_id, self.prompt, [replace(q, parents=()) for q in self.questions],
                             dict(self.meta))

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "prompt": self.prompt, "questions": [q.to_dict() for q in self.questions]}


def _find_cycle(questions: Sequence[Question]) -> list[int]:
    """One dependency cycle (ids in parent order), or [] when the graph is acyclic."""
    parents = {q.id: q.parents for q in questions}
    state: dict[int, int] = {}  # 1 = on the current path, 2 = finished
    path: list[int] = []

    def visit(n: int) -> list[int]:
        state[n] = 1
        path.append(n)
        for p in parents.get(n, ()):
            if state.get(p) == 1:
                return path[path.index(p):]
            if p not in state:
                found = visit(p)
                if found:
                    return found
        state[n] = 2
        path.pop()
        return []

    for q in questions:
        if q.id not in state:
            found = visit(q.id)
            if found:
                # Report the cycle as child -> parent -> ..., starting from its smallest id.
                k = found.index(min(found))
                return found[k:] + found[:k]
    return []
