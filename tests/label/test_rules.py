"""The campaign's rules at the API: blinding in every response, skips per rater and restore,
the judge's pixels, anchors on the scale of the buttons, overlap, gold items and
counterbalanced pairs, and the operator's checks (fast answers, straight-lining)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from judgekit.cli import main  # noqa: E402
from judgekit.label import Campaign, LabelStore, Settings, load_label_items  # noqa: E402
from judgekit.label.app import create_app  # noqa: E402
from judgekit.label.settings import rescale_anchors  # noqa: E402
from tests.label.helpers import MODELS, draw, pairwise_manifest, pointwise_manifest  # noqa: E402
from tests.label.test_app import Rater  # noqa: E402


def client(c):
    cl = TestClient(create_app(c), base_url="http://127.0.0.1")
    cl.campaign = c
    return cl


def campaign(tmp_path, man, mode, **kw):
    return Campaign(load_label_items(man, mode), LabelStore(tmp_path / "c.sqlite"), Settings(mode, **kw), str(man))


# --- blinding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["pairwise", "likert"])
def test_no_response_to_a_rater_names_an_item_a_model_or_a_path(tmp_path, mode):
    man = pairwise_manifest(tmp_path, 4) if mode == "pairwise" else pointwise_manifest(tmp_path, 3, missing=1)
    if mode == "likert":  # one item the server can read the header of, but not decode: withdrawn when reached
        path = tmp_path / "img" / f"{MODELS[0]}_0.png"
        path.write_bytes(path.read_bytes()[:300])
    c = campaign(tmp_path, man, mode, k=2)
    cl = client(c)
    forbidden = set(c.items) | set(MODELS) | {".png", str(tmp_path), man.name, "manifest"}
    forbidden |= {w for i in c.items.values() for w in i.written.values()}  # paths as the manifest wrote them
    forbidden |= {i.prompt_id for i in c.items.values() if i.prompt_id}
    raters = [Rater(cl, "alice"), Rater(cl, "bob")]
    page = cl.get("/")
    for r in raters:
        r.received += [page.text, r.get("/api/config").text, r.get("/api/me").text]
        n = 0
        while not (t := r.next())["done"]:
            for im in t["images"]:
                r.get(im["url"])
                r.get(im["full"])
            r.answer(t, "tie" if mode == "pairwise" else 3, task="bogus")  # an error reply
            r.answer(t, "left", shown="xx")
            if n == 1:
                r.post("/api/skip", {"task": t["task"], "reason": "testing"})
                n += 1
                continue
            res = r.answer(t, "left" if mode == "pairwise" else 4)
            assert res.status_code == 200, res.text
            if n == 0:
                r.post("/api/undo", {})
                r.answer(r.next(), "tie" if mode == "pairwise" else 2)
            n += 1
        r.post("/api/undo", {})
        r.post("/api/undo", {})
        r.get("/api/status")
    assert sum(len(r.received) for r in raters) > 40
    for r in raters:
        for text in r.received:
            leaks = [f for f in forbidden if f and f.lower() in text.lower()]
            assert not leaks, (leaks, text[:300])
    assert c.store.answers()  # the walk really labelled something


# --- skips and restore -------------------------------------------------------------------------

def test_a_skip_counts_for_that_rater_only(tmp_path):
    c = campaign(tmp_path, pointwise_manifest(tmp_path, 1), "likert", k=2)  # 2 items, 2 raters each
    cl = client(c)
    ann, bob, cy = Rater(cl, "ann"), Rater(cl, "bob"), Rater(cl, "cy")
    t = ann.next()
    skipped = ann.item(t)
    nxt = ann.post("/api/skip", {"task": t["task"], "reason": "img onerror"}).json()
    assert ann.item(nxt) != skipped  # ann moves on ...
    assert skipped not in c.problems  # ... the item is not withdrawn
    ann.answer(nxt, 3)
    assert ann.next()["done"] is True  # ann never gets the skipped item again
    got = {}
    for r in (bob, cy):
        while not (t := r.next())["done"]:
            got.setdefault(r.item(t), []).append(r.name)
            r.answer(t, 4)
    assert sorted(got[skipped]) == ["bob", "cy"]  # the item still reaches K raters
    assert c.store.skipped() == [(skipped, "ann", "img onerror")]
    assert bob.post("/api/skip", {"task": "nope"}).status_code == 404


def test_a_skip_takes_the_raters_earlier_answers_to_the_item_with_it(tmp_path):
    c = Campaign(load_label_items(pointwise_manifest(tmp_path, 1), "likert"), LabelStore(tmp_path / "c.sqlite"),
                 Settings.from_rubric("likert", _two(tmp_path), k=1), str(tmp_path / "manifest.jsonl"))
    c.join("ann")
    t = c.next_task("ann")
    t2 = c.answer("ann", t["task"], t["dimension"], 2)
    assert t2["task"] == t["task"]  # the item's second question
    c.skip("ann", t["task"])
    assert c.store.answers() == [] and c.store.n_undone() == 1


def test_an_item_the_server_cannot_decode_is_withdrawn_for_everyone_and_can_be_restored(tmp_path, capsys):
    man = pointwise_manifest(tmp_path, 1)
    c = campaign(tmp_path, man, "likert", k=2)
    cl = client(c)
    ann = Rater(cl, "ann")
    t = ann.next()
    victim = ann.item(t)
    path = c.items[victim].images["image"]
    good = open(path, "rb").read()
    open(path, "wb").write(good[:200])  # truncated after it was assigned
    c.pictures = type(c.pictures)()  # (a fresh cache: the server would see the new mtime too)
    ann.post("/api/skip", {"task": t["task"]})
    assert "does not decode" in c.problems[victim] or "not a readable image" in c.problems[victim]
    bob = Rater(cl, "bob")
    assert bob.item(bob.next()) != victim  # withdrawn for everyone
    open(path, "wb").write(good)  # the operator fixes the file, then restores the item
    c.store.close()
    out = tmp_path / "c.jsonl"
    assert main(["label", "--restore", "nope", "--db", str(tmp_path / "c.sqlite")]) == 2
    assert "nothing to restore" in capsys.readouterr().err
    assert main(["label", "--restore", "all", "--out", str(out)]) == 0
    assert f"restored 1 item(s): {victim}" in capsys.readouterr().out
    c2 = campaign(tmp_path, man, "likert", k=2)
    assert victim not in c2.problems
    c2.join("bob")
    seen = []
    while not (t := c2.next_task("bob"))["done"]:
        seen.append(c2.item_of("bob", t["task"]))
        c2.answer("bob", t["task"], t["dimension"], 3)
    assert victim in seen


# --- the judge's pixels ------------------------------------------------------------------------

def test_raters_get_the_judges_pixels_and_nothing_the_judge_refuses(tmp_path):
    from judgekit.images import load_image_part
    from judgekit.label.pixels import VIEW_SIDE

    rows = []
    img = tmp_path / "img"
    img.mkdir()
    big = Image.fromarray(np.random.default_rng(0).integers(0, 255, (1500, 2400, 3), dtype=np.uint8))
    big.save(img / "big.png")
    draw(img / "ok.png", "sd1dot5", 0)
    whole = (img / "ok.png").read_bytes()
    (img / "truncated.png").write_bytes(whole[: len(whole) // 2])
    rgba = Image.new("RGBA", (64, 64), (200, 10, 10, 255))
    rgba.putpixel((3, 3), (0, 0, 0, 0))  # real transparency: the judge refuses it
    rgba.save(img / "alpha.png")
    Image.new("L", (64, 48), 128).save(img / "gray.png")  # converted faithfully by the judge's policy
    for name in ("big", "ok", "truncated", "alpha", "gray"):
        rows.append({"id": name, "image": f"img/{name}.png", "prompt": "p", "model": "m"})
    man = tmp_path / "m.jsonl"
    man.write_text("".join(json.dumps(r) + "\n" for r in rows))
    c = campaign(tmp_path, man, "likert", k=1)
    cl = client(c)
    ann = Rater(cl, "ann")
    served = {}
    while not (t := ann.next())["done"]:
        name = ann.item(t)
        view, full = ann.get(t["images"][0]["url"]), ann.get(t["images"][0]["full"])
        assert view.status_code == full.status_code == 200
        served[name] = (Image.open(__import__("io").BytesIO(view.content)), full.content)
        ann.answer(t, 3)
    assert sorted(served) == ["big", "gray", "ok"]  # truncated and transparent: never assigned
    assert "transparent pixels" in c.problems["alpha"] and "img/alpha.png" in c.problems["alpha"]
    assert "truncated" in c.problems
    for name, (_view, full) in served.items():
        assert full == load_image_part(img / f"{name}.png").data  # zoom: exactly the judge's bytes
    assert max(served["big"][0].size) == VIEW_SIDE  # the grading view is resized on the server
    assert served["big"][0].size[0] / served["big"][0].size[1] == pytest.approx(2400 / 1500, rel=0.01)
    assert served["gray"][0].mode == "RGB"


# --- anchors on the buttons' scale -------------------------------------------------------------

def test_anchor_sentences_move_to_the_scale_raters_answer():
    text = "How well it matches. 0 means nothing matches; 10 means everything does. 7 means mostly."
    assert rescale_anchors(text, 0, 10, "likert") == "How well it matches. 1 means nothing matches; 5 means everything does."
    assert rescale_anchors("5 means half.", 0, 10, "likert") == "5 means half.".replace("5", "3", 1)
    assert rescale_anchors(text, 0, 10, "binary") == "How well it matches."
    assert rescale_anchors("No anchors here.", 0, 10, "likert") == "No anchors here."


def test_a_0_to_10_rubric_asked_on_1_to_5_buttons_says_1_and_5(tmp_path):
    import judgekit as jk

    s = Settings.from_rubric("likert", jk.load_rubric("viescore-t2i"), k=1)
    for q in s.questions:
        assert "0 means" not in q.criteria and "10 means" not in q.criteria, q.criteria
        assert "1 means" in q.criteria and "5 means" in q.criteria
    b = Settings.from_rubric("binary", jk.load_rubric("viescore-t2i"), k=1)
    assert all("means" not in q.criteria for q in b.questions)


# --- agreement early: overlap, gold, counterbalanced pairs -------------------------------------

def test_overlap_items_go_to_every_rater_first(tmp_path):
    man = pointwise_manifest(tmp_path, 5)  # 10 items
    c = campaign(tmp_path, man, "likert", k=1, overlap=3)
    first3 = c.order[:3]
    raters = ["ann", "bob", "cy"]
    order: dict[str, list[str]] = {}
    for r in raters:
        c.join(r)
    for _ in range(10):
        for r in raters:
            t = c.next_task(r)
            if not t["done"]:
                order.setdefault(r, []).append(c.item_of(r, t["task"]))
                c.answer(r, t["task"], t["dimension"], 3)
    for r in raters:
        assert sorted(order[r][:3]) == sorted(first3)  # the overlap, before anything else
    per_item: dict[str, int] = {}
    for a in c.store.answers():
        per_item[a.item] = per_item.get(a.item, 0) + 1
    assert all(per_item[i] == 3 for i in first3)
    assert all(per_item[i] == 1 for i in c.order[3:])  # the rest once (k=1)


def test_gold_items_are_checked_per_rater(tmp_path):
    from statsmodels.stats.proportion import proportion_confint

    from judgekit.label import campaign_status
    from judgekit.label.quality import load_gold

    man = pointwise_manifest(tmp_path, 4)
    ids = [json.loads(x)["id"] for x in man.read_text().splitlines()]
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text("".join(json.dumps({"id": i, "label": "pass" if "sd2" in i else "fail"}) + "\n" for i in ids[:4]))
    gold = load_gold(gold_file, "binary", [""])
    c = campaign(tmp_path, man, "binary", k=1, gold=gold)
    for r in ("ann", "bob"):
        c.join(r)
        got = []
        while not (t := c.next_task(r))["done"]:
            item = c.item_of(r, t["task"])
            got.append(item)
            right = "pass" if "sd2" in item else "fail"
            wrong = {"pass": "fail", "fail": "pass"}[right]
            c.answer(r, t["task"], "", right if (r == "ann" or item != ids[0]) else wrong)
        if r == "ann":
            assert sorted(got[:4]) == sorted(ids[:4])  # the gold items come first
    s = campaign_status(c.store, list(c.items.values()), n_boot=20, gold=gold)
    g = {x["rater"]: x["gold"] for x in s["raters"]}
    assert (g["ann"]["correct"], g["ann"]["n"]) == (4, 4)
    assert (g["bob"]["correct"], g["bob"]["n"]) == (3, 4)
    lo, hi = proportion_confint(3, 4, method="wilson")
    assert g["bob"]["ci_low"] == pytest.approx(lo) and g["bob"]["ci_high"] == pytest.approx(hi)
    assert g["bob"]["ci_low"] <= g["bob"]["value"] == 0.75 <= g["bob"]["ci_high"]


def test_gold_files_are_checked(tmp_path):
    from judgekit.errors import DataError
    from judgekit.label.quality import load_gold

    bad = tmp_path / "g.jsonl"
    for text, msg in [('{"id": "x", "score": 9}\n', "not an answer"), ('{"id": "x"}\n', 'needs "id" and "score"'),
                      ("not json\n", "not a JSON object"), ("", "no gold answers")]:
        bad.write_text(text)
        with pytest.raises(DataError, match=msg):
            load_gold(bad, "likert", [""])


def test_with_two_raters_a_pair_is_shown_in_both_layouts(tmp_path):
    c = campaign(tmp_path, pairwise_manifest(tmp_path, 8), "pairwise", k=2)
    for r in ("ann", "bob"):
        c.join(r)
    layouts: dict[str, list[str]] = {}
    for _ in range(8):
        for r in ("ann", "bob"):
            t = c.next_task(r)
            if not t["done"]:
                layouts.setdefault(c.item_of(r, t["task"]), []).append(t["shown"])
                c.answer(r, t["task"], "", "tie", t["shown"])
    assert len(layouts) == 8
    assert all(sorted(v) == ["ab", "ba"] for v in layouts.values()), layouts  # counterbalanced


def test_fast_answers_and_straight_lining_are_flagged(tmp_path):
    from judgekit.label import campaign_status

    now = [1000.0]
    c = Campaign(load_label_items(pointwise_manifest(tmp_path, 8), "likert"), LabelStore(tmp_path / "c.sqlite"),
                 Settings("likert", k=2), str(tmp_path / "manifest.jsonl"), clock=lambda: now[0])
    for r, step, pick in (("ann", 0.5, lambda n: 3), ("bob", 6.0, lambda n: 1 + n % 5)):
        c.join(r)
        n = 0
        while not (t := c.next_task(r))["done"]:
            now[0] += step
            c.answer(r, t["task"], "", pick(n))
            n += 1
    s = campaign_status(c.store, list(c.items.values()), n_boot=10, min_seconds=2.0)
    by = {x["rater"]: x for x in s["raters"]}
    assert by["ann"]["fast"] == 16 and by["ann"]["straight_lining"] and by["ann"]["longest_run"] == 16
    assert by["bob"]["fast"] == 0 and not by["bob"]["straight_lining"] and by["bob"]["modal_share"] == pytest.approx(4 / 16)


def _two(tmp_path):
    import judgekit as jk
    from tests.label.helpers import RUBRIC_2D

    (tmp_path / "two.yaml").write_text(RUBRIC_2D)
    return jk.load_rubric(str(tmp_path / "two.yaml"))


def test_the_operator_restores_from_the_api_and_raters_cannot(tmp_path):
    c = campaign(tmp_path, pointwise_manifest(tmp_path, 1), "likert", k=1)
    cl = client(c)
    victim = c.order[0]
    c.store.report_problem(victim, "image: does not decode")
    ann = Rater(cl, "ann")
    assert ann.post("/api/restore", {"items": "all"}).status_code == 403
    assert victim in c.problems
    op = {"Authorization": f"Bearer {c.operator_token()}"}
    s = cl.get("/api/status", headers=op).json()
    assert s["problems"] == [{"item": victim, "reason": "image: does not decode", "withdrawn": True}]
    r = cl.post("/api/restore", json={"items": [victim]}, headers=op)
    assert r.status_code == 200 and r.json() == {"restored": [victim]}
    assert victim not in c.problems  # a running campaign offers it again at once
