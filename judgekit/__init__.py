"""judgekit: judge text-to-image and image-editing outputs with a multimodal LLM."""

from __future__ import annotations

__version__ = "0.1.0"
