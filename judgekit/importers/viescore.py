"""VIEScore's recorded answers (TIGER-AI-Lab/VIEScore, ``paper_implementation/_answers/``).

Layout of one task directory (e.g. ``results_gpt4o_0shot/ImagenHub_Text-Guided_IE``)::

    MODEL/SC.json   {uid: {"score": [s1, s2, ...], "reasoning": "...", "prompt_input": "...", ...}}
    MODEL/PQ.json   the same for perceptual quality

Each group file name is a rubric group (``SC``, ``PQ``); its ``score`` list is that group's
dimensions in rubric order (``viescore-edit``: SC = [editing_success, over_editing], PQ =
[naturalness, artifacts]). Records get ``sample_id`` ``<uid>:<model>``, ``prompt_id`` ``<uid>``.

VIEScore's own code substitutes a *guess* when it cannot parse a reply and marks it with a
reasoning of ``guess_if_cannot_parse``: such an entry is not a verdict and is imported as
failed, like any list that does not fit the rubric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import read_json
from ..rubric import Rubric
from .base import GroupEntry, Imported, group_record, import_provenance, require_groups

GROUPS = ("SC", "PQ")
GUESS_MARK = "guess_if_cannot_parse"
#: Entry keys not worth copying onto a failed record (the full prompt text runs to kilobytes).
_BULKY = ("prompt_input",)


def _read_group_file(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = read_json(path, "verdict file", expect=dict)
    return data


def _entry(value: Any, group: str) -> GroupEntry:
    if not isinstance(value, dict):
        return GroupEntry(missing=f"entry is not an object ({type(value).__name__})", raw=value)
    raw = {k: v for k, v in value.items() if k not in _BULKY}
    reasoning = value.get("reasoning")
    if isinstance(reasoning, str) and reasoning.startswith(GUESS_MARK):
        return GroupEntry(missing="VIEScore recorded a guessed score (its judge reply could not be parsed)", raw=raw)
    if "score" not in value:
        return GroupEntry(missing="entry has no 'score'", raw=raw)
    return GroupEntry(scores=value["score"], reasoning=reasoning, raw=raw)


def model_dirs(task_dir: Path) -> list[Path]:
    """The model folders of a task directory: those holding at least one group file."""
    return sorted(p for p in task_dir.iterdir() if p.is_dir() and any((p / f"{g}.json").is_file() for g in GROUPS))


def import_dir(task_dir: Path, rubric: Rubric, groups: tuple[str, ...] = GROUPS) -> Imported:
    task_dir = Path(task_dir)
    if not task_dir.is_dir():
        raise DataError(f"{task_dir}: not a directory (expected VIEScore's MODEL/SC.json, MODEL/PQ.json layout)")
    require_groups(rubric, groups)
    models = model_dirs(task_dir)
    if not models:
        nested = [p.name for p in task_dir.iterdir() if p.is_dir() and model_dirs(p)]
        hint = f"; it holds task directories {sorted(nested)[:5]}: import one of them" if nested else ""
        raise DataError(f"{task_dir}: no MODEL/SC.json or MODEL/PQ.json below it{hint}")
    task = task_dir.name
    prov = import_provenance(rubric, "viescore", str(task_dir), groups=list(groups))
    records = []
    notes: dict[str, Any] = {"models": [m.name for m in models], "missing_files": []}
    for mdir in models:
        per_group: dict[str, dict[str, Any]] = {}
        for g in groups:
            f = mdir / f"{g}.json"
            if f.is_file():
                per_group[g] = _read_group_file(f)
            else:
                notes["missing_files"].append(str(f))
        uids = list(dict.fromkeys(u for g in groups for u in per_group.get(g, {})))
        for uid in uids:
            entries = {}
            for g in groups:
                if g not in per_group:
                    entries[g] = GroupEntry(missing=f"{mdir.name}/{g}.json does not exist")
                elif uid not in per_group[g]:
                    entries[g] = GroupEntry(missing=f"no entry for {uid!r} in {mdir.name}/{g}.json")
                else:
                    entries[g] = _entry(per_group[g][uid], g)
            records.append(group_record(
                rubric, entries, sample_id=f"{uid}:{mdir.name}", prompt_id=uid, model=mdir.name,
                meta={"task": task}, provenance=prov,
            ))
    return Imported(records, str(task_dir), notes)
