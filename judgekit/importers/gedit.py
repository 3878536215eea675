"""GEdit-Bench's intermediate score files (Step1X-Edit's evaluation output).

GEdit's evaluation writes, per model and task type, ``<model>_<task_type>_gpt_score.csv`` (and a
``<model>_combined_gpt_score.csv`` of all of them) with the columns ``source_image,
edited_image, instruction, sementics_score, quality_score, intersection_exist,
instruction_language`` (``sementics`` is GEdit's spelling). The two scores are already the SC and
PQ *group* scores (the minimum of each group's list), so imported records carry ``groups`` and
``overall = sqrt(SC x PQ)`` but no per-dimension scores (``details.granularity = "groups"``).

The key, language and task type come from the edited image's path
(``.../fullset/<task_type>/<lang>/<key>.png``); records get ``sample_id``
``<key>:<lang>:<model>`` and ``prompt_id`` ``<key>``, as :func:`judgekit.datasets.gedit.load_gedit`
names the same samples. A score cell that is empty, not a number or off the rubric's scale is a
failed record with the reason.

Two limits of the source, stated rather than hidden: GEdit's evaluation substitutes a random
score when it cannot parse the judge's reply, and such a score cannot be told from a real one in
these files; and it silently skips samples whose images are missing. Pass the benchmark's rows
(``metadata=``) to get a failed record for every row a model has no score for.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

from ..datasets.gedit import LANGUAGE, TASK_TYPES, read_rows
from ..errors import ConfigError, DataError, VerdictParseError
from ..rubric import Rubric
from ..types import Result
from ..verdict import validate_score
from .base import Imported, import_provenance, require_groups

COLUMNS = {"SC": "sementics_score", "PQ": "quality_score"}
#: The rubric of GEdit-Bench's own judge (used when no rubric is given).
DEFAULT_RUBRIC = "gedit-edit"
_SUFFIX = "_gpt_score.csv"
_PATH = re.compile(r"fullset[/\\](?P<task>[^/\\]+)[/\\](?P<lang>[^/\\]+)[/\\](?P<key>[^/\\]+?)\.[A-Za-z]+$")


def _model_and_task(name: str) -> tuple[str, str] | None:
    stem = name[: -len(_SUFFIX)]
    for t in (*TASK_TYPES, "combined"):
        if stem.endswith("_" + t):
            return stem[: -len(t) - 1], t
    return None


def score_files(eval_dir: Path) -> dict[str, list[Path]]:
    """Model -> its per-task files (or its combined file when there are no per-task ones)."""
    per: dict[str, dict[str, list[Path]]] = {}
    for f in sorted(eval_dir.glob(f"*{_SUFFIX}")):
        mt = _model_and_task(f.name)
        if mt is not None:
            per.setdefault(mt[0], {}).setdefault("combined" if mt[1] == "combined" else "tasks", []).append(f)
    return {m: d.get("tasks") or d["combined"] for m, d in per.items()}


def _value(raw: Any, rubric: Rubric) -> float | str:
    if raw is None or not str(raw).strip():
        return "empty"
    try:
        x = float(raw)
    except (TypeError, ValueError):
        return f"{raw!r} is not a number"
    if not math.isfinite(x):
        return f"{raw!r} is not a finite number"
    try:
        return validate_score(x, rubric.scale)
    except VerdictParseError as exc:
        return exc.reason


def _keep(kept: dict[str, Result], record: Result, notes: dict[str, Any]) -> None:
    """Keep one row per sample (a resumed GEdit run can append a sample's row again): the first
    row whose scores are all valid wins, so a later valid row replaces an earlier empty or broken
    one; with no valid row, the first row stays, failed with its reasons. Every other row is
    counted in ``duplicate_rows``, and a valid one whose scores differ from the kept scores also
    in ``conflicting_duplicate_rows``."""
    first = kept.get(record.sample_id)
    if first is None:
        kept[record.sample_id] = record
        return
    notes["duplicate_rows"] += 1
    if first.status != "ok" and record.status == "ok":
        kept[record.sample_id] = record
    elif first.status == "ok" and record.status == "ok" and (first.model_extra or {}).get("groups") != (
            record.model_extra or {}).get("groups"):
        notes["conflicting_duplicate_rows"] += 1


def import_dir(eval_dir: Path, rubric: Rubric, metadata: str | Path | None = None) -> Imported:
    eval_dir = Path(eval_dir)
    if not eval_dir.is_dir():
        raise DataError(f"{eval_dir}: not a directory (expected GEdit's <model>_<task>_gpt_score.csv files)")
    require_groups(rubric, ("SC", "PQ"))
    if rubric.combine.rule != "viescore":
        raise ConfigError(f"rubric {rubric.name!r}: GEdit's files hold group scores only, which need combine rule 'viescore'")
    files = score_files(eval_dir)
    if not files:
        raise DataError(f"{eval_dir}: no <model>_<task_type>_gpt_score.csv files")
    prov = import_provenance(rubric, "gedit", str(eval_dir))
    # sample id -> its record; insertion order is the order samples first appear in the files
    kept: dict[str, Result] = {}
    notes: dict[str, Any] = {"models": sorted(files), "duplicate_rows": 0, "conflicting_duplicate_rows": 0,
                             "rows_without_score": 0}
    for model, paths in sorted(files.items()):
        for f in paths:
            with f.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                lacking = [c for c in ("edited_image", *COLUMNS.values()) if c not in (reader.fieldnames or [])]
                if lacking:
                    raise DataError(f"{f}: no column(s) {lacking}; columns are {reader.fieldnames}")
                for lineno, row in enumerate(reader, 2):
                    m = _PATH.search(row["edited_image"] or "")
                    if not m:
                        raise DataError(f"{f}:{lineno}: edited_image {row['edited_image']!r} is not "
                                        ".../fullset/<task_type>/<lang>/<key>.png")
                    lang = LANGUAGE.get(m["lang"], m["lang"])
                    sid = f"{m['key']}:{lang}:{model}"
                    groups: dict[str, float | None] = {}
                    errors = []
                    for g, col in COLUMNS.items():
                        v = _value(row[col], rubric)
                        groups[g] = v if isinstance(v, float) else None
                        if not isinstance(v, float):
                            errors.append(f"{g}: {v} (column {col})")
                    ok = not errors
                    inter = str(row.get("intersection_exist", "")).strip().lower() in ("true", "1")
                    record = Result(
                        sample_id=sid, prompt_id=m["key"], model=model, rubric=rubric.name,
                        status="ok" if ok else "failed", scores={}, groups=groups,
                        overall=math.sqrt(float(groups["SC"] or 0) * float(groups["PQ"] or 0)) if ok else None,
                        error="; ".join(errors) or None,
                        details={"granularity": "groups", "source": f"{f.name}:{lineno}"},
                        meta={"benchmark": "gedit", "task_type": m["task"], "instruction_language": lang,
                              "intersection": inter},
                        provenance=prov,
                    )
                    _keep(kept, record, notes)
    records = list(kept.values())
    seen = set(kept)
    if metadata is not None:
        for where, row in read_rows(metadata):
            if not isinstance(row, dict) or not row.get("key"):
                raise DataError(f"{where}: expected a GEdit-Bench row with a key")
            lang = LANGUAGE.get(str(row.get("instruction_language")), str(row.get("instruction_language")))
            for model in sorted(files):
                sid = f"{row['key']}:{lang}:{model}"
                if sid in seen:
                    continue
                seen.add(sid)
                notes["rows_without_score"] += 1
                records.append(Result(
                    sample_id=sid, prompt_id=str(row["key"]), model=model, rubric=rubric.name, status="failed",
                    scores={}, groups={"SC": None, "PQ": None},
                    error="no score in GEdit's files (its evaluation skips samples whose images are missing)",
                    details={"granularity": "groups"},
                    meta={"benchmark": "gedit", "task_type": row.get("task_type"), "instruction_language": lang,
                          "intersection": row.get("Intersection_exist") is True},
                    provenance=prov,
                ))
    return Imported(records, str(eval_dir), notes)
