"""VIEScore's recorded answers (TIGER-AI-Lab/VIEScore, ``paper_implementation/_answers/``).

Layout of one task directory (e.g. ``results_gpt4o_0shot/ImagenHub_Text-Guided_IE``)::

    MODEL/SC.json   {uid: {"score": [s1, s2, ...], "reasoning": "...", "prompt_input": "...", ...}}
    MODEL/PQ.json   the same for perceptual quality

Each group file name is a rubric group (``SC``, ``PQ``); its ``score`` list is that group's
dimensions in rubric order (``viescore-edit``: SC = [editing_success, over_editing], PQ =
[naturalness, artifacts]). Records get ``sample_id`` ``<uid>:<model>``, ``prompt_id`` ``<uid>``.

The task directory is named ``ImagenHub_<Task>``, and each of ImagenHub's seven tasks records a
different SC list, so the task picks the rubric (:data:`TASK_RUBRICS`) unless one is given: the
two instruction-editing tasks ask the judge the same two SC questions, the others each their own.

VIEScore's own code substitutes a *guess* when it cannot parse a reply and marks it with a
reasoning of ``guess_if_cannot_parse``: such an entry is not a verdict and is imported as
failed, like any list that does not fit the rubric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..io import read_json
from ..rubric import Rubric
from .base import GroupEntry, Imported, group_record, import_provenance, require_groups

GROUPS = ("SC", "PQ")
#: ImagenHub task (the folder name after ``ImagenHub_``) -> the built-in rubric laid out like its
#: recorded SC list (VIEScore's prompts for the task) and PQ = [naturalness, artifacts].
TASK_RUBRICS = {
    "Text-Guided_IG": "viescore-t2i",  # SC = [prompt following]
    "Text-Guided_IE": "viescore-edit",  # SC = [editing success, over-editing]
    "Mask-Guided_IE": "viescore-edit",  # the same two questions as Text-Guided_IE
    "Subject-Driven_IE": "subject-edit",  # SC = [subject resemblance, over-editing]
    "Subject-Driven_IG": "viescore-subject-gen",  # SC = [prompt following, subject resemblance]
    "Multi-Concept_IC": "viescore-multi-concept",  # SC = [prompt, first subject, second subject]
    "Control-Guided_IG": "viescore-control",  # SC = [prompt following, guidance following]
}
_PREFIX = "ImagenHub_"
GUESS_MARK = "guess_if_cannot_parse"
#: Entry keys not worth copying onto a failed record (the full prompt text runs to kilobytes).
_BULKY = ("prompt_input",)


def imagenhub_task(task_dir: str | Path) -> str | None:
    """The ImagenHub task a VIEScore task directory holds (``ImagenHub_Text-Guided_IG`` ->
    ``Text-Guided_IG``), or None for a folder not named after one."""
    name = Path(task_dir).name
    task = name[len(_PREFIX):] if name.startswith(_PREFIX) else None
    return task if task in TASK_RUBRICS else None


def default_rubric(task_dir: str | Path) -> str:
    """The built-in rubric for the task directory's ImagenHub task (see :data:`TASK_RUBRICS`)."""
    if not Path(task_dir).is_dir():
        raise DataError(f"{task_dir}: not a directory (expected VIEScore's MODEL/SC.json, MODEL/PQ.json layout)")
    task = imagenhub_task(task_dir)
    if task is None:
        known = ", ".join(_PREFIX + t for t in TASK_RUBRICS)
        raise ConfigError(f"{task_dir}: cannot tell the ImagenHub task from the folder name {Path(task_dir).name!r} "
                          f"(one of {known}); pass --rubric, the rubric whose groups the recorded lists fill")
    return TASK_RUBRICS[task]


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
    if imagenhub_task(task_dir) is not None:
        notes["task_rubric"] = TASK_RUBRICS[str(imagenhub_task(task_dir))]
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
