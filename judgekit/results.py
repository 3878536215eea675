"""Results: one record per sample, saved as JSONL, with a per-model summary.

    >>> res = load_results("results.jsonl")          # doctest: +SKIP
    >>> print(res.summary())                          # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataError
from .io import read_jsonl_models
from .judge_card import build_card, mixed_note
from .memory_images import InMemoryImage, write_image_file
from .repeat_summary import repeat_lines, repeat_rows
from .result_spool import SpooledRecords
from .stats.bootstrap import DEFAULT_N_BOOT
from .summaries import Summary, require_pandas, summarize
from .types import Result

if TYPE_CHECKING:
    import pandas


class Results:
    """The records of a run, in manifest order, plus what produced them.

    A run with ``out`` over a streamed manifest (a path, a table) returns Results backed by that
    file: its records are read from it the first time they are used, so keep the file until then."""

    def __init__(self, records: Iterable[Result], run_info: dict[str, Any] | None = None,
                 images: Mapping[str, InMemoryImage] | None = None):
        # Records a run left on disk (result_spool.py) are read the first time they are asked for:
        # a run over a streamed manifest returns without ever holding them all.
        self._records: list[Result] | SpooledRecords = records if isinstance(records, SpooledRecords) else list(records)
        self.run_info = run_info or {}
        # Images judged from memory, by SHA-256: what ``save(save_images=...)`` writes out.
        self.images: dict[str, InMemoryImage] = dict(images or {})

    @property
    def records(self) -> list[Result]:
        if isinstance(self._records, SpooledRecords):
            self._records = list(self._records)
        return self._records

    @records.setter
    def records(self, value: list[Result]) -> None:
        self._records = value

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Result]:
        return iter(self.records)

    def __getitem__(self, i: int) -> Result:
        return self.records[i]

    def __repr__(self) -> str:
        if isinstance(self._records, SpooledRecords):  # cheap: asyncio reprs a task's result
            return f"Results({len(self._records)} records in {self._records.path})"
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
        records, modes_note = split_scoring_modes(self.records)
        out = summarize(records, n_boot=n_boot, seed=seed)
        if modes_note:
            out.notes.append(modes_note)
        mixed = mixed_note(self.records)  # answers from several served models are never mixed silently
        if mixed:
            out.notes.append(mixed)
        out.notes.extend(repeat_lines(repeat_rows(self.records)))  # the judge's own noise, with --repeats
        return out

    def repeat_agreement(self) -> list[dict[str, Any]]:
        """Per dimension, the judge's agreement with itself over ``--repeats K`` (empty without
        repeats): ``judgekit.repeat_summary.repeat_rows``."""
        return repeat_rows(self.records)

    def card(self, results_file: str | None = None) -> dict[str, Any]:
        """The judge card of these records: who answered, with counts (``judgekit.judge_card``)."""
        return build_card(self.records, self.run_info, results_file)

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

    def save(self, path: str | Path, save_images: str | Path | None = None) -> None:
        """Write JSONL atomically (a crash never leaves half a file under the final name).

        Images judged from memory are recorded by their SHA-256; with ``save_images=DIR`` each
        is written there once (``<sha256>.png``, or the format of the bytes given) and the
        saved records name that file instead."""
        p = Path(path)
        # Read from disk as written when the records were never loaded (a spooled run: memory stays flat).
        records: Iterable[Result] = self._records
        if save_images is not None:
            records = [self._with_image_files(r, Path(save_images)) for r in records]
        tmp = p.with_name(p.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(r.model_dump_json() + "\n")
        os.replace(tmp, p)

    def _with_image_files(self, r: Result, folder: Path) -> Result:
        inputs = (r.model_extra or {}).get("inputs")
        if not isinstance(inputs, dict) or not any(isinstance(v, dict) for v in inputs.values()):
            return r
        new = dict(inputs)
        for field, ref in inputs.items():
            if not isinstance(ref, dict) or "sha256" not in ref:
                continue
            img = self.images.get(ref["sha256"])
            if img is None:
                raise DataError(
                    f"sample {r.sample_id!r}: its {field} was judged from memory and these results no longer hold it "
                    "(images are kept only for samples given as a list, not for streamed or reloaded results)"
                )
            new[field] = str(write_image_file(img, folder))
        out = r.model_copy()
        setattr(out, "inputs", new)  # noqa: B010
        return out


def mode_labelled(r: Result) -> Result:
    """``r`` with its scoring mode in its model name (``sdxl [text]``)."""
    return r.model_copy(update={"model": f"{r.model or '(none)'} [{(r.model_extra or {}).get('scoring_mode', 'unknown')}]"})


def mixed_mode_rubrics(records: Iterable[Result]) -> dict[str, dict[str, int]]:
    """The rubrics whose records carry more than one ``scoring_mode``, with counts per mode."""
    modes: dict[str, dict[str, int]] = {}
    for r in records:
        mode = (r.model_extra or {}).get("scoring_mode")
        if mode:
            per = modes.setdefault(r.rubric, {})
            per[mode] = per.get(mode, 0) + 1
    return {rubric: per for rubric, per in modes.items() if len(per) > 1}


def split_scoring_modes(records: list[Result]) -> tuple[list[Result], str | None]:
    """Records of one rubric whose scores were read in different ways (``scoring_mode``: logprob
    probabilities, text 0/1 answers) are never averaged together: when they are mixed, each
    model of that rubric is summarised once per mode (``sdxl [text]``) and a note says so.
    Records of other rubrics, or without a mode, are left as they are."""
    mixed = mixed_mode_rubrics(records)
    if not mixed:
        return records, None
    split = [mode_labelled(r) if r.rubric in mixed else r for r in records]
    counts = "; ".join(f"{rubric}: " + ", ".join(f"{n} {m}" for m, n in sorted(per.items()))
                       for rubric, per in sorted(mixed.items()))
    return split, (f"note: the records were scored in different modes ({counts}); each model is summarised per mode, "
                   "since a probability and a 0/1 text answer are not one scale")


def load_results(path: str | Path) -> Results:
    return Results(read_jsonl_models(path, Result, "results file", "judgekit result record"))
