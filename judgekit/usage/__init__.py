"""Usage and cost beside the runner: token totals per served model and per sample, a
user-supplied price table, budgets that stop a run cleanly, and the token estimates behind the
dry run. See docs/cost.md."""

from .ledger import BUDGET_REACHED, DEFER, DEFERRED, SEND, STOP, Hold, Ledger
from .prices import ModelPrice, PriceTable, load_prices, parse_prices
from .tokens import DEFAULT_IMAGE_TOKENS, PromptEstimate, estimate_prompt, image_tokens, text_tokens
from .totals import SampleUsage, Tally, UsageTotals, format_usage

__all__ = [
    "BUDGET_REACHED", "DEFAULT_IMAGE_TOKENS", "DEFER", "DEFERRED", "SEND", "STOP", "Hold", "Ledger", "ModelPrice",
    "PriceTable", "PromptEstimate", "SampleUsage", "Tally", "UsageTotals", "estimate_prompt", "format_usage",
    "image_tokens", "load_prices", "parse_prices", "text_tokens",
]
