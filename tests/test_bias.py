"""Bias attributes: the constrained-choice method through the scripted server (valid choices,
consistency with the person count), distribution statistics against scipy, bootstrap CIs, the
paired model comparison, and the bundled neutral prompts."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
from scipy.stats import entropy

import judgekit as jk
from judgekit.cli import main
from judgekit.stats.attributes import attribute_stats, paired_comparison
from tests.fixtures_spine import write_png
from tests.judge_server import Reply

GENDERS = ["feminine", "masculine", "androgynous"]


def test_attribute_stats_match_scipy():
    rng = np.random.default_rng(0)
    cats = ["a", "b", "c", "d"]
    labels = list(rng.choice(cats + ["unclear", "no person"], size=300, p=[0.4, 0.3, 0.15, 0.05, 0.05, 0.05]))
    groups = [f"p{i // 5}" for i in range(300)]
    target = {"a": 0.25, "b": 0.25, "c": 0.3, "d": 0.2}
    s = attribute_stats(labels, groups, cats, target=target, n_boot=500)
    counts = np.array([labels.count(c) for c in cats], float)
    p = counts / counts.sum()
    assert s["n_valid"] == counts.sum() and s["counts"]["unclear"] == labels.count("unclear")
    assert s["normalized_entropy"]["value"] == pytest.approx(entropy(p) / math.log(4), abs=1e-12)
    q = np.array([target[c] for c in cats])
    assert s["kl_divergence"]["value"] == pytest.approx(entropy(p, q), abs=1e-12)
    assert s["max_min_ratio"]["value"] == pytest.approx(p.max() / p.min(), abs=1e-12)
    for c, pc in zip(cats, p, strict=True):
        e = s["proportions"][c]
        assert e["value"] == pytest.approx(pc) and e["ci_low"] <= pc <= e["ci_high"]
    u = attribute_stats(labels, groups, cats, n_boot=10)
    assert u["kl_divergence"]["value"] == pytest.approx(entropy(p, np.full(4, 0.25)), abs=1e-12)


def test_bootstrap_ci_covers_the_true_shares():
    rng = np.random.default_rng(1)
    hits, reps = 0, 60
    for i in range(reps):
        # prompt-level heterogeneity: each prompt has its own share of "a"
        shares = rng.beta(4, 4, 40)
        labels, groups = [], []
        for j, s in enumerate(shares):
            labels += list(np.where(rng.random(6) < s, "a", "b"))
            groups += [j] * 6
        st = attribute_stats(labels, groups, ["a", "b"], n_boot=400, seed=i)
        hits += st["proportions"]["a"]["ci_low"] <= 0.5 <= st["proportions"]["a"]["ci_high"]
    assert hits / reps >= 0.85


def test_paired_comparison_detects_a_skewed_model():
    groups = [f"p{i // 4}" for i in range(80)]
    even = [GENDERS[i % 2] for i in range(80)]
    skewed = ["masculine" if i % 5 else "feminine" for i in range(80)]
    c = paired_comparison(even, groups, skewed, groups, GENDERS[:2], n_boot=500)
    assert c["n_prompts"] == 20 and c["normalized_entropy"]["ci_low"] > 0
    same = paired_comparison(even, groups, even, groups, GENDERS[:2], n_boot=200)
    assert same["normalized_entropy"] == {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0}


def _people_manifest(tmp_path):
    rows = []
    for model in ("even", "skewed"):
        for p in range(6):
            for s in range(3):
                img = write_png(
                    tmp_path / "img" / f"{model}{p}{s}.png", seed=100 * (model == "skewed") + 10 * p + s
                )
                rows.append({"id": f"{model}-{p}-{s}", "prompt": f"a photo of a worker {p}", "prompt_id": f"p{p}",
                             "image": f"img/{img.name}", "model": model, "seed": s})  # fmt: skip
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, {r["image"].split("/")[-1]: r for r in rows}


def test_attributes_rubric_through_the_scripted_server(judge_server, tmp_path, capsys):
    man, by_file = _people_manifest(tmp_path)
    seen_schema = []
    # Each reply is chosen by the image the request carries (not by arrival order, which the
    # runner does not promise): base64 of the file's bytes -> its sample id.
    by_image = {base64.b64encode((tmp_path / "img" / name).read_bytes()).decode(): row["id"]
                for name, row in by_file.items()}
    answers: dict[str, str] = {}

    def script(body, n):
        seen_schema.append(body["response_format"]["json_schema"]["schema"])
        url = next(part["image_url"]["url"] for m in body["messages"] if isinstance(m["content"], list)
                   for part in m["content"] if part.get("type") == "image_url")
        return Reply(content=answers[by_image[url.split(",", 1)[1]]])

    for model in ("even", "skewed"):
        for p in range(6):
            for s in range(3):
                if model == "even":
                    g = GENDERS[(p + s) % 2]
                    tone = str(1 + (p * 3 + s) % 10)
                else:
                    g, tone = "masculine", "2"
                a = {"reasoning": "one person in work clothes", "person_count": "1", "gender_presentation": g,
                     "age_group": "young adult (20-39)", "skin_tone": tone}  # fmt: skip
                if model == "even" and p == 5 and s == 2:
                    a = {"reasoning": "an empty room", "person_count": "no person", "gender_presentation": "no person",
                         "age_group": "no person", "skin_tone": "no person"}  # fmt: skip
                answers[f"{model}-{p}-{s}"] = json.dumps(a)
    # the last skewed image: an inconsistent reply, every time (count 'no person' but a gender given)
    answers["skewed-5-2"] = json.dumps({"reasoning": "x", "person_count": "no person", "gender_presentation": "masculine",
                                        "age_group": "no person", "skin_tone": "no person"})  # fmt: skip
    judge_server.reset(script)
    res = jk.score("attributes", str(man), backend="openai:judge", base_url=judge_server.url, concurrency=1,
                   cache=False, parse_retries=1, out=tmp_path / "attr.jsonl")  # fmt: skip
    assert len(res) == 36
    failed = [r for r in res if r.status == "failed"]
    assert [r.sample_id for r in failed] == ["skewed-5-2"] and "person_count is 'no person'" in failed[
        0
    ].error
    ok = [r for r in res if r.status == "ok"]
    assert all(set(r.model_extra["attributes"]) == {"person_count", "gender_presentation", "age_group",
                                                    "skin_tone"} for r in ok)  # fmt: skip
    schema = seen_schema[0]
    assert list(schema["properties"])[0] == "reasoning"
    assert set(schema["properties"]["skin_tone"]["enum"]) == {str(i) for i in range(1, 11)} | {
        "unclear",
        "no person",
    }
    assert "unclear" in schema["properties"]["gender_presentation"]["enum"]

    out = tmp_path / "bias.json"
    assert main(["bias", "report", str(tmp_path / "attr.jsonl"), "--n-boot", "300", "--out", str(out),
                 "--target", "gender_presentation=feminine:0.5,masculine:0.5"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "gender_presentation" in printed and "even vs skewed" in printed
    rep = json.loads(out.read_text())
    assert "NaN" not in out.read_text() and rep["failed"] == {"even": 0, "skewed": 1}
    ev, sk = rep["models"]["even"]["gender_presentation"], rep["models"]["skewed"]["gender_presentation"]
    assert ev["n"] == 18 and ev["n_valid"] == 17 and ev["counts"]["no person"] == 1
    fem = sum(1 for p in range(6) for s in range(3) if (p, s) != (5, 2) and (p + s) % 2 == 0)
    assert ev["proportions"]["feminine"]["value"] == pytest.approx(fem / 17)
    assert (
        sk["proportions"]["masculine"]["value"] == 1.0 and sk["max_min_ratio"]["value"] is None
    )  # a group absent
    assert sk["normalized_entropy"]["value"] == 0.0
    assert rep["targets"]["gender_presentation"] == {"feminine": 0.5, "masculine": 0.5}
    comp = rep["comparisons"]["even vs skewed"]["skin_tone"]
    assert comp["normalized_entropy"]["ci_low"] > 0  # 'even' spreads skin tones, 'skewed' never does
    assert set(rep["per_prompt"]["even"]) == {f"p{i}" for i in range(6)}
    assert rep["per_prompt"]["even"]["p0"]["gender_presentation"]["n"] == 3


def test_bundled_neutral_prompts_and_cli(tmp_path):
    from judgekit.bias import neutral_prompts

    ps = neutral_prompts()
    assert len(ps) == 60 and len({p["prompt_id"] for p in ps}) == 60
    assert {p["category"] for p in ps} == {"occupation", "activity"}
    assert all(p["prompt"].startswith("a photo of ") for p in ps)
    # neutral: no prompt names a gender, age or skin tone
    words = {"man", "woman", "male", "female", "boy", "girl", "old", "young", "black", "white", "asian"}
    assert not [p for p in ps if words & set(p["prompt"].lower().split())]
    out = tmp_path / "n.jsonl"
    assert main(["bias", "prompts", "--out", str(out)]) == 0
    assert [json.loads(x) for x in out.read_text().splitlines()] == ps


def test_bad_target_is_a_clear_error(tmp_path, capsys):
    rec = {"sample_id": "s", "prompt_id": "p", "model": "m", "rubric": "attributes", "status": "ok",
           "attributes": {"person_count": "1", "gender_presentation": "feminine", "age_group": "unclear",
                          "skin_tone": "3"}, "provenance": {"rubric": "attributes"}}  # fmt: skip
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    assert main(["bias", "report", str(path), "--target", "gender_presentation=femme:1"]) == 2
    assert "not among the categories" in capsys.readouterr().err
    assert main(["bias", "report", str(path), "--target", "nonsense"]) == 2


def test_one_prompt_has_no_ci():
    s = attribute_stats(["a", "b", "a"], ["p", "p", "p"], ["a", "b"], n_boot=50)
    assert s["normalized_entropy"]["value"] == pytest.approx(entropy([2 / 3, 1 / 3]) / math.log(2))
    assert s["normalized_entropy"]["ci_low"] is None and s["proportions"]["a"]["ci_high"] is None
