"""The runner's accountant: counts what every reply used, keeps a budget, and can divert
requests instead of sending them (the dry run, batch export and batch submission).

The runner asks ``hold(key, request)`` before it sends a request. The answer is ``SEND`` (the
request's estimated cost is reserved until ``settle``), ``DEFER`` (the request went to
``divert`` instead: nothing is sent) or ``STOP`` (the budget would be exceeded). A budget stops
the run once the next request *could* take it over: the estimate is the request's prompt
(``tokens.estimate_prompt``) plus as many completion tokens as the largest reply seen in this run
(the request's ``max_tokens`` before any reply), over what the replies already settled cost plus
what the requests in flight reserved. After a stop no request is sent; those in flight finish.
The budget counts this run's requests only: answers replayed from the cache cost nothing again,
so a rerun with a larger budget continues where the last one stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..types import ChatRequest, ChatResponse
from .prices import PriceTable
from .tokens import estimate_prompt
from .totals import UNKNOWN_SERVED, SampleUsage, UsageTotals

SEND, DEFER, STOP = "send", "defer", "stop"
#: The error of a call that was not sent because of the budget, or was diverted.
BUDGET_REACHED = "not sent: the run's budget is reached"
DEFERRED = "not sent: diverted (dry run, batch export or batch job)"


@dataclass
class Hold:
    decision: str
    tokens: int = 0
    cost: float = 0.0

    @property
    def error(self) -> str:
        """The call's error when it is not sent."""
        return DEFERRED if self.decision == DEFER else BUDGET_REACHED


