"""Helpers of the benchmark tests: what a scripted judge reads from a request, and test images
whose top-left pixel identifies them (so the judge's answer, and the test's recomputation of
the official aggregation, can depend on which image was judged)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image


def request_text(body: dict) -> str:
    parts = [p for m in body["messages"] for p in (m["content"] if isinstance(m["content"], list) else [{"text": m["content"]}])]
    return " ".join(p.get("text", "") for p in parts)


def last_image_marker(body: dict) -> int:
    """The red value of the top-left pixel of the request's last image."""
    urls = [p["image_url"]["url"] for m in body["messages"] if isinstance(m["content"], list)
            for p in m["content"] if p.get("type") == "image_url"]
    raw = base64.b64decode(urls[-1].split(",", 1)[1])
    return int(Image.open(io.BytesIO(raw)).convert("RGB").getpixel((0, 0))[0])


def marked_array(marker: int, size: int, seed: int) -> np.ndarray:
    """Random RGB pixels (never a flat image) with ``marker`` as the top-left red value."""
    arr = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    arr[0, 0, 0] = marker
    return arr


def write_marked(path: Path, marker: int, size: int = 24, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(marked_array(marker, size, seed), "RGB").save(path)
    return path


def write_compbench_category(root: Path, category: str, prompts: list[str], images: dict[int, list[int]],
                             mark: Callable[[int], int]) -> tuple[Path, Path]:
    """A T2I-CompBench++ category as its evaluator reads it: ``<category>_val.txt`` (one prompt a
    line) and ``<category>/samples/<prompt>_<NNNNNN>.png``, image ``k`` marked with ``mark(k)``."""
    data = root / f"{category}_val.txt"
    data.write_text("\n".join(prompts) + "\n")
    for p, numbers in images.items():
        for k in numbers:
            write_marked(root / category / "samples" / f"{prompts[p]}_{k:06d}.png", mark(k), seed=k)
    return data, root / category
