"""Reading a sample's image into the bytes sent to the judge.

Judges expect 8-bit RGB. Files that are not are converted only where the conversion keeps
their meaning, and deterministically (so the cache key is stable): grayscale, palette, 16-bit,
CMYK and fully opaque alpha become RGB. An image with real transparency is refused, because
the background it is flattened onto would change what the judge sees; so is a file that does
not decode. Refusals are per-sample failures with the path and the reason.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import cast

from PIL import Image, UnidentifiedImageError

from .errors import SampleError
from .memory_images import InMemoryImage
from .types import ImagePart

# Formats whose original bytes can be sent as they are when the pixels are already 8-bit RGB.
_PASSTHROUGH = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def _to_rgb(img: Image.Image, path: Path | InMemoryImage) -> Image.Image:
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
    p: Path | InMemoryImage
    if isinstance(path, InMemoryImage):
        p, raw = path, path.data
    else:
        p = Path(path)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            raise SampleError(f"image {p} does not exist") from None
        except OSError as exc:
            raise SampleError(f"image {p} cannot be read: {exc.strerror or exc}") from None
    try:
        img = Image.open(io.BytesIO(raw))
        if img.mode == "RGB" and img.format in _PASSTHROUGH:
            # Sent as is: check the file's structure (chunks, checksums) without decoding every
            # pixel, which would cost more than the judge call's own overhead on large images.
            img.verify()
            return ImagePart(raw, _PASSTHROUGH[img.format], label)
        img.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise SampleError(f"image {p} is not a readable image: {exc}") from None
    rgb = _to_rgb(img, p)
    buf = io.BytesIO()
    rgb.save(buf, format="PNG")
    return ImagePart(buf.getvalue(), "image/png", label)
