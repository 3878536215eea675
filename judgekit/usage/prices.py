"""The user's price table (``--prices prices.yaml``) and what a reply cost under it.

judgekit ships no prices: provider prices change, and a built-in table would go stale without
anyone noticing. The table is a YAML mapping from model id to its prices in USD per million
tokens::

    gpt-4.1:
      input: 2.00          # prompt tokens
      cached_input: 0.50   # prompt tokens the provider served from its prompt cache
      output: 8.00         # completion tokens
      batch_discount: 0.5  # fraction taken off every price for Batch API replies

A model id is looked up exactly, then by its longest listed prefix followed by ``-`` (so
``gpt-4o`` prices the dated snapshot ``gpt-4o-2024-08-06``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError

_FIELDS = ("input", "cached_input", "output", "batch_discount")


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens; ``batch_discount`` is the fraction off for batch replies."""

    input: float
    output: float
    cached_input: float | None = None  # None: cached prompt tokens cost the full input price
    batch_discount: float = 0.0

    def cost(self, usage: dict[str, Any], batch: bool = False) -> float:
        """USD for one reply's ``usage`` (prompt_tokens, cached_tokens, completion_tokens)."""
        prompt = int(usage.get("prompt_tokens") or 0)
        cached = min(int(usage.get("cached_tokens") or 0), prompt)
        completion = int(usage.get("completion_tokens") or 0)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        usd = ((prompt - cached) * self.input + cached * cached_rate + completion * self.output) / 1e6
        return usd * (1.0 - self.batch_discount) if batch else usd


class PriceTable:
    """Prices per model id (see the module docstring for the file and the lookup rule)."""

    def __init__(self, prices: dict[str, ModelPrice], source: str = ""):
        self.prices = dict(prices)
        self.source = source

    def lookup(self, model: str) -> ModelPrice | None:
        if model in self.prices:
            return self.prices[model]
        prefixes = [m for m in self.prices if model.startswith(m + "-")]
        return self.prices[max(prefixes, key=len)] if prefixes else None

    def cost(self, model: str, usage: dict[str, Any], batch: bool = False) -> float | None:
        """USD for one reply, or None when the table has no price for ``model``."""
        price = self.lookup(model)
        return None if price is None else price.cost(usage, batch)


def _number(path: str, model: str, key: str, value: Any, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (upper is not None and value > upper):
        bound = f" and at most {upper:g}" if upper is not None else ""
        raise DataError(f"{path}: {model}.{key} must be a number at least 0{bound}, got {value!r}")
    return float(value)


def parse_prices(data: Any, path: str = "prices") -> PriceTable:
    """A ``PriceTable`` from the loaded YAML (a mapping of model id to price fields)."""
    if isinstance(data, dict) and set(data) == {"models"}:
        data = data["models"]  # a table may nest its models under one key
    if not isinstance(data, dict) or not data:
        raise DataError(f"{path}: expected a mapping of model id to prices (input, output, cached_input, batch_discount)")
    table: dict[str, ModelPrice] = {}
    for model, fields in data.items():
        if not isinstance(fields, dict):
            raise DataError(f"{path}: {model}: expected a mapping with input and output prices per million tokens")
        unknown = sorted(set(fields) - set(_FIELDS))
        if unknown:
            raise DataError(f"{path}: {model}: unknown field {unknown[0]!r} (fields: {', '.join(_FIELDS)})")
        for key in ("input", "output"):
            if key not in fields:
                raise DataError(f"{path}: {model}: missing {key!r} (USD per million tokens)")
        cached = fields.get("cached_input")
        table[str(model)] = ModelPrice(
            input=_number(path, model, "input", fields["input"]),
            output=_number(path, model, "output", fields["output"]),
            cached_input=None if cached is None else _number(path, model, "cached_input", cached),
            batch_discount=_number(path, model, "batch_discount", fields.get("batch_discount", 0.0), upper=1.0),
        )
    return PriceTable(table, source=path)


def load_prices(path: str | Path) -> PriceTable:
    """Read a price table file (YAML or JSON)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"price table {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"{p}: not valid YAML ({' '.join(str(exc).split())})") from exc
    return parse_prices(data, str(p))
