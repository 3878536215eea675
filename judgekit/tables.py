"""Samples from columnar data: Parquet files, Hugging Face ``save_to_disk`` folders and
``datasets.Dataset`` objects, beside the JSONL manifest.

    >>> import judgekit as jk                                                    # doctest: +SKIP
    >>> samples = jk.load_samples("gedit/train-00000-of-00001.parquet",
    ...                           columns={"image": "edited_image", "prompt": "instruction"})  # doctest: +SKIP

What is read:

- ``FILE.parquet``, a folder of ``*.parquet`` shards (read in name order; a Hub download's
  ``data/`` below it is found when it holds one split), or a glob (``DIR/data/train-*.parquet``);
- a folder written by ``datasets.Dataset.save_to_disk`` (``state.json`` and ``*.arrow`` files),
  read with pyarrow alone: the ``datasets`` package is not needed;
- a ``datasets.Dataset`` object (in the library), read through its Arrow format;
- a Hub name (``org/name`` that is not a local path) is refused: judgekit never downloads.

Columns map to sample fields: ``columns={"image": "edited_image"}`` (CLI ``--columns
image=edited_image,source_image=input_image``); a field not mapped takes the first of its usual
names present (``DEFAULT_COLUMNS``, then the field's own name). The remaining columns go to
``meta``, except image and binary columns, which are not JSON.

An image cell in the Hugging Face ``Image`` layout (``{"bytes", "path"}``) is read from its
bytes, in memory, without writing a file (see ``memory_images``); a cell with only a ``path``
(or a plain string) is a file relative to the table's folder. Rows stream in small batches, so a
table larger than memory is never materialised.
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import DataError, MissingDependencyError
from .manifest import iter_samples, sample_from_dict
from .manifest import load_samples as load_samples_list
from .sample_ids import SeenIds
from .types import IMAGE_FIELDS, Sample

#: Sample field -> the column names taken for it when ``columns`` does not say (first present wins).
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "sample_id", "key", "uid"),
    "prompt": ("prompt", "caption"),
    "instruction": ("instruction", "edit_instruction"),
    "image": ("image", "edited_image", "output_image"),
    "source_image": ("source_image", "input_image"),
}
_FIELDS = [f for f in Sample.model_fields if f != "meta"]
#: Rows converted to samples at a time: small, since one row may hold several large images.
BATCH_ROWS = 64
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def parse_columns(text: str | None) -> dict[str, str]:
    """``"image=edited_image,prompt=instruction"`` -> ``{"image": "edited_image", ...}``."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        field, sep, column = part.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise DataError(f"--columns takes FIELD=COLUMN pairs separated by commas; got {part.strip()!r}")
        if field not in _FIELDS:
            raise DataError(f"--columns: {field!r} is not a sample field (fields: {', '.join(_FIELDS)})")
        out[field] = column
    return out


def is_dataset_object(obj: Any) -> bool:
    """A ``datasets.Dataset`` (checked by its module, so ``datasets`` need not be imported)."""
    return type(obj).__module__.split(".")[0] == "datasets" and hasattr(obj, "with_format")


def parquet_files(source: str | Path) -> list[Path]:
    """The Parquet files of ``source``: the file itself, the ``*.parquet`` of a folder, else those
    anywhere below it (a Hub download keeps them in ``data/``) when they are all one split, or the
    files a glob pattern (``DIR/data/train-*.parquet``) matches; in name order."""
    text = str(source)
    if any(c in text for c in "*?["):
        return sorted(Path(f) for f in glob.glob(text, recursive=True) if f.lower().endswith(".parquet"))
    p = Path(source)
    if p.is_file():
        return [p]
    top = sorted(p.glob("*.parquet"))
    if top:
        return top
    below = sorted(p.rglob("*.parquet"))
    # Hub layouts name a split by the file (data/train-00000-of-00002.parquet) or the folder
    # (default/train/0000.parquet): rows of two splits must not be judged as one set.
    splits = {(f.parent, f.name.split("-")[0] if "-of-" in f.name else "") for f in below}
    if len(splits) > 1:
        examples = sorted({str(d / (f"{name}-*.parquet" if name else "*.parquet")) for d, name in splits})
        raise DataError(f"{p} holds the Parquet files of several splits; pass one of: {', '.join(examples)}")
    return below


