"""Batched image loading in DataLoader worker processes.

Decoding and resizing run in workers; failures do not escape a worker as a re-wrapped traceback:
each item comes back as ``(index, value, error)`` so the caller can either raise a clean error
naming the file (set metrics such as FID) or record a failed sample (per-image metrics).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DataError
from . import _deps
from .images import read_rgb


def default_workers() -> int:
    return max(0, min(8, (os.cpu_count() or 1) - 1))


@dataclass(frozen=True)
class Loaded:
    index: int
    value: Any  # whatever ``prepare`` returned, or None on failure
    error: str | None


class _Items:
    """Dataset over tuples of paths; ``prepare`` gets one RGB array per path (picklable)."""

    def __init__(self, items: Sequence[tuple[Any, ...]], prepare: Callable[..., Any]):
        self.items, self.prepare = list(items), prepare

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Loaded:
        try:
            arrays = [read_rgb(p) for p in self.items[i]]
            return Loaded(i, self.prepare(*arrays), None)
        except DataError as exc:
            return Loaded(i, None, str(exc))
        except Exception as exc:  # a bad file must never take the run down
            return Loaded(i, None, f"{self.items[i]}: {type(exc).__name__}: {exc}")


def _as_list(batch: list[Loaded]) -> list[Loaded]:
    return batch


def _worker_init(_: int) -> None:
    # N workers x M intra-op threads would oversubscribe the cores the main process computes on.
    _deps.torch().set_num_threads(1)


def load_items(
    items: Sequence[tuple[Any, ...]],
    prepare: Callable[..., Any],
    *,
    batch_size: int = 32,
    num_workers: int | None = None,
    progress: bool | str = False,
) -> Iterator[list[Loaded]]:
    """Yield lists of ``Loaded`` (in order) of at most ``batch_size`` items."""
    torch = _deps.torch()
    workers = default_workers() if num_workers is None else num_workers
    loader = torch.utils.data.DataLoader(
        _Items(items, prepare),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        collate_fn=_as_list,
        worker_init_fn=_worker_init if workers else None,
        persistent_workers=False,
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(items),
            desc=progress if isinstance(progress, str) else None,
            unit="img",
            file=sys.stderr,
        )
    try:
        for batch in loader:
            yield batch
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()


def stack_same_shape(values: Sequence[Any]) -> Iterator[tuple[list[int], Any]]:
    """Group consecutive tensors (or tuples of tensors) of equal shape and stack each group:
    images of different sizes cannot share a batch."""
    torch = _deps.torch()

    def shape(v: Any) -> Any:
        return tuple(tuple(t.shape) for t in v) if isinstance(v, tuple) else tuple(v.shape)

    start = 0
    while start < len(values):
        end = start + 1
        while end < len(values) and shape(values[end]) == shape(values[start]):
            end += 1
        group = values[start:end]
        if isinstance(group[0], tuple):
            stacked = tuple(torch.stack([g[k] for g in group]) for k in range(len(group[0])))
        else:
            stacked = torch.stack(list(group))
        yield list(range(start, end)), stacked
        start = end
