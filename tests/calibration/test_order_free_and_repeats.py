"""Human means that do not depend on rater-file or row order (exact ties survive to the ranks),
and a rater who rated one item twice: warned about, averaged, and never a silent undefined
ordinal alpha nor a leaked numpy warning (issue 18, items 5 and 12)."""

import itertools
import json
import math
import warnings

import krippendorff
import numpy as np
from scipy.stats import spearmanr

import judgekit as jk
from judgekit.calibration.imagenhub import load_imagenhub_ratings
from judgekit.stats.means import order_free_mean, order_free_row_means
from judgekit.types import Result

CELLS = ("[0, 0]", "[0.5, 1]", "[1, 0.5]", "[1, 1]", "[0.5, 0.5]", "[0, 1]")


def _imagenhub(tmp_path, n_uid=24, models=("A", "B", "C"), seed=0):
    """Three rater TSVs (ImagenHub's layout) whose overall = sqrt(SC x PQ) sums hit false ties
    (0.5 + 0.7071 + 0.7071 is not 0.7071 + 0.7071 + 0.5 in floating point), and judge results."""
    rng = np.random.default_rng(seed)
    grid = {(u, m): [CELLS[i] for i in rng.integers(0, len(CELLS), 3)] for u in range(n_uid) for m in models}
    for r in range(3):
        rows = ["uid\t" + "\t".join(models)]
        rows += [f"u{u}\t" + "\t".join(grid[(u, m)][r] for m in models) for u in range(n_uid)]
        (tmp_path / f"task_rater{r + 1}.tsv").write_text("\n".join(rows) + "\n")
    results = []
    for (u, m), cells in grid.items():
        s = float(np.mean([math.sqrt(np.prod(json.loads(c))) for c in cells]) * 10 // 1)  # coarse: many ties
        results.append(Result(sample_id=f"u{u}:{m}", prompt_id=f"u{u}", model=m, rubric="r", status="ok",
                              scores={"overall": s}, overall=s))
    res = tmp_path / "results.jsonl"
    res.write_text("".join(r.model_dump_json() + "\n" for r in results))
    return grid, res


def test_order_free_mean_is_exact_for_every_order():
    vals = [0.5, math.sqrt(0.5), math.sqrt(0.5), 1.0, 0.0]
    means = {order_free_mean(p) for p in itertools.permutations(vals)}
    assert len(means) == 1
    rows = np.array(list(itertools.permutations(vals)))
    assert len(set(order_free_row_means(rows).tolist())) == 1
    assert np.isnan(order_free_row_means(np.full((1, 3), np.nan))[0])


def test_imagenhub_overall_ties_are_exact_and_spearman_matches_scipy(tmp_path):
    grid, res = _imagenhub(tmp_path)
    labels = load_imagenhub_ratings(tmp_path, dimension="overall")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning may leak
        rep = jk.calibrate(str(res), labels, dimension="overall", n_boot=40)
    # independently: each item's human mean with math.fsum (exactly rounded, order-free)
    items = sorted(grid)
    human = [math.fsum(math.sqrt(np.prod(json.loads(c))) for c in grid[k]) / 3 for k in items]
    judge = [float(np.mean([math.sqrt(np.prod(json.loads(c))) for c in grid[k]]) * 10 // 1) for k in items]
    want = spearmanr(judge, human).statistic
    assert rep.scorers["judge"]["spearman"].value == want or abs(rep.scorers["judge"]["spearman"].value - want) < 1e-12
    got_means = {tuple(it["key"]): it["human"] for it in rep.items}
    # items holding the same three ratings in other rater columns tie exactly
    by_multiset: dict[tuple, set] = {}
    for k in items:
        by_multiset.setdefault(tuple(sorted(grid[k])), set()).add(got_means[(f"u{k[0]}:{k[1]}",)])
    assert any(len(v) == 1 for v in by_multiset.values())
    assert all(len(v) == 1 for v in by_multiset.values())


def test_swapping_rater_files_and_row_order_gives_bit_identical_results(tmp_path):
    grid, res = _imagenhub(tmp_path)
    a = jk.calibrate(str(res), load_imagenhub_ratings(tmp_path, dimension="overall"), dimension="overall", n_boot=40)
    # the same ratings under other rater names (the files' order permuted) and the results reversed
    other = tmp_path / "other"
    other.mkdir()
    for src, dst in ((1, 3), (2, 1), (3, 2)):
        (other / f"task_rater{dst}.tsv").write_text((tmp_path / f"task_rater{src}.tsv").read_text())
    lines = res.read_text().splitlines(keepends=True)
    res2 = tmp_path / "reversed.jsonl"
    res2.write_text("".join(reversed(lines)))
    b = jk.calibrate(str(res2), load_imagenhub_ratings(other, dimension="overall"), dimension="overall", n_boot=40)
    da, db = a.to_dict(), b.to_dict()
    assert da["scorers"] == db["scorers"]  # point estimates and bootstrap CIs, bit for bit
    assert da["system_level"] == db["system_level"]
    assert [it["human"] for it in a.items] == [it["human"] for it in b.items]


def test_label_row_order_does_not_change_anything(tmp_path):
    grid, res = _imagenhub(tmp_path)
    labels = load_imagenhub_ratings(tmp_path, dimension="overall")
    recs = [{"sample_id": r.sample_id, "prompt_id": r.prompt_id, "model": r.model, "rater": r.rater, "score": r.value}
            for r in labels.rows]
    a = jk.calibrate(str(res), recs, n_boot=40)
    b = jk.calibrate(str(res), list(reversed(recs)), n_boot=40)
    assert a.to_dict() == b.to_dict()


def _repeated(tmp_path):
    rng = np.random.default_rng(0)
    res, lab = [], []
    for p in range(15):
        for m in ("a", "b", "c"):
            q = int(rng.integers(1, 6))
            sid = f"p{p}-{m}"
            for r in ("r1", "r2"):
                lab.append({"sample_id": sid, "prompt_id": f"p{p}", "model": m, "rater": r,
                            "score": int(np.clip(q + rng.integers(-1, 2), 1, 5))})
            s = float(q + rng.normal())
            res.append(Result(sample_id=sid, prompt_id=f"p{p}", model=m, rubric="r", status="ok",
                              scores={"x": s}, overall=s))
    first = lab[0]["score"]
    lab.append({**lab[0], "score": first + 1 if first < 5 else 4})  # r1 rates p0-a a second time, one level off
    path = tmp_path / "results.jsonl"
    path.write_text("".join(r.model_dump_json() + "\n" for r in res))
    return path, lab


def test_a_repeated_rater_item_pair_is_warned_about_and_alpha_stays_defined(tmp_path):
    path, lab = _repeated(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = jk.calibrate(str(path), lab, human_scale=(1, 5), n_boot=40)
    assert rep.unmatched["repeated_rater_item_pairs"] == 1
    assert any("rated more than once" in w and "p0-a" in w for w in rep.warnings)
    alpha = rep.human_ceiling["krippendorff_alpha_ordinal"].value
    assert np.isfinite(alpha)
    # independently: the krippendorff package on the raters x items matrix (the repeat averaged)
    items = sorted({x["sample_id"] for x in lab})
    cells: dict[tuple[str, str], list[float]] = {}
    for x in lab:
        cells.setdefault((x["rater"], x["sample_id"]), []).append(x["score"])
    mat = np.array([[np.mean(cells[(r, i)]) for i in items] for r in ("r1", "r2")])
    domain = sorted(set(range(1, 6)) | set(mat.ravel().tolist()))
    want = krippendorff.alpha(reliability_data=mat, level_of_measurement="ordinal", value_domain=domain)
    assert abs(alpha - want) < 1e-9


def test_calibrate_cli_leaks_no_runtime_warning(tmp_path, capsys):
    path, lab = _repeated(tmp_path)
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(x) + "\n" for x in lab))
    from judgekit.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["calibrate", "--judge", str(path), "--human", str(labels), "--human-scale", "1,5",
                     "--bootstrap", "30"]) == 0
    out = capsys.readouterr()
    assert "RuntimeWarning" not in out.err
    assert "rated more than once" in out.out


def test_battles_from_rater_scores_tie_whatever_the_rater_order():
    from judgekit.stats.battle_converters import battles_from_scores

    s = math.sqrt(0.5)
    assert (0.5 + s) + s != (s + s) + 0.5  # the false-tie hazard itself
    b = battles_from_scores({"p": {"a": [0.5, s, s], "b": [s, s, 0.5]}})
    assert [r["winner"] for r in b.to_records()] == ["tie"]


def test_summary_does_not_depend_on_record_order():
    from judgekit.results import Results

    vals = np.random.default_rng(7).random(40) * 10  # arbitrary doubles: their sum depends on the order
    assert sum(vals) != sum(vals[::-1])
    recs = [Result(sample_id=f"{m}{i}", prompt_id=f"p{i % 7}", model=m, rubric="r", status="ok", overall=float(v))
            for m in ("a", "b") for i, v in enumerate(vals)]
    fwd = Results(recs).summary(n_boot=200).rows
    rev = Results(list(reversed(recs))).summary(n_boot=200).rows
    assert fwd == rev
