"""Estimated prompt tokens of a request, for the dry run and for budgets (before a reply says).

Text: a local tokenizer counts exactly where the judge has one (a local model directory, see
``load_local_tokenizer``); otherwise OpenAI's rule of thumb that 100 tokens are about 75
English words (tokens = ceil(words * 4 / 3)), plus 3 tokens of framing per message and 3 for the
reply's start (OpenAI's chat format). Images: OpenAI's documented formula for the model where it
is known (``image_tokens``), else ``DEFAULT_IMAGE_TOKENS`` per image, said as such.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

from ..types import ChatRequest, ImagePart

#: Framing tokens per message and for the reply's start in OpenAI's chat format.
PER_MESSAGE_TOKENS = 3
REPLY_PRIMING_TOKENS = 3
#: The per-image estimate for a model whose image formula is not known.
DEFAULT_IMAGE_TOKENS = 1000

# OpenAI's tile formula (image "detail: high", which "auto" picks for images this size): fit
# within 2048x2048, shrink so the shortest side is at most 768, count 512-pixel tiles; tokens =
# base + per_tile * tiles. (base, per_tile) per model family, longest prefix first.
_TILE_MODELS = (
    ("gpt-4o-mini", (2833, 5667)),
    ("gpt-4.1-mini", None), ("gpt-4.1-nano", None), ("o4-mini", None),  # patch formula below
    ("gpt-4o", (85, 170)), ("gpt-4.1", (85, 170)), ("gpt-4.5", (85, 170)), ("o1", (85, 170)), ("o3", (85, 170)),
)
# OpenAI's patch formula: 32-pixel patches, at most 1536 of them (the image shrunk to fit), times
# a per-model multiplier.
_PATCH_MODELS = {"gpt-4.1-mini": 1.62, "gpt-4.1-nano": 2.46, "o4-mini": 1.72}


def text_tokens(text: str) -> int:
    """The documented estimate for text without a local tokenizer: ceil(words * 4 / 3)."""
    return math.ceil(len(text.split()) * 4 / 3)


def _family(model: str) -> str | None:
    name = model.rsplit("/", 1)[-1].lower()
    for prefix, _ in _TILE_MODELS:
        if name == prefix or name.startswith(prefix + "-"):
            return prefix
    return None


def image_tokens(model: str, width: int, height: int) -> int | None:
    """Tokens of one image of ``width`` x ``height`` for ``model`` by OpenAI's documented
    formula, or None when the model's formula is not known."""
    family = _family(model)
    if family is None:
        return None
    if family in _PATCH_MODELS:
        patches = math.ceil(width / 32) * math.ceil(height / 32)
        if patches > 1536:  # shrunk so that it fits in 1536 patches
            scale = math.sqrt(1536 * 32 * 32 / (width * height))
            w, h = width * scale, height * scale
            scale *= min(math.floor(w / 32) / (w / 32), math.floor(h / 32) / (h / 32))
            patches = math.ceil(width * scale / 32) * math.ceil(height * scale / 32)
        return math.ceil(min(patches, 1536) * _PATCH_MODELS[family])
    base, per_tile = dict(_TILE_MODELS)[family]  # type: ignore[misc]
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        w, h = w * 2048 / max(w, h), h * 2048 / max(w, h)
    if min(w, h) > 768:
        w, h = w * 768 / min(w, h), h * 768 / min(w, h)
    return base + per_tile * math.ceil(w / 512) * math.ceil(h / 512)


def image_size(part: ImagePart) -> tuple[int, int]:
    """Width and height from the image header (no decoding of the pixels)."""
    from PIL import Image

    with Image.open(io.BytesIO(part.data)) as im:
        return im.size


@dataclass
class PromptEstimate:
    text: int = 0
    images: int = 0
    image_count: int = 0
    images_by_formula: bool = True  # False when some image used DEFAULT_IMAGE_TOKENS

    @property
    def total(self) -> int:
        return self.text + self.images


def estimate_prompt(request: ChatRequest, model: str, count_text: Callable[[str], int] | None = None) -> PromptEstimate:
    """Estimated prompt tokens of ``request`` sent to ``model`` (see the module docstring)."""
    count = count_text or text_tokens
    est = PromptEstimate(text=REPLY_PRIMING_TOKENS)
    for m in request.messages:
        est.text += PER_MESSAGE_TOKENS + count(m.text)
        for p in m.content:
            if isinstance(p, ImagePart):
                est.image_count += 1
                n = image_tokens(model, *image_size(p))
                if n is None:
                    est.images_by_formula = False
                    n = DEFAULT_IMAGE_TOKENS
                est.images += n
    return est


def load_local_tokenizer(path: str) -> Callable[[str], int] | None:
    """A text token counter from a local model directory's tokenizer, or None (no directory,
    no tokenizer files, or transformers not installed): the estimate is used instead."""
    import os

    if not os.path.isdir(path):
        return None
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception:  # any failure means "no local tokenizer": fall back to the estimate
        return None
    return lambda text: len(tok.encode(text, add_special_tokens=False))
