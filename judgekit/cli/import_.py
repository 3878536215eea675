"""``judgekit import``: a published judge's recorded verdicts read into a judgekit results file.

    judgekit import viescore results_gpt4o_0shot/ImagenHub_Text-Guided_IE --rubric viescore-edit --out judge.jsonl
    judgekit import gedit gpt4o/eval_results_new --rubric gedit-edit --metadata gedit_rows.jsonl --out judge.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter


def register(sub: argparse._SubParsersAction) -> None:
    from ..importers.base import known_importers

    p = sub.add_parser(
        "import",
        help="read a published judge's verdicts (e.g. VIEScore's answers) into a results file",
        description="Convert a benchmark's recorded judge outputs into judgekit results laid out by a rubric, "
        "so they can be summarized and calibrated without calling the judge again. An item whose recorded "
        "scores do not fit the rubric (wrong list length, not a number, off the scale, missing, a guessed "
        "score) becomes a failed record that says why. See docs/editing.md.",
    )
    p.add_argument("format", choices=known_importers(), help="the recorded format")
    p.add_argument("path", metavar="DIR", help="what to import (viescore: one task directory holding MODEL/SC.json, MODEL/PQ.json; "
                   "gedit: the folder of <model>_<task_type>_gpt_score.csv files)")
    p.add_argument("--rubric", default="viescore-edit", help="rubric whose dimensions the recorded lists map onto (default viescore-edit)")
    p.add_argument("--out", required=True, help="results file to write (JSONL)")
    p.add_argument("--metadata", help="gedit: the benchmark's rows (JSON/JSONL); a row without a score becomes a failed record")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..importers import import_verdicts

    options = {}
    if args.metadata:
        if args.format != "gedit":
            raise ConfigError("--metadata is for `import gedit` only")
        options["metadata"] = args.metadata
    res = import_verdicts(args.format, args.path, args.rubric, **options)
    res.save(args.out)
    failed = res.failures
    print(f"imported {len(res)} records ({len(failed)} failed) from {args.path} into {args.out}", file=sys.stderr)
    if failed:
        # Reasons without the uid-specific tail, so the tally groups like with like.
        kinds = Counter(_reason_kind(r.error or "") for r in failed)
        for why, n in kinds.most_common():
            print(f"  {n:>5} x {why}", file=sys.stderr)
    print(res.summary())
    return 0


def _reason_kind(error: str) -> str:
    parts = []
    for part in error.split("; "):
        head = part.split(" (", 1)[0]
        parts.append(head.split(" for '", 1)[0])
    return "; ".join(parts)
