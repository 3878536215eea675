"""``judgekit drift --against results.jsonl``: has the judge changed since that run? Exit 0 when
no figure crosses a threshold, 4 when drift is found (``judgekit.drift``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..backends.pool import read_base_urls
from .options import parse_key_values

#: The exit status of a drift check that found drift (0: none found; 2: usage error).
EXIT_DRIFT = 4


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "drift",
        help="judge a sample of an earlier run again and say whether the judge has changed (exit 4 if so)",
        description="Judge a stratified sample (by model) of an earlier run's ok records again, with the same rubric "
        "and backend and bypassing the cache, and compare: exact agreement, mean score shift per dimension with a "
        "paired bootstrap CI, Spearman, the pairwise flip rate, and the served model ids then and now. Exit 0 when "
        "no figure crosses a threshold, 4 when drift is found. See docs/reproducibility.md.",
    )
    p.add_argument("--against", required=True, metavar="RESULTS.jsonl", help="the earlier run's results file")
    p.add_argument("--sample", type=int, default=100, metavar="N", help="records to judge again (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and the bootstrap (default 0)")
    p.add_argument("--max-shift", type=float, metavar="X",
                   help="largest tolerated mean shift of a dimension whose CI excludes 0 (default: 5%% of the scale's range)")
    p.add_argument("--min-agreement", type=float, metavar="Y",
                   help="smallest tolerated exact agreement per dimension / winner agreement (default 0.8; "
                   "on continuous scales only when given)")
    p.add_argument("--out", default="drift.json", help="the drift report (JSON; default drift.json); the fresh "
                   "records go beside it as <stem>.results.jsonl with their judge card")
    p.add_argument("--rubric", help="the rubric file, when the earlier run's rubric is not a built-in one (its hash must match)")
    p.add_argument("--backend", help="the judge (default: the earlier run's backend spec)")
    p.add_argument("--base-url", action="append", help="server URL (default: the earlier run's)")
    p.add_argument("--data", help="the manifest, when the earlier records keep no inputs")
    p.add_argument("--cache", help="response cache file the fresh answers are added to (default: the default cache)")
    p.add_argument("--no-cache", action="store_true", help="do not store the fresh answers")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="rubric-kind option, as given to `score`")
    p.add_argument("--questions", help="question file, as given to `score`, for question-based rubrics")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap rounds (default 2000)")
    p.set_defaults(func=run)


def format_drift(report: dict) -> list[str]:
    lines = [f"drift check against {report['against']}: {report['compared']} of {report['sampled']} sampled records "
             f"compared ({report['failed_now']} failed now); rubric {report['rubric']['name']} {report['rubric']['hash']}"]
    # As wide as the longest dimension name (VIEScore's `semantic_consistency` is 20): never cut one.
    w = max([18] + [len(f["dimension"]) for f in report["dimensions"]])
    lines.append(f"{'dimension':<{w}}   n  agree  shift   95% CI             spearman")
    for f in report["dimensions"]:
        ci = "n/a" if f["ci_low"] is None else f"{f['ci_low']:+.3f} to {f['ci_high']:+.3f}"
        sp = "n/a" if f["spearman"] is None else f"{f['spearman']:.3f}"
        lines.append(f"{f['dimension']:<{w}} {f['n']:>3}  {f['exact_agreement']:.3f}  {f['mean_shift']:+.3f}  {ci:<18} {sp}")
    if report["pairwise"]:
        pw = report["pairwise"]
        lines.append(f"pairwise: winner agreement {pw['winner_agreement']:.3f}, flip rate {pw['flip_rate']:.3f} "
                     f"({pw['flips']} of {pw['pairs']} pairs reversed)")
    served = report["served_models"]
    lines.append("served then: " + ", ".join(f"{k} ({v['calls']})" for k, v in served["then"].items()))
    lines.append("served now:  " + ", ".join(f"{k} ({v['calls']})" for k, v in served["now"].items()))
    lines.append(f"verdict: {report['verdict']}")
    lines += [f"  {r}" for r in report["reasons"]]
    return lines


def run(args: argparse.Namespace) -> int:
    from ..drift import drift_check

    method_options = parse_key_values(args.option, "--option")
    if args.questions:
        method_options["questions"] = args.questions
    out = Path(args.out)
    stem = out.name[: -len(".json")] if out.name.endswith(".json") else out.name
    report = drift_check(
        args.against, rubric=args.rubric, backend=args.backend, base_url=read_base_urls(args.base_url, None),
        data=args.data, sample=args.sample, seed=args.seed, max_shift=args.max_shift, min_agreement=args.min_agreement,
        cache=False if args.no_cache else (args.cache or True), concurrency=args.concurrency,
        method_options=method_options, results_out=out.with_name(f"{stem}.results.jsonl"), n_boot=args.n_boot,
    )
    print("\n".join(format_drift(report)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_DRIFT if report["verdict"] == "drift" else 0
