"""Battles: pairwise outcomes between models, the input of win rates, Elo and Bradley-Terry.

A battle is ``(model_a, model_b, winner, prompt_id)`` with ``winner`` one of ``model_a``,
``model_b`` or ``tie``. Battles come from a battles file written by human raters (JSONL or CSV; read by
``judgekit.datasets.battles``), from judgekit pairwise results, or from other human-label shapes through the converters here:
per-image Likert scores of several models on one prompt and per-prompt rankings with ties
(``stats.battle_converters``).

``BattleCounts`` aggregates a table into counts per (pair, outcome) cell and draws bootstrap
resamples of whole prompts directly as count vectors, which is what makes a thousand
Bradley-Terry refits cheap.

>>> b = Battles.from_records([
...     {"model_a": "x", "model_b": "y", "winner": "model_a", "prompt_id": "p1"},
...     {"model_a": "y", "model_b": "x", "winner": "tie", "prompt_id": "p1"},
... ])
>>> b.models, b.score.tolist()
(('x', 'y'), [1.0, 0.5])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import DataError

#: Accepted ``winner`` values. A winner may also be the name of ``model_a`` or ``model_b``.
WINNER_A, WINNER_B, TIE, INCONSISTENT = "model_a", "model_b", "tie", "inconsistent"
_TIE_ALIASES = {TIE, "tie (bothbad)"}  # the second is Chatbot Arena's label for a tie of two bad answers
_LABELS = {WINNER_A, WINNER_B, INCONSISTENT, *_TIE_ALIASES}


@dataclass(frozen=True)
class Battles:
    """A battle table as arrays.

    ``a``/``b`` index ``models``; ``score`` is model_a's score (1 win, 0 loss, 0.5 tie);
    ``group`` indexes ``groups`` (prompt ids; a battle without one is its own group, so a
    bootstrap then resamples single battles). ``skipped`` counts input records left out on
    purpose (failed judge results, ``inconsistent`` outcomes when asked to drop them), by reason.
    """

    models: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    group: np.ndarray
    groups: tuple[str, ...]
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.a.size)

    @property
    def n_models(self) -> int:
        return len(self.models)

    # --- construction --------------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        model_a: Sequence[str],
        model_b: Sequence[str],
        score: Sequence[float],
        prompt_id: Sequence[str | None] | None = None,
        *,
        models: Sequence[str] | None = None,
        skipped: Mapping[str, int] | None = None,
    ) -> Battles:
        """Build from parallel columns; ``score`` is model_a's score (1, 0 or 0.5).

        With ``models`` given, a battle naming any other model is an error (that is how a
        misspelt model name is caught); without it the models are those the battles name.
        """
        ma, mb = np.asarray(model_a, dtype=object), np.asarray(model_b, dtype=object)
        s = np.asarray(score, dtype=float)
        if not (ma.shape == mb.shape == s.shape) or ma.ndim != 1:
            raise DataError("model_a, model_b and score must be 1-d columns of the same length")
        if ma.size == 0:
            raise DataError("no battles: need battles between at least two models")
        if not np.isin(s, (0.0, 0.5, 1.0)).all():
            raise DataError(f"a battle score must be 1 (model_a wins), 0 or 0.5 (tie); got {sorted(set(s.tolist()) - {0.0, 0.5, 1.0})[:5]}")
        same = np.flatnonzero(ma == mb)
        if same.size:
            raise DataError(f"battle {int(same[0]) + 1} of {ma.size}: model_a and model_b are both {ma[same[0]]!r}")
        named = sorted(set(ma.tolist()) | set(mb.tolist()))
        if models is not None:
            unknown = sorted(set(named) - set(models))
            if unknown:
                raise DataError(f"battles name models that are not in the declared list {list(models)}: {unknown}")
            named = list(models)
        names = tuple(named)
        if len(names) < 2:
            raise DataError(f"need battles between at least two models; got {list(names)}")
        index = {m: i for i, m in enumerate(names)}
        a = np.fromiter((index[m] for m in ma), dtype=np.int64, count=ma.size)
        b = np.fromiter((index[m] for m in mb), dtype=np.int64, count=mb.size)
        if prompt_id is None:
            gnames, group = tuple(f"#{i}" for i in range(ma.size)), np.arange(ma.size)
        else:
            pid = [f"#{i}" if p is None or p == "" else str(p) for i, p in enumerate(prompt_id)]
            if len(pid) != ma.size:
                raise DataError("prompt_id must have one entry per battle")
            uniq, group = np.unique(np.asarray(pid, dtype=object), return_inverse=True)
            gnames = tuple(uniq.tolist())
        return cls(names, a, b, s, np.asarray(group, dtype=np.int64), gnames, dict(skipped or {}))

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        models: Sequence[str] | None = None,
        inconsistent: str = "tie",
        dimension: str | None = None,
        source: str = "<records>",
    ) -> Battles:
        """Build from dicts with ``model_a``, ``model_b``, ``winner`` and optional ``prompt_id``.

        Also reads judgekit pairwise result records: those with ``status: failed`` are skipped
        and counted; ``winner: inconsistent`` (the judge disagreed with itself across the two
        orders) counts as a tie, or is dropped and counted with ``inconsistent="drop"``.
        ``dimension`` picks a rubric dimension's winner from a result's ``winners`` mapping.
        """
        if inconsistent not in ("tie", "drop"):
            raise DataError(f"inconsistent must be 'tie' or 'drop', not {inconsistent!r}")
        ma: list[str] = []
        mb: list[str] = []
        sc: list[float] = []
        pid: list[str | None] = []
        skipped: dict[str, int] = {}
        # Labels are positions; names are accepted where they are not labels. A source that gives
        # some winners by name and also has a model named like the *other* position's label is
        # ambiguous there ("model_b" could be the name or the position): that record is refused.
        by_name = 0
        collisions: list[str] = []
        for line, rec in enumerate(records, start=1):
            where = f"{source}: record {line}"
            if not isinstance(rec, Mapping):
                raise DataError(f"{where}: expected an object, got {type(rec).__name__}")
            if rec.get("status") == "failed":
                skipped["failed"] = skipped.get("failed", 0) + 1
                continue
            missing = [k for k in ("model_a", "model_b") if not rec.get(k)]
            if missing:
                hint = " (this looks like pointwise results: convert scores with battles_from_scores)" if "model" in rec else ""
                raise DataError(f"{where}: missing {', '.join(missing)}{hint}")
            a, b = str(rec["model_a"]), str(rec["model_b"])
            if a == b:  # caught here, where the file and record are known
                raise DataError(f"{where}: model_a and model_b are both {a!r} (a model cannot battle itself)")
            if dimension is not None:
                winners = rec.get("winners") or {}
                if dimension not in winners:
                    raise DataError(f"{where}: no winner for dimension {dimension!r}; has {sorted(winners)}")
                w = winners[dimension]
            else:
                if "winner" not in rec:
                    raise DataError(f"{where}: missing winner")
                w = rec["winner"]
            if isinstance(w, str) and w not in _LABELS and w in (a, b):
                by_name += 1
            if (w == WINNER_B and a == WINNER_B) or (w == WINNER_A and b == WINNER_A):
                collisions.append(f"{where}: winner {w!r} while model_{'a' if w == WINNER_B else 'b'} is named {w!r}")
            if collisions and by_name:
                raise DataError(
                    f"{collisions[0]}, and this source also names winners by model name: {w!r} is ambiguous "
                    "(position label or model name). Write winners as model_a / model_b / tie throughout, "
                    "or rename the models"
                )
            s = _winner_score(w, a, b, where)
            if s is None:
                if inconsistent == "drop":
                    skipped[INCONSISTENT] = skipped.get(INCONSISTENT, 0) + 1
                    continue
                s = 0.5
            ma.append(a)
            mb.append(b)
            sc.append(s)
            p = rec.get("prompt_id")
            pid.append(None if p is None else str(p))
        if not ma:
            raise DataError(f"{source}: no usable battles (skipped: {skipped or 'none'})")
        return cls.from_arrays(ma, mb, sc, pid, models=models, skipped=skipped)

    # --- views ---------------------------------------------------------------------------------

    def to_records(self) -> list[dict[str, Any]]:
        label = {1.0: WINNER_A, 0.0: WINNER_B, 0.5: TIE}
        return [
            {"model_a": self.models[i], "model_b": self.models[j], "winner": label[float(s)], "prompt_id": self.groups[g]}
            for i, j, s, g in zip(self.a, self.b, self.score, self.group, strict=True)
        ]

    def take(self, idx: np.ndarray) -> Battles:
        """The battles at ``idx`` (with repeats), over the same models and groups."""
        return Battles(self.models, self.a[idx], self.b[idx], self.score[idx], self.group[idx], self.groups, self.skipped)

    def record_counts(self) -> np.ndarray:
        """``(n_models, 3)`` wins, losses, ties of each model."""
        n = self.n_models
        out = np.zeros((n, 3), dtype=np.int64)
        for col, who, cond in (
            (0, self.a, self.score == 1.0), (0, self.b, self.score == 0.0),
            (1, self.a, self.score == 0.0), (1, self.b, self.score == 1.0),
            (2, self.a, self.score == 0.5), (2, self.b, self.score == 0.5),
        ):
            out[:, col] += np.bincount(who[cond], minlength=n)
        return out


def _winner_score(w: Any, a: str, b: str, where: str) -> float | None:
    """model_a's score for a winner label; None for ``inconsistent``."""
    if isinstance(w, str):
        # Position labels first, whatever the models are called: a model literally named
        # "model_b" sitting in position a does not win a battle labelled "model_b".
        if w in _TIE_ALIASES:
            return 0.5
        if w == WINNER_A:
            return 1.0
        if w == WINNER_B:
            return 0.0
        if w == INCONSISTENT:
            return None
        if w == a:
            return 1.0
        if w == b:
            return 0.0
    raise DataError(
        f"{where}: winner {w!r} is not one of 'model_a', 'model_b', 'tie' (or 'inconsistent' in "
        f"judgekit results, or the name {a!r} / {b!r})"
    )


