"""``judgekit leaderboard``: Bradley-Terry or Elo ratings with bootstrap CIs from battles.

FILE is a battles file (JSONL or CSV with ``model_a, model_b, winner`` and optional
``prompt_id``) or the results of ``judgekit score`` with a pairwise rubric.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from ..io import write_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "leaderboard",
        help="rank models from pairwise battles (Bradley-Terry or Elo, with bootstrap CIs)",
        description="Rank models from a battles file (JSONL/CSV: model_a, model_b, winner in model_a|model_b|tie, "
        "optional prompt_id) or from pairwise judgekit results. The CIs come from a bootstrap that "
        "resamples prompts (battles sharing a prompt_id move together).",
    )
    p.add_argument("file", metavar="FILE", help="battles file (.jsonl/.csv) or pairwise results (.jsonl)")
    p.add_argument("--method", choices=["bt", "elo"], default="bt", help="Bradley-Terry MLE (default) or online Elo")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap rounds (default 1000; 0: no CI)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--level", type=float, default=0.95, help="CI level (default 0.95)")
    p.add_argument("--resample", choices=["prompt", "battle"], default="prompt", help="bootstrap unit (default prompt)")
    p.add_argument("--anchor", metavar="MODEL", help="bt: put this model at the initial rating (default: mean 1000)")
    p.add_argument("--prior", type=float, default=0.0, help="bt: L2 prior strength; > 0 keeps ratings finite for a model that never wins or loses")
    p.add_argument("--k", type=float, default=4.0, help="elo: K factor (default 4)")
    p.add_argument("--init", type=float, default=1000.0, help="initial / anchor rating (default 1000)")
    p.add_argument("--models", help="comma-separated list of the expected models: a battle naming another is an error")
    p.add_argument("--dimension", help="pairwise results: use this rubric dimension's winner")
    p.add_argument("--inconsistent", choices=["tie", "drop"], default="tie", help="pairwise results: count an inconsistent verdict as a tie (default) or drop it")
    p.add_argument("--out", metavar="JSON", help="also write the leaderboard as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..datasets.battles import read_battles
    from ..stats.leaderboard import leaderboard

    if args.bootstrap < 0:
        raise ConfigError("--bootstrap must be >= 0")
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    battles = read_battles(args.file, models=models, inconsistent=args.inconsistent, dimension=args.dimension)
    if args.method == "bt":
        opts = {"anchor": args.anchor, "prior": args.prior, "init": args.init}
    else:
        if args.anchor or args.prior:
            raise ConfigError("--anchor and --prior apply to --method bt only")
        opts = {"k": args.k, "init": args.init}
    lb = leaderboard(battles, method=args.method, n_boot=args.bootstrap, seed=args.seed, level=args.level,
                     resample=args.resample, **opts)
    name = "Bradley-Terry" if args.method == "bt" else f"Elo (K={args.k:g}, mean of 100 shuffled orders)"
    print(f"{name} ratings from {len(battles)} battles, {len(battles.groups)} prompts; "
          f"{args.bootstrap} bootstrap rounds resampling {args.resample}s")
    print(lb.format())
    if battles.skipped:
        print("skipped: " + ", ".join(f"{n} {why}" for why, n in sorted(battles.skipped.items())), file=sys.stderr)
    for w in lb.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.out:
        from ..stats.leaderboard import head_to_head

        out = {"file": str(args.file), "n_battles": len(battles), "n_prompts": len(battles.groups), **lb.to_dict()}
        h_models, h_rate, h_n = head_to_head(battles)  # the report's win matrix
        out["head_to_head"] = {"models": list(h_models), "n": h_n.tolist(), "win_rate": h_rate.tolist()}
        write_json(args.out, out)
    return 0
