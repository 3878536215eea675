"""ImagenHub's human ratings (``*_rater{1,2,3}.tsv``) as judgekit human labels.

One TSV per rater: a header ``uid<TAB>MODEL_1<TAB>MODEL_2 ...``, one row per source sample, each
cell ``[SC, PQ]`` (ImagenHub rates semantic consistency and perceptual quality on {0, 0.5, 1}).
Each cell gives three labels for that rater: ``SC``, ``PQ`` and ``overall`` = sqrt(SC x PQ), as
ImagenHub defines its overall score. Labels are keyed ``sample_id`` = ``<uid>:<model>`` (the key
``judgekit import viescore`` gives the same item), ``prompt_id`` = ``<uid>`` (bootstrap CIs
resample source samples), ``model``, ``rater`` (``rater1`` ... from the file name).

Nothing here depends on which task a folder holds: models come from each file's header. An empty
or malformed cell is skipped and listed in ``HumanLabels.skipped`` with its file, line and model,
so calibration reports count it.

>>> labels = load_imagenhub_ratings("calibration/imagenhub/human_ratings/ImagenHub_Mask-Guided_IE",
...                                 dimension="SC")              # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import read_json
from .labels import HumanLabels, LabelRow

DIMENSIONS = ("SC", "PQ", "overall")
#: ImagenHub's rating values; a cell outside [0, 1] is not an ImagenHub rating.
LOW, HIGH = 0.0, 1.0
_RATER = re.compile(r"_(rater[^_/]*)\.tsv$", re.IGNORECASE)


def rater_files(directory: str | Path) -> list[Path]:
    d = Path(directory)
    if not d.is_dir():
        raise DataError(f"{d}: not a directory (expected ImagenHub's *_rater1.tsv, *_rater2.tsv, ... files)")
    files = sorted(p for p in d.iterdir() if p.is_file() and _RATER.search(p.name))
    if not files:
        raise DataError(f"{d}: no *_rater*.tsv files (ImagenHub's human ratings, one file per rater)")
    return files


def parse_cell(text: str) -> tuple[float, float] | str:
    """``"[0.5, 1]"`` -> ``(0.5, 1.0)``; anything else -> the reason it is not a rating."""
    s = text.strip()
    if not s:
        return "empty cell"
    try:
        v = json.loads(s)
    except json.JSONDecodeError:
        return f"cell {text!r} is not a [SC, PQ] list"
    if not isinstance(v, list) or len(v) != 2:
        return f"cell {text!r} is not a two-element [SC, PQ] list"
    out = []
    for x in v:
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            return f"cell {text!r} holds a non-number"
        if not LOW <= x <= HIGH:
            return f"cell {text!r} is outside ImagenHub's 0-1 scale"
        out.append(float(x))
    return out[0], out[1]


def _read_rater(path: Path, rater: str, dims: tuple[str, ...], rows: list[LabelRow], skipped: list[str]) -> None:
    # newline="" keeps the CRLF ends out of the last cell; split by hand: cells hold no tabs.
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [ln.rstrip("\r\n") for ln in fh]
    if not lines or not lines[0].strip():
        raise DataError(f"{path}: empty file")
    header = lines[0].split("\t")
    if header[0].strip().lower() != "uid" or len(header) < 2:
        raise DataError(f"{path}:1: expected a header 'uid<TAB>MODEL...', got {lines[0][:80]!r}")
    models = [h.strip() for h in header[1:]]
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        uid = cells[0].strip()
        where = f"{path}:{lineno}"
        if not uid:
            skipped.append(f"{where}: row without a uid")
            continue
        for j, model in enumerate(models, 1):
            if j >= len(cells):
                skipped.append(f"{where} ({uid}, {model}): row ends before this column")
                continue
            got = parse_cell(cells[j])
            if isinstance(got, str):
                skipped.append(f"{where} ({uid}, {model}): {got}")
                continue
            sc, pq = got
            values = {"SC": sc, "PQ": pq, "overall": math.sqrt(sc * pq)}
            for dim in dims:
                rows.append(LabelRow(value=values[dim], sample_id=f"{uid}:{model}", prompt_id=uid, model=model,
                                     rater=rater, dimension=dim, where=where))


def load_imagenhub_ratings(directory: str | Path, dimension: str | None = None) -> HumanLabels:
    """All raters' labels of one ImagenHub task folder; ``dimension`` (SC, PQ or overall) keeps
    only that one (so the scale's levels are that dimension's own: {0, 0.5, 1} for SC and PQ,
    {0, 0.5, 0.707, 1} for overall)."""
    if dimension is not None and dimension not in DIMENSIONS:
        raise DataError(f"ImagenHub ratings have dimensions {list(DIMENSIONS)}, not {dimension!r}")
    dims = DIMENSIONS if dimension is None else (dimension,)
    rows: list[LabelRow] = []
    skipped: list[str] = []
    files = rater_files(directory)
    raters = [m.group(1).lower() for f in files if (m := _RATER.search(f.name))]  # rater_files matched them
    if len(set(raters)) != len(raters):
        raise DataError(f"{directory}: two files name the same rater: {[f.name for f in files]}")
    for f, rater in zip(files, raters):
        _read_rater(f, rater, dims, rows, skipped)
    if not rows:
        raise DataError(f"{directory}: no ratings read ({len(skipped)} cells skipped)")
    # scale=None: the levels are the observed values (0, 0.5, 1), not an integer range.
    return HumanLabels(rows=rows, value_type="score", scale=None, source=str(directory), skipped=skipped)


def load_imagenhub_autometrics(directory: str | Path, metric: str = "LPIPS") -> list[dict[str, Any]]:
    """VIEScore's published automatic metrics of one task (``MODEL.json``: uid -> {metric: x})
    as score records keyed like the ratings, for ``jk.calibrate(..., baselines={name: records})``.
    An item without the metric keeps its row with ``None`` (counted as unscored)."""
    d = Path(directory)
    files = sorted(d.glob("*.json")) if d.is_dir() else []
    if not files:
        raise DataError(f"{d}: no MODEL.json metric files")
    out = []
    for f in files:
        data = read_json(f, "metric file", expect=dict)
        for uid, vals in data.items():
            v = vals.get(metric) if isinstance(vals, dict) else None
            out.append({"sample_id": f"{uid}:{f.stem}", "prompt_id": uid, "model": f.stem, metric: v})
    if not any(r[metric] is not None for r in out):
        raise DataError(f"{d}: no {metric!r} values in its metric files")
    return out