def table_kind(source: str | Path) -> str | None:
    """``"parquet"``, ``"arrow"`` (a ``save_to_disk`` folder or ``.arrow`` file) or None (not a
    table: a JSONL manifest). A missing path that looks like a Hub name is a ``DataError``."""
    p = Path(source)
    if any(c in str(source) for c in "*?["):
        if not parquet_files(source):
            raise DataError(f"no Parquet file matches {source}")
        return "parquet"
    if p.is_file():
        suffix = p.suffix.lower()
        return "parquet" if suffix == ".parquet" else "arrow" if suffix == ".arrow" else None
    if p.is_dir():
        if (p / "dataset_dict.json").is_file():
            splits = json.loads((p / "dataset_dict.json").read_text()).get("splits", [])
            raise DataError(f"{p} holds several splits ({', '.join(splits)}); pass one of them, e.g. {p / (splits or ['train'])[0]}")
        if (p / "state.json").is_file():
            return "arrow"
        if parquet_files(p):
            return "parquet"
        raise DataError(f"{p} is a folder with neither Parquet files nor a save_to_disk dataset (state.json)")
    if _HUB_NAME.match(str(source)) and not p.suffix:
        raise DataError(
            f"{source} is not a local file or folder; if it is a Hugging Face Hub dataset, download it first "
            f"(huggingface-cli download {source} --repo-type dataset --local-dir DIR) and pass DIR: judgekit never downloads"
        )
    return None


def check_data_source(source: str | Path) -> None:
    """Raise the ``DataError`` that reading ``source`` would raise for a missing path."""
    if table_kind(source) is None and not Path(source).is_file():
        raise DataError(f"manifest {source} does not exist")


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.ipc  # noqa: F401  (submodules used below)
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("pyarrow", "tables", "reading Parquet or Arrow data") from exc
    return pyarrow


def _arrow_files(folder: Path) -> list[Path]:
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    files = [folder / f["filename"] for f in state.get("_data_files", [])]
    return files or sorted(folder.glob("*.arrow"))


def _record_batches(source: Any) -> Iterator[tuple[str, Any]]:
    """(file name, pyarrow RecordBatch or Table) in order; each small enough to convert."""
    pa = _pyarrow()
    if is_dataset_object(source):
        for batch in source.with_format("arrow").iter(batch_size=BATCH_ROWS):
            yield "<datasets.Dataset>", batch
        return
    p = Path(source)
    kind = table_kind(p)
    if kind == "parquet":
        for f in parquet_files(source):
            try:
                pf = pa.parquet.ParquetFile(f)
            except (pa.ArrowInvalid, OSError) as exc:
                raise DataError(f"{f}: not a readable Parquet file ({exc})") from None
            for batch in pf.iter_batches(batch_size=BATCH_ROWS):
                yield str(f), batch
    elif kind == "arrow":
        for f in [p] if p.is_file() else _arrow_files(p):
            try:
                # save_to_disk writes the Arrow streaming format; memory-mapped, so pages are read as used
                reader = pa.ipc.open_stream(pa.memory_map(str(f)))
            except (pa.ArrowInvalid, OSError) as exc:
                raise DataError(f"{f}: not a readable Arrow file ({exc})") from None
            for batch in reader:
                for start in range(0, batch.num_rows, BATCH_ROWS):
                    yield str(f), batch.slice(start, BATCH_ROWS)
    else:
        raise DataError(f"{source}: not a Parquet file, a folder of them, or a save_to_disk folder")


def _is_image_type(t: Any) -> bool:
    """The Hugging Face ``Image`` storage (struct with a binary ``bytes``) or raw binary."""
    pa = _pyarrow()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return True
    return pa.types.is_struct(t) and any(t.field(i).name == "bytes" for i in range(t.num_fields))


def resolve_columns(schema: Any, columns: Mapping[str, str] | None, where: str) -> tuple[dict[str, str], list[str]]:
    """(field -> column, columns that go to meta) for a table with ``schema``."""
    names = list(schema.names)
    chosen: dict[str, str] = {}
    for field, column in (columns or {}).items():
        if field not in _FIELDS:
            raise DataError(f"{where}: {field!r} is not a sample field (fields: {', '.join(_FIELDS)})")
        if column not in names:
            raise DataError(f"{where}: no column {column!r} for {field!r}; columns: {', '.join(names)}")
        chosen[field] = column
    taken = set(chosen.values())
    for field in _FIELDS:
        if field in chosen:
            continue
        for column in (*DEFAULT_COLUMNS.get(field, ()), field):
            if column in names and column not in taken:
                chosen[field] = column
                taken.add(column)
                break
    meta = [n for n in names if n not in taken and not _is_image_type(schema.field(n).type)]
    return chosen, meta


