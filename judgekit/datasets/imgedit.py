"""ImgEdit's single-turn benchmark (PKU-YuanGroup/ImgEdit, ``Benchmark/Basic``) as editing samples.

Its edit file (``basic_edit.json``) maps a key to ``{"id": "<folder>/<file>.jpg", "prompt":
"<instruction>", "edit_type": "<category>"}``; ``id`` is the source image's path under the
original-images root, and a model's edit is ``RESULT_FOLDER/<key>.png`` (any image extension).
The single-turn categories (as basic_edit.json spells them) are add, remove, replace, adjust, style, background, extract, action
and compose.

Samples get ``id`` ``<key>:<model>``, ``prompt_id`` ``<key>``, and meta ``task_type`` (the edit
type), ``instruction_language`` ``en`` and ``benchmark: imgedit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import DataError
from ..types import Sample
from .gedit import read_rows

CATEGORIES = ("add", "remove", "replace", "adjust", "style", "background", "extract", "action", "compose")
_EXTS = (".png", ".jpg", ".jpeg", ".webp")


def _edited(folder: Path, key: str) -> str:
    """The edited image of ``key``: the first existing ``key.<ext>``, else ``key.png`` (so a
    missing output fails its own sample when judged, with the path, instead of vanishing)."""
    for ext in _EXTS:
        p = folder / f"{key}{ext}"
        if p.is_file():
            return str(p)
    return str(folder / f"{key}.png")


def load_imgedit(
    edit_json: str | Path,
    origin_root: str | Path,
    results: Mapping[str, str | Path] | str | Path | None = None,
) -> list[Sample]:
    """ImgEdit samples. ``results``: ``{model: result_folder}``, or one folder whose
    subfolders are models, or None for the inputs alone (to generate edits)."""
    root = Path(origin_root)
    if not root.is_dir():
        raise DataError(f"{root}: the original-images root is not a directory")
    if results is None:
        models: dict[str | None, Path | None] = {None: None}
    elif isinstance(results, Mapping):
        models = {m: Path(p) for m, p in results.items()}
    else:
        rdir = Path(results)
        if not rdir.is_dir():
            raise DataError(f"{rdir}: not a directory of model result folders")
        models = {p.name: p for p in sorted(rdir.iterdir()) if p.is_dir()}
        if not models:
            raise DataError(f"{rdir}: no model folders in it")
    for m, p in models.items():
        if p is not None and not p.is_dir():
            raise DataError(f"{p}: result folder of {m!r} is not a directory")
    out = []
    for where, row in read_rows(edit_json):
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected an object, got {type(row).__name__}")
        lacking = [k for k in ("id", "prompt", "edit_type") if not row.get(k)]
        if lacking:
            raise DataError(f"{where}: ImgEdit entry lacks {lacking}")
        key = str(row["key"])
        for model, folder in models.items():
            out.append(Sample(
                id=f"{key}:{model}" if model else key, prompt_id=key, model=model,
                instruction=str(row["prompt"]), source_image=str(root / row["id"]),
                image=None if folder is None else _edited(folder, key),
                meta={"benchmark": "imgedit", "task_type": str(row["edit_type"]), "instruction_language": "en"},
            ))
    return out
