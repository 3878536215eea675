"""``judgekit demo``: an offline run on real data, in seconds, with no model and no network.

It scores the 160 TIFA160 prompts' DSG questions for five text-to-image models (mini-dalle,
sd1dot1, sd1dot5, sd2dot1, vq-diffusion) with the answers mPLUG-large gave to those questions
about each model's image, recorded by the DSG authors and replayed here (``replay:``). It prints
each model's DSG score with a 95% bootstrap CI (resampling prompts) and the per-category
breakdown, and writes these files, which a user can open:

- ``results.jsonl``    one judgekit result per (prompt, model), per-question details included
- ``summary.csv``      per model: n, failed, mean DSG score, CI
- ``categories.csv``   per model and question category: accuracy after dependencies, and raw
- ``questions.csv``    one row per question asked: answer, raw score, score after dependencies
- ``load_report.txt``  what the question loader repaired in the source file, line by line
- ``report.html``      every prompt's questions and answers per model, with plots (``judgekit report``)
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ..demo import run_demo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="offline demo on real data: DSG scores of 5 text-to-image models from recorded VQA answers",
        # The second paragraph and the list of files it announces, as laid out in the docstring.
        description="\n\n".join(__doc__.split("\n\n")[1:3]).replace("``", "") if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="judgekit-demo", help="folder for the result files (default ./judgekit-demo)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the CIs (default 1000)")
    p.set_defaults(func=run)


def _category_matrix(cats: list[dict[str, Any]], models: list[str]) -> str:
    categories = sorted({c["category"] for c in cats})
    cell = {(c["model"], c["category"]): c["accuracy"] for c in cats}
    width = max(len(m) for m in models)
    lines = ["model".ljust(width) + "  " + "  ".join(c.rjust(9) for c in categories)]
    for m in models:
        vals = [cell.get((m, c)) for c in categories]
        lines.append(m.ljust(width) + "  " + "  ".join(("   -" if v is None else f"{v:9.3f}") for v in vals))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    res = asyncio.run(run_demo(out, args.bootstrap))
    load, results = res["load"], res["results"]
    failed = results.failures
    print("judgekit demo: DSG scores of 5 text-to-image models on the 160 TIFA160 prompts,")
    print("from mPLUG-large's recorded answers to the DSG questions (replayed; no model, no network).\n")
    repaired = sum(i.action == "repaired" for i in load.issues)
    skipped = sum(i.action == "skipped" for i in load.issues)
    print(f"Questions: {load.n_questions} in {len(load.graphs)} prompts; {repaired} dependency cells repaired, "
          f"{skipped} links skipped (see {out / 'load_report.txt'}).\n")
    res["summary"].title = "DSG score per model (mean over prompts, 95% bootstrap CI resampling prompts):"
    print(res["summary"])
    print("\nAccuracy per question category (after dependencies):")
    print(_category_matrix(res["categories"], res["models"]))
    if failed:
        items = sorted({r.prompt_id for r in failed})
        print(f"\n{len(failed)} samples failed (prompts {', '.join(items)}): {failed[0].error}")
    if res["human"]:
        print("\n" + res["human"])
    page = res["report"]
    html = ", report.html" if not isinstance(page, str) else ""
    print(f"\nWrote {out}/results.jsonl, summary.csv, categories.csv, questions.csv{html} in {res['seconds']:.1f} s.")
    if isinstance(page, str):
        print(f"(no report.html: {page})")
    return 0
