"""Which item a rater labels next, and in which order a pair is shown: pure functions of the
current assignments, so they are tested without a server or a database.

Rules:

- every item goes to ``k`` distinct raters, and never twice to the same rater;
- balanced: a rater's next item is one of those held by the fewest raters so far (completed, or
  assigned and still being worked on), so that all items reach 1 label before any reaches 2 (a
  half-finished campaign then has even coverage, which is what an agreement estimate needs);
- pair layouts are counterbalanced: a pair's next rater sees the layout its earlier raters saw
  less often (:func:`counterbalanced_layout`);
- ties are broken by a hash of (seed, rater, item), so raters see the items in different but
  reproducible orders (no order effect shared by all raters);
- an assignment that stays open longer than ``ttl`` seconds (a rater who walked away) no longer
  holds its item for balancing; the rater keeps it and may still finish it when back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import InputError

#: Seconds an unfinished assignment holds its item against other raters (see the module doc).
DEFAULT_TTL = 3600.0


@dataclass(frozen=True)
class Assignment:
    item: str
    rater: str
    assigned_at: float
    completed_at: float | None = None

    @property
    def done(self) -> bool:
        return self.completed_at is not None


def _hash(*parts: object) -> int:
    # sha256, not hash(): Python salts str hashes per process, and orders must survive restarts.
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


def holders(assignments: Iterable[Assignment], now: float, ttl: float = DEFAULT_TTL) -> dict[str, set[str]]:
    """item -> the raters holding it: those who completed it, or whose open assignment is
    younger than ``ttl``."""
    out: dict[str, set[str]] = {}
    for a in assignments:
        if a.done or now - a.assigned_at < ttl:
            out.setdefault(a.item, set()).add(a.rater)
    return out


def open_item(assignments: Iterable[Assignment], rater: str) -> str | None:
    """The rater's unfinished item (the oldest, if several), to resume before anything new."""
    mine = sorted((a for a in assignments if a.rater == rater and not a.done), key=lambda a: (a.assigned_at, a.item))
    return mine[0].item if mine else None


def pick_next(
    items: Sequence[str],
    held: Mapping[str, set[str]],
    seen_by_rater: set[str],
    rater: str,
    k: int,
    seed: int = 0,
) -> str | None:
    """The next item for ``rater`` among ``items`` (labellable ids), or None when nothing is
    left for them: every other item is done by this rater or already held by ``k`` raters.

    ``seen_by_rater`` are the items the rater was ever assigned (done or not): never again.
    """
    if k < 1:
        raise InputError("k must be >= 1")
    best: tuple[int, int] | None = None
    choice = None
    for item in items:
        if item in seen_by_rater:
            continue
        n = len(held.get(item, ()))
        if n >= k:
            continue
        key = (n, _hash(seed, rater, item))
        if best is None or key < best:
            best, choice = key, item
    return choice


def counterbalanced_layout(earlier: Sequence[str], seed: int, item: str, rater: str) -> str:
    """The layout of a pair for its next rater, given the layouts its earlier raters saw: the
    one seen less often so far (with K=2 the second rater sees the first rater's opposite), the
    seeded :func:`pair_order` when both are even (the first rater)."""
    n_ab, n_ba = sum(1 for x in earlier if x == "ab"), sum(1 for x in earlier if x == "ba")
    if n_ab != n_ba:
        return "ba" if n_ab > n_ba else "ab"
    return pair_order(seed, item, rater)


def pair_order(seed: int, item: str, rater: str) -> str:
    """``"ab"`` (image_a on the left) or ``"ba"``: fixed for (seed, item, rater), so a reload or
    a restart shows the same layout, and the raters of one item see both orders about equally
    often (a position preference then cancels instead of being shared)."""
    return "ab" if _hash("pair", seed, item, rater) % 2 == 0 else "ba"