class Ledger:
    """``Ledger(model, prices=None, max_cost=None, max_tokens=None, divert=None)``."""

    def __init__(self, model: str, prices: PriceTable | None = None, max_cost: float | None = None,
                 max_tokens: int | None = None, divert: Callable[[str, ChatRequest], None] | None = None,
                 count_text: Callable[[str], int] | None = None):
        if max_cost is not None:
            if prices is None:
                raise ConfigError("--max-cost needs a price table (--prices prices.yaml): judgekit has no built-in prices")
            if prices.lookup(model) is None:
                raise ConfigError(f"--max-cost: the price table {prices.source} has no price for model {model!r}")
            if max_cost <= 0:
                raise ConfigError(f"--max-cost must be more than 0, got {max_cost:g}")
        if max_tokens is not None and max_tokens < 1:
            raise ConfigError(f"--max-tokens must be at least 1, got {max_tokens}")
        self.model, self.prices = model, prices
        self.max_cost, self.max_tokens = max_cost, max_tokens
        self.divert, self.count_text = divert, count_text
        self.totals = UsageTotals(prices)
        self.stopped = False
        self.spent_cost = self.reserved_cost = 0.0
        self.spent_tokens = self.reserved_tokens = 0
        self.largest_completion: int | None = None
        self.sent = self.deferred = 0
        #: Cache keys answered for this run outside it (an imported or downloaded batch output):
        #: read back from the cache, but charged to this run, not "cost when first answered".
        self.fresh_keys: set[str] = set()

    @property
    def budgeted(self) -> bool:
        return self.max_cost is not None or self.max_tokens is not None

    def hold(self, key: str, request: ChatRequest) -> Hold:
        """May ``request`` (cache key ``key``) be sent now? See the module docstring."""
        if self.divert is not None:
            self.divert(key, request)
            self.deferred += 1
            return Hold(DEFER)
        if self.stopped:
            return Hold(STOP)
        if not self.budgeted:
            self.sent += 1
            return Hold(SEND)
        completion = request.max_tokens if self.largest_completion is None else self.largest_completion
        tokens, cost = self.estimate(request, completion)
        if not self.affords(tokens, cost):
            self.stopped = True
            return Hold(STOP)
        self.reserved_tokens += tokens
        self.reserved_cost += cost
        self.sent += 1
        return Hold(SEND, tokens, cost)

    def estimate(self, request: ChatRequest, completion: int, batch: bool = False) -> tuple[int, float]:
        """The tokens and cost ``request`` could use with ``completion`` completion tokens: its
        estimated prompt, priced as the requested model (at the batch price for a batch job)."""
        est = {"prompt_tokens": estimate_prompt(request, self.model, self.count_text).total, "completion_tokens": completion}
        cost = (self.prices.cost(self.model, est, batch=batch) or 0.0) if self.prices is not None else 0.0
        return est["prompt_tokens"] + completion, cost

    def affords(self, tokens: int, cost: float) -> bool:
        """Whether ``tokens`` and ``cost`` more stay within the budget, over what is spent and reserved."""
        over_tokens = self.max_tokens is not None and self.spent_tokens + self.reserved_tokens + tokens > self.max_tokens
        over_cost = self.max_cost is not None and self.spent_cost + self.reserved_cost + cost > self.max_cost
        return not (over_tokens or over_cost)

    def left(self) -> str:
        """What is left of the budget, in words (for the line that says why a batch was held back)."""
        parts = []
        if self.max_cost is not None:
            parts.append(f"${max(0.0, self.max_cost - self.spent_cost - self.reserved_cost):.4f} of ${self.max_cost:g}")
        if self.max_tokens is not None:
            parts.append(f"{max(0, self.max_tokens - self.spent_tokens - self.reserved_tokens)} of {self.max_tokens} tokens")
        return " and ".join(parts)

    def settle(self, hold: Hold, resp: ChatResponse, sample: SampleUsage | None = None, served: str | None = None) -> None:
        """The reply to a held request came (or failed): its reservation becomes real spend,
        counted in the run's totals and in ``sample``'s under ``served`` (the model the reply
        names; see ``record``)."""
        self.reserved_tokens -= hold.tokens
        self.reserved_cost -= hold.cost
        if resp.error is not None:
            return  # a failed request is not billed by the providers judgekit knows
        if sample is not None:
            self.record(sample, resp, from_cache=False, served=served)
        self.spend(resp, served)

    def spend(self, resp: ChatResponse, served: str | None = None) -> None:
        """Add what an answered request used to the budget's spend (a live reply in ``settle``,
        a batch job's reply when it is downloaded)."""
        used = resp.usage
        self.spent_tokens += int(used.get("prompt_tokens") or 0) + int(used.get("completion_tokens") or 0)
        # The budget spends the served model's price; one the table lacks (an alias served as an
        # unlisted id) is charged at the requested model's price rather than as free.
        cost = self.totals.cost(served or self.model, resp)
        self.spent_cost += (cost if cost is not None else self.totals.cost(self.model, resp)) or 0.0
        done = int(used.get("completion_tokens") or 0)
        self.largest_completion = max(self.largest_completion or 0, done)

    def record(self, sample: SampleUsage, resp: ChatResponse, from_cache: bool, key: str = "",
               served: str | None = None) -> None:
        """Count one reply in the run's totals and in its sample's, under ``served`` (the model
        the reply names) and priced by it; a reply that names none is counted under
        ``UNKNOWN_SERVED`` and priced as the requested model."""
        from_cache = from_cache and key not in self.fresh_keys
        cost = self.totals.add(served or UNKNOWN_SERVED, resp, from_cache, priced_as=served or self.model)
        sample.add(resp.usage, cost, from_cache, served or UNKNOWN_SERVED)

    def sample(self) -> SampleUsage:
        return SampleUsage()

    def run_info(self) -> dict[str, Any]:
        info = self.totals.to_json()
        if self.budgeted:
            info["budget"] = {"max_cost_usd": self.max_cost, "max_tokens": self.max_tokens, "stopped": self.stopped,
                              "spent_usd": round(self.spent_cost, 8) if self.prices is not None else None,
                              "spent_tokens": self.spent_tokens}
        return info
