"""Parsing of repeatable KEY=VALUE command-line options."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConfigError


def parse_key_values(items: list[str] | None, flag: str) -> dict[str, Any]:
    """``["dtype=float32", "max_model_len=2048"]`` -> ``{"dtype": "float32", "max_model_len": 2048}``.
    Values are read as JSON when they parse (numbers, booleans, objects), else kept as text."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out
