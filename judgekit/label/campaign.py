"""A labelling campaign: the items, the questions asked about each (one per rubric dimension),
the store, and the operations the web app exposes (identify, next task, answer, undo, skip,
the pictures of a task).

Everything here is plain Python over :class:`~judgekit.label.store.LabelStore`; the ASGI app
only maps these calls and their exceptions onto HTTP. Rule violations raise subclasses of
:class:`~judgekit.errors.DataError` that carry the HTTP status the app answers with.

Blinding: what a rater receives (tasks, refusals, pictures) names an item only by its opaque
per-rater handle; no item id, model name or file path reaches a rater, and error messages meant
for raters never quote one. Problem details are the operator's (``campaign_status``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import DataError, SampleError
from .assign import counterbalanced_layout, holders, open_item, pair_order, pick_next
from .items import Item, inside_root, manifest_root
from .pixels import Picture, PictureCache
from .settings import LIKERT, BadLabel, RatingQuestion, Settings, clean_rater
from .store import OPERATOR, RATER, Conflict, LabelStore

__all__ = ["Campaign", "RatingQuestion", "Settings", "BadLabel", "clean_rater", "HTTP_STATUS", "picture_tag"]

SIDES = ("left", "right", "tie")


class UnknownItem(DataError):
    """HTTP 404."""


class UnknownRater(DataError):
    """HTTP 404: a name that never joined (the page always joins first)."""


class Unauthorized(DataError):
    """HTTP 401: no token, or a token this campaign never issued."""


class Forbidden(DataError):
    """HTTP 403: a valid token asking for what its role may not do (e.g. joining by name when
    raters are invited)."""


#: The HTTP status the app answers each refusal with (``Conflict``, from the store, is 409).
HTTP_STATUS = {UnknownItem: 404, UnknownRater: 404, BadLabel: 422, Conflict: 409, Unauthorized: 401, Forbidden: 403}

def picture_tag(handle: str, field: str) -> str:
    """The opaque name of one image of a task (stable, so the browser's cache and a prefetch
    stay valid whatever layout the pair is shown in)."""
    return hashlib.sha256(f"{handle}\x1f{field}".encode()).hexdigest()[:12]


class Campaign:
    def __init__(self, items: list[Item], store: LabelStore, settings: Settings, manifest: str,
                 clock: Callable[[], float] = time.time, pictures: PictureCache | None = None):
        self.items = {i.id: i for i in items}
        self.order = [i.id for i in items]
        self.store, self.settings, self.clock = store, settings, clock
        self.root = manifest_root(manifest)
        self.manifest = str(Path(manifest).resolve())  # --status may run from another folder
        self.dims = [q.dimension for q in settings.questions]
        #: Problems found when the manifest was read (missing file, outside the folder): fixed.
        self.static_problems: dict[str, str] = {i.id: i.problem for i in items if i.problem}
        if items and len(self.static_problems) == len(items):
            first = items[0]
            raise DataError(f"{manifest}: no item can be labelled ({len(items)} items); the first, "
                            f"{first.id!r}: {first.problem}")
        unknown = [g for g in settings.gold if g not in self.items]
        if unknown:
            raise DataError(f"gold answers for items not in the manifest: {', '.join(map(repr, unknown[:5]))}")
        store.bind({**settings.bound(), "manifest": self.manifest}, fixed=("mode", "dimensions", "seed"))
        self.pictures = pictures or PictureCache()
        self.on_change: Callable[[], None] = lambda: None  # the exporter hooks in here
        if settings.rubric is None and settings.title == Settings.title:
            # Never the manifest's name: a file called flux_vs_sdxl.jsonl would unblind raters.
            settings.title = {"pairwise": "which image is better", "binary": "pass or fail"}.get(settings.mode,
                                                                                                  "image rating")

    # --- what the page needs ----------------------------------------------------------------

    @property
    def problems(self) -> dict[str, str]:
        """item -> why it cannot be labelled: found at start-up, or withdrawn by the server later
        (read from the store each time, so ``judgekit label --restore`` acts on a running server)."""
        out = dict(self.static_problems)
        out.update({k: v for k, v in self.store.problems().items() if k in self.items and k not in out})
        return out

    def labellable(self) -> list[str]:
        problems = self.problems
        return [i for i in self.order if i not in problems]

    def everyone(self, labellable: list[str]) -> list[str]:
        """Items every rater labels, first: the overlap (the first ``overlap`` labellable items)
        and the gold items."""
        gold = [i for i in labellable if i in self.settings.gold]
        overlap = [i for i in labellable if i not in self.settings.gold][: self.settings.overlap]
        return overlap + gold

    def config(self) -> dict[str, Any]:
        """What every page shows (no token needed): nothing here names an item, a model or a file."""
        s = self.settings
        return {
            "mode": s.mode, "title": s.title, "description": s.description, "raters_per_item": s.k,
            "questions": [{"dimension": q.dimension, "criteria": q.criteria} for q in s.questions],
            "anchors": {str(k): v for k, v in s.anchors.items()}, "items": len(self.order),
            "problems": len(self.problems),
        }

    def progress(self, rater: str) -> dict[str, int]:
        labellable = self.labellable()
        n_everyone = len(self.everyone(labellable))  # labelled by every rater, however many there are
        per_everyone = max(self.settings.k, len(self.store.raters()))
        target = ((len(labellable) - n_everyone) * self.settings.k + n_everyone * per_everyone) * len(self.dims)
        return {"done": self.store.count_done(rater), "total": len(labellable), "labels": self.store.count_answers(),
                "target": target}

    # --- identity ------------------------------------------------------------------------------

    def join(self, name: Any) -> str:
        """Add a rater by name (from Python, which is trusted); the web app uses ``claim`` or tokens."""
        name = clean_rater(name)
        self.store.add_rater(name, self.clock())
        return name

    def invite(self, name: Any) -> str:
        """The rater's secret token (the same one on every call, so links stay valid)."""
        return self.store.issue_token(clean_rater(name), RATER, self.clock())

    def claim(self, name: Any) -> tuple[str, str]:
        """A new rater joining by name (only where the operator has not invited raters): their
        name and token. A name already in use is refused, so nobody can continue as someone else."""
        name = clean_rater(name)
        token = self.store.claim_name(name, self.clock())
        if token is None:
            raise Conflict("that name is taken: to continue as that rater, open their personal link; "
                           "otherwise pick another name")
        return name, token

    def operator_token(self) -> str:
        return self.store.issue_token("operator", OPERATOR, self.clock())

    def identify(self, token: Any, role: str = RATER) -> str:
        """The rater a token belongs to; Unauthorized for no token or an unknown one."""
        if not isinstance(token, str) or not token:
            raise Unauthorized("this page needs your personal link (it ends in ?token=...); ask the organiser")
        owner = self.store.token_owner(token)
        if owner is None:
            raise Unauthorized("this link is not valid for this campaign; ask the organiser for yours")
        if owner[0] != role:
            raise Forbidden(f"this token is for the {owner[0]}, not a {role}")
        return owner[1]

    def _rater(self, name: Any) -> str:
        name = clean_rater(name)
        if not self.store.has_rater(name):
            raise UnknownRater("unknown rater: enter your name on the start page first")
        return name

    def _item_of(self, rater: str, task: Any) -> str:
        item = self.store.handle_item(task, rater) if isinstance(task, str) else None
        if item is None or item not in self.items:
            raise UnknownItem("no such task for you; reload the page")
        return item

    def item_of(self, rater: str, task: str) -> str:
        """The item behind a task handle (for the operator, tests and scripts: never sent to raters)."""
        return self._item_of(clean_rater(rater), task)

    # --- operations ----------------------------------------------------------------------------

    def next_task(self, rater: Any) -> dict[str, Any]:
        """The rater's current task (their unfinished item first, else a new assignment), or
        ``{"done": True}`` when nothing is left for them."""
        rater = self._rater(rater)
        while True:
            labellable = self.labellable()
            now = self.clock()
            self._warm(rater, labellable, now)
            with self.store.transaction() as db:
                assignments = self.store.assignments()
                item = open_item([a for a in assignments if a.item in self.items], rater)
                fresh = item is None
                if item is None:  # (= fresh; spelled out so the type checker narrows item)
                    item = self._pick(rater, labellable, assignments, now)
                    if item is None:
                        return {"done": True, "progress": self.progress(rater)}
                why = self.problems.get(item) or self.check_images(self.items[item])
                if why is None:
                    if fresh:
                        db.execute("INSERT INTO assignments (item, rater, assigned_at, shown) VALUES (?, ?, ?, ?)",
                                   (item, rater, now, self._new_layout(item, rater)))
                    answered = {a.dimension for a in self.store.answers(rater=rater, item=item)}
                    todo = [d for d in self.dims if d not in answered]
                    if not todo:  # every question answered but not closed (cannot happen via the API)
                        db.execute("UPDATE assignments SET completed_at=? WHERE item=? AND rater=?", (now, item, rater))
                        continue
                    shown_at = self.store.mark_served(db, item, todo[0], rater, now)
            if why is not None:  # found broken when about to be shown: withdrawn, never a crash
                self._withdraw(item, why, rater)
                continue
            task = self._task(self.items[item], todo[0], rater, shown_at)
            task["progress"] = self.progress(rater)
            task["prefetch"] = self._prefetch(rater, item, labellable)
            return task

    def _warm(self, rater: str, labellable: list[str], now: float) -> None:
        """Decode the images of the item the rater is about to get before the write lock is
        taken (the check inside it then hits the picture cache), so one large image never
        holds every other rater's answer up."""
        assignments = self.store.assignments()
        item = open_item([a for a in assignments if a.item in self.items], rater) or \
            self._pick(rater, labellable, assignments, now)
        if item is not None and item not in self.static_problems:
            self.check_images(self.items[item])

    def _pick(self, rater: str, labellable: list[str], assignments, now: float) -> str | None:
        seen = {a.item for a in assignments if a.rater == rater} | {i for i, _, _ in self.store.skipped(rater)}
        everyone = [i for i in self.everyone(labellable) if i not in seen]
        if everyone:  # overlap and gold items first: a pilot yields agreement and gold checks early
            return pick_next(everyone, {}, seen, rater, 1, self.settings.seed)
        return pick_next(labellable, holders(assignments, now, self.settings.ttl), seen, rater, self.settings.k,
                         self.settings.seed)

    def _prefetch(self, rater: str, current: str, labellable: list[str]) -> list[str]:
        """URLs of the images the rater will most likely see next, for the page to load ahead."""
        # The current item is among the rater's assignments, so it is never its own successor.
        nxt = self._pick(rater, labellable, self.store.assignments(), self.clock())
        if nxt is None:
            return []
        h = self.store.handle(nxt, rater)
        return [f"/img/{h}/{picture_tag(h, f)}" for f in self.items[nxt].images]

    def _new_layout(self, item: str, rater: str) -> str | None:
        """The pair layout of a new assignment: the opposite of the layout the item's earlier
        raters saw more often (counterbalanced: with K=2 the second rater sees the other
        layout), the seeded hash for the first rater."""
        if self.settings.mode != "pairwise":
            return None
        return counterbalanced_layout(list(self.store.layouts(item).values()), self.settings.seed, item, rater)

    def _layout(self, item: str, rater: str) -> str:
        if self.settings.mode != "pairwise":
            return ""
        return self.store.layouts(item).get(rater) or pair_order(self.settings.seed, item, rater)

    def check_images(self, item: Item) -> str | None:
        """Why the item's images cannot be shown (None when they can): outside the manifest's
        folder, or refused by the judge's image policy, or not decodable in full."""
        for f, p in item.images.items():
            if not inside_root(p, self.root):
                return f"{f}: image path is outside the manifest's folder: {item.written[f]}"
            try:
                self.pictures.get(p, "view")
            except SampleError as exc:
                return f"{f}: {str(exc).replace(p, item.written[f])}"
        return None

    def _withdraw(self, item: str, why: str, rater: str) -> None:
        """The server cannot show the item: out of the campaign for everyone until restored."""
        self.store.report_problem(item, why, self.clock())
        with self.store.transaction() as db:
            # Release the rater's slot; answers already given for the item stay (they were submitted).
            if db.execute("SELECT 1 FROM answers WHERE item=? AND rater=?", (item, rater)).fetchone():
                db.execute("UPDATE assignments SET completed_at=? WHERE item=? AND rater=?", (self.clock(), item, rater))
            else:
                db.execute("DELETE FROM assignments WHERE item=? AND rater=?", (item, rater))

    def restore(self, items: list[str] | None = None) -> list[str]:
        """Put withdrawn items back (``None``: all); an item still broken is withdrawn again when
        it is next about to be shown."""
        return self.store.restore(items)

    def _task(self, item: Item, dimension: str, rater: str, shown_at: float) -> dict[str, Any]:
        q = next(q for q in self.settings.questions if q.dimension == dimension)
        shown = self._layout(item.id, rater)
        fields = list(item.images)
        if shown == "ba":
            fields.reverse()
        names = {"image_a": None, "image_b": None, "source_image": "source", "image": "image"}
        handle = self.store.handle(item.id, rater)
        images = []
        for pos, f in enumerate(fields):
            label = ("A", "B")[pos] if f in ("image_a", "image_b") else names[f]
            url = f"/img/{handle}/{picture_tag(handle, f)}"
            images.append({"url": url, "full": url + "?full=1", "label": label})
        return {"done": False, "task": handle, "dimension": dimension, "criteria": q.criteria,
                "question": self.dims.index(dimension) + 1, "questions": len(self.dims),
                "prompt": (item.prompt or "") if q.show_prompt else None,
                "prompt_label": "instruction" if "source_image" in item.images else "prompt",
                "images": images, "shown": shown, "shown_at": shown_at}

    def picture(self, rater: Any, handle: Any, tag: Any, full: bool = False) -> Picture:
        """One image of one of the rater's tasks (the judge's pixels; see :mod:`.pixels`)."""
        rater = self._rater(rater)
        item = self._item_of(rater, handle)
        it = self.items[item]
        field_ = next((f for f in it.images if picture_tag(handle, f) == tag), None)
        if field_ is None or item in self.problems:
            raise UnknownItem("no such image")
        if not inside_root(it.images[field_], self.root):
            raise UnknownItem("no such image")
        try:
            return self.pictures.get(it.images[field_], "full" if full else "view")
        except SampleError:
            raise UnknownItem("this image cannot be shown") from None

    def answer(self, rater: Any, task: Any, dimension: Any, value: Any, shown: Any = "") -> dict[str, Any]:
        """Record one answer, then return the next task. Raises UnknownItem (404), BadLabel
        (422) or Conflict (409: not your item, already answered, a stale pair layout)."""
        rater = self._rater(rater)
        item = self._item_of(rater, task)
        if dimension is None and self.dims == [""]:
            dimension = ""
        if dimension not in self.dims:
            raise BadLabel(f"no question {dimension!r}; the questions are {self.dims}")
        canonical, choice = self._value(value)
        now = self.clock()
        with self.store.transaction() as db:
            row = db.execute("SELECT completed_at, shown FROM assignments WHERE item=? AND rater=?",
                             (item, rater)).fetchone()
            if row is None:
                raise Conflict("this task is not assigned to you (any more); reload the page")
            if row[0] is not None:
                raise Conflict("you already finished this task")
            expect = (row[1] or pair_order(self.settings.seed, item, rater)) if self.settings.mode == "pairwise" else ""
            if (shown or "") != expect:
                raise Conflict(f"the page showed a layout {shown!r} the server did not serve; reload")
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
                raise Conflict("you have no answer to undo")
            db.execute("UPDATE assignments SET completed_at=NULL WHERE item=? AND rater=?", (ans.item, rater))
            db.execute("DELETE FROM served WHERE item=? AND dimension=? AND rater=?", (ans.item, ans.dimension, rater))
            # The page had moved on to a new item: give that one back, so the undone one is next.
            db.execute(
                "DELETE FROM assignments WHERE rater=? AND item!=? AND completed_at IS NULL "
                "AND item NOT IN (SELECT item FROM answers WHERE rater=?)", (rater, ans.item, rater))
        self.on_change()
        task = self.next_task(rater)
        task["undone"] = {"dimension": ans.dimension, "value": ans.value, "choice": ans.choice}
        return task

    def skip(self, rater: Any, task: Any, reason: Any = "") -> dict[str, Any]:
        """The rater cannot label their current item (e.g. an image did not load in their
        browser): it leaves *their* queue only, and another rater takes the slot. The item is
        withdrawn for everyone only when the server itself cannot decode it."""
        rater = self._rater(rater)
        item = self._item_of(rater, task)
        if open_item([a for a in self.store.assignments() if a.item == item], rater) != item:
            raise Conflict("this is not your current task; reload the page")
        why = self.check_images(self.items[item])
        if why is not None:
            self._withdraw(item, why, rater)
        else:
            now = self.clock()
            note = str(reason)[:200] if reason else "skipped"
            with self.store.transaction() as db:
                db.execute("INSERT OR REPLACE INTO skips VALUES (?, ?, ?, ?)", (item, rater, note, now))
                # Answers to the item's earlier questions leave with it (kept in `undone`), so
                # the item is not counted half-done for this rater.
                while True:
                    row = db.execute("SELECT seq FROM answers WHERE item=? AND rater=? ORDER BY seq DESC LIMIT 1",
                                     (item, rater)).fetchone()
                    if row is None:
                        break
                    db.execute("INSERT INTO undone SELECT seq, item, dimension, rater, value, choice, shown, shown_at, "
                               "labelled_at, ? FROM answers WHERE seq=?", (now, row[0]))
                    db.execute("DELETE FROM answers WHERE seq=?", (row[0],))
                db.execute("DELETE FROM assignments WHERE item=? AND rater=?", (item, rater))
                db.execute("DELETE FROM served WHERE item=? AND rater=?", (item, rater))
        self.on_change()
        return self.next_task(rater)
