"""Tie-aware pairwise accuracy (Deutsch et al. 2023) against an independent computation in plain
Python on a small labelled set: a pairwise judge's own ties, a pointwise judge's optimised tie
threshold, and the human-to-human figure; then calibrate on pairwise labels end to end."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from judgekit.calibration import calibrate_pairwise, load_human_labels
from judgekit.cli import main
from judgekit.errors import InputError
from judgekit.stats.pair_accuracy import (
    human_agreement,
    human_pair_agreement,
    pair_accuracy,
    tie_aware_accuracy,
)

# 8 pairs (prompt p0..p3, two model pairs each), 2-3 raters per pair. h: +1 lower-named model better.
ITEMS = [("p0", "a", "b"), ("p0", "a", "c"), ("p1", "a", "b"), ("p1", "b", "c"),
         ("p2", "a", "c"), ("p2", "b", "c"), ("p3", "a", "b"), ("p3", "a", "c")]
HUMAN = {0: [1, 1, 0], 1: [0, 0], 2: [-1, -1, -1], 3: [1, 0], 4: [0, 0, 1], 5: [-1, 0], 6: [1, 1], 7: [0, -1, 0]}
PAIRWISE_JUDGE = {0: 1, 1: 0, 2: -1, 3: 1, 4: 1, 5: 0, 6: -1, 7: 0}
SCORE_DIFF = {0: 2.5, 1: 0.3, 2: -4.0, 3: 1.0, 4: -0.3, 5: -1.0, 6: 0.5, 7: 0.0}


def _rows():
    item, h = [], []
    for i, labels in HUMAN.items():
        for v in labels:
            item.append(i)
            h.append(v)
    return item, h


def _by_hand_tuned(diffs, human):
    """Try every threshold (0 and each |d|) and count matches: the best accuracy and its threshold."""
    best = (-1.0, None)
    for eps in sorted({0.0, *(abs(d) for d in diffs)}):
        judged = [0 if abs(d) <= eps else (1 if d > 0 else -1) for d in diffs]
        acc = sum(j == h for j, h in zip(judged, human)) / len(human)
        if acc > best[0] + 1e-12:
            best = (acc, eps)
    return best


def test_pairwise_judge_counts_its_own_ties():
    item, h = _rows()
    d = [PAIRWISE_JUDGE[i] for i in item]
    expected = sum(a == b for a, b in zip(d, h)) / len(h)
    assert tie_aware_accuracy(d, h) == pytest.approx(expected)
    est = pair_accuracy(d, h, [ITEMS[i][0] for i in item], tune_epsilon=False, n_boot=200)
    assert est.value == pytest.approx(expected) and est.n == len(h)
    assert 0 <= est.ci_low <= est.value <= est.ci_high <= 1
    assert "epsilon" not in est.extra  # nothing tuned for a judge that ties by itself


def test_pointwise_judge_gets_the_best_tie_threshold():
    item, h = _rows()
    d = [SCORE_DIFF[i] for i in item]
    acc, eps = _by_hand_tuned(d, h)
    est = pair_accuracy(d, h, [ITEMS[i][0] for i in item], tune_epsilon=True, n_boot=200)
    assert est.value == pytest.approx(acc)
    # Any threshold between the chosen |d| and the next larger one gives the same accuracy; the
    # smallest is reported, so it must give the hand-found accuracy itself.
    judged = [0 if abs(x) <= est.extra["epsilon"] else np.sign(x) for x in d]
    assert np.mean([j == y for j, y in zip(judged, h)]) == pytest.approx(acc)
    assert est.extra["epsilon"] == pytest.approx(eps)
    assert est.ci_low <= est.value <= est.ci_high
    assert acc > tie_aware_accuracy(d, h)  # never calling a tie (epsilon below every |d|) is worse here


def test_human_to_human_is_agreement_of_ordered_label_pairs():
    item, h = _rows()
    agree = total = 0
    for labels in HUMAN.values():
        for x, y in itertools.permutations(labels, 2):
            total += 1
            agree += x == y
    value, n = human_agreement(item, h)
    assert n == total and value == pytest.approx(agree / total)
    est = human_pair_agreement(item, h, [ITEMS[i][0] for i in item], n_boot=200)
    assert est.value == pytest.approx(agree / total) and est.ci_low <= est.value <= est.ci_high
    assert human_pair_agreement([0, 1], [1, -1], ["p0", "p1"], n_boot=10) is None  # one label per pair


def test_bad_shapes_are_clear_errors():
    with pytest.raises(InputError, match="one entry per label"):
        pair_accuracy([1, 0], [1], ["p"], tune_epsilon=False)
    with pytest.raises(InputError, match=r"\+1, 0 or -1"):
        pair_accuracy([1.0], [float("nan")], ["p"], tune_epsilon=False)


def _files(tmp_path):
    """Label-app style labels (model_a/model_b/winner per rater, orientation varying), a pairwise
    results file with its pairs written the other way round, and pointwise scores."""
    labels, results, scores = [], [], []
    word = {1: "model_a", -1: "model_b", 0: "tie"}
    for i, (p, lo, hi) in enumerate(ITEMS):
        for r, v in enumerate(HUMAN[i]):
            if r % 2:  # shown the other way round: winner in that orientation
                labels.append({"sample_id": f"{p}-{hi}-{lo}", "prompt_id": p, "model_a": hi, "model_b": lo,
                               "rater": f"r{r}", "winner": word[-v]})
            else:
                labels.append({"sample_id": f"{p}-{lo}-{hi}", "prompt_id": p, "model_a": lo, "model_b": hi,
                               "rater": f"r{r}", "winner": word[v]})
        results.append({"sample_id": f"{p}~{i}", "prompt_id": p, "model_a": hi, "model_b": lo, "rubric": "pairwise-t2i",
                        "status": "ok", "winner": word[-PAIRWISE_JUDGE[i]], "scores": {}})
    for p in ("p0", "p1", "p2", "p3"):
        for m, s in {"a": 5.0, "b": 5.0, "c": 5.0}.items():
            scores.append({"prompt_id": p, "model": m, "score": s})
    # Pointwise scores with score(lower) - score(higher) = SCORE_DIFF, item by item in order.
    table = {(r["prompt_id"], r["model"]): r for r in scores}
    for i, (p, lo, hi) in enumerate(ITEMS):
        table[(p, hi)]["score"] = table[(p, lo)]["score"] - SCORE_DIFF[i]
    for name, recs in (("labels", labels), ("results", results), ("scores", scores)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return tmp_path / "labels.jsonl", tmp_path / "results.jsonl", tmp_path / "scores.jsonl"


def test_calibrate_pairwise_labels_end_to_end(tmp_path, capsys):
    lab, res, sc = _files(tmp_path)
    # The pointwise figure is checked against the score differences the file holds.
    rep = calibrate_pairwise(str(res), load_human_labels(lab), {"metric": str(sc)}, n_boot=200)
    item, h = _rows()
    assert rep.kinds == {"judge": "pairwise", "metric": "pointwise"}
    assert rep.scorers["judge"].value == pytest.approx(tie_aware_accuracy([PAIRWISE_JUDGE[i] for i in item], h))
    vals = {(r["prompt_id"], r["model"]): r["score"] for r in map(json.loads, sc.read_text().splitlines())}
    diffs = [vals[(ITEMS[i][0], ITEMS[i][1])] - vals[(ITEMS[i][0], ITEMS[i][2])] for i in item]
    assert rep.scorers["metric"].value == pytest.approx(_by_hand_tuned(diffs, h)[0])
    assert rep.human is not None and rep.human.value == pytest.approx(human_agreement(item, h)[0])
    assert rep.n_labels == len(h) and rep.n_items == len(ITEMS) and rep.prompts == 4
    # The CLI prints the same figures (it refused pairwise labels before).
    assert main(["calibrate", "--judge", str(res), "--human", str(lab), "--baseline", f"metric={sc}",
                 "--bootstrap", "200", "--out", str(tmp_path / "cal.json")]) == 0
    out = capsys.readouterr().out
    assert "human vs human" in out and f"{rep.scorers['judge'].value:.3f}" in out
    saved = json.loads((tmp_path / "cal.json").read_text())
    assert saved["scorers"]["metric"]["tie_accuracy"]["epsilon"] == pytest.approx(rep.scorers["metric"].extra["epsilon"])
