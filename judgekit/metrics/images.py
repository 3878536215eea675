"""Reading image files and manifests for the metrics, with errors that name the file.

Metrics never guess how to turn a grayscale or transparent image into RGB (replicating gray or
compositing alpha on black/white changes the numbers), so such files are refused with a message
saying how to convert them. A palette image without transparency is RGB in disguise and is
converted losslessly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..memory_images import InMemoryImage
from ..types import Sample

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def read_rgb(path: str | Path | InMemoryImage) -> np.ndarray:
    """Read an image file (or an image given in memory) as an ``H x W x 3`` uint8 array;
    refuse anything that is not RGB.

    >>> read_rgb("missing.png")  # doctest: +SKIP
    DataError: missing.png: cannot read image (No such file or directory)
    """
    import io

    from PIL import Image

    p = path if isinstance(path, InMemoryImage) else Path(path)
    try:
        with Image.open(io.BytesIO(p.data) if isinstance(p, InMemoryImage) else p) as im:
            mode = im.mode
            if mode == "P" and "transparency" not in im.info:
                im = im.convert("RGB")
                mode = "RGB"
            if mode != "RGB":
                kind = {
                    "L": "grayscale",
                    "LA": "grayscale with alpha",
                    "I;16": "16-bit grayscale",
                    "I": "32-bit grayscale",
                    "RGBA": "RGBA",
                    "P": "palette with transparency",
                }.get(mode, mode)
                raise DataError(
                    f"{p}: image mode {mode} ({kind}); the metrics need 3-channel RGB. Convert it "
                    "first (e.g. PIL `Image.open(f).convert('RGB')`, deciding how alpha should be "
                    "composited), judgekit does not guess"
                )
            arr = np.array(im, dtype=np.uint8)  # a writable copy (torch.from_numpy warns on read-only)
    except DataError:
        raise
    except Exception as exc:  # PIL raises many types for unreadable files
        raise DataError(f"{p}: cannot read image ({exc})") from exc
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise DataError(f"{p}: expected an H x W x 3 image, got shape {arr.shape}")
    return arr


def list_images(directory: str | Path) -> list[Path]:
    """Image files directly inside ``directory`` and below it, sorted (a stable order)."""
    d = Path(directory)
    if not d.is_dir():
        raise DataError(f"{d}: not a directory")
    files = sorted(p for p in d.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{d}: no image files ({', '.join(IMAGE_SUFFIXES)}) found")
    return files


@dataclass(frozen=True)
class ManifestItem:
    """A sample with its image paths resolved against the manifest's folder."""

    sample: Sample
    image: Path | None
    reference: Path | None


def read_manifest(path: str | Path) -> list[ManifestItem]:
    """Read a JSONL manifest with ``judgekit.load_samples`` (``id``, ``image`` relative to the
    manifest, optional ``reference``, ``prompt``, ``model``; errors name the file and line)."""
    from ..manifest import load_samples

    p = Path(path)
    samples = load_samples(p)
    if not samples:
        raise DataError(f"{p}: the manifest is empty")
    return [
        ManifestItem(s, Path(str(s.image)) if s.image else None, Path(str(s.reference)) if s.reference else None)
        for s in samples
    ]
