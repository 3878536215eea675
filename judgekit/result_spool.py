"""The results file of a run, written as samples finish and put in manifest order at the end,
without holding the records in memory.

A run over a streamed manifest (a JSONL file, a Parquet table) with ``out`` keeps no record in
the driver: each result goes to disk as its sample finishes, and only where its line lies is
remembered (two 8-byte integers per sample in ``array`` form, 16 MB for a million samples,
against several kilobytes per record held as objects). At the end the lines are copied in
manifest order into a new file that replaces the first one; the records are read back from it
only when someone asks for them (``SpooledRecords``).

    >>> import tempfile, pathlib
    >>> from judgekit.types import Result
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "results.jsonl"
    >>> spool = ResultSpool(p)
    >>> spool.write(1, Result(sample_id="b", rubric="r", status="ok"))
    >>> spool.write(0, Result(sample_id="a", rubric="r", status="ok"))
    >>> [r.sample_id for r in spool.finish()]
    ['a', 'b']
"""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

from .io import iter_jsonl_models
from .types import Result

#: Lines reach the disk within this many seconds, without a system call per line.
FLUSH_EVERY_S = 0.5


class SpooledRecords:
    """The records of a results file, read from disk each time they are iterated: what a run
    that kept nothing in memory hands back. Sized, so a card can count them without a copy."""

    def __init__(self, path: Path, count: int):
        self.path, self.count = path, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Result]:
        return iter_jsonl_models(self.path, Result, "results file", "judgekit result record")


class ResultSpool:
    """Results written in the order samples finish; ``finish`` puts them in manifest order."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Binary, so each line's offset is simply the bytes written before it.
        self._fh = path.open("wb")
        self._end = 0
        self._start = array("q")  # per manifest index: byte offset of its line, -1 when none
        self._length = array("q")
        self._flushed = time.monotonic()
        self.count = 0
        self._overwritten = False

    def write(self, index: int, result: Result) -> None:
        line = result.model_dump_json().encode("utf-8") + b"\n"
        if index >= len(self._start):
            grow = index + 1 - len(self._start)
            self._start.extend([-1] * grow)
            self._length.extend([0] * grow)
        if self._start[index] < 0:
            self.count += 1
        else:  # written again (an internal error after writing): only the last line may stay
            self._overwritten = True
        self._fh.write(line)
        self._start[index], self._length[index] = self._end, len(line)
        self._end += len(line)
        now = time.monotonic()
        if now - self._flushed > FLUSH_EVERY_S:  # a reader (or a killed run's user) sees it soon
            self._fh.flush()
            self._flushed = now

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def finish(self) -> SpooledRecords:
        """Close the file and rewrite it in manifest order (atomically: a crash meanwhile leaves
        the file as written, in the order the samples finished)."""
        self.close()
        if self._overwritten or not _ascending(self._start):
            tmp = self.path.with_name(self.path.name + ".tmp")
            with self.path.open("rb") as src, tmp.open("wb") as dst:
                for start, length in zip(self._start, self._length, strict=True):
                    if start >= 0:
                        src.seek(start)
                        dst.write(src.read(length))
            os.replace(tmp, self.path)
        return SpooledRecords(self.path, self.count)


def _ascending(starts: array) -> bool:
    """Whether the lines already lie in manifest order (then there is nothing to rewrite)."""
    last = -1
    for start in starts:
        if start >= 0:
            if start < last:
                return False
            last = start
    return True
