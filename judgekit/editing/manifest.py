"""Writing benchmark samples out as a judgekit manifest (JSONL), for ``judgekit score``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..memory_images import InMemoryImage, write_image_file
from ..types import IMAGE_FIELDS, Sample


def sample_line(s: Sample) -> dict:
    """A manifest line: the sample's fields (empty ones left out) and its meta keys at the top
    level, as the manifest format reads them back into ``meta``."""
    d = {k: v for k, v in s.model_dump(exclude={"meta"}).items() if v is not None}
    for k, v in s.meta.items():
        d.setdefault(k, v)
    return d


def write_manifest(samples: Iterable[Sample], path: str | Path) -> int:
    """Write ``samples`` to ``path`` atomically; image paths are written absolute, so the file
    can live anywhere. An image held in memory (e.g. GEdit-Bench's source read from its Parquet
    file) is written once to ``<manifest stem>_images/<sha256>.<ext>`` beside the manifest, since a
    manifest names files. Returns the number of lines written."""
    p = Path(path)
    images = p.with_name(p.stem + "_images")
    tmp = p.with_name(p.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for s in samples:
            line = sample_line(s)
            for k in IMAGE_FIELDS:
                if isinstance(line.get(k), InMemoryImage):
                    line[k] = str(write_image_file(line[k], images))
                elif isinstance(line.get(k), str):
                    line[k] = os.path.abspath(line[k])
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, p)
    return n
