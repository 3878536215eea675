"""``judgekit pairs``: plan the pairs to judge from a pointwise manifest."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pairs",
        help="plan pairwise comparisons from a pointwise manifest",
        description="Write a pairwise manifest (image_a, image_b, model_a, model_b) from a manifest of several "
        "models' images per prompt: all pairs of different models per prompt, or K of them drawn per prompt. "
        "Judge it with a pairwise rubric (`judgekit score --rubric pairwise-t2i`), then `judgekit leaderboard`.",
    )
    p.add_argument("manifest", help="pointwise JSONL manifest (id, prompt, prompt_id, image, model)")
    p.add_argument("--plan", default="all", help="'all' or 'random:K' pairs per prompt (default all)")
    p.add_argument("--seed", type=int, default=0, help="seed of random:K (default 0)")
    p.add_argument("--out", default="pairs.jsonl", help="pairwise manifest to write (default pairs.jsonl)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..manifest import load_samples
    from ..pairs import plan_pairs, write_pairs

    samples = load_samples(args.manifest)
    plan = plan_pairs(samples, args.plan, seed=args.seed)
    if not plan.pairs:  # an empty pairwise manifest would only fail later, as "no samples to judge"
        from ..errors import DataError

        models = sorted({s.model for s in samples if s.model is not None})
        raise DataError(f"{args.manifest}: no pairs to write: a pair needs images of two different models of one "
                        f"prompt (prompt_id), and the manifest has {len(samples)} sample(s) of model(s) {models}")
    n = write_pairs(plan.pairs, args.out)
    print(f"{n} pairs ({args.plan}, seed {args.seed}) written to {args.out}; each is judged in both orders")
    if plan.single_model_prompts:
        shown = ", ".join(plan.single_model_prompts[:5]) + (" ..." if len(plan.single_model_prompts) > 5 else "")
        print(f"warning: {len(plan.single_model_prompts)} prompt(s) have images of only one model and give no pairs: {shown}",
              file=sys.stderr)
    return 0
