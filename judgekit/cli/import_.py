"""``judgekit import``: a published judge's recorded verdicts read into a judgekit results file.

    judgekit import viescore results_gpt4o_0shot/ImagenHub_Text-Guided_IE --rubric viescore-edit --out judge.jsonl
    judgekit import gedit gpt4o/eval_results_new --rubric gedit-edit --metadata gedit_rows.jsonl --out judge.jsonl
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter

from ..errors import DataError
from . import EXIT_ALL_FAILED


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
    p.add_argument("--rubric", help="rubric whose dimensions the recorded lists map onto (default: viescore: the built-in "
                   "rubric of the ImagenHub task named by the folder, ImagenHub_<Task>; gedit: gedit-edit)")
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
    if not len(res):
        raise DataError(f"{args.path}: nothing to import (no recorded verdict)")
    res.save(args.out)
    failed = res.failures
    rubric = res[0].rubric
    print(f"imported {len(res)} records ({len(failed)} failed) from {args.path} into {args.out} "
          f"(rubric {rubric})", file=sys.stderr)
    info = res.run_info
    if info.get("duplicate_rows"):
        conflicting = info.get("conflicting_duplicate_rows") or 0
        print(f"  {info['duplicate_rows']} duplicate row(s) of samples already read"
              + (f" ({conflicting} with other valid scores)" if conflicting else "")
              + ": each sample keeps its first row with valid scores, else its first row", file=sys.stderr)
    if failed:
        # Reasons without the uid-specific tail, so the tally groups like with like.
        kinds = Counter(reason_kind(r.error or "") for r in failed)
        for why, n in kinds.most_common():
            print(f"  {n:>5} x {why}", file=sys.stderr)
    if failed and len(failed) == len(res):
        hint = ""
        if info.get("task_rubric") and info["task_rubric"] != rubric:
            hint = f"; this task's built-in rubric is {info['task_rubric']} (leave out --rubric to use it)"
        print(f"judgekit: no record imported ({len(failed)} of {len(failed)} failed); first: "
              f"{failed[0].sample_id}: {failed[0].error}{hint}", file=sys.stderr)
        return EXIT_ALL_FAILED
    print(res.summary())
    return 0


def reason_kind(error: str) -> str:
    """A failure reason without what differs from item to item (the values in brackets, the
    uid, quoted values), so that the tally groups like with like: ``SC: 'n/a' is not a number
    (column sementics_score)`` -> ``SC: '...' is not a number``."""
    parts = []
    for part in error.split("; "):
        part = part.split(" for '", 1)[0]
        part = re.sub(r" \((?:[^()]|\([^()]*\))*\)", "", part)  # "(got [7])", "(column x)", one level nested
        parts.append(re.sub(r"'[^']*'", "'...'", part))
    return "; ".join(parts)
