"""ImagenHub's editing task folders (TIGER-AI-Lab/ImagenHub's benchmark output) as samples.

ImagenHub writes one folder per task (``results/<experiment>/``) holding ``dataset_lookup.json``
(uid -> the dataset's text fields), ``input/<uid>`` (the source), one ``<MODEL>/<uid>`` folder
per editing model, and per task kind:

- text-guided editing: ``GroundTruth/<uid>`` (a reference edit); text fields ``instruction``,
  ``source_global_caption``, ``target_global_caption``;
- mask-guided editing: ``mask/<uid>`` (the edit region); ``instruction``, ``target_local_caption``;
- subject-driven editing: ``token/<uid>`` (the subject to put in); ``subject``.

uids are ImagenHub's file names (``sample_<img_id>_<turn>.jpg``). Samples get ``id``
``<uid>:<model>`` (the key of ImagenHub's human ratings and of ``judgekit import viescore``),
``prompt_id`` ``<uid>``, and meta ``task_type`` (``text_guided``, ``mask_guided`` or
``subject_driven``), ``instruction_language`` ``en``, ``benchmark: imagenhub`` and the text fields
(subject-driven: ``subject`` is the readable name, ``subject_id`` ImagenHub's id).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import DataError
from ..io import read_json
from ..types import Sample

#: Folders of a task directory that are not models.
NOT_MODELS = {"input", "GroundTruth", "mask", "token"}


def task_kind(task_dir: Path) -> str:
    if (task_dir / "mask").is_dir():
        return "mask_guided"
    if (task_dir / "token").is_dir():
        return "subject_driven"
    return "text_guided"


def load_imagenhub_task(task_dir: str | Path, models: Iterable[str] | None = None) -> list[Sample]:
    """One sample per uid of ``dataset_lookup.json`` and model folder (``models`` narrows them);
    with no model folder at all, the inputs alone (for generating edits)."""
    d = Path(task_dir)
    lookup = d / "dataset_lookup.json"
    if not lookup.is_file():
        raise DataError(f"{d}: no dataset_lookup.json (ImagenHub's uid -> text fields file)")
    table = read_json(lookup, expect=dict)
    found = sorted(p.name for p in d.iterdir() if p.is_dir() and p.name not in NOT_MODELS)
    names: list[str | None] = list(models) if models is not None else list(found)
    missing = [m for m in names if m not in found]
    if missing:
        raise DataError(f"{d}: no model folder {missing}; found {found}")
    kind = task_kind(d)
    out = []
    for uid, fields in table.items():
        if not isinstance(fields, dict):
            raise DataError(f"{lookup}:{uid}: expected an object of text fields")
        if kind != "subject_driven" and not fields.get("instruction"):
            raise DataError(f"{lookup}:{uid}: no 'instruction'")
        extra = {}
        if (d / "GroundTruth").is_dir():
            extra["reference_image"] = str(d / "GroundTruth" / uid)
        if kind == "mask_guided":
            extra["mask"] = str(d / "mask" / uid)
        if kind == "subject_driven":
            extra["subject_image"] = str(d / "token" / uid)
        meta = {"benchmark": "imagenhub", "task_type": kind, "instruction_language": "en", "task": d.name,
                **{k: v for k, v in fields.items() if k != "instruction"}}
        if kind == "subject_driven" and isinstance(fields.get("subject"), str):
            # DreamBooth subject ids ("pink_sunglasses", "dog6") -> the name a judge reads, as
            # ImagenHub itself derives it (underscores to spaces, digits dropped).
            meta["subject_id"] = fields["subject"]
            meta["subject"] = "".join(c for c in fields["subject"].replace("_", " ") if not c.isdigit()).strip()
        for model in names or [None]:
            out.append(Sample(
                id=f"{uid}:{model}" if model else uid, prompt_id=uid, model=model,
                instruction=fields.get("instruction"), source_image=str(d / "input" / uid),
                image=None if model is None else str(d / model / uid), meta=dict(meta), **extra,
            ))
    return out