# --- counts per (pair, outcome) cell, and prompt-level resampling of them -------------------------


class BattleCounts:
    """A battle table aggregated into cells (unordered pair, outcome), with bootstrap draws.

    Outcomes are relative to the pair's lower model index ``lo``: 0 = lo wins, 1 = hi wins,
    2 = tie. ``pair_n``/``pair_s`` give, per observed pair, the number of battles and ``lo``'s
    score (wins + ties/2) from any cell-count vector.

    Resampling G groups with replacement is a multinomial draw of G over the groups; groups
    whose cell counts are identical are interchangeable, so the draw is made over distinct
    group contents with their multiplicities, then mapped to cell counts by one sparse product.
    That is exactly the grouped bootstrap, at a cost that does not grow with the number of battles.
    """

    def __init__(self, battles: Battles):
        self.models = battles.models
        lo = np.minimum(battles.a, battles.b)
        hi = np.maximum(battles.a, battles.b)
        s_lo = np.where(battles.a == lo, battles.score, 1.0 - battles.score)
        outcome = np.where(s_lo == 1.0, 0, np.where(s_lo == 0.0, 1, 2))
        n = battles.n_models
        key = (lo * n + hi) * 3 + outcome
        cell_key, cell_of = np.unique(key, return_inverse=True)
        self.cell_lo = cell_key // 3 // n
        self.cell_hi = cell_key // 3 % n
        self.cell_outcome = cell_key % 3
        self.total = np.bincount(cell_of, minlength=cell_key.size).astype(float)
        pair_key, self._pair_of_cell = np.unique(cell_key // 3, return_inverse=True)
        self.pair_lo, self.pair_hi = pair_key // n, pair_key % n
        n_cells, n_pairs = cell_key.size, pair_key.size
        s_weight = np.choose(self.cell_outcome, [1.0, 0.0, 0.5])
        cols = np.arange(n_cells)
        self._to_n = sp.csr_matrix((np.ones(n_cells), (cols, self._pair_of_cell)), shape=(n_cells, n_pairs))
        self._to_s = sp.csr_matrix((s_weight, (cols, self._pair_of_cell)), shape=(n_cells, n_pairs))
        # Distinct group contents (rows of the group x cell count matrix) and their multiplicities.
        g = sp.csr_matrix(
            (np.ones(len(battles)), (battles.group, cell_of)), shape=(len(battles.groups), n_cells)
        )
        g.sum_duplicates()
        g = g[np.diff(g.indptr) > 0]  # groups with no battle (none normally) carry nothing
        self.n_groups = g.shape[0]
        seen: dict[bytes, int] = {}
        type_of = np.empty(self.n_groups, dtype=np.int64)
        for r in range(self.n_groups):
            s0, s1 = g.indptr[r], g.indptr[r + 1]
            k = g.indices[s0:s1].tobytes() + g.data[s0:s1].tobytes()
            type_of[r] = seen.setdefault(k, len(seen))
        first = np.unique(type_of, return_index=True)[1]
        self._types = g[first]  # (n_types, n_cells)
        self._type_p = np.bincount(type_of).astype(float) / self.n_groups

    @property
    def n_pairs(self) -> int:
        return int(self.pair_lo.size)

    def pair_totals(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(battles per pair, lo's score per pair) for cell counts of shape (C,) or (R, C)."""
        return self._right(cells, self._to_n), self._right(cells, self._to_s)

    @staticmethod
    def _right(x: np.ndarray, m: sp.csr_matrix) -> np.ndarray:
        return np.asarray((m.T @ x.T).T)

    def resample(self, n_boot: int, rng: np.random.Generator, chunk: int = 100) -> Iterator[np.ndarray]:
        """Yield cell-count arrays of shape (<= chunk, C), n_boot rows in all, each the counts
        of one bootstrap resample of the groups."""
        done = 0
        while done < n_boot:
            r = min(chunk, n_boot - done)
            mult = rng.multinomial(self.n_groups, self._type_p, size=r).astype(float)
            yield np.asarray((self._types.T @ mult.T).T)
            done += r
