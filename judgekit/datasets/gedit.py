"""GEdit-Bench (stepfun-ai/Step1X-Edit) metadata and generated edits as editing samples.

GEdit-Bench's rows carry ``key``, ``task_type`` (11 types: background_change, color_alter,
material_alter, motion_change, ps_human, style_change, subject-add, subject-remove,
subject-replace, text_change, tone_transfer), ``instruction``, ``instruction_language`` (``en`` or
``cn``), the source image and ``Intersection_exist`` (whether the row is in the ``intersection``
subset, the rows valid in both languages). ``metadata`` is the dataset as published (its Parquet
or Arrow files, or the folder ``huggingface-cli download stepfun-ai/GEdit-Bench --repo-type dataset``
or ``save_to_disk`` wrote): the source image is then read from the ``input_image`` column's bytes,
in memory, and shared by every model's sample of that row. JSON or JSONL rows (with an
``input_image`` path column, or none) are read too.

Edited images follow GEdit's own layout, ``RESULTS/MODEL/fullset/TASK/LANG/KEY.png``, with the
source saved beside them as ``KEY_SRCIMG.png``.

Samples get ``id`` ``<key>:<lang>:<model>``, ``prompt_id`` ``<key>`` (a bootstrap resamples source
items), and meta ``task_type``, ``instruction_language`` (``cn`` is written ``zh``),
``intersection`` and ``benchmark: gedit``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..memory_images import InMemoryImage, to_in_memory
from ..tables import iter_table_rows, table_kind
from ..types import Sample

TASK_TYPES = (
    "background_change", "color_alter", "material_alter", "motion_change", "ps_human", "style_change",
    "subject-add", "subject-remove", "subject-replace", "text_change", "tone_transfer",
)
#: GEdit writes Chinese as ``cn``; judgekit uses ISO 639-1 codes.
LANGUAGE = {"en": "en", "cn": "zh", "zh": "zh"}
_REQUIRED = ("key", "task_type", "instruction", "instruction_language")


def read_rows(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """Rows of a JSON list, a JSON object keyed by ``key``, JSONL, or a Parquet/Arrow table (image
    cells as bytes; see ``tables.iter_table_rows``); each with its location."""
    p = Path(path)
    if table_kind(p) is not None:  # Parquet/Arrow as published: image cells come as bytes
        return list(iter_table_rows(p))
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".jsonl":
        rows = []
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append((f"{p}:{i}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise DataError(f"{p}:{i}: not valid JSON ({exc.msg})") from None
        return rows
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict):
        return [(f"{p}:{k}", {"key": k, **v} if isinstance(v, dict) else v) for k, v in data.items()]
    if isinstance(data, list):
        return [(f"{p}:[{i}]", r) for i, r in enumerate(data)]
    raise DataError(f"{p}: expected a list of rows or an object of rows")


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.strip().lower() in ("true", "1", "yes")) or v == 1


def load_gedit(
    metadata: str | Path,
    results: str | Path | None = None,
    models: Iterable[str] | None = None,
    subset: str = "fullset",
) -> list[Sample]:
    """GEdit-Bench samples: one per row (``results=None``: the benchmark's inputs, for generating
    edits), or one per row and model found under ``results`` (``models`` narrows them).
    ``subset="intersection"`` keeps the rows GEdit marks ``Intersection_exist``."""
    if subset not in ("fullset", "intersection"):
        raise DataError(f"GEdit-Bench subset must be 'fullset' or 'intersection', not {subset!r}")
    meta_path = Path(metadata)
    base = meta_path.resolve().parent
    rows = read_rows(meta_path)
    if results is not None:
        rdir = Path(results)
        if not rdir.is_dir():
            raise DataError(f"{rdir}: not a directory (expected RESULTS/MODEL/fullset/TASK/LANG/KEY.png)")
        found = sorted(p.name for p in rdir.iterdir() if (p / "fullset").is_dir())
        names = list(models) if models is not None else found
        missing = [m for m in names if m not in found]
        if missing or not names:
            raise DataError(f"{rdir}: no MODEL/fullset/ folder for {missing or 'any model'}; found {found}")
    else:
        rdir, names = None, [None]  # type: ignore[list-item]  # one pass with no model folder
    out: list[Sample] = []
    seen: set[str] = set()
    for where, row in rows:
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected an object, got {type(row).__name__}")
        lacking = [k for k in _REQUIRED if row.get(k) in (None, "")]
        if lacking:
            raise DataError(f"{where}: GEdit-Bench row lacks {lacking}")
        lang_raw = str(row["instruction_language"])
        if lang_raw not in LANGUAGE:
            raise DataError(f"{where}: instruction_language {lang_raw!r} is not en or cn")
        inter = _truthy(row.get("Intersection_exist", row.get("intersection_exist", False)))
        if subset == "intersection" and not inter:
            continue
        key, task = str(row["key"]), str(row["task_type"])
        src_given = row.get("input_image") if isinstance(row.get("input_image"), str) else None
        src_bytes = to_in_memory(row["input_image"]) if isinstance(row.get("input_image"), bytes) else None
        for model in names:
            folder = None if rdir is None else rdir / model / "fullset" / task / lang_raw
            sid = f"{key}:{LANGUAGE[lang_raw]}" + (f":{model}" if model else "")
            if sid in seen:
                raise DataError(f"{where}: duplicate GEdit-Bench row {key!r} ({lang_raw})")
            seen.add(sid)
            source: str | InMemoryImage | None
            if src_bytes is not None:
                source = src_bytes
            elif src_given:
                source = os.path.normpath(os.path.join(base, src_given))
            elif folder is not None:
                source = str(folder / f"{key}_SRCIMG.png")
            else:
                source = None
            out.append(Sample(
                id=sid, prompt_id=key, model=model, instruction=str(row["instruction"]),
                source_image=source, image=None if folder is None else str(folder / f"{key}.png"),
                meta={"benchmark": "gedit", "task_type": task, "instruction_language": LANGUAGE[lang_raw],
                      "intersection": inter},
            ))
    return out
