"""``judgekit summary RESULTS.jsonl [--over-seeds] [--out S.json]``: the per-model summary of a
results file; with ``--over-seeds``, what the seeds do (docs/seeds.md)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..stats.bootstrap import DEFAULT_N_BOOT
from . import EXIT_ALL_FAILED


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "summary",
        help="per-model summary of a results file; --over-seeds: best/worst of N, variance components, seeds needed",
        description="Summarise a results file per model. With --over-seeds: mean, best and worst of N per prompt, "
        "the spread across seeds, the prompt / seed / residual variance components (bootstrap CIs over prompts), "
        "how many seeds a target CI width needs, and a paired power calculation between models. See docs/seeds.md.",
    )
    p.add_argument("results", metavar="RESULTS.jsonl")
    p.add_argument("--over-seeds", action="store_true", help="the sampling-variance summary across seeds")
    p.add_argument("--out", metavar="S.json", help="also write the summary as JSON")
    p.add_argument("--n-boot", type=int, default=DEFAULT_N_BOOT, metavar="N",
                   help=f"bootstrap rounds (default {DEFAULT_N_BOOT}, as score and Results.summary())")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--level", type=float, default=0.95, help="CI level (default 0.95)")
    p.add_argument("--resample", choices=["prompts", "prompts+seeds"], default="prompts",
                   help="bootstrap unit: prompts (default) or prompts, then seeds within each drawn prompt")  # fmt: skip
    p.add_argument(
        "--ci-width",
        type=float,
        metavar="W",
        help="target CI width of a model mean (default: half the current)",
    )
    p.add_argument(
        "--detect",
        type=float,
        metavar="D",
        help="difference the power calculation is for (default: observed)",
    )
    p.add_argument("--power", type=float, default=0.8, help="target power (default 0.8)")
    p.add_argument("--alpha", type=float, default=0.05, help="test level (default 0.05)")
    p.set_defaults(func=run)


def _null_nan(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _null_nan(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_null_nan(x) for x in v]
    return v


def run(args: argparse.Namespace) -> int:
    from ..results import load_results

    res = load_results(args.results)
    if not len(res):
        raise DataError(f"{args.results}: no result records: nothing to summarise")
    if not any(r.status == "ok" for r in res):
        first = res.failures[0]
        print(f"judgekit: every one of the {len(res)} records in {args.results} failed, nothing to summarise "
              f"(first: {first.sample_id}: {first.error or 'no reason recorded'})", file=sys.stderr)
        return EXIT_ALL_FAILED
    if args.over_seeds:
        s = res.summary(over="seeds", n_boot=args.n_boot, seed=args.seed, level=args.level, resample=args.resample,
                        ci_width=args.ci_width, detect=args.detect, power=args.power, alpha=args.alpha)  # fmt: skip
        data: Any = s.to_dict()
    else:
        s = res.summary(n_boot=args.n_boot, seed=args.seed)
        data = s.to_dict()
    print(s)
    if args.out:
        Path(args.out).write_text(json.dumps(_null_nan(data), indent=2, allow_nan=False) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
