"""``judgekit merge``: join the results files of a sharded run (``judgekit score --shard i/N``)."""

from __future__ import annotations

import argparse

from ..merge import merge_results


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "merge",
        help="join the results files of a sharded run into one",
        description="Join results files written by `judgekit score --shard i/N`. Refuses samples judged in "
        "two parts, parts judged with a different rubric or backend, and (with --data) samples of the "
        "manifest that no part has.",
    )
    p.add_argument("parts", nargs="+", metavar="PART", help="results files (JSONL) to join")
    p.add_argument("-o", "--out", required=True, help="merged results file (JSONL)")
    p.add_argument("--data", help="the manifest the parts were cut from: check every sample is judged once, keep its order")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    merged = merge_results(args.parts, manifest=args.data, out=args.out)
    failed = len(merged.failures)
    print(f"merged {len(merged)} samples ({failed} failed) from {len(args.parts)} parts into {args.out}")
    return 0
