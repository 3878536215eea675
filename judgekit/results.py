"""Results: one record per sample, saved as JSONL, with a per-model summary.

    >>> res = load_results("results.jsonl")          # doctest: +SKIP
    >>> print(res.summary())                          # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataError
from .io import iter_jsonl
from .stats.bootstrap import DEFAULT_N_BOOT
from .summaries import Summary, require_pandas, summarize
from .types import Result

if TYPE_CHECKING:
    import pandas


class Results:
    """The records of a run, in manifest order, plus what produced them."""

    def __init__(self, records: Iterable[Result], run_info: dict[str, Any] | None = None):
        self.records: list[Result] = list(records)
        self.run_info = run_info or {}

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Result]:
        return iter(self.records)

    def __getitem__(self, i: int) -> Result:
        return self.records[i]

    def __repr__(self) -> str:
        failed = sum(r.status == "failed" for r in self.records)
        return f"Results({len(self.records)} records, {failed} failed)"

    @property
    def kind(self) -> str:
        for r in self.records:
            return r.provenance.get("kind", "pointwise")
        return "pointwise"

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.records if r.status == "failed"]

    def summary(self, n_boot: int = DEFAULT_N_BOOT, seed: int = 0, over: str | None = None, **options: Any) -> Summary:
        """Per-model summary; pairwise results get win rates and position consistency; a file
        that mixes rubrics gets one table per rubric.
        ``over="seeds"``: best/worst/mean of N, variance components and seeds needed
        (``judgekit.seed_summary``; ``options`` go to it)."""
        if over == "seeds":
            from .seed_summary import seed_summary

            return seed_summary(self.records, n_boot=n_boot, seed=seed, **options)  # type: ignore[return-value]
        if over is not None or options:
            from .errors import ConfigError

            raise ConfigError(f"summary(over=...) takes 'seeds' or nothing; got over={over!r}")
        return summarize(self.records, n_boot=n_boot, seed=seed)

    def to_pandas(self, long: bool = False) -> pandas.DataFrame:
        """One row per sample (``scores`` spread into ``score.<dimension>`` columns), or with
        ``long=True`` one row per sample and dimension."""
        pd = require_pandas()
        rows = []
        for r in self.records:
            base = {
                "sample_id": r.sample_id,
                "prompt_id": r.prompt_id,
                "model": r.model,
                "seed": r.seed,
                "rubric": r.rubric,
                "status": r.status,
                "overall": r.overall,
                "error": r.error,
            }
            extra = {k: v for k, v in (r.model_extra or {}).items() if not isinstance(v, dict | list)}
            if long:
                for dim, score in r.scores.items():
                    rows.append({**base, **extra, "dimension": dim, "score": score, "reasoning": r.reasoning.get(dim)})
                if not r.scores:  # failed before any dimension was judged: still one row, never dropped
                    rows.append({**base, **extra, "dimension": None, "score": None, "reasoning": None})
            else:
                rows.append({**base, **extra, **{f"score.{k}": v for k, v in r.scores.items()}})
        return pd.DataFrame(rows)

    def save(self, path: str | Path) -> None:
        """Write JSONL atomically (a crash never leaves half a file under the final name)."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for r in self.records:
                fh.write(r.model_dump_json() + "\n")
        os.replace(tmp, p)


def load_results(path: str | Path) -> Results:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"results file {p} does not exist")
    records = []
    for where, rec in iter_jsonl(p, "results file"):
        try:
            records.append(Result.model_validate(rec))
        except ValueError as exc:
            raise DataError(f"{where}: not a judgekit result record ({str(exc).splitlines()[0]})") from None
    return Results(records)
