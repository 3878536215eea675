"""Labels keyed by sample_id alone: calibrate takes each item's prompt and model from the judge
results, so the bootstrap resamples prompts, pairwise accuracy compares images of one prompt and
the system-level Spearman is reported (issue 18, item 1)."""

import itertools
import json

import numpy as np
from scipy.stats import spearmanr

import judgekit as jk
from judgekit.types import Result

N_PROMPTS, MODELS = 12, ("m0", "m1", "m2", "m3", "m4", "m5")


def _files(tmp_path):
    rng = np.random.default_rng(3)
    results, labels = [], []
    for p in range(N_PROMPTS):
        for mi, m in enumerate(MODELS):
            q = rng.integers(1, 6)
            sid = f"img{p:02d}-{m}"
            labels.append({"sample_id": sid, "rater": "r1", "score": int(q)})
            s = float(np.clip(q + mi * 0.1 + rng.normal(0, 1.0), 1, 5))
            results.append(Result(sample_id=sid, prompt_id=f"p{p}", model=m, rubric="r", status="ok",
                                  scores={"a": s}, overall=s))
    res = tmp_path / "results.jsonl"
    res.write_text("".join(r.model_dump_json() + "\n" for r in results))
    lab = tmp_path / "labels.jsonl"
    lab.write_text("".join(json.dumps(x) + "\n" for x in labels))
    return res, lab, results, labels


def _pairwise_accuracy_within_prompts(results, labels):
    """Deutsch et al.'s acc_eq with the tie threshold tuned, in plain Python."""
    human = {x["sample_id"]: x["score"] for x in labels}
    by_prompt = {}
    for r in results:
        by_prompt.setdefault(r.prompt_id, []).append((r.overall, human[r.sample_id]))
    pairs = [(a[0] - b[0], a[1] - b[1]) for items in by_prompt.values() for a, b in itertools.combinations(items, 2)]
    best = 0.0
    for eps in [0.0, *sorted({abs(d) for d, _ in pairs})]:
        ok = sum((dh == 0 and abs(ds) <= eps) or (dh != 0 and abs(ds) > eps and (ds > 0) == (dh > 0)) for ds, dh in pairs)
        best = max(best, ok / len(pairs))
    return best, len(pairs)


def test_sample_id_labels_take_prompt_and_model_from_the_results(tmp_path):
    res, lab, results, labels = _files(tmp_path)
    rep = jk.calibrate(str(res), str(lab), n_boot=50)
    assert rep.n == N_PROMPTS * len(MODELS)
    assert rep.meta["prompts"] == N_PROMPTS  # the bootstrap unit is the prompt, not the image
    acc = rep.scorers["judge"]["pairwise_accuracy"]
    want, n_pairs = _pairwise_accuracy_within_prompts(results, labels)
    assert acc.extra["pairs"] == n_pairs == N_PROMPTS * 15  # not C(72, 2) = 2556 cross-prompt pairs
    assert abs(acc.value - want) < 1e-12
    # system level: Spearman of the per-model means
    assert "judge" in rep.system_level
    hm = {m: np.mean([x["score"] for x in labels if x["sample_id"].endswith(m)]) for m in MODELS}
    jm = {m: np.mean([r.overall for r in results if r.model == m]) for m in MODELS}
    want_sys = spearmanr([jm[m] for m in MODELS], [hm[m] for m in MODELS]).statistic
    assert abs(rep.system_level["judge"].value - want_sys) < 1e-12


def test_few_prompts_warn_even_with_many_items(tmp_path):
    import pytest

    from judgekit import SmallSampleWarning

    res, lab, results, labels = _files(tmp_path)
    keep = {r.sample_id for r in results if int(r.prompt_id[1:]) < 4}  # 4 prompts x 6 models = 24 items
    recs = [x for x in labels if x["sample_id"] in keep]
    with pytest.warns(SmallSampleWarning, match="only 4 prompts"):
        rep = jk.calibrate(str(res), recs, n_boot=30)
    assert rep.n == 24 >= 10  # enough items for the item-count warning to stay silent
    assert any("only 4 prompts" in w for w in rep.warnings)
    assert not any("matched items" in w for w in rep.warnings)
