"""The sample manifest: JSONL, one sample a line, image paths relative to the manifest.

A line that is not valid JSON (or not a valid sample) stops loading with its line number:
guessing would silently change what is judged. Image files are *not* opened here; they are
read when their request is built, so a 100,000-line manifest streams.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import DataError
from .io import iter_jsonl
from .types import IMAGE_FIELDS, Sample

_KNOWN = set(Sample.model_fields) - {"meta"}


def sample_from_dict(d: dict[str, Any], base_dir: Path | None = None, where: str = "") -> Sample:
    if not isinstance(d, dict):
        raise DataError(f"{where}expected a JSON object, got {type(d).__name__}")
    d = dict(d)
    if "id" not in d and "sample_id" in d:
        d["id"] = d.pop("sample_id")
    if "id" not in d:
        raise DataError(f"{where}sample has no 'id'")
    d["id"] = str(d["id"])
    if d.get("prompt_id") is not None:
        d["prompt_id"] = str(d["prompt_id"])
    meta = dict(d.pop("meta", None) or {})
    for key in list(d):
        if key not in _KNOWN:
            meta[key] = d.pop(key)
    if base_dir is not None:
        for f in IMAGE_FIELDS:
            if isinstance(d.get(f), str):
                # normpath, not resolve(): no filesystem calls per sample (manifests are long).
                d[f] = os.path.normpath(os.path.join(base_dir, d[f]))
    try:
        return Sample(**d, meta=meta)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        raise DataError(f"{where}field '{field}': {first['msg']}") from None


def iter_samples(path: str | Path) -> Iterator[Sample]:
    """Stream samples from a JSONL manifest; duplicate ids are an error (results key on them)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"manifest {p} does not exist")
    base = p.resolve().parent
    seen: set[str] = set()
    for where, d in iter_jsonl(p, "manifest"):
        s = sample_from_dict(d, base, where + ": ")
        if s.id in seen:
            raise DataError(f"{where}: duplicate sample id {s.id!r}")
        seen.add(s.id)
        yield s


def load_samples(path_or_samples: str | Path | Iterable[Sample | dict[str, Any]]) -> list[Sample]:
    """``jk.load_samples("manifest.jsonl")`` or a list of Samples/dicts (paths taken as given)."""
    if isinstance(path_or_samples, str | Path):
        return list(iter_samples(path_or_samples))
    out = []
    for i, s in enumerate(path_or_samples):
        out.append(s if isinstance(s, Sample) else sample_from_dict(s, None, f"sample #{i}: "))
    return out
