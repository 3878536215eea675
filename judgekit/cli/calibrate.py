"""``judgekit calibrate``: how far to trust a judge, measured on human labels.

    judgekit calibrate --judge results.jsonl --human labels.jsonl --baseline clip.jsonl:clipscore
    judgekit calibrate --compare --judge a=v1.jsonl --judge b=v2.jsonl --human labels.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import calibration as cal
from ..calibration.join import join
from ..calibration.maps import fit_map
from ..errors import ConfigError
from ..io import write_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="agreement of a judge with human labels, next to baselines and the human ceiling",
        description="Join judge scores (and baseline scores) with human labels and report Pearson, Spearman, "
        "Kendall tau-b/c, quadratic-weighted kappa, Krippendorff's alpha and pairwise accuracy with bootstrap CIs "
        "over prompts, the human ceiling (each rater vs the mean of the others) first. With pairwise (a/b/tie winner) "
        "labels: tie-aware pairwise accuracy (optimised tie threshold for a pointwise judge) next to human vs human. "
        "With --compare, rank several "
        "judges against the same labels. With --ppi, prediction-powered per-model estimates. "
        "See docs/calibration.md.",
    )
    p.add_argument("--judge", action="append", required=True, metavar="[NAME=]FILE[:COLUMN]",
                   help="judge scores: a judgekit results file or any JSONL/CSV/JSON with a score column; "
                   "repeat with --compare to rank several judges")
    p.add_argument("--human", required=True, metavar="FILE",
                   help="human labels (JSONL/CSV/JSON), builtin:NAME (dsg-tifa160-likert, tifa160, genai-bench-527), "
                   "or imagenhub:DIR (ImagenHub's *_rater{1,2,3}.tsv: dimensions SC, PQ, overall)")
    p.add_argument("--human-columns", metavar="MAP",
                   help="map label fields to the file's columns, e.g. prompt_id=item_id,model=t2i_model,rater=worker_id,score=answer")
    p.add_argument("--human-scale", metavar="LO,HI", help="declared label scale, e.g. 1,5 (labels outside it are an error)")
    p.add_argument("--judge-column", help="column of the judge file holding the score (default: overall, or score)")
    p.add_argument("--baseline", action="append", default=[], metavar="[NAME=]FILE[:COLUMN]",
                   help="a baseline scorer (CLIP score, another metric), repeatable; tifa160:METRIC takes a metric "
                   "from the shipped TIFA160 file (e.g. tifa160:clipscore_vitb32)")
    p.add_argument("--dimension", help="the label/judge dimension to calibrate (default: each dimension in turn); "
                   "a rubric group (SC, PQ) reads the judge's groups.<NAME>, overall its overall")
    p.add_argument("--on", choices=["sample_id", "prompt_id,model"], help="join key (default: sample_id when both sides have it)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap draws (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--matched", action="store_true",
                   help="also compare each scorer exactly like a rater: against the mean of the other raters, rater by rater")
    p.add_argument("--wide", action="store_true", help="one row per scorer instead of one per statistic")
    p.add_argument("--out", help="write the report as JSON")
    p.add_argument("--fit-map", choices=["isotonic", "ordinal"], help="fit a judge -> human-scale map (cross-validated)")
    p.add_argument("--map-out", help="where --fit-map saves the map (JSON); apply it with jk.apply_calibration")
    p.add_argument("--compare", action="store_true", help="rank the --judge files against the same labels")
    p.add_argument("--compare-stat", default="spearman", help="statistic --compare ranks by (default spearman)")
    p.add_argument("--ppi", action="store_true", help="prediction-powered per-model means and win rates")
    p.add_argument("--ppi-map", metavar="MAP.json", help="calibration map putting judge scores on the human scale for --ppi")
    p.add_argument("--ppi-width", type=float, metavar="W", help="also say how many labels a CI of width W needs")
    p.set_defaults(func=run)


def _named(spec: str) -> tuple[str | None, str]:
    """``name=path:col`` -> (name, "path:col"); a spec without ``=`` (or whose prefix is a path)
    has no name."""
    head, sep, tail = spec.partition("=")
    if sep and head and "/" not in head and not Path(spec).exists():
        return head, tail
    return None, spec


def _source(spec: str):
    if spec.startswith("tifa160:"):
        from ..demo import tifa_metric_scores

        return tifa_metric_scores(spec.split(":", 1)[1])
    return spec


def _scale(text: str | None):
    if not text:
        return None
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"--human-scale expects LO,HI (e.g. 1,5), got {text!r}") from None
    return (lo, hi)


def _labels(args):
    if args.human.startswith("builtin:"):
        return cal.builtin_labels(args.human.split(":", 1)[1])
    if args.human.startswith("imagenhub:"):  # ImagenHub's rater TSVs
        from ..calibration.imagenhub import load_imagenhub_ratings

        return load_imagenhub_ratings(args.human.split(":", 1)[1], dimension=args.dimension)
    return cal.load_human_labels(args.human, columns=args.human_columns, scale=_scale(args.human_scale))


def run(args: argparse.Namespace) -> int:
    labels = _labels(args)
    baselines = {}
    for spec in args.baseline:
        name, src = _named(spec)
        scores = cal.load_scores(_source(src))
        baselines[name or scores.name] = scores
    dims = [args.dimension] if args.dimension else [d for d in labels.dimensions() if d is not None] or [None]
    out: dict = {}
    for dim in dims:
        if len(dims) > 1:
            print(f"\n== dimension {dim} ==")
        out[dim] = _one(args, cal, labels, baselines, dim)
    if args.out:
        data = out[dims[0]] if len(dims) == 1 else {"dimensions": out}
        write_json(args.out, data)
        print(f"report written to {args.out}", file=sys.stderr)
    return 0


def _one(args, cal, labels, baselines, dim) -> dict:
    kw = dict(dimension=dim, n_boot=args.bootstrap, seed=args.seed, level=args.level)
    if args.compare:
        judges = {}
        for spec in args.judge:
            name, src = _named(spec)
            scores = cal.load_scores(_source(src), args.judge_column, None, dim)
            judges[name or scores.name] = scores
        judges.update(baselines)
        comp = cal.compare_judges(judges, labels, statistic=args.compare_stat, **kw)
        print(comp.report.table(wide=args.wide))
        print()
        print(comp.table())
        return comp.to_dict()
    if len(args.judge) > 1:
        raise ConfigError("several --judge files: add --compare to rank them (or pass the others as --baseline)")
    name, src = _named(args.judge[0])
    if labels.value_type == "winner":
        # Pairwise labels: tie-aware pairwise accuracy (calibration/pairwise.py), not the item-level table.
        pair_report = cal.calibrate_pairwise(_source(src), labels, baselines, judge_name=name or "judge",
                                             judge_column=args.judge_column, **kw)
        print(pair_report.table())
        data: dict = pair_report.to_dict()
    else:
        report = cal.calibrate(_source(src), labels, baselines, judge_column=args.judge_column,
                               judge_name=name or "judge", on=args.on, matched=args.matched, **kw)
        print(report.table(wide=args.wide))
        data = report.to_dict()
    if args.fit_map:
        data["calibration_map"] = _fit_map(args, cal, labels, src, dim)
    if args.ppi:
        ppi = cal.prediction_powered(_source(src), labels, judge_column=args.judge_column, dimension=dim,
                                     calibration_map=args.ppi_map, target_width=args.ppi_width, level=args.level)
        print()
        print(ppi.table())
        data["ppi"] = ppi.to_dict()
    return data


def _fit_map(args, cal, labels, src, dim) -> dict:

    if not args.map_out:
        raise ConfigError("--fit-map needs --map-out FILE to save the map to")
    scores = cal.load_scores(_source(src), args.judge_column, "judge", dim)
    j = join(labels, [scores], dim, args.on)
    m = fit_map(args.fit_map, j.scores["judge"], j.ratings, j.groups, labels.levels(), column=scores.column, seed=args.seed)
    m.save(args.map_out)
    cv = m.cv
    msg = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in cv.items())
    print(f"\n{args.fit_map} map saved to {args.map_out}; held-out: {msg}")
    return m.to_dict()
