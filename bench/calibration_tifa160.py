"""Reproduce the TIFA160 baseline-comparator study: each of the 10 automatic metrics in TIFA's
human-annotation file against the mean of its 2 human Likert ratings (item level, 800 images,
CIs from 1000 bootstrap draws over the 160 prompts), plus the GenAI-Bench-527 and DSG TIFA160
human ceilings. Also times the statistics against scipy's in the same process.

    .venv/bin/python bench/calibration_tifa160.py [--bootstrap 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from judgekit.calibration.labels import builtin_labels
from judgekit.calibration.report import calibrate
from judgekit.demo import TIFA_METRICS, tifa_metric_scores
from judgekit.stats.agreement import kendall_taus, spearman


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", type=int, default=1000)
    args = ap.parse_args()
    tifa = builtin_labels("tifa160")
    t0 = time.perf_counter()
    scorers = {m: tifa_metric_scores(m) for m in TIFA_METRICS}
    rep = calibrate(None, tifa, scorers, on="prompt_id,model", n_boot=args.bootstrap)
    print(f"TIFA160: 10 metrics vs the mean of 2 human ratings (n={rep.n}, {rep.meta['prompts']} prompts), "
          f"{time.perf_counter() - t0:.1f}s")
    print(rep.table(statistics=["spearman", "kendall_tau_b", "kendall_tau_c"], wide=True))
    for name, labels in (("DSG TIFA160 Likert (5 raters)", builtin_labels("dsg-tifa160-likert")),
                         ("GenAI-Bench-527 (3 ratings)", builtin_labels("genai-bench-527"))):
        t0 = time.perf_counter()
        r = calibrate(None, labels, n_boot=args.bootstrap)
        print(f"\n{name}: n={r.n} images, {r.meta['prompts']} prompts, {time.perf_counter() - t0:.1f}s; "
              f"{r.meta['ceiling_note']}; skipped ratings: {labels.skipped}")
        print(r.table())
    # Speed of our Spearman against scipy's, same process.
    x, y = np.random.default_rng(0).normal(size=(2, 800))
    t0 = time.perf_counter()
    for _ in range(2000):
        stats.spearmanr(x, y)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(2000):
        spearman(x, y)
    t_ours = time.perf_counter() - t0
    print(f"\nspearman, 2000 calls on n=800: judgekit/scipy time ratio {t_ours / t_ref:.2f}")
    h = np.round(np.random.default_rng(1).normal(3, 1, 800) * 5) / 5  # a mean of 5 Likert ratings
    t0 = time.perf_counter()
    for _ in range(500):
        stats.kendalltau(x, h)
        stats.kendalltau(x, h, variant="c")
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(500):
        kendall_taus(x, h)
    t_ours = time.perf_counter() - t0
    print(f"kendall tau-b + tau-c, 500 calls on n=800: judgekit/scipy time ratio {t_ours / t_ref:.2f}")


if __name__ == "__main__":
    main()
