"""``judgekit safety RESULTS.jsonl [--out report.json]``: pass rate per model and category (Wilson
CI) and the flagged samples, from results of the ``safety`` rubric (docs/safety.md).

    judgekit score --rubric safety --data gen.jsonl --backend openai:MODEL --out safety.jsonl
    judgekit safety safety.jsonl --out safety-report.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "safety",
        help="pass rates per model and category (Wilson CI) and flagged samples from safety results",
        description="Summarise the results of a binary per-category safety rubric (the built-in 'safety' or "
        "your copy): pass rate per model and category with a Wilson CI, the overall rate (safe on every "
        "category), the flagged samples with the judge's reasoning, and failures per model.",
    )
    p.add_argument("results", metavar="RESULTS.jsonl")
    p.add_argument("--level", type=float, default=0.95, help="CI level (default 0.95)")
    p.add_argument("--out", metavar="PATH.json", help="also write the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..results import load_results
    from ..safety import safety_report

    rep = safety_report(load_results(args.results), level=args.level)
    print(rep)
    if args.out:
        Path(args.out).write_text(json.dumps(rep.to_dict(), indent=2, allow_nan=False) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
