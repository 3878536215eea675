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
from .image_uris import is_uri
from .io import iter_jsonl
from .sample_ids import SeenIds
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
            if isinstance(d.get(f), str) and not is_uri(d[f]):  # a URI (s3://...) is kept as given
                # normpath, not resolve(): no filesystem calls per sample (manifests are long).
                d[f] = os.path.normpath(os.path.join(base_dir, d[f]))
    try:
        return Sample(**d, meta=meta)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        raise DataError(f"{where}field '{field}': {first['msg']}") from None


#: Suffixes of record files that are not JSON lines: named in the error instead of a JSON message
#: about their first character.
_NOT_JSONL = {".csv": "a CSV file", ".tsv": "a TSV file", ".yaml": "a YAML file", ".yml": "a YAML file"}


def _check_jsonl(p: Path) -> None:
    """Refuse a file that is plainly not JSON lines (by its suffix, or a first line that does not
    open a JSON object) with what a manifest is, before any line is read as one."""
    what = _NOT_JSONL.get(p.suffix.lower())
    if what is None:
        with p.open(encoding="utf-8-sig", errors="replace") as fh:
            first = next((line.strip() for line in fh if line.strip()), "")
        if not first or first.startswith("{"):
            return
        what = "a JSON list" if first.startswith("[") else "not JSON lines (its first line does not start with '{')"
    raise DataError(f"manifest {p} is {what}; manifests are JSONL: one JSON object a line, "
                    '{"id": ..., "prompt": ..., "image": ..., "model": ...}')


def iter_samples(path: str | Path) -> Iterator[Sample]:
    """Stream samples from a JSONL manifest; duplicate ids are an error (results key on them)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"manifest {p} does not exist")
    _check_jsonl(p)
    base = p.resolve().parent
    seen = SeenIds()  # 16 bytes a sample: a streamed manifest stays flat in memory
    for where, d in iter_jsonl(p, "manifest"):
        s = sample_from_dict(d, base, where + ": ")
        if not seen.add(s.id):
            raise DataError(f"{where}: duplicate sample id {s.id!r}")
        yield s


def load_samples(path_or_samples: str | Path | Iterable[Sample | dict[str, Any]]) -> list[Sample]:
    """``jk.load_samples("manifest.jsonl")`` or a list of Samples/dicts (paths taken as given).
    Duplicate ids are refused in both forms: results are keyed by sample id, so a repeated id would
    be judged twice and reported as two samples."""
    if isinstance(path_or_samples, str | Path):
        return list(iter_samples(path_or_samples))
    out = []
    seen: set[str] = set()
    for i, s in enumerate(path_or_samples):
        sample = s if isinstance(s, Sample) else sample_from_dict(s, None, f"sample #{i}: ")
        if sample.id in seen:
            raise DataError(f"sample #{i}: duplicate sample id {sample.id!r}")
        seen.add(sample.id)
        out.append(sample)
    return out


def refuse_overwriting_input(samples: Any, out: str | Path | None) -> None:
    """Refuse an output path that is the manifest being read (the same file after resolving links
    and relative parts): writing results there would destroy the manifest, while it is read."""
    if out is None or not isinstance(samples, str | Path):
        return
    src, dst = Path(samples), Path(out)
    same = src.resolve() == dst.resolve()
    if not same and src.exists() and dst.exists():
        same = os.path.samefile(src, dst)  # hard links
    if same:
        raise DataError(f"the results file {dst} is the manifest {src}: writing results would overwrite it; "
                        "choose another --out")
