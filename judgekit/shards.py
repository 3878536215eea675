"""Shards of a manifest: ``--shard i/N`` judges the samples whose id hashes to part ``i``.

A sample's shard depends on its id alone (a SHA-256 of the id, modulo N), never on its position
in the manifest: appending samples to a manifest, or reordering it, leaves every existing sample
in the shard it was in, so a part judged yesterday stays valid. Shards are numbered 1..N, so
``--shard 3/16`` reads as "the third of sixteen".

    >>> shard_of("s1", 4) in (1, 2, 3, 4)
    True
    >>> parse_shard("3/16")
    Shard(index=3, count=16)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import ConfigError
from .types import Sample


@dataclass(frozen=True)
class Shard:
    index: int  # 1..count
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def to_json(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count}


def parse_shard(text: str | Shard | tuple[int, int]) -> Shard:
    """``"3/16"`` (or a ``(3, 16)`` pair) -> ``Shard(3, 16)``; anything else is a ``ConfigError``."""
    if isinstance(text, tuple):
        index, count = text
    else:
        head, sep, tail = str(text).partition("/")
        try:
            index, count = int(head), int(tail)
        except ValueError:
            index = count = 0
        if not sep:
            count = 0
    if count < 1 or not 1 <= index <= count:
        raise ConfigError(f"--shard {text!r} is not understood: expected I/N with 1 <= I <= N, e.g. 3/16")
    return Shard(int(index), int(count))


def shard_of(sample_id: str, count: int) -> int:
    """The shard (1..count) that ``sample_id`` belongs to. Stable across runs, machines and
    Python versions (no ``hash()``, whose value is salted per process)."""
    digest = hashlib.sha256(sample_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select_shard(samples: Iterable[Sample], shard: Shard) -> Iterator[Sample]:
    """The samples of ``samples`` that belong to ``shard``, in their manifest order (lazy, so a
    streamed manifest stays streamed)."""
    return (s for s in samples if shard_of(s.id, shard.count) == shard.index)


__all__ = ["Shard", "parse_shard", "select_shard", "shard_of"]
