"""Reading a sample's image into the bytes sent to the judge.

Judges expect 8-bit RGB. Files that are not are converted only where the conversion keeps
their meaning, and deterministically (so the cache key is stable): grayscale, palette, 16-bit,
CMYK and fully opaque alpha become RGB. An image with real transparency is refused, because
the background it is flattened onto would change what the judge sees; so is a file that does
not decode. Refusals are per-sample failures with the path and the reason.

Huge images are downscaled for the judge: one with more pixels than ``max_image_pixels`` (default
``DEFAULT_MAX_IMAGE_PIXELS``, 4096 x 4096; ``judgekit score --max-image-pixels N``) is resized,
aspect kept, to fit, and sent as PNG; the part records the resize and so does the result
(``details["resized_images"]``). Judge models shrink larger inputs themselves (Qwen2.5-VL to about
12.8 MP, OpenAI's to 2048 px a side), so the extra pixels cost bandwidth and memory only. An image
beyond what Pillow decodes safely (twice ``PIL.Image.MAX_IMAGE_PIXELS``, 179 MP by default) is
refused with the reason instead: decoding it is the decompression-bomb risk Pillow guards against.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import cast

from PIL import Image, UnidentifiedImageError

from .errors import ConfigError, SampleError
from .image_uris import is_uri, read_uri
from .memory_images import InMemoryImage
from .types import ImagePart

#: The most pixels an image sent to a judge has unless told otherwise (4096 x 4096).
DEFAULT_MAX_IMAGE_PIXELS = 4096 * 4096
# A context variable, not a module global: concurrent runs (threads, event loops) keep their own.
_MAX_PIXELS: ContextVar[int | None] = ContextVar("judgekit_max_image_pixels", default=DEFAULT_MAX_IMAGE_PIXELS)


@contextmanager
def max_image_pixels(limit: int | None) -> Iterator[None]:
    """Within the block, images with more than ``limit`` pixels are downscaled to fit before
    they are sent (``None``: never). ``judgekit.score(max_image_pixels=...)`` sets it per run."""
    check_pixel_limit(limit)
    token = _MAX_PIXELS.set(limit)
    try:
        yield
    finally:
        _MAX_PIXELS.reset(token)


def check_pixel_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"max image pixels must be a whole number of at least 1 (or None: no limit), got {limit!r}")


def _fit_size(size: tuple[int, int], limit: int) -> tuple[int, int]:
    """The largest size with the same aspect and at most ``limit`` pixels."""
    w, h = size
    scale = math.sqrt(limit / (w * h))
    fw, fh = max(1, math.floor(w * scale)), max(1, math.floor(h * scale))
    while fw * fh > limit:  # rounding can leave one row or column too many
        fw, fh = (fw - 1, fh) if fw >= fh else (fw, fh - 1)
    return fw, fh

# Formats whose original bytes can be sent as they are when the pixels are already 8-bit RGB.
_PASSTHROUGH = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def _to_rgb(img: Image.Image, path: InMemoryImage | str) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("L", "1"):
        return img.convert("RGB")
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit grayscale: rescale the full range to 8 bits.
        import numpy as np

        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        a8 = np.clip(np.rint(a / top * 255.0), 0, 255).astype("uint8")
        return Image.fromarray(a8, "L").convert("RGB")
    if mode == "CMYK":
        return img.convert("RGB")
    if mode == "P":
        if "transparency" in img.info:
            return _to_rgb(img.convert("RGBA"), path)
        return img.convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        alpha = img.getchannel("A")
        lo, _ = cast("tuple[float, float]", alpha.getextrema())  # one band: (min, max), not per-band pairs
        if lo < 255:
            raise SampleError(
                f"image {path} has transparent pixels (mode {mode}); flatten it onto the background "
                "you intend before judging, since the judge would otherwise see an arbitrary one"
            )
        return img.convert("RGB")
    raise SampleError(f"image {path} has pixel mode {mode!r}, which judgekit cannot convert to RGB faithfully")


def load_image_part(path: str | Path | InMemoryImage, label: str = "") -> ImagePart:
    """The bytes to send for ``path``: the original file when it is 8-bit RGB PNG/JPEG/WebP,
    else a PNG of its faithful RGB conversion. Raises ``SampleError`` with path and reason.
    An image given in memory (``InMemoryImage``) is read from its bytes by the same rules, so
    it is sent exactly as the file holding those bytes would be."""
    p: InMemoryImage | str
    if isinstance(path, InMemoryImage):
        p, raw = path, path.data
    elif is_uri(path):  # an object store or another fsspec filesystem (image_uris.py)
        p = str(path)
        raw = read_uri(p)
    else:
        # A str, not a Path: a Path interns each part of its name, and a long run of unique file
        # names churns the interpreter's interned-string table (whose resizes showed as 15 MB peaks).
        p = os.fspath(path)
        try:
            with open(p, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            raise SampleError(f"image {p} does not exist") from None
        except OSError as exc:
            raise SampleError(f"image {p} cannot be read: {exc.strerror or exc}") from None
    limit = _MAX_PIXELS.get()
    fit: tuple[int, int] | None = None
    try:
        # Pillow warns between MAX_IMAGE_PIXELS and twice that: such an image is downscaled
        # below, so the warning would only alarm; beyond, Pillow raises (caught below).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw))
            size = img.size
            if limit is not None and size[0] * size[1] > limit:
                fit = _fit_size(size, limit)
            if img.mode == "RGB" and img.format in _PASSTHROUGH and fit is None:
                # Sent as is: check the file's structure (chunks, checksums) without decoding every
                # pixel, which would cost more than the judge call's own overhead on large images.
                img.verify()
                return ImagePart(raw, _PASSTHROUGH[img.format], label, source=_file_of(p))
            if fit is not None:
                img.draft("RGB", fit)  # JPEG: decode at 1/2, 1/4 or 1/8 scale, still at least `fit`
            img.load()
    except Image.DecompressionBombError as exc:
        raise SampleError(f"image {p} is too large to decode safely ({exc}); downscale the file before judging, "
                          "or raise PIL.Image.MAX_IMAGE_PIXELS if you trust it") from None
    except UnidentifiedImageError:
        # Pillow's own text names the in-memory buffer (<_io.BytesIO object at 0x...>), not the file.
        raise SampleError(f"image {p} is not a readable image: its contents match no image format Pillow reads") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise SampleError(f"image {p} is not a readable image: {exc}") from None
    rgb = _to_rgb(img, p)
    if fit is not None:
        rgb = rgb.resize(fit, Image.Resampling.LANCZOS, reducing_gap=3.0)
    buf = io.BytesIO()
    rgb.save(buf, format="PNG")
    return ImagePart(buf.getvalue(), "image/png", label, resized=(size, fit) if fit is not None else None,
                     source=_file_of(p))


def _file_of(source: InMemoryImage | str) -> str | None:
    """The file or URI an image was read from (``ImagePart.source``); None for one in memory."""
    return None if isinstance(source, InMemoryImage) else source
