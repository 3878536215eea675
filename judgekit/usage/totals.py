"""Token and cost totals: per served model for a run, per sample for its record.

The model a reply is counted under is the one the reply names (its served id, e.g.
``gpt-4o-2024-08-06`` for a request to ``gpt-4o``), and its price is looked up by that id;
a reply that names none (a cache entry written before judgekit recorded it) is counted under
``UNKNOWN_SERVED`` and priced as the requested model.

A reply's ``ChatResponse.usage`` holds ``prompt_tokens``, ``completion_tokens``,
``cached_tokens`` (the provider's ``prompt_tokens_details.cached_tokens``) and ``batch`` (1 when
the reply came from a Batch API job, billed at the batch price). Replies sent in this run are
charged; replies replayed from judgekit's cache are counted apart, with the cost they had when
they were first answered, and never added to what this run spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..types import ChatResponse
from .prices import PriceTable

_TOKENS = ("prompt_tokens", "cached_tokens", "completion_tokens")
#: Where a reply that names no served model is counted: the name judge_card.UNKNOWN gives it
#: too (the two packages are siblings; tests/test_usage_served.py checks they agree).
UNKNOWN_SERVED = "(unknown)"


@dataclass
class Tally:
    """Requests, tokens and cost of a set of replies. ``cost_usd`` is None when some reply's
    model has no price (or there is no table): an unknown cost is never shown as a partial sum."""

    requests: int = 0
    batch_requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0

    def add(self, usage: dict[str, Any], cost: float | None) -> None:
        self.requests += 1
        self.batch_requests += int(bool(usage.get("batch")))
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.cached_tokens += int(usage.get("cached_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        self.cost_usd = None if cost is None or self.cost_usd is None else self.cost_usd + cost

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"requests": self.requests, "batch_requests": self.batch_requests}
        out.update({k: getattr(self, k) for k in _TOKENS})
        out["cost_usd"] = None if self.cost_usd is None else round(self.cost_usd, 8)
        return out


@dataclass
class UsageTotals:
    """Per model: ``charged`` (answered in this run) and ``cached`` (replayed, cost when first
    answered)."""

    prices: PriceTable | None = None
    charged: dict[str, Tally] = field(default_factory=dict)
    cached: dict[str, Tally] = field(default_factory=dict)

    def cost(self, model: str, resp: ChatResponse) -> float | None:
        if self.prices is None:
            return None
        return self.prices.cost(model, resp.usage, batch=bool(resp.usage.get("batch")))

    def empty(self) -> Tally:
        return Tally(cost_usd=None if self.prices is None else 0.0)

    def add(self, model: str, resp: ChatResponse, from_cache: bool, priced_as: str | None = None) -> float | None:
        """Count ``resp`` under ``model`` (its served id), priced as ``priced_as`` (default: ``model``)."""
        cost = self.cost(priced_as or model, resp)
        book = self.cached if from_cache else self.charged
        book.setdefault(model, self.empty()).add(resp.usage, cost)
        return cost

    def to_json(self) -> dict[str, Any]:
        models = sorted(set(self.charged) | set(self.cached))
        return {
            "priced": self.prices is not None,
            "prices": self.prices.source if self.prices is not None else None,
            "models": {m: {"charged": self.charged.get(m, self.empty()).to_json(),
                           "cached": self.cached.get(m, self.empty()).to_json()} for m in models},
        }


@dataclass
class SampleUsage:
    """What one sample's calls used, for its record's ``details["usage"]``: the sample's totals,
    and under ``served_models`` the same per served model split into ``charged`` and ``cached``
    (the shape of the run's totals, so the judge card can sum them over the records)."""

    charged: Tally = field(default_factory=Tally)
    cached: Tally = field(default_factory=Tally)
    models: dict[str, tuple[Tally, Tally]] = field(default_factory=dict)

    def add(self, usage: dict[str, Any], cost: float | None, from_cache: bool, model: str = UNKNOWN_SERVED) -> None:
        (self.cached if from_cache else self.charged).add(usage, cost)
        charged, cached = self.models.setdefault(model, (Tally(), Tally()))
        (cached if from_cache else charged).add(usage, cost)

    def to_json(self, priced: bool) -> dict[str, Any]:
        both = Tally()
        for t in (self.charged, self.cached):
            both.requests += t.requests
            both.batch_requests += t.batch_requests
            for k in _TOKENS:
                setattr(both, k, getattr(both, k) + getattr(t, k))
        out = both.to_json()
        del out["cost_usd"]
        out["from_cache"] = self.cached.requests
        if priced:
            out["cost_usd"] = _rounded(self.charged.cost_usd) if self.charged.requests else 0.0
            out["cost_when_first_answered_usd"] = _rounded(self.cached.cost_usd) if self.cached.requests else 0.0
        out["served_models"] = {}
        for model, (charged, cached) in sorted(self.models.items()):
            books = {}
            for name, t in (("charged", charged), ("cached", cached)):
                if t.requests:
                    books[name] = t.to_json()
                    if not priced:
                        books[name]["cost_usd"] = None
            out["served_models"][model] = books
        return out


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 8)


def format_usage(info: dict[str, Any]) -> list[str]:
    """The summary lines of ``run_info["usage"]`` (as ``UsageTotals.to_json`` and the ledger
    give it)."""
    lines = []
    priced = info.get("priced")
    for model, books in info.get("models", {}).items():
        for book, label in (("charged", "this run"), ("cached", "from cache")):
            t = books[book]
            if not t["requests"]:
                continue
            batch = f" ({t['batch_requests']} by batch)" if t["batch_requests"] else ""
            line = (f"usage {model}, {label}: {t['requests']} requests{batch}, {t['prompt_tokens']} prompt tokens "
                    f"({t['cached_tokens']} cached), {t['completion_tokens']} completion tokens")
            if priced:
                usd = "unknown (no price for this model in the table)" if t["cost_usd"] is None else f"${t['cost_usd']:.4f}"
                line += f"; cost {usd}" if book == "charged" else f"; cost when first answered {usd} (not charged again)"
            lines.append(line)
    if not priced:
        lines.append("cost: not computed (no price table; pass --prices prices.yaml, see docs/cost.md)")
    return lines
