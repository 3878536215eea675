"""``judgekit demo``: an offline run on real data, in seconds, with no model and no network.

It scores the 160 TIFA160 prompts' DSG questions for five text-to-image models (mini-dalle,
sd1dot1, sd1dot5, sd2dot1, vq-diffusion) with the answers mPLUG-large gave to those questions
about each model's image, recorded by the DSG authors and replayed here (``replay:``). It prints
each model's DSG score with a 95% bootstrap CI (resampling prompts) and the per-category
breakdown, and writes files a user can open:

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
import csv
import logging
import time
from pathlib import Path
from typing import Any

from ..resources import data_path

MODELS_NOTE = "mini-dalle, sd1dot1, sd1dot5, sd2dot1, vq-diffusion"


def demo_files() -> tuple[Path, Path]:
    """The vendored question file and recorded-answer file the demo uses."""
    return (data_path("calibration", "dsg_tifa160", "tifa160-dsg1k-anns.csv"),
            data_path("calibration", "dsg_tifa160", "mplug_dsg_tifa160.csv"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="offline demo on real data: DSG scores of 5 text-to-image models from recorded VQA answers",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("--out", default="judgekit-demo", help="folder for the result files (default ./judgekit-demo)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the CIs (default 1000)")
    p.set_defaults(func=run)


def _samples(graphs, models: list[str]):
    from ..backends.replay import sample_id_for
    from ..types import Sample

    # Every prompt x model, including pairs without recorded answers: those must show up as
    # failed samples, not vanish from the table.
    return [Sample(id=sample_id_for(item, m), prompt_id=item, model=m, prompt=g.prompt)
            for m in models for item, g in graphs.items()]


def category_table(results) -> list[dict[str, Any]]:
    """Per model and question category: mean question score after dependencies and raw, over
    every question of the model's scored samples (question-level micro average)."""
    acc: dict[tuple[str, str], list[list[float]]] = {}
    for r in results:
        if r.status != "ok":
            continue
        for q in r.details.get("questions", []):
            if q.get("score") is None:
                continue
            cell = acc.setdefault((r.model or "", q.get("category") or "uncategorized"), [[], []])
            cell[0].append(q["score"])
            cell[1].append(q["raw"])
    return [{"model": m, "category": c, "n_questions": len(v[0]), "accuracy": sum(v[0]) / len(v[0]),
             "accuracy_raw": sum(v[1]) / len(v[1])} for (m, c), v in sorted(acc.items())]


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _question_rows(results) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        for q in r.details.get("questions", []):
            rows.append({"sample_id": r.sample_id, "prompt_id": r.prompt_id, "model": r.model, "question_id": q["id"],
                         "question": q["question"], "category": q.get("category"), "parents": " ".join(map(str, q["parents"])),
                         "answer": q.get("answer"), "raw": q.get("raw"), "score": q.get("score"),
                         "gated_by": " ".join(map(str, q.get("gated_by", []))), "error": q.get("error", "")})
    return rows


def _category_matrix(cats: list[dict[str, Any]], models: list[str]) -> str:
    categories = sorted({c["category"] for c in cats})
    cell = {(c["model"], c["category"]): c["accuracy"] for c in cats}
    width = max(len(m) for m in models)
    lines = ["model".ljust(width) + "  " + "  ".join(c.rjust(9) for c in categories)]
    for m in models:
        vals = [cell.get((m, c)) for c in categories]
        lines.append(m.ljust(width) + "  " + "  ".join(("   -" if v is None else f"{v:9.3f}") for v in vals))
    return "\n".join(lines)


# ---- CALIBRATION -------------------------------------------------------------------------------
# The DSG scores next to the human 1-5 Likert ratings of the same images (5 raters), CLIP score
# and the human ceiling. The only place the demo talks to calibration code.
def compare_with_humans(results, out_dir: Path, n_boot: int = 1000) -> str | None:
    from ..calibrate import demo_comparison

    return demo_comparison(results, out_dir, n_boot=n_boot)
# ------------------------------------------------------------------------------------------------


async def run_demo(out_dir: Path, n_boot: int = 1000) -> dict[str, Any]:
    """Run the demo, write its files into ``out_dir`` and return what it printed, as data."""
    from ..backends.replay import ReplayBackend
    from ..datasets.dsg import load_dsg_csv
    from ..runner import score_async

    questions, answers = demo_files()
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    quiet = logging.getLogger("judgekit.datasets.dsg")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the loader's repairs go to load_report.txt instead of stderr
    backend = ReplayBackend(str(answers))
    try:
        load = load_dsg_csv(questions)
        (out_dir / "load_report.txt").write_text(load.report() + "\n", encoding="utf-8")
        models = list(dict.fromkeys(m for _, m in backend.answers.pairs()))
        samples = _samples(load.graphs, models)
        results = await score_async("dsg", samples, backend, cache=False, out=out_dir / "results.jsonl",
                                    method_options={"questions": str(questions), "replay": True})
    finally:
        quiet.setLevel(level)
        await backend.aclose()
    summary = results.summary(n_boot=n_boot)
    _write_csv(out_dir / "summary.csv", summary.rows, summary.columns)
    cats = category_table(results)
    _write_csv(out_dir / "categories.csv", cats, ["model", "category", "n_questions", "accuracy", "accuracy_raw"])
    _write_csv(out_dir / "questions.csv", _question_rows(results),
               ["sample_id", "prompt_id", "model", "question_id", "question", "category", "parents", "answer", "raw",
                "score", "gated_by", "error"])
    human = compare_with_humans(results, out_dir, n_boot)
    page = write_report(results, out_dir, n_boot)
    return {"results": results, "summary": summary, "categories": cats, "models": models, "load": load,
            "human": human, "report": page, "seconds": time.perf_counter() - t0}


def write_report(results, out_dir: Path, n_boot: int = 1000):
    """``report.html`` of the demo's results with the human comparison; a one-line hint instead
    when the report extra (plotly) is not installed."""
    from ..errors import MissingDependencyError
    from ..report import report

    cal = out_dir / "human_agreement.json"
    try:
        return report(results, out_dir / "report.html", calibration=cal if cal.is_file() else None, n_boot=n_boot,
                      title="judgekit demo: DSG scores of 5 text-to-image models on TIFA160")
    except MissingDependencyError as exc:
        return str(exc)


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
