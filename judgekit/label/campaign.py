"""A labelling campaign: the items, the questions asked about each (one per rubric dimension),
the store, and the operations the web app exposes (join, next task, answer, undo, skip).

Everything here is plain Python over :class:`~judgekit.label.store.LabelStore`; the ASGI app
only maps these calls and their exceptions onto HTTP. Rule violations raise subclasses of
:class:`~judgekit.errors.DataError` that carry the HTTP status the app answers with.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from .assign import DEFAULT_TTL, holders, open_item, pair_order, pick_next
from .items import Item, image_problem, manifest_root
from .store import Conflict, LabelStore

LIKERT = (1, 2, 3, 4, 5)
DEFAULT_ANCHORS = {1: "very poor", 2: "poor", 3: "acceptable", 4: "good", 5: "excellent"}
DEFAULT_CRITERIA = {
    "likert": "How well the image shows what the prompt asks for, and how well it is made. "
              "1 = very poor, 5 = excellent.",
    "binary": "Pass when the image shows what the prompt asks for without a serious flaw; otherwise fail.",
    "pairwise": "Which image is the better result for the prompt: first prompt adherence, then visual "
                "quality. Choose tie only when neither is better in any way that matters.",
}
SIDES = ("left", "right", "tie")
MAX_NAME = 64


class UnknownItem(DataError):
    """HTTP 404."""


class UnknownRater(DataError):
    """HTTP 404: a name that never joined (the page always joins first)."""


class BadLabel(DataError):
    """HTTP 422: an answer or a name the campaign cannot accept."""


#: The HTTP status the app answers each refusal with (``Conflict``, from the store, is 409).
HTTP_STATUS = {UnknownItem: 404, UnknownRater: 404, BadLabel: 422, Conflict: 409}


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

    def __post_init__(self):
        if not self.questions:
            self.questions = [RatingQuestion("", DEFAULT_CRITERIA[self.mode])]
        if self.k < 1:
            raise DataError("--raters must be at least 1")

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
        if rubric.scale.min == 1 and rubric.scale.max == 5:
            anchors.update({int(k): v for k, v in rubric.scale.labels.items() if int(k) in anchors})
        questions = [RatingQuestion(d.name, " ".join(d.criteria.split()),
                              show_prompt=bool({"prompt", "instruction"} & set(d.inputs or rubric.inputs)))
                     for d in dims]
        return cls(mode=mode, questions=questions,
                   anchors=anchors, title=rubric.name, description=" ".join(rubric.description.split()),
                   rubric=rubric.name, **kw)

    def bound(self) -> dict[str, Any]:
        """The settings a database is bound to (see ``LabelStore.bind``)."""
        return {"mode": self.mode, "dimensions": [q.dimension for q in self.questions], "seed": self.seed,
                "raters_per_item": self.k, "rubric": self.rubric}


def clean_rater(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadLabel("a rater name is required")
    name = " ".join(name.split())
    if len(name) > MAX_NAME or not name.isprintable():
        raise BadLabel(f"a rater name must be printable and at most {MAX_NAME} characters")
    return name


class Campaign:
    def __init__(self, items: list[Item], store: LabelStore, settings: Settings, manifest: str,
                 clock: Callable[[], float] = time.time):
        self.items = {i.id: i for i in items}
        self.order = [i.id for i in items]
        self.store, self.settings, self.clock = store, settings, clock
        self.root = manifest_root(manifest)
        self.manifest = str(Path(manifest).resolve())  # --status may run from another folder
        self.dims = [q.dimension for q in settings.questions]
        store.bind({**settings.bound(), "manifest": self.manifest}, fixed=("mode", "dimensions", "seed"))
        self.problems: dict[str, str] = {i.id: i.problem for i in items if i.problem}
        self.problems.update({k: v for k, v in store.problems().items() if k in self.items})
        self.on_change: Callable[[], None] = lambda: None  # the exporter hooks in here
        if settings.rubric is None and settings.title == Settings.title:
            settings.title = Path(manifest).name  # what the campaign is, in the page header

    # --- what the page needs ----------------------------------------------------------------

    def labellable(self) -> list[str]:
        return [i for i in self.order if i not in self.problems]

    def config(self) -> dict[str, Any]:
        s = self.settings
        return {
            "mode": s.mode, "title": s.title, "description": s.description, "raters_per_item": s.k,
            "questions": [{"dimension": q.dimension, "criteria": q.criteria} for q in s.questions],
            "anchors": {str(k): v for k, v in s.anchors.items()}, "items": len(self.order),
            "problems": self.problem_cards(),
        }

    def problem_cards(self) -> list[dict[str, str]]:
        return [{"item": i, "reason": self.problems[i], "prompt": self.items[i].prompt or ""}
                for i in self.order if i in self.problems]

    def progress(self, rater: str) -> dict[str, int]:
        n = len(self.labellable())
        return {"done": self.store.count_done(rater), "total": n, "labels": self.store.count_answers(),
                "target": n * self.settings.k * len(self.dims)}

    # --- operations ----------------------------------------------------------------------------

    def join(self, name: Any) -> str:
        name = clean_rater(name)
        self.store.add_rater(name, self.clock())
        return name

    def _rater(self, name: Any) -> str:
        name = clean_rater(name)
        if not self.store.has_rater(name):
            raise UnknownRater(f"no rater {name!r}: enter your name on the start page first")
        return name

    def next_task(self, rater: Any) -> dict[str, Any]:
        """The rater's current task (their unfinished item first, else a new assignment), or
        ``{"done": True}`` when nothing is left for them."""
        rater = self._rater(rater)
        labellable = self.labellable()
        while True:
            now = self.clock()
            with self.store.transaction() as db:
                assignments = self.store.assignments()
                item = open_item([a for a in assignments if a.item in self.items], rater)
                fresh = item is None
                if item is None:  # (= fresh; spelled out so the type checker narrows item)
                    seen = {a.item for a in assignments if a.rater == rater}
                    item = pick_next(labellable, holders(assignments, now, self.settings.ttl), seen, rater,
                                     self.settings.k, self.settings.seed)
                    if item is None:
                        return {"done": True, "progress": self.progress(rater)}
                why = self.problems.get(item) or self.check_images(self.items[item])
                if why is None:
                    if fresh:
                        db.execute("INSERT INTO assignments (item, rater, assigned_at) VALUES (?, ?, ?)",
                                   (item, rater, now))
                    answered = {a.dimension for a in self.store.answers(rater=rater, item=item)}
                    todo = [d for d in self.dims if d not in answered]
                    if todo:
                        shown_at = self.store.mark_served(db, item, todo[0], rater, now)
                        task = self._task(self.items[item], todo[0], rater, shown_at)
                    else:  # every question answered but not closed (cannot happen via the API)
                        db.execute("UPDATE assignments SET completed_at=? WHERE item=? AND rater=?", (now, item, rater))
                        continue
            if why is not None:  # found broken when about to be shown: a card, never a crash
                self._set_problem(item, why, rater)
                labellable = self.labellable()
                continue
            task["progress"] = self.progress(rater)
            return task

    def check_images(self, item: Item) -> str | None:
        for f, p in item.images.items():
            why = image_problem(p, self.root)
            if why:
                return f"{f}: {why}: {item.written[f]}"
        return None

    def _set_problem(self, item: str, why: str, rater: str) -> None:
        self.problems[item] = why
        self.store.report_problem(item, why, self.clock())
        with self.store.transaction() as db:
            # Release the rater's slot; answers already given for the item stay (they were submitted).
            if db.execute("SELECT 1 FROM answers WHERE item=? AND rater=?", (item, rater)).fetchone():
                db.execute("UPDATE assignments SET completed_at=? WHERE item=? AND rater=?", (self.clock(), item, rater))
            else:
                db.execute("DELETE FROM assignments WHERE item=? AND rater=?", (item, rater))

    def _task(self, item: Item, dimension: str, rater: str, shown_at: float) -> dict[str, Any]:
        q = next(q for q in self.settings.questions if q.dimension == dimension)
        shown = pair_order(self.settings.seed, item.id, rater) if self.settings.mode == "pairwise" else ""
        fields = list(item.images)
        if shown == "ba":
            fields.reverse()
        names = {"image_a": None, "image_b": None, "source_image": "source", "image": "image"}
        images = []
        for pos, f in enumerate(fields):
            label = ("A", "B")[pos] if f in ("image_a", "image_b") else names[f]
            url = f"/image/{f}?item={urllib.parse.quote(item.id, safe='')}"
            images.append({"url": url, "label": label, "path": item.written[f]})
        return {"done": False, "item": item.id, "dimension": dimension, "criteria": q.criteria,
                "question": self.dims.index(dimension) + 1, "questions": len(self.dims),
                "prompt": (item.prompt or "") if q.show_prompt else None,
                "prompt_label": "instruction" if "source_image" in item.images else "prompt",
                "images": images, "shown": shown, "shown_at": shown_at}

    def answer(self, rater: Any, item: Any, dimension: Any, value: Any, shown: Any = "") -> dict[str, Any]:
        """Record one answer, then return the next task. Raises UnknownItem (404), BadLabel
        (422) or Conflict (409: not your item, already answered, a stale pair layout)."""
        rater = self._rater(rater)
        if not isinstance(item, str) or item not in self.items:
            raise UnknownItem(f"no item {item!r} in this campaign")
        if dimension is None and self.dims == [""]:
            dimension = ""
        if dimension not in self.dims:
            raise BadLabel(f"no question {dimension!r}; the questions are {self.dims}")
        canonical, choice = self._value(value)
        now = self.clock()
        with self.store.transaction() as db:
            row = db.execute("SELECT completed_at FROM assignments WHERE item=? AND rater=?", (item, rater)).fetchone()
            if row is None:
                raise Conflict(f"item {item!r} is not assigned to {rater!r}")
            if row[0] is not None:
                raise Conflict(f"{rater!r} already finished item {item!r}")
            expect = pair_order(self.settings.seed, item, rater) if self.settings.mode == "pairwise" else ""
            if (shown or "") != expect:
                raise Conflict(f"the page showed a layout {shown!r} the server did not serve ({expect!r}); reload")
            if self.settings.mode == "pairwise":
                canonical = self._winner(choice, expect)
            shown_at = self.store.mark_served(db, item, dimension, rater, now)
            self.store.insert_answer(db, {"item": item, "dimension": dimension, "rater": rater, "value": canonical,
                                          "choice": choice, "shown": expect, "shown_at": shown_at, "labelled_at": now})
            answered = {r[0] for r in db.execute("SELECT dimension FROM answers WHERE item=? AND rater=?", (item, rater))}
            if set(self.dims) <= answered:
                db.execute("UPDATE assignments SET completed_at=? WHERE item=? AND rater=?", (now, item, rater))
        self.on_change()
        return self.next_task(rater)

    def _value(self, value: Any) -> tuple[Any, str]:
        mode = self.settings.mode
        if mode == "likert":
            if isinstance(value, bool) or not isinstance(value, int) or value not in LIKERT:
                raise BadLabel(f"a Likert answer is an integer 1-5, not {value!r}")
            return value, str(value)
        if mode == "binary":
            if value not in ("pass", "fail"):
                raise BadLabel(f"a binary answer is 'pass' or 'fail', not {value!r}")
            return value, value
        if value not in SIDES:
            raise BadLabel(f"a pairwise answer is 'left', 'right' or 'tie', not {value!r}")
        return None, value

    @staticmethod
    def _winner(side: str, shown: str) -> str:
        """The winner in the manifest's orientation from the side the rater picked."""
        if side == "tie":
            return "tie"
        left_is_a = shown == "ab"
        return "model_a" if (side == "left") == left_is_a else "model_b"

    def undo(self, rater: Any) -> dict[str, Any]:
        """Take back the rater's last answer and return that task again."""
        rater = self._rater(rater)
        now = self.clock()
        with self.store.transaction() as db:
            ans = self.store.pop_last_answer(db, rater, now)
            if ans is None:
                raise Conflict(f"{rater!r} has no answer to undo")
            db.execute("UPDATE assignments SET completed_at=NULL WHERE item=? AND rater=?", (ans.item, rater))
            db.execute("DELETE FROM served WHERE item=? AND dimension=? AND rater=?", (ans.item, ans.dimension, rater))
            # The page had moved on to a new item: give that one back, so the undone one is next.
            db.execute(
                "DELETE FROM assignments WHERE rater=? AND item!=? AND completed_at IS NULL "
                "AND item NOT IN (SELECT item FROM answers WHERE rater=?)", (rater, ans.item, rater))
        self.on_change()
        task = self.next_task(rater)
        task["undone"] = {"item": ans.item, "dimension": ans.dimension, "value": ans.value, "choice": ans.choice}
        return task

    def skip(self, rater: Any, item: Any, reason: Any = "") -> dict[str, Any]:
        """The rater's browser could not show an image of their current item: mark it and move on."""
        rater = self._rater(rater)
        if not isinstance(item, str) or item not in self.items:
            raise UnknownItem(f"no item {item!r} in this campaign")
        if open_item([a for a in self.store.assignments() if a.item == item], rater) != item:
            raise Conflict(f"item {item!r} is not {rater!r}'s current item")
        why = self.check_images(self.items[item]) or "the rater's browser could not display an image" + (
            f" ({str(reason)[:200]})" if reason else "")
        self._set_problem(item, why, rater)
        self.on_change()
        return self.next_task(rater)
