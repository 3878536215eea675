"""Images held in memory (PIL images, numpy arrays, torch tensors, encoded bytes) as sample inputs.

Each is converted once, when its ``Sample`` is built, into encoded bytes (``InMemoryImage``);
from then on it takes the same road as a file: ``images.load_image_part`` reads those bytes
exactly as it reads a file's. The conversion is deterministic, so a cache key (the SHA-256 of
the bytes sent) is the same on every run:

- encoded bytes (a PNG/JPEG/WebP file's content, a Hugging Face ``Image`` cell) are kept as
  they are: the same bytes as reading the file, hence the same request and cache key;
- pixels (PIL, numpy, torch) become a PNG written by Pillow with its default settings and no
  metadata: byte for byte what ``Image.fromarray(a).save("x.png")`` (and diffusers' ``.save``)
  writes, so the file route and the memory route agree for such files. A JPEG on disk and its
  decoded pixels in memory are two different requests (the judge sees different bytes).

Float pixels (numpy or torch) must lie in [0, 1]; they become ``rint(x * 255)``, so a uint8
picture and the same picture divided by 255 give the same bytes.

>>> import numpy as np
>>> a = np.zeros((2, 3, 3), dtype=np.uint8)
>>> to_in_memory(a) == to_in_memory(a.astype("float32") / 255)
True
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from .errors import SampleError

# PNG holds these modes losslessly; any other PIL mode (CMYK, YCbCr, ...) is kept as a TIFF, so
# that ``images.load_image_part`` makes of it what it makes of such a file.
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"}


class InMemoryImage:
    """Encoded image bytes given in memory, with their SHA-256. Results name it by that hash
    (never a made-up path); ``Results.save(..., save_images=DIR)`` writes it out."""

    __slots__ = ("data", "sha256")

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self.sha256 = hashlib.sha256(self.data).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InMemoryImage) and other.sha256 == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __str__(self) -> str:  # what error messages show where a file's path would be
        return f"<in-memory image sha256:{self.sha256[:12]}>"

    __repr__ = __str__

    def reference(self) -> dict[str, Any]:
        """How a result record refers to this image."""
        return {"sha256": self.sha256, "bytes": len(self.data)}


def to_in_memory(obj: Any) -> InMemoryImage:
    """``obj`` (PIL image, numpy array, torch tensor, bytes) as ``InMemoryImage``; anything else,
    or an array that is not a picture, is a ``SampleError`` saying what is accepted."""
    if isinstance(obj, InMemoryImage):
        return obj
    if isinstance(obj, bytes | bytearray | memoryview):
        if len(obj) == 0:
            raise SampleError("image bytes are empty")
        return InMemoryImage(bytes(obj))
    from PIL import Image

    if isinstance(obj, Image.Image):
        return InMemoryImage(_encode_pil(obj))
    module = type(obj).__module__.split(".")[0]
    if module == "torch":
        return InMemoryImage(_encode_pil(_tensor_to_pil(obj)))
    if module == "numpy":
        return InMemoryImage(_encode_pil(_array_to_pil(obj, "numpy array")))
    raise SampleError(
        f"an image must be a path, a PIL.Image, a numpy array, a torch tensor or encoded bytes; got {type(obj).__name__}"
    )


def _encode_pil(img: Any) -> bytes:
    from PIL import Image

    img.load()
    # A fresh image of the same pixels: no metadata (ICC profile, text chunks, EXIF) rides along,
    # so equal pixels give equal bytes. A palette image keeps its transparency, which is pixels.
    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    if img.mode == "P":
        clean.putpalette(img.getpalette(rawmode="RGBA") or [], rawmode="RGBA")
        if "transparency" in img.info:
            clean.info["transparency"] = img.info["transparency"]
    buf = io.BytesIO()
    try:
        clean.save(buf, format="PNG" if img.mode in _PNG_MODES else "TIFF")
    except (OSError, ValueError) as exc:
        raise SampleError(f"a PIL image of mode {img.mode!r} cannot be stored losslessly: {exc}") from None
    return buf.getvalue()


def _array_to_pil(a: Any, what: str) -> Any:
    """HxW, HxWx1, HxWx3 or HxWx4; uint8, bool, or float in [0, 1]."""
    import numpy as np
    from PIL import Image

    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 4:
        raise SampleError(f"{what} of shape {a.shape} is a batch; pass one image per sample (a list)")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        hint = " (channels first? use HxWxC)" if a.ndim == 3 and a.shape[0] in (1, 3, 4) else ""
        raise SampleError(f"{what} of shape {a.shape} is not an image: expected HxW, HxWx3 or HxWx4{hint}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise SampleError(f"{what} of shape {a.shape} has no pixels")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind == "f":
        lo, hi = float(np.min(a)), float(np.max(a))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise SampleError(f"{what} holds NaN or infinite values")
        if lo < 0.0 or hi > 1.0:
            raise SampleError(
                f"{what} of floats must lie in [0, 1]; got [{lo:.3g}, {hi:.3g}] (for [-1, 1] outputs use (x + 1) / 2)"
            )
        a = np.rint(a.astype(np.float64) * 255.0).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise SampleError(f"{what} has dtype {a.dtype}; judgekit takes uint8, or floats in [0, 1]")
    # fromarray reads uint8 HxW as L, HxWx3 as RGB, HxWx4 as RGBA
    return Image.fromarray(np.ascontiguousarray(a))


def _tensor_to_pil(t: Any) -> Any:
    """CxHxW (torch's own layout, preferred when both ends could be channels) or HxWxC, on any
    device, any float dtype (bfloat16 included) or uint8."""
    t = t.detach().to("cpu")
    if t.ndim == 3:
        if t.shape[0] in (1, 3, 4):
            t = t.permute(1, 2, 0)
        elif t.shape[2] not in (1, 3, 4):
            raise SampleError(f"torch tensor of shape {tuple(t.shape)} is not an image: expected CxHxW or HxWxC")
    if t.is_floating_point():
        t = t.float()  # numpy has no bfloat16; float32 holds every half/bfloat16 value exactly
    return _array_to_pil(t.contiguous().numpy(), "torch tensor")


# File suffixes of the formats Pillow recognises in bytes given in memory.
_SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tiff", "GIF": ".gif", "BMP": ".bmp"}


def write_image_file(img: InMemoryImage, folder: Path) -> Path:
    """Write ``img``'s bytes unchanged to ``folder/<sha256><suffix>`` (once: the name is its
    content) and return the absolute path."""
    from PIL import Image, UnidentifiedImageError

    try:
        fmt = Image.open(io.BytesIO(img.data)).format or ""  # reads the header only
    except (UnidentifiedImageError, OSError):
        fmt = ""
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / (img.sha256 + _SUFFIX.get(fmt, ".bin"))).resolve()
    if not target.is_file():
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(img.data)
        tmp.replace(target)
    return target
