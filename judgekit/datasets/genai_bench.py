"""GenAI-Bench's image set as published on the Hugging Face Hub (``BaiqiL/GenAI-Bench``): one row
per prompt with ``Index``, ``Prompt``, ``Tags`` (the prompt's basic/advanced skills),
``HumanRatings`` (``{model: [ratings 1-5]}``) and one ``Image`` column per generating model
(``DALLE_3``, ``SDXL_Turbo``, ``DeepFloyd_I_XL_v1``, ``Midjourney_6``, ``SDXL_2_1``,
``SDXL_Base``), the images embedded as bytes.

``load_genai_bench(PATH)`` reads those Parquet files (a file, or the downloaded folder) and gives
one pointwise sample per prompt and model, its image read from the row's bytes in memory (no file
is written): ``id`` ``<prompt_id>:<model>``, ``prompt_id`` the ``Index`` written with five digits
(the numbering of the published human-ratings file, ``builtin:genai-bench-527``), meta
``benchmark: genai-bench``, ``tags`` and that model's ``human_ratings``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..memory_images import to_in_memory
from ..tables import iter_table_rows
from ..types import Sample


def _prompt_id(index: Any) -> str:
    try:
        return f"{int(index):05d}"
    except (TypeError, ValueError):
        return str(index)


def load_genai_bench(source: str | Path, models: Iterable[str] | None = None) -> list[Sample]:
    """One sample per prompt and model of GenAI-Bench's Parquet files; ``models`` narrows them
    (an unknown name is an error listing the models found)."""
    wanted = list(models) if models is not None else None
    out: list[Sample] = []
    found: set[str] = set()
    for where, row in iter_table_rows(source):
        if "Prompt" not in row:
            raise DataError(f"{where}: no 'Prompt' column: not GenAI-Bench's image set (columns: {', '.join(row)})")
        pid = _prompt_id(row.get("Index", len(out)))
        ratings = row.get("HumanRatings") or {}
        image_columns = [c for c, v in row.items() if isinstance(v, bytes)]
        found.update(image_columns)
        for model in image_columns:
            if wanted is not None and model not in wanted:
                continue
            out.append(Sample(
                id=f"{pid}:{model}", prompt_id=pid, prompt=str(row["Prompt"]), model=model,
                image=to_in_memory(row[model]),
                meta={"benchmark": "genai-bench", "tags": row.get("Tags"), "human_ratings": ratings.get(model)},
            ))
    missing = sorted(set(wanted or ()) - found)
    if missing:
        raise DataError(f"{source}: no image column for {missing}; models found: {sorted(found)}")
    return out
