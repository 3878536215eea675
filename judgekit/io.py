"""One reader for record files: JSON lines, CSV, or JSON (a list of records, or an object of
records). Every record comes with where it was read (``file:line``), so an error about its
content can name the place, and a malformed line stops reading with that place.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
>>> _ = p.write_text('{"id": 1}\\n\\n{"id": 2}\\n')
>>> [(where.rsplit(":", 1)[1], rec["id"]) for where, rec in iter_records(p)]
[('1', 1), ('3', 2)]
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from .errors import DataError

Located = tuple[str, dict[str, Any]]  # ("file:line", record)
#: In-memory records: dicts, or pydantic models such as ``Result`` (read through ``model_dump``).
Records = Iterable[Mapping[str, Any] | BaseModel]


def iter_jsonl(path: str | Path, what: str = "file") -> Iterator[Located]:
    """Stream the objects of a JSON-lines file (blank lines skipped); memory stays flat."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what} {p} does not exist")
    # utf-8-sig: a byte-order mark (as some Windows editors write) is not part of the first record.
    with p.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{p}:{lineno}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(rec, dict):
                raise DataError(f"{where}: expected a JSON object, got {type(rec).__name__}")
            yield where, rec


ModelT = TypeVar("ModelT", bound=BaseModel)


def iter_jsonl_models(path: str | Path, model: type[ModelT], what: str, kind: str) -> Iterator[ModelT]:
    """Stream the objects of a JSON-lines file validated as ``model`` (e.g. ``Result``); one that
    does not fit stops reading with its ``file:line`` and says it is not a ``kind``."""
    for where, rec in iter_jsonl(path, what):
        try:
            yield model.model_validate(rec)
        except ValueError as exc:
            raise DataError(f"{where}: not a {kind} ({str(exc).splitlines()[0]})") from None


def read_jsonl_models(path: str | Path, model: type[ModelT], what: str, kind: str) -> list[ModelT]:
    """``iter_jsonl_models`` as a list."""
    return list(iter_jsonl_models(path, model, what, kind))


def iter_records(path: str | Path, what: str = "file") -> Iterator[Located]:
    """Records of a ``.csv`` (header row; line numbers count it), ``.json`` (a list, or an
    object whose keys become ``sample_id``) or JSON-lines file (any other suffix; a file whose
    text starts with ``[`` is read as one JSON list)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what} {p} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        with p.open(newline="", encoding="utf-8-sig") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                yield f"{p}:{i + 2}", dict(row)
        return
    if suffix == ".json" or _starts_with_bracket(p):
        data = read_json(p, what)
        if isinstance(data, dict):
            for k, v in data.items():
                if isinstance(v, dict):
                    yield f"{p}:{k}", {"sample_id": k, **v}
            return
        if isinstance(data, list):
            for i, rec in enumerate(data):
                if not isinstance(rec, dict):
                    raise DataError(f"{p}:[{i}]: expected a JSON object, got {type(rec).__name__}")
                yield f"{p}:[{i}]", dict(rec)
            return
        raise DataError(f"{p}: expected a list of records or an object of records")
    yield from iter_jsonl(p, what)


def read_json(path: str | Path, what: str = "file", expect: type | None = None) -> Any:
    """A whole JSON file; a missing file, invalid JSON or (with ``expect``) a top-level value of
    another type is a ``DataError`` that names the file (and the line of a syntax error)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what} {p} does not exist")
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{p}: not valid JSON (not UTF-8 text: {exc.reason})") from None
    if expect is not None and not isinstance(data, expect):
        kind = "an object" if expect is dict else "a list" if expect is list else expect.__name__
        raise DataError(f"{p}: expected {kind} at the top level, got {type(data).__name__}")
    return data


def read_records(source: str | Path | Records, what: str = "file") -> tuple[list[Located], str]:
    """All records of a file (as ``iter_records``) or of in-memory records (dicts or pydantic
    models), with the source's name."""
    if not isinstance(source, str | Path):
        recs = [dict(r.model_dump() if hasattr(r, "model_dump") else r) for r in source]
        return [(f"<record {i}>", r) for i, r in enumerate(recs)], "<records>"
    return list(iter_records(source, what)), str(source)


def _starts_with_bracket(p: Path) -> bool:
    with p.open(encoding="utf-8-sig") as fh:
        head = fh.read(256)
    return head.lstrip().startswith("[")


def jsonable(obj: Any) -> Any:
    """``obj`` with NaN and infinities as ``None`` and numpy values as Python ones, so the JSON
    judgekit writes is valid JSON (``NaN`` is not) and reads back the same everywhere."""
    import math

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):  # numpy scalars and arrays
        return jsonable(obj.tolist())
    return obj


def dumps_json(obj: Any, indent: int | None = 2) -> str:
    """JSON text of ``obj`` with ``jsonable``'s rules; refuses NaN rather than writing it."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def write_json(path: str | Path, obj: Any) -> None:
    Path(path).write_text(dumps_json(obj) + "\n", encoding="utf-8")
