"""How the scripted server (tests/judge_server.py) counts the tokens it reports as usage: a
documented count, independent of judgekit's estimator, so the dry run's estimate can be checked
against it.

- text: the pieces of the regex ``\\w+|[^\\w\\s]`` (a word or one punctuation mark), the pre-split
  that BPE tokenizers start from, of every message's text; plus 3 per message and 3 for the reply;
- images: OpenAI's tile formula for detail "high" (fit in 2048x2048, shortest side at most 768,
  85 + 170 tokens per 512-pixel tile), read from the data URL's PNG/JPEG header (85 for bytes
  that are not an image, which some tests send);
- completion: the same text count of the reply's content.
"""

from __future__ import annotations

import base64
import io
import math
import re

_PIECE = re.compile(r"\w+|[^\w\s]")


def count_text(text: str) -> int:
    return len(_PIECE.findall(text))


def tile_tokens(width: int, height: int) -> int:
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        f = 2048 / max(w, h)
        w, h = w * f, h * f
    if min(w, h) > 768:
        f = 768 / min(w, h)
        w, h = w * f, h * f
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


def _image_tokens(url: str) -> int:
    from PIL import Image

    try:
        data = base64.b64decode(url.split(",", 1)[1])
        with Image.open(io.BytesIO(data)) as im:
            return tile_tokens(*im.size)
    except Exception:  # tests that send placeholder bytes as an image: one base charge
        return 85


def prompt_tokens(body: dict) -> tuple[int, int]:
    """(text tokens, image tokens) of a chat-completions request body."""
    text = 3
    images = 0
    for m in body.get("messages", []):
        text += 3
        content = m.get("content")
        if isinstance(content, str):
            text += count_text(content)
            continue
        for part in content or []:
            if part.get("type") == "text":
                text += count_text(part["text"])
            elif part.get("type") == "image_url":
                images += _image_tokens(part["image_url"]["url"])
    return text, images
