"""LongText-Bench prompts: ``{prompt_id, category, length, prompt, text: [strings to render],
text_length}`` per line, one English and one Chinese file.

>>> item = LongTextItem("0", "a sign reading \\"OPEN\\"", ["OPEN"], "en")
>>> item.language
'en'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError
from ..types import Sample

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class LongTextItem:
    prompt_id: str
    prompt: str
    targets: list[str]
    language: str  # "en" (word-level scoring) or "zh" (character-level)
    category: str = ""
    length: str = ""
    meta: dict = field(default_factory=dict)


def detect_language(texts: list[str]) -> str:
    """``zh`` when the target strings contain CJK ideographs, else ``en``."""
    return "zh" if any(_CJK.search(t) for t in texts) else "en"


def load_longtext(path: str | Path, language: str | None = None) -> list[LongTextItem]:
    """Items in file order; the language is detected from the targets unless given."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"LongText-Bench file {p} does not exist")
    items = []
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                targets = [str(t) for t in rec["text"]]
                items.append(LongTextItem(
                    str(rec["prompt_id"]), rec["prompt"], targets, language or detect_language(targets),
                    rec.get("category", ""), rec.get("length", ""), {"text_length": rec.get("text_length")},
                ))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataError(f"{p} line {lineno}: malformed LongText-Bench record ({exc!r})") from None
    return items


def longtext_samples(items: list[LongTextItem], model: str, image_pattern: str) -> list[Sample]:
    """Samples for the text-rendering rubric: ``image_pattern`` is formatted with
    ``prompt_id``, ``language`` and ``model`` (e.g. ``"imgs/{language}/{prompt_id}.png"``)."""
    return [
        Sample(id=f"{it.language}-{it.prompt_id}-{model}", prompt=it.prompt, prompt_id=f"{it.language}-{it.prompt_id}",
               model=model, image=image_pattern.format(prompt_id=it.prompt_id, language=it.language, model=model),
               meta={"targets": it.targets, "language": it.language, "category": it.category, "length": it.length})
        for it in items
    ]
