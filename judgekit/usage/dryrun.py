"""The dry run's count: every request a run would send, with its estimated prompt tokens and,
under a price table, the estimated cost live and by batch (``judgekit score --dry-run``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..types import ChatRequest
from .prices import PriceTable
from .tokens import DEFAULT_IMAGE_TOKENS, estimate_prompt


class DryRunCount:
    """A ``Ledger`` divert target: ``count(key, request)`` for each request the run would send."""

    def __init__(self, model: str, count_text: Callable[[str], int] | None = None, tokenizer: str = "estimate"):
        self.model, self.count_text, self.tokenizer = model, count_text, tokenizer
        self.requests = 0
        self.text_tokens = self.image_tokens = self.images = 0
        self.max_completion_tokens = 0
        self.images_by_formula = True

    def __call__(self, key: str, request: ChatRequest) -> None:
        est = estimate_prompt(request, self.model, self.count_text)
        self.requests += 1
        self.text_tokens += est.text
        self.image_tokens += est.images
        self.images += est.image_count
        self.images_by_formula &= est.images_by_formula
        self.max_completion_tokens += request.max_tokens

    @property
    def prompt_tokens(self) -> int:
        return self.text_tokens + self.image_tokens

    def to_json(self, prices: PriceTable | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"requests": self.requests, "prompt_tokens": self.prompt_tokens,
                               "text_tokens": self.text_tokens, "image_tokens": self.image_tokens, "images": self.images,
                               "max_completion_tokens": self.max_completion_tokens}
        price = prices.lookup(self.model) if prices is not None else None
        if price is not None:
            prompt_only = {"prompt_tokens": self.prompt_tokens}
            at_most = {**prompt_only, "completion_tokens": self.max_completion_tokens}
            out["cost_usd"] = {"live_prompt": price.cost(prompt_only), "live_at_most": price.cost(at_most),
                               "batch_prompt": price.cost(prompt_only, batch=True),
                               "batch_at_most": price.cost(at_most, batch=True)}
        return out

    def lines(self, prices: PriceTable | None, cached: int) -> list[str]:
        """What ``--dry-run`` prints."""
        how = ("counted with the judge's local tokenizer" if self.tokenizer == "local"
               else "estimated as ceil(words * 4 / 3) + 3 per message")
        img = ("by OpenAI's documented formula for " + self.model if self.images_by_formula
               else f"at {DEFAULT_IMAGE_TOKENS} tokens per image (no documented formula for {self.model})")
        out = [f"dry run: {self.requests} requests would be sent ({cached} answers already in the cache); nothing was sent",
               f"estimated prompt tokens: {self.prompt_tokens} (text {self.text_tokens}, {how}; "
               f"{self.images} images {self.image_tokens}, {img})"]
        info = self.to_json(prices)
        if "cost_usd" in info:
            c = info["cost_usd"]
            out.append(f"estimated cost live: ${c['live_prompt']:.4f} for the prompts, at most ${c['live_at_most']:.4f} "
                       f"with every reply at max_tokens ({self.max_completion_tokens} completion tokens)")
            out.append(f"estimated cost by batch: ${c['batch_prompt']:.4f} for the prompts, at most ${c['batch_at_most']:.4f}")
        elif prices is not None:
            out.append(f"cost: not estimated (the price table {prices.source} has no price for {self.model})")
        else:
            out.append("cost: not estimated (no price table; pass --prices prices.yaml)")
        return out
