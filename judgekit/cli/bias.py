"""``judgekit bias prompts|report``: the bundled neutral prompts, and the attribute distributions
of results of the ``attributes`` rubric (docs/bias.md).

    judgekit bias prompts --out neutral.jsonl
    judgekit score --rubric attributes --data people.jsonl --backend openai:MODEL --out attributes.jsonl
    judgekit bias report attributes.jsonl [--target gender_presentation=feminine:0.5,masculine:0.5] --out bias.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bias",
        help="perceived-attribute distributions per model (entropy, KL, max/min) with CIs; neutral prompts",
        description="Bias in aggregate from results of the 'attributes' rubric. See docs/bias.md.",
    )
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = acts.add_parser("prompts", help="write the bundled neutral occupation/activity prompts (JSONL)")
    q.add_argument("--out", metavar="PATH", help="default: stdout")
    q.set_defaults(func=run_prompts)
    q = acts.add_parser(
        "report", help="attribute distributions with bootstrap CIs and paired model comparisons"
    )
    q.add_argument("results", metavar="RESULTS.jsonl")
    q.add_argument(
        "--rubric", help="the attributes rubric the results came from (default: the one they name)"
    )
    q.add_argument("--target", action="append", default=[], metavar="ATTR=GROUP:SHARE,...",
                   help="a target distribution for one attribute instead of uniform; repeatable")  # fmt: skip
    q.add_argument(
        "--no-per-prompt", action="store_true", help="leave the per-prompt statistics out of --out"
    )
    q.add_argument("--n-boot", type=int, default=2000)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--level", type=float, default=0.95)
    q.add_argument("--out", metavar="PATH.json")
    q.set_defaults(func=run_report)


def parse_target(spec: str) -> tuple[str, dict[str, float]]:
    """``gender_presentation=feminine:0.5,masculine:0.5`` -> (attribute, shares)."""
    attr, sep, rest = spec.partition("=")
    if not sep or not attr or not rest:
        raise ConfigError(f"--target {spec!r}: expected ATTR=GROUP:SHARE,GROUP:SHARE")
    shares = {}
    for part in rest.split(","):
        g, sep, v = part.rpartition(":")
        try:
            shares[g.strip()] = float(v)
        except ValueError:
            raise ConfigError(f"--target {spec!r}: {part!r} is not GROUP:SHARE") from None
        if not sep or not g.strip():
            raise ConfigError(f"--target {spec!r}: {part!r} is not GROUP:SHARE")
    return attr.strip(), shares


def run_prompts(args: argparse.Namespace) -> int:
    from ..bias import neutral_prompts

    text = "".join(json.dumps(r) + "\n" for r in neutral_prompts())
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {len(text.splitlines())} prompts to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def run_report(args: argparse.Namespace) -> int:
    from ..bias import bias_report, format_report
    from ..results import load_results

    targets = dict(parse_target(t) for t in args.target)
    try:
        rep = bias_report(load_results(args.results), rubric=args.rubric, targets=targets,
                          per_prompt=not args.no_per_prompt, n_boot=args.n_boot, level=args.level, seed=args.seed)  # fmt: skip
    except ValueError as exc:  # a target naming an unknown group, ...
        raise ConfigError(str(exc)) from None
    print(format_report(rep))
    if args.out:
        Path(args.out).write_text(json.dumps(_finite(rep), indent=2, allow_nan=False) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
