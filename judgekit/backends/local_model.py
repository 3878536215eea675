"""What the in-process engines (``vllm:``, ``hf:``) share: finding model weights on local disk,
checking that they are a vision-language model with a processor, decoding images, and turning
judgekit messages into the OpenAI-style chat dicts both engines' chat templates take.

No network: a model is a local directory or a model id already in the local Hugging Face cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from ..types import ChatRequest, ImagePart, TextPart

# config.json keys that only multimodal (image-reading) models carry.
_VISION_KEYS = ("vision_config", "vision_tower", "mm_vision_tower", "visual", "img_processor",
                "image_token_index", "image_token_id", "vision_start_token_id")
# Files a saved processor leaves behind (transformers 5 writes processor_config.json; hub
# checkpoints usually carry preprocessor_config.json).
_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json", "image_processor_config.json")


def _hf_cache_hint() -> str:
    home = os.environ.get("HF_HUB_CACHE") or os.environ.get("HF_HOME") or "~/.cache/huggingface"
    return home


def resolve_model_dir(model: str) -> Path:
    """Return the local directory holding ``model``: the path itself, or its snapshot in the
    local Hugging Face cache. Never downloads.

    >>> resolve_model_dir("/no/such/dir")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    judgekit.errors.ConfigError: model '/no/such/dir' is not on local disk...
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    looks_like_path = model.startswith(("/", ".", "~")) or path.exists() or model.count("/") > 1
    if not looks_like_path:
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model, local_files_only=True))
        except Exception:  # noqa: BLE001 - any failure means "not cached"; we explain below
            pass
    if looks_like_path:
        raise ConfigError(
            f"model {model!r} is not on local disk: {path} is not a directory. Pass a directory holding the "
            f"model (config.json, weights, tokenizer and processor files); judgekit never downloads weights"
        )
    raise ConfigError(
        f"model {model!r} is not on local disk: judgekit never downloads weights. Either pass a "
        f"directory holding the model (config.json, weights, tokenizer and processor files), "
        f"e.g. `--backend vllm:/models/Qwen2.5-VL-7B-Instruct`, or put the model into the local "
        f"Hugging Face cache ({_hf_cache_hint()}) on a machine with hub access, e.g. "
        f"`hf download {model}` (huggingface_hub >= 1.0; older: `huggingface-cli download`), and copy that cache here."
    )


def check_vlm_dir(path: Path) -> dict[str, Any]:
    """Raise ConfigError unless ``path`` holds a vision-language model with a processor;
    return its config."""
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise ConfigError(f"{path} has no config.json: it is not a model directory")
    try:
        config = json.loads(cfg_file.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"{cfg_file} is not valid JSON: {e}") from e
    if not any(k in config for k in _VISION_KEYS):
        arch = ", ".join(config.get("architectures") or [config.get("model_type", "?")])
        raise ConfigError(
            f"{path} holds a text-only model ({arch}): a judge must read images, so use a "
            f"vision-language model (e.g. Qwen2.5-VL, InternVL, LLaVA)"
        )
    if not any((path / f).is_file() for f in _PROCESSOR_FILES):
        raise ConfigError(
            f"{path} has no image processor ({' or '.join(_PROCESSOR_FILES)}): copy the "
            f"processor files that come with the model into that directory"
        )
    return config


_SMALL_FILE = 16 << 20  # configs, tokenizers, chat templates: hashed whole
_PROBE = 64 << 10  # bytes read at the start, middle and end of each larger (weight) file


def model_revision(path: Path) -> str:
    """A short fingerprint of the model in ``path``, part of the response cache key: a
    fine-tuned checkpoint, a changed chat template or another revision gives another value.

    Weights are not read whole (tens of GB): every small file is hashed in full, and each
    large one by its size and three 64 KiB probes (start, middle, end), which differ between
    two checkpoints of the same shapes because the middle of a weight file is tensor data."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not any(x.startswith(".") for x in p.relative_to(path).parts)):
        size = f.stat().st_size
        h.update(f"{f.relative_to(path).as_posix()}\0{size}\0".encode())
        with f.open("rb") as fh:
            if size <= _SMALL_FILE:
                h.update(fh.read())
                continue
            for offset in (0, size // 2, size - _PROBE):
                fh.seek(offset)
                h.update(fh.read(_PROBE))
    return h.hexdigest()[:16]


def decode_image(part: ImagePart):
    """The PIL image of an image part, fully decoded and in RGB; ValueError if it is not one."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(part.data))
        img.load()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        label = f" {part.label!r}" if part.label else ""
        raise InputError(f"image{label} ({len(part.data)} bytes) cannot be decoded: {e}") from e
    if img.width < 1 or img.height < 1:
        raise InputError(f"image {part.label!r} is empty ({img.width}x{img.height})")
    return img.convert("RGB")


def to_chat_messages(request: ChatRequest, image_key: str = "image_pil") -> list[dict[str, Any]]:
    """OpenAI-style message dicts with decoded PIL images (ValueError for a bad image).

    ``image_key="image_pil"`` gives vLLM's ``{"type": "image_pil", "image_pil": img}``;
    ``image_key="image"`` gives transformers' ``{"type": "image", "image": img}``.
    """
    out = []
    for m in request.messages:
        parts: list[dict[str, Any]] = []
        for p in m.content:
            if isinstance(p, TextPart):
                parts.append({"type": "text", "text": p.text})
            else:
                parts.append({"type": image_key, image_key: decode_image(p)})
        out.append({"role": m.role, "content": parts})
    return out
