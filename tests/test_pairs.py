"""Pair planning from a pointwise manifest: all pairs, random:K with a seed, determinism, and
the pairwise manifest written back."""

from __future__ import annotations

import json
from math import comb

import pytest

from judgekit.errors import ConfigError, DataError
from judgekit.manifest import load_samples
from judgekit.pairs import parse_plan, plan_pairs, write_pairs
from judgekit.types import Sample

MODELS = ("m0", "m1", "m2", "m3", "m4")


def samples(n_prompts=6, models=MODELS):
    return [
        Sample(id=f"{m}-p{p}", prompt=f"prompt {p}", prompt_id=f"p{p}", image=f"/imgs/{m}/{p}.png", model=m,
               meta={"category": "animals" if p % 2 else "objects", "only_" + m: 1})
        for p in range(n_prompts)
        for m in models
    ]


def test_all_pairs_per_prompt():
    plan = plan_pairs(samples(), "all")
    assert len(plan.pairs) == 6 * comb(5, 2)
    first = plan.pairs[0]
    assert (first.id, first.model_a, first.model_b, first.image_a, first.image_b) == (
        "m0-p0~m1-p0", "m0", "m1", "/imgs/m0/0.png", "/imgs/m1/0.png")
    assert first.prompt == "prompt 0" and first.prompt_id == "p0"
    # shared meta travels, one-sided meta does not; the source samples are recorded
    assert first.meta == {"category": "objects", "sample_a": "m0-p0", "sample_b": "m1-p0"}
    assert len({p.id for p in plan.pairs}) == len(plan.pairs)
    assert all(p.model_a != p.model_b for p in plan.pairs)


def test_random_k_is_deterministic_per_seed_and_per_prompt():
    a = plan_pairs(samples(), "random:3", seed=7)
    b = plan_pairs(list(reversed(samples())), "random:3", seed=7)
    assert len(a.pairs) == 6 * 3
    assert sorted(p.id for p in a.pairs) == sorted(p.id for p in b.pairs)  # input order does not matter
    c = plan_pairs(samples(), "random:3", seed=8)
    assert [p.id for p in a.pairs] != [p.id for p in c.pairs]
    # adding prompts leaves the pairs drawn for the existing ones unchanged
    more = plan_pairs(samples(n_prompts=9), "random:3", seed=7)
    assert {p.id for p in a.pairs} <= {p.id for p in more.pairs}
    # K at least the number of candidate pairs gives them all
    assert len(plan_pairs(samples(), "random:10", seed=0).pairs) == 6 * 10
    assert len(plan_pairs(samples(), "random:99", seed=0).pairs) == 6 * 10


def test_random_k_spreads_over_model_pairs():
    plan = plan_pairs(samples(n_prompts=400), "random:2", seed=0)
    counts: dict[tuple[str, str], int] = {}
    for p in plan.pairs:
        counts[(p.model_a, p.model_b)] = counts.get((p.model_a, p.model_b), 0) + 1
    assert len(counts) == 10
    assert min(counts.values()) > 0.6 * 80 and max(counts.values()) < 1.4 * 80  # 800 pairs / 10 model pairs


def test_same_model_images_are_not_paired_and_single_model_prompts_are_reported():
    s = samples(n_prompts=2, models=("m0", "m1")) + [
        Sample(id="m0-p0-seed1", prompt="prompt 0", prompt_id="p0", image="/imgs/m0/0b.png", model="m0", seed=1),
        Sample(id="lonely", prompt="prompt 9", prompt_id="p9", image="/imgs/x.png", model="m0"),
    ]
    plan = plan_pairs(s, "all")
    # p0: m0 has two images, m1 one -> 2 pairs; p1: 1 pair
    assert len(plan.pairs) == 3 and plan.single_model_prompts == ["p9"]
    seeded = [p for p in plan.pairs if "m0-p0-seed1" in p.id][0]
    assert seeded.meta["seed_a"] == 1


def test_prompt_text_groups_when_there_is_no_prompt_id():
    s = [Sample(id=f"{m}", prompt="same prompt", image=f"/{m}.png", model=m) for m in ("x", "y")]
    assert [p.prompt_id for p in plan_pairs(s).pairs] == ["same prompt"]


def test_plan_errors():
    for bad in ("some", "random:0", "random:", "random:x", "random:-1"):
        with pytest.raises(ConfigError, match="random:K"):
            parse_plan(bad)
    assert parse_plan("all") is None and parse_plan("random:4") == 4
    with pytest.raises(DataError, match="needs 'model' and 'image'"):
        plan_pairs([Sample(id="s", prompt="p", image="/x.png")])


def test_written_pairs_load_back_as_a_pairwise_manifest(tmp_path):
    (tmp_path / "imgs").mkdir()
    s = [Sample(id=f"{m}-{p}", prompt=f"prompt {p}", prompt_id=str(p), image=str(tmp_path / "imgs" / f"{m}{p}.png"), model=m)
         for p in range(2) for m in ("x", "y", "z")]
    out = tmp_path / "sub" / "pairs.jsonl"
    out.parent.mkdir()
    n = write_pairs(plan_pairs(s, "random:2", seed=1).pairs, out)
    assert n == 4
    first = json.loads(out.read_text().splitlines()[0])
    assert first["image_a"].startswith("../imgs/") and "sample_a" in first
    back = load_samples(out)
    assert [p.image_a for p in back] == [p.image_a for p in plan_pairs(s, "random:2", seed=1).pairs]
    assert back[0].meta["sample_a"] == first["sample_a"]


def test_pairs_cli(tmp_path, capsys):
    from judgekit.cli import main

    lines = [{"id": f"{m}{p}", "prompt": f"prompt {p}", "prompt_id": f"p{p}", "image": f"img/{m}{p}.png", "model": m}
             for p in range(3) for m in ("x", "y", "z")]
    lines.append({"id": "solo", "prompt": "alone", "prompt_id": "p9", "image": "img/solo.png", "model": "x"})
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "pairs.jsonl"
    assert main(["pairs", str(manifest), "--plan", "random:2", "--seed", "3", "--out", str(out)]) == 0
    cap = capsys.readouterr()
    assert "6 pairs (random:2, seed 3)" in cap.out and "only one model" in cap.err and "p9" in cap.err
    pairs = load_samples(out)
    assert len(pairs) == 6 and all(p.image_a.endswith(".png") and p.model_a != p.model_b for p in pairs)
    assert main(["pairs", str(manifest), "--plan", "some"]) == 2
    assert "random:K" in capsys.readouterr().err
