"""Items whose score says more about the protocol than about the model, counted so that a
headline never hides them.

- A missing image: a failed generation. judgekit fails that sample (it is excluded and counted);
  some official evaluators instead substitute a black image (OneIG) or crash.
- A blank image (one flat colour; a black one is reported on its own): what some pipelines write
  for a failed or safety-filtered generation. judgekit judges it like any image, as the official
  evaluators do, and counts it.
- An unparseable reply: judgekit retries, then fails the sample; some official scripts put a
  guessed score in its place (GEdit-Bench with Qwen2.5-VL, Step1X-Edit #101).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..memory_images import InMemoryImage
from ..types import Result, Sample


def image_condition(path: str | Path | InMemoryImage) -> str:
    """``ok``, ``missing``, ``unreadable``, ``black`` (every pixel 0) or ``blank`` (one flat
    colour other than black). An image given in memory is read from its bytes."""
    if isinstance(path, InMemoryImage):
        source: Path | io.BytesIO = io.BytesIO(path.data)
    else:
        source = Path(path)
        if not source.is_file():
            return "missing"
    try:
        with Image.open(source) as img:
            # Extrema of a shrunk copy: a flat image stays flat, and large images stay cheap.
            small = img.convert("RGB")
            small.thumbnail((64, 64))
            extrema = small.getextrema()
    except (UnidentifiedImageError, OSError, ValueError):
        return "unreadable"
    if all(lo == hi for lo, hi in extrema):
        return "black" if all(hi == 0 for _, hi in extrema) else "blank"
    return "ok"


@dataclass
class QuirkCounts:
    missing_images: int = 0
    unreadable_images: int = 0
    black_images: int = 0
    blank_images: int = 0
    unparseable_replies: int = 0  # samples failed because the judge's reply never parsed
    failed_samples: int = 0  # every failed sample (the above included), excluded from the scores
    rewritten_prompts: int = 0  # GenEval: images generated from another prompt than the benchmark's

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)

    def line(self) -> str:
        parts = [f"{v} {k.replace('_', ' ')}" for k, v in self.__dict__.items()]
        return "quirk items: " + ", ".join(parts)


def count_image_quirks(samples: Iterable[Sample], counts: QuirkCounts) -> dict[str, str]:
    """Inspect every generated image once (the ``image`` field only: sources are the
    benchmark's); returns ``{sample id: condition}`` for the ones that are not ``ok``."""
    flagged: dict[str, str] = {}
    seen: dict[str, str] = {}
    for s in samples:
        if not s.image:
            flagged[s.id] = "missing"  # the benchmark's layout has no image for this item
            continue
        key = s.image if isinstance(s.image, str) else s.image.sha256
        cond = seen.get(key)
        if cond is None:
            cond = seen[key] = image_condition(s.image)
        if cond != "ok":
            flagged[s.id] = cond
    for cond in flagged.values():
        name = f"{cond}_images"
        setattr(counts, name, getattr(counts, name) + 1)
    return flagged


def count_result_quirks(results: Iterable[Result], counts: QuirkCounts) -> None:
    for r in results:
        if r.status == "failed":
            counts.failed_samples += 1
            if r.error and "invalid reply" in r.error:
                counts.unparseable_replies += 1