def _base_dir(source: Any) -> Path | None:
    """What a relative image path in a table is relative to: the folder, or the file's folder."""
    if is_dataset_object(source):
        return None
    files = parquet_files(source) if any(c in str(source) for c in "*?[") else [Path(source)]
    p = files[0] if files else Path(source)
    return p.resolve() if p.is_dir() else p.resolve().parent


def _image_value(cell: Any) -> Any:
    """An image cell as what a sample's image field takes: bytes, a path string, or None."""
    if isinstance(cell, dict):  # the Hugging Face Image layout
        if cell.get("bytes"):
            return cell["bytes"]
        return cell.get("path") or None
    return cell


def iter_table_samples(source: Any, columns: Mapping[str, str] | None = None) -> Iterator[Sample]:
    """Stream the samples of a Parquet file or folder, a ``save_to_disk`` folder or a
    ``datasets.Dataset``. Rows without an id column are numbered from 0; duplicate ids are an error."""
    base = _base_dir(source)
    plan: tuple[dict[str, str], list[str]] | None = None
    seen = SeenIds()  # 16 bytes a sample: a streamed table stays flat in memory
    row = 0
    for name, batch in _record_batches(source):
        if plan is None:
            plan = resolve_columns(batch.schema, columns, name)
        chosen, meta_cols = plan
        data = {c: batch.column(c).to_pylist() for c in {*chosen.values(), *meta_cols}}
        for i in range(batch.num_rows):
            d: dict[str, Any] = {f: data[c][i] for f, c in chosen.items()}
            for f in IMAGE_FIELDS:
                if f in d:
                    d[f] = _image_value(d[f])
            d.setdefault("id", row)
            if d["id"] is None:
                d["id"] = row
            d["meta"] = {c: data[c][i] for c in meta_cols}
            where = f"{name}: row {row}: "
            sample = sample_from_dict(d, base, where)
            if not seen.add(sample.id):
                raise DataError(f"{where}duplicate sample id {sample.id!r}")
            row += 1
            yield sample


def iter_table_rows(source: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The rows of a table as dicts, each with where it was read (``file: row N``); image
    cells become their bytes (or their path, made absolute against the table's folder when
    relative). For benchmark loaders that build their samples themselves."""
    base = _base_dir(source)
    row = 0
    for name, batch in _record_batches(source):
        images = {n for n in batch.schema.names if _is_image_type(batch.schema.field(n).type)}
        data = batch.to_pydict()
        for i in range(batch.num_rows):
            d = {c: data[c][i] for c in data}
            for c in images:
                d[c] = _image_value(d[c])
                if isinstance(d[c], str) and base is not None:
                    d[c] = os.path.normpath(os.path.join(base, d[c]))
            yield f"{name}: row {row}", d
            row += 1


def open_samples(source: Any, columns: Mapping[str, str] | None = None) -> Iterator[Sample]:
    """Stream samples from any source: a JSONL manifest, a table (see the module), or a
    ``datasets.Dataset``. ``columns`` applies to tables only."""
    if is_dataset_object(source) or table_kind(source) is not None:
        return iter_table_samples(source, columns)
    if columns:
        raise DataError(f"{source}: --columns applies to Parquet and Arrow data, not to a JSONL manifest")
    return iter_samples(source)


def load_samples(source: str | Path | Iterable[Sample | dict[str, Any]] | Any,
                 columns: Mapping[str, str] | None = None) -> list[Sample]:
    """``jk.load_samples``: a JSONL manifest, a Parquet file or folder, a ``save_to_disk`` folder,
    a ``datasets.Dataset``, or a list of Samples/dicts, as a list."""
    if isinstance(source, str | Path | os.PathLike) or is_dataset_object(source):
        return list(open_samples(source if not isinstance(source, os.PathLike) else Path(source), columns))
    return load_samples_list(source)
