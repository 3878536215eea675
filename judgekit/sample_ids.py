"""Refusing a repeated sample id while a manifest streams, in 16 bytes per sample.

Results are keyed by sample id, so a manifest that repeats one is an error. A set of the id
strings costs about 140 bytes a sample (the string plus its set slot): 140 MB at a million
samples, the largest thing a streaming run would hold. ``SeenIds`` keeps a 120-bit digest of
each id instead, in a sorted numpy array (16 bytes each) plus a small set of the newest, merged
into the array as it grows. Two distinct ids share a digest with probability below 4e-19 at a
billion samples (the birthday bound n^2 / 2^121), so a reported duplicate is a duplicate.

    >>> seen = SeenIds()
    >>> seen.add("a"), seen.add("b"), seen.add("a")
    (True, True, False)
"""

from __future__ import annotations

import hashlib

import numpy as np

#: The newest digests wait in a set until there are this many (or 1/16 of the merged ones), so
#: merging stays O(n log n) over a run and the set stays small next to the array.
_MERGE_AT = 1024


def _digest(sample_id: str) -> bytes:
    # 15 bytes of BLAKE2b and a final 0x01: numpy's fixed-width bytes drop trailing zero bytes,
    # which would make two different digests compare equal; a non-zero last byte never ends in one.
    return hashlib.blake2b(sample_id.encode("utf-8"), digest_size=15).digest() + b"\x01"


class SeenIds:
    """The ids met so far; ``add`` says whether an id is new."""

    def __init__(self) -> None:
        self._merged = np.empty(0, dtype="S16")
        self._recent: set[bytes] = set()

    def __len__(self) -> int:
        return int(self._merged.size) + len(self._recent)

    def add(self, sample_id: str) -> bool:
        d = _digest(sample_id)
        if d in self._recent:
            return False
        if self._merged.size:
            i = int(np.searchsorted(self._merged, d))
            if i < self._merged.size and self._merged[i] == d:
                return False
        self._recent.add(d)
        if len(self._recent) >= max(_MERGE_AT, self._merged.size // 16):
            fresh = np.array(sorted(self._recent), dtype="S16")
            self._merged = np.sort(np.concatenate([self._merged, fresh]), kind="stable")
            self._recent.clear()
        return True
