"""Images for the report: downscaled thumbnails embedded as data URIs, or links to the files.

Each distinct path is read once (an editing source shared by many samples, a pairwise image in
several pairs), in a small thread pool: Pillow releases the GIL while it decodes and resamples,
so threads overlap on a multi-core machine. A file that is missing or does not decode becomes an
entry with ``error`` set, which the page shows as an error card; it never stops the report.
"""

from __future__ import annotations

import base64
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from PIL import Image, UnidentifiedImageError

#: Longest side of an embedded thumbnail, in pixels.
DEFAULT_SIZE = 256
JPEG_QUALITY = 80


def thumbnail(path: str | Path, size: int = DEFAULT_SIZE) -> dict:
    """``{"src": data URI, "w", "h", "orig": [w, h]}`` for the image at ``path``, downscaled so its
    longest side is at most ``size`` (never upscaled); ``{"error": why}`` when it cannot be read.

    Opaque images become JPEG (small); images with transparency stay PNG so the page shows the
    real alpha instead of an invented background."""
    p = Path(path)
    try:
        with Image.open(p) as img:
            orig = img.size
            if img.format == "JPEG":
                img.draft("RGB", (size, size))  # let libjpeg decode at a reduced scale
            img.load()
            has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
            img = img.convert("RGBA" if has_alpha else "RGB")
            img.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
            buf = io.BytesIO()
            if has_alpha:
                img.save(buf, format="PNG", optimize=False)
                mime = "image/png"
            else:
                img.save(buf, format="JPEG", quality=JPEG_QUALITY)
                mime = "image/jpeg"
    except FileNotFoundError:
        return {"error": f"image {p} does not exist"}
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        return {"error": f"image {p} is not a readable image: {exc}"}
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return {"src": f"data:{mime};base64,{data}", "w": img.width, "h": img.height, "orig": list(orig)}


def link(path: str | Path, report_dir: Path) -> dict:
    """``{"src": relative URL}`` from the report's folder to the original file (checked to
    exist, not decoded: linking is for runs too large to read every image)."""
    p = Path(path)
    if not p.is_file():
        return {"error": f"image {p} does not exist"}
    # abspath, not resolve(): no per-file symlink walk (runs linking images are the large ones).
    rel = os.path.relpath(os.path.abspath(p), os.path.abspath(report_dir))
    return {"src": quote(Path(rel).as_posix())}


class ImageTable:
    """Distinct image paths of a report, numbered in the order they are first seen."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, path: str) -> int:
        if path not in self._index:
            self._index[path] = len(self.paths)
            self.paths.append(path)
        return self._index[path]

    def build(self, *, link_images: bool, report_dir: Path, size: int = DEFAULT_SIZE, workers: int | None = None) -> list[dict]:
        """One entry per path (see ``thumbnail`` and ``link``), in index order. An embedded
        thumbnail also gets ``full``: the relative link to the original, which a click opens
        (valid while the report stays beside the images it was made from)."""
        if link_images:
            return [link(p, report_dir) for p in self.paths]
        workers = workers or min(4, os.cpu_count() or 1)
        if workers <= 1 or len(self.paths) < 8:
            out = [thumbnail(p, size) for p in self.paths]
        else:
            with ThreadPoolExecutor(workers) as pool:
                out = list(pool.map(lambda p: thumbnail(p, size), self.paths, chunksize=16))
        for entry, p in zip(out, self.paths, strict=True):
            if "src" in entry:
                entry["full"] = link(p, report_dir)["src"]
        return out
