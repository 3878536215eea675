"""Question files in the DSG schema: DSG-1k, TIFA160 (DSG questions) and DPG-Bench's CSV.

Columns: ``item_id, text, keywords, proposition_id, dependency, category_broad,
category_detailed, tuple, question_natural_language``. ``dependency`` is a comma list of parent
``proposition_id``s, ``0`` meaning "root".

Real files carry malformed rows (DSG-1k has ten dependency cells such as ``5, right``, where the
question generator wrote the relation's object instead of an id; one item lacks its question
1). The original loader then dropped the whole item's dependencies. Here each problem becomes a
``LoadIssue`` naming the file line, and is handled at the smallest scope that keeps the intent:

- a non-numeric dependency token that names an entity question of the same item (its keywords
  or its entity tuple) is replaced by that question's id                         -> ``repaired``
- any other non-numeric token is dropped when numeric parents remain (it names a place or an
  object the prompt never asks about, so nothing can gate on it)                   -> ``repaired``
- a parent id that is not a question of the item is removed from the row          -> ``repaired``
- a row whose dependency has no usable id at all, a non-integer or repeated proposition id, or a
  blank question is skipped (only that row)                                        -> ``skipped``
- a question listing itself as its parent loses that self-link (a no-op for every rule)
                                                                                  -> ``repaired``
- the links among the questions of a longer cycle are dropped (the questions stay) -> ``skipped``

>>> from judgekit.resources import data_path
>>> load = load_dsg_csv(data_path("calibration", "dsg_tifa160", "tifa160-dsg1k-anns.csv"))
>>> len(load.graphs), load.n_rows
(160, 929)
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import DataError
from ..questions.graph import Question, QuestionGraph, _find_cycle

log = logging.getLogger(__name__)

DSG_COLUMNS = [
    "item_id", "text", "keywords", "proposition_id", "dependency",
    "category_broad", "category_detailed", "tuple", "question_natural_language",
]
_INT = re.compile(r"^\s*\d+\s*$")


@dataclass(frozen=True)
class LoadIssue:
    """One problem found while loading, with what was done about it."""

    line: int  # line in the file (the header is line 1)
    item_id: str
    question_id: int | None
    column: str
    value: str
    action: str  # "repaired" | "skipped"
    detail: str

    def __str__(self) -> str:
        q = f" question {self.question_id}" if self.question_id is not None else ""
        return f"line {self.line}: item {self.item_id}{q}: {self.column}={self.value!r}: {self.action}: {self.detail}"


@dataclass
class QuestionLoad:
    """What a loader returns: graphs by item id (file order), every issue, and the row count."""

    path: str
    graphs: dict[str, QuestionGraph]
    issues: list[LoadIssue] = field(default_factory=list)
    n_rows: int = 0

    @property
    def n_questions(self) -> int:
        return sum(len(g) for g in self.graphs.values())

    def report(self) -> str:
        head = f"{self.path}: {self.n_rows} rows, {len(self.graphs)} items, {self.n_questions} questions"
        return "\n".join([head + (f", {len(self.issues)} issues:" if self.issues else ", no issues"),
                          *(f"  {i}" for i in self.issues)])


@dataclass
class _Row:
    line: int
    item_id: str
    prompt: str
    qid: int
    dep: str
    question: Question


def _entity_ids(rows: list[_Row]) -> dict[str, int]:
    """Lower-cased entity name -> question id, from the entity rows of one item."""
    out: dict[str, int] = {}
    for r in rows:
        q = r.question
        if q.category != "entity":
            continue
        names = {q.keywords.strip().lower()}
        m = re.match(r"^\s*entity\s*-\s*\w+\s*\((.*)\)\s*$", q.tuple)
        if m:
            names.add(m.group(1).strip().lower())
        for n in names - {""}:
            out.setdefault(n, q.id)
    return out


def _parse_dependency(row: _Row, entity_ids: dict[str, int], issues: list[LoadIssue]) -> tuple[int, ...] | None:
    """Parent ids of a row, repairing what has a clear intent; None means "skip the row"."""
    tokens = [t.strip() for t in row.dep.split(",") if t.strip()]
    if not tokens:
        issues.append(LoadIssue(row.line, row.item_id, row.qid, "dependency", row.dep, "repaired",
                                "blank dependency cell read as 0 (a root question)"))
        return ()
    ids: list[int] = []
    notes: list[str] = []
    for t in tokens:
        if _INT.match(t):
            ids.append(int(t))
        elif t.lower() in entity_ids:
            ids.append(entity_ids[t.lower()])
            notes.append(f"{t!r} -> question {entity_ids[t.lower()]} (the entity it names)")
        else:
            notes.append(f"dropped {t!r} (names no question of the item)")
    numeric = [i for i in ids if i != 0]
    if notes and not ids:
        issues.append(LoadIssue(row.line, row.item_id, row.qid, "dependency", row.dep, "skipped",
                                "no parent id in the cell; " + "; ".join(notes)))
        return None
    if notes:
        issues.append(LoadIssue(row.line, row.item_id, row.qid, "dependency", row.dep, "repaired",
                                "; ".join(notes) + f"; parents now {numeric or 'none (root)'}"))
    # Order-preserving de-duplication; 0 (root) only counts when nothing else is there.
    return tuple(dict.fromkeys(numeric))


def _break_cycles(item: str, rows: list[_Row], questions: list[Question], issues: list[LoadIssue]) -> list[Question]:
    """Remove self-references (a no-op under both DSG rules, so a faithful repair), then the
    links among the members of any longer cycle (no member can be established first, so which
    link was meant is unknowable: those links are skipped, the questions stay)."""
    line_of = {r.qid: (r.line, r.dep) for r in rows}
    by_id = {q.id: q for q in questions}
    for q in list(by_id.values()):
        if q.id in q.parents:
            line, dep = line_of[q.id]
            left = tuple(p for p in q.parents if p != q.id)
            issues.append(LoadIssue(line, item, q.id, "dependency", dep, "repaired",
                                    f"lists itself as its own parent; removed, parents now {list(left) or 'none (root)'}"))
            by_id[q.id] = replace(q, parents=left)
    while True:
        cycle = _find_cycle(list(by_id.values()))
        if not cycle:
            break
        members = set(cycle)
        for qid in cycle:
            q = by_id[qid]
            cut = [p for p in q.parents if p in members]
            left = tuple(p for p in q.parents if p not in members)
            line, dep = line_of[qid]
            issues.append(LoadIssue(line, item, qid, "dependency", dep, "skipped",
                                    f"links to {cut} are part of the cycle {' -> '.join(map(str, [*cycle, cycle[0]]))}; "
                                    f"dropped those links, parents now {list(left) or 'none (root)'}"))
            by_id[qid] = replace(q, parents=left)
    return [by_id[q.id] for q in questions]


def read_dsg_rows(path: str | Path) -> tuple[list[dict[str, str]], int]:
    """The raw rows (dicts by column) and the file line each started on."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"question file {p} does not exist")
    opener = gzip.open if p.suffix == ".gz" else open  # a .csv.gz is read the same way
    with opener(p, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("item_id", "proposition_id", "dependency", "question_natural_language")
                   if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{p}: not a DSG-schema CSV; missing columns {missing} (has {reader.fieldnames})")
        rows = []
        for rec in reader:
            rec["_line"] = str(reader.line_num)
            rows.append(rec)
    return rows, len(rows)


def load_dsg_csv(path: str | Path) -> QuestionLoad:
    """Load a DSG-schema CSV into one ``QuestionGraph`` per item, reporting every repair."""
    raw, n = read_dsg_rows(path)
    issues: list[LoadIssue] = []
    items: dict[str, list[_Row]] = {}
    for rec in raw:
        line = int(rec["_line"])
        item = (rec.get("item_id") or "").strip()
        pid = (rec.get("proposition_id") or "").strip()
        text = (rec.get("question_natural_language") or "").strip()
        if not item:
            issues.append(LoadIssue(line, "", None, "item_id", "", "skipped", "row has no item id"))
            continue
        if not _INT.match(pid):
            issues.append(LoadIssue(line, item, None, "proposition_id", pid, "skipped", "not an integer id"))
            continue
        qid = int(pid)
        rows = items.setdefault(item, [])
        if any(r.qid == qid for r in rows):
            issues.append(LoadIssue(line, item, qid, "proposition_id", pid, "skipped", "repeats an earlier id of the item"))
            continue
        if not text:
            issues.append(LoadIssue(line, item, qid, "question_natural_language", rec.get("question_natural_language") or "",
                                    "skipped", "blank question"))
            continue
        q = Question(
            id=qid, text=text, category=(rec.get("category_broad") or "").strip(),
            category_detailed=(rec.get("category_detailed") or "").strip(),
            tuple=(rec.get("tuple") or "").strip(), keywords=(rec.get("keywords") or "").strip(),
        )
        rows.append(_Row(line, item, (rec.get("text") or "").strip(), qid, rec.get("dependency") or "", q))

    graphs: dict[str, QuestionGraph] = {}
    for item, rows in items.items():
        entity_ids = _entity_ids(rows)
        kept: list[_Row] = []
        for r in rows:
            parents = _parse_dependency(r, entity_ids, issues)
            if parents is not None:
                r.question = replace(r.question, parents=parents)
                kept.append(r)
        ids = {r.qid for r in kept}
        questions = []
        for r in kept:
            unknown = [p for p in r.question.parents if p not in ids]
            if unknown:
                left = tuple(p for p in r.question.parents if p in ids)
                issues.append(LoadIssue(r.line, item, r.qid, "dependency", r.dep, "repaired",
                                        f"parent ids {unknown} are not questions of the item; removed them, "
                                        f"parents now {list(left) or 'none (root)'}"))
                r.question = replace(r.question, parents=left)
            questions.append(r.question)
        if not questions:
            continue
        questions = _break_cycles(item, kept, questions, issues)
        graphs[item] = QuestionGraph(item, kept[0].prompt, questions)
    for g in graphs.values():
        g.meta["load_issues"] = [str(i) for i in issues if i.item_id == g.item_id]
    for i in issues:
        log.warning("%s: %s", path, i)
    return QuestionLoad(str(path), graphs, issues, n)


def save_dsg_csv(graphs: Iterable[QuestionGraph], path: str | Path) -> None:
    """Write graphs in the DSG schema (roots get dependency ``0``), readable by the original
    DSG / DPG-Bench scripts and by ``load_dsg_csv``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DSG_COLUMNS)
        for g in graphs:
            for q in g.questions:
                dep = ",".join(str(x) for x in q.parents) if q.parents else "0"
                w.writerow([g.item_id, g.prompt, q.keywords, q.id, dep, q.category, q.category_detailed,
                            q.tuple, q.text])


# DPG-Bench's question file uses exactly this schema.
load_dpg_csv = load_dsg_csv
