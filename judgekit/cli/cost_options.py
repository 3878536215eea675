"""The ``judgekit score`` flags of usage, cost and batch files (``--prices``, ``--max-cost``,
``--max-tokens``, ``--dry-run``, ``--export-batch``, ``--import-batch``), kept out of score.py:
``CostPlan`` builds the run's ledger from them, fills the cache from an imported output file,
and prints what the run used and why it stopped. See docs/cost.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..backends.batch_files import MAX_BYTES, MAX_REQUESTS, BatchFileWriter, read_output_lines
from ..cache import ResponseCache, backend_identity
from ..errors import ConfigError
from ..results import Results
from ..usage import Ledger, PriceTable, format_usage, load_prices
from ..usage.dryrun import DryRunCount
from ..usage.tokens import load_local_tokenizer
from . import EXIT_ALL_FAILED

#: The run stopped at its budget (--max-cost / --max-tokens); rerun with a larger one to go on.
EXIT_BUDGET = 5


def add_cost_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("usage, cost and batch files (docs/cost.md)")
    g.add_argument("--prices", metavar="FILE", help="price table (YAML: per model id input / cached_input / output USD "
                   "per million tokens, batch_discount); without one the run reports tokens only")
    g.add_argument("--max-cost", type=float, metavar="USD", help="send no request that could take this run's cost over "
                   "USD (needs --prices); stops with exit status 5, a rerun continues from the cache")
    g.add_argument("--max-tokens", type=int, metavar="N", help="the same budget in prompt + completion tokens")
    g.add_argument("--dry-run", action="store_true", help="render every request, send none: print the request count, "
                   "estimated prompt tokens and (with --prices) the estimated cost live and by batch")
    g.add_argument("--export-batch", metavar="FILE", help="write the requests not yet answered as a Batch API request "
                   "file (also read by `vllm run-batch`), send nothing")
    g.add_argument("--import-batch", metavar="FILE", help="read a Batch API output file into the cache and write the "
                   "results of every sample it completes; send nothing")
    g.add_argument("--batch", action="store_true", help="judge through the provider's Batch API (about half price, "
                   "within 24 h): submit, poll, download; a killed run re-attaches to its pending batches")
    g.add_argument("--batch-size", type=int, default=MAX_REQUESTS, metavar="N",
                   help=f"requests per batch file (default {MAX_REQUESTS}, the OpenAI limit)")
    g.add_argument("--batch-max-bytes", type=int, default=MAX_BYTES, metavar="BYTES",
                   help=f"bytes per batch file (default {MAX_BYTES}, the OpenAI limit; images make requests large)")
    g.add_argument("--batch-fallback", choices=["live", "batch"], default="live",
                   help="requests a batch did not answer (expired, failed): send them live (default) or in the next batch")
    g.add_argument("--batch-poll", type=float, default=30.0, metavar="SECONDS", help="seconds between status checks (default 30)")


class CostPlan:
    """What the cost flags ask of one ``judgekit score`` run."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.prices: PriceTable | None = load_prices(args.prices) if args.prices else None
        modes = [f for f in ("dry_run", "export_batch", "import_batch", "batch") if getattr(args, f, None)]
        if len(modes) > 1:
            flags = " and ".join("--" + m.replace("_", "-") for m in modes)
            raise ConfigError(f"{flags} cannot be combined: choose one")
        self.mode = modes[0] if modes else "live"
        if self.mode in ("export_batch", "import_batch", "batch") and args.no_cache:
            raise ConfigError(f"--{self.mode.replace('_', '-')} needs the response cache (drop --no-cache)")
        if self.diverts and (args.max_cost is not None or args.max_tokens is not None):
            raise ConfigError("--max-cost / --max-tokens limit a run that sends requests; this one sends none")
        self.counter: DryRunCount | None = None
        self.writer: BatchFileWriter | None = None
        self.imported = self.import_errors = 0
        self.imported_keys: set[str] = set()
        self.missing = _MissingCount()
        self.total: int | None = None
        self.run_ledger: Ledger | None = None  # built by ``ledger`` once the backend exists

    @property
    def writes_results(self) -> bool:
        """False for the runs that only count or write requests (dry run, export)."""
        return self.mode not in ("dry_run", "export_batch")

    @property
    def diverts(self) -> bool:
        """True when the run sends nothing (its requests are counted or written instead)."""
        return self.mode in ("dry_run", "export_batch", "import_batch")

    def ledger(self, backend: Any) -> Ledger:
        model = str(getattr(backend, "model", backend.spec))
        divert: Callable[[str, Any], None] | None = None
        if self.mode == "dry_run":
            count_text = load_local_tokenizer(model)
            self.counter = DryRunCount(model, count_text, "local" if count_text else "estimate")
            divert = self.counter
        elif self.mode == "export_batch":
            path = Path(self.args.export_batch)
            self.writer = BatchFileWriter(backend, lambda i: path if i == 0 else path.with_suffix(f".{i + 1}{path.suffix}"))
            divert = self.writer
        elif self.mode == "import_batch":
            divert = self.missing
        ledger = Ledger(model, self.prices, self.args.max_cost, self.args.max_tokens, divert)
        ledger.fresh_keys = self.imported_keys  # the import's replies are this run's
        return ledger

    async def score_batch(self, cache_path: str | Path, **score_kwargs: Any) -> Results:
        """``--batch``: the run through provider batch jobs (judgekit/batch_jobs.py)."""
        from ..batch_jobs import BatchDriver, score_batch_async

        a = self.args
        driver = BatchDriver(score_kwargs["backend"], cache_path, a.batch_size, a.batch_max_bytes, a.batch_fallback, a.batch_poll)
        assert self.run_ledger is not None
        return await score_batch_async(driver, self.run_ledger, a.out, **score_kwargs)

    def import_outputs(self, backend: Any, cache_path: str | Path) -> None:
        """``--import-batch``: every answered line into the cache under its custom_id (the
        cache key of its request); failed lines are counted and left for a later export."""
        identity = backend_identity(backend)
        with ResponseCache(cache_path) as cache:
            for custom_id, resp in read_output_lines(self.args.import_batch):
                if resp.error is None:
                    # No server answered in this run: the record names the file the reply came from.
                    source = f"batch output {Path(self.args.import_batch).resolve()}"
                    resp.raw = {**(resp.raw or {}), "endpoint": (resp.raw or {}).get("endpoint") or source}
                    cache.put(custom_id, identity, resp)
                    self.imported_keys.add(custom_id)
                    self.imported += 1
                else:
                    self.import_errors += 1

    def report(self, results: Results, ledger: Ledger) -> int:
        """Print what the run used and did; the exit status when the plan decides it."""
        cache = results.run_info.get("cache", {})
        if self.mode == "dry_run":
            assert self.counter is not None
            for line in self.counter.lines(self.prices, int(cache.get("hits", 0))):
                print(line)
            return 0
        if self.mode == "export_batch":
            assert self.writer is not None
            self.writer.close()
            files = ", ".join(f"{p} ({len(k)} requests, {b} bytes)" for p, k, b in self.writer.parts) or "none"
            print(f"exported {self.writer.requests} requests not yet answered; nothing was sent; files: {files}")
            return 0
        for line in format_usage(results.run_info.get("usage", {})):
            print(line)
        if self.mode == "import_batch":
            print(f"imported {self.imported} replies ({self.import_errors} failed lines) from {self.args.import_batch}; "
                  f"{self.missing.n} requests still unanswered (export them with --export-batch)")
        if ledger.stopped:
            spent = f"${ledger.spent_cost:.4f} of ${self.args.max_cost:g}" if self.args.max_cost is not None else ""
            tokens = f"{ledger.spent_tokens} of {self.args.max_tokens} tokens" if self.args.max_tokens is not None else ""
            total = f" of {self.total}" if self.total is not None else ""
            print(f"judgekit: budget reached: {len(results)}{total} samples judged, {ledger.sent} requests sent, "
                  f"{' and '.join(x for x in (spent, tokens) if x)} spent; rerun with a larger budget to continue "
                  "from the cache", file=sys.stderr)
            return EXIT_BUDGET
        if self.mode == "import_batch" and not len(results):
            # Exit 0 promises a judged sample: an import whose every line failed (or a request
            # file passed instead of an output file) completes none.
            print(f"judgekit: no sample completed: {self.missing.n} requests still unanswered by "
                  f"{self.args.import_batch}", file=sys.stderr)
            return EXIT_ALL_FAILED
        return 0


class _MissingCount:
    """Counts the requests an import run could not answer (it sends none)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, key: str, request: Any) -> None:
        self.n += 1

