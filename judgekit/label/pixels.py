"""The pixels raters see are the pixels the judge sees.

An image is read with the judge's own policy (:func:`judgekit.images.load_image_part`: 8-bit RGB,
real transparency refused, faithful conversions only), then decoded in full, so a truncated
file that would be drawn half-way in a browser is refused before it is assigned, exactly as the
judge refuses it. Raters get two variants of the judge's bytes:

- ``full``: the judge's bytes as they are (what the zoom view shows);
- ``view``: a copy whose longest side is at most :data:`VIEW_SIDE` pixels, for the grading view
  (a 10 MB original would take seconds to arrive over a slow link).

Prepared variants are kept in a small LRU keyed by the file's path, size and mtime, so a reload
or a second rater does not decode again, and an edited file is read afresh.
"""

from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image

from ..errors import SampleError
from ..images import load_image_part

#: Longest side of the grading view's copy, in pixels (sharp on a 2x display at half a screen).
VIEW_SIDE = 1280
JPEG_QUALITY = 90


@dataclass(frozen=True)
class Picture:
    data: bytes
    mime: str
    width: int
    height: int


def prepare(path: str, variant: str = "view") -> Picture:
    """The bytes of ``variant`` ("view" or "full") of the image at ``path``; raises
    ``SampleError`` with the judge's reason when the judge would refuse the file."""
    part = load_image_part(path)
    try:
        with Image.open(io.BytesIO(part.data)) as img:
            img.load()  # every pixel: a truncated file fails here, not half-drawn in a browser
            size = img.size
            if variant == "full" or max(size) <= VIEW_SIDE:
                return Picture(part.data, part.media_type, *size)
            rgb = img.convert("RGB")  # load_image_part already made it 8-bit RGB; the copy is for resizing
    except (OSError, ValueError, SyntaxError) as exc:
        raise SampleError(f"image {path} does not decode in full: {exc}") from None
    rgb.thumbnail((VIEW_SIDE, VIEW_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    rgb.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return Picture(buf.getvalue(), "image/jpeg", *rgb.size)


class PictureCache:
    """``get(path, variant)`` with an LRU of prepared pictures and of refusals."""

    def __init__(self, capacity: int = 48):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, Picture | str] = OrderedDict()

    def get(self, path: str, variant: str = "view") -> Picture:
        try:
            st = os.stat(path)
            key: tuple = (path, variant, st.st_size, st.st_mtime_ns)
        except OSError:
            key = (path, variant, None, None)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is None:
            try:
                hit = prepare(path, variant)
            except SampleError as exc:
                hit = str(exc)
            with self._lock:
                self._cache[key] = hit
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
        if isinstance(hit, str):
            raise SampleError(hit)
        return hit
