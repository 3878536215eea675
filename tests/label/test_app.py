"""The HTTP API through Starlette's TestClient: refusals (4xx), images, undo, pairs, skips."""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from judgekit.errors import MissingDependencyError  # noqa: E402
from judgekit.label.app import create_app  # noqa: E402


@pytest.fixture
def client_for(make_campaign):
    clients = []

    def make(*args, **kw):
        c = make_campaign(*args, **kw)
        cl = TestClient(create_app(c), base_url="http://127.0.0.1")  # the only hosts the app accepts
        clients.append(cl)
        cl.campaign = c
        return cl

    yield make
    for cl in clients:
        cl.close()


def join(cl, name="ann"):
    r = cl.post("/api/join", json={"rater": name})
    assert r.status_code == 200, r.text
    return r.json()["rater"]


def nxt(cl, name="ann"):
    r = cl.get("/api/next", params={"rater": name})
    assert r.status_code == 200, r.text
    return r.json()


def answer(cl, task, value, name="ann", **over):
    body = {"rater": name, "item": task["item"], "dimension": task["dimension"], "value": value,
            "shown": task["shown"], **over}
    return cl.post("/api/answer", json=body)


def test_refusals_are_4xx_with_a_message(client_for):
    cl = client_for("likert", k=1)
    join(cl)
    t = nxt(cl)
    cases = [
        (dict(item="no-such-item"), 4, 404),
        (dict(), 6, 422), (dict(), 0, 422), (dict(), "4", 422), (dict(), True, 422), (dict(), 3.5, 422),
        (dict(dimension="colour"), 4, 422),
        (dict(rater="stranger"), 4, 404),
        (dict(rater=""), 4, 422),
        (dict(rater="x" * 65), 4, 422),
    ]
    for over, value, status in cases:
        r = answer(cl, t, value, **over)
        assert r.status_code == status, (over, value, r.text)
        assert r.json()["error"]
    other = next(i for i in cl.campaign.items if i != t["item"])
    assert answer(cl, t, 4, item=other).status_code == 409  # exists, but not assigned to ann
    assert answer(cl, t, 4).status_code == 200
    assert answer(cl, t, 5).status_code == 409  # already answered: never overwritten
    assert cl.campaign.store.answers()[0].value == 4


def test_request_shape_is_checked(client_for):
    cl = client_for("likert")
    assert cl.post("/api/join", content=b'{"rater": "ann"}', headers={"content-type": "text/plain"}).status_code == 415
    assert cl.post("/api/join", content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    assert cl.post("/api/join", json=["ann"]).status_code == 422
    assert cl.get("/api/config", headers={"host": "evil.example"}).status_code == 400  # no DNS rebinding
    assert cl.get("/api/next", params={"rater": "nobody"}).status_code == 404


def test_images_are_served_by_item_only_from_the_manifest_folder(client_for, tmp_path):
    cl = client_for("likert", missing=1)
    c = cl.campaign
    good = next(i for i in c.items.values() if not i.problem)
    r = cl.get("/image/image", params={"item": good.id})
    assert r.status_code == 200 and r.content == open(good.images["image"], "rb").read()
    assert cl.get("/image/image", params={"item": "gone_0"}).status_code == 404
    assert cl.get("/image/image_a", params={"item": good.id}).status_code == 404
    assert cl.get("/image/image", params={"item": "nope"}).status_code == 404
    assert cl.get("/image/../../etc/passwd").status_code == 404


def test_paths_outside_the_manifest_folder_are_refused(tmp_path):
    import json

    from judgekit.label import load_label_items

    (tmp_path / "data").mkdir()
    secret = tmp_path / "secret.png"
    from tests.label.helpers import draw

    draw(secret, "sd1dot5", 0)
    os.symlink(secret, tmp_path / "data" / "link.png")
    lines = [{"id": "up", "image": "../secret.png", "model": "m", "prompt": "p"},
             {"id": "abs", "image": str(secret), "model": "m", "prompt": "p"},
             {"id": "sym", "image": "link.png", "model": "m", "prompt": "p"}]
    man = tmp_path / "data" / "m.jsonl"
    man.write_text("".join(json.dumps(x) + "\n" for x in lines))
    items = load_label_items(man, "likert")
    assert all("outside the manifest's folder" in (i.problem or "") for i in items), [i.problem for i in items]


def test_missing_images_become_error_cards_never_assigned(client_for):
    cl = client_for("likert", k=1, missing=2, n=2)
    cfg = cl.get("/api/config").json()
    assert [p["item"] for p in cfg["problems"]] == ["gone_0", "gone_1"]
    assert "image file not found" in cfg["problems"][0]["reason"]
    join(cl)
    served = []
    while not (t := nxt(cl))["done"]:
        served.append(t["item"])
        assert answer(cl, t, 3).status_code == 200
    assert len(served) == 4 and not any(s.startswith("gone") for s in served)
    assert t["progress"] == {"done": 4, "total": 4, "labels": 4, "target": 4}


def test_an_image_deleted_while_serving_is_skipped_not_a_crash(client_for):
    cl = client_for("likert", k=1, n=2)
    c = cl.campaign
    victim = c.order[0]
    os.remove(c.items[victim].images["image"])
    join(cl)
    seen = []
    while not (t := nxt(cl))["done"]:
        seen.append(t["item"])
        answer(cl, t, 2)
    assert victim not in seen and len(seen) == 3
    assert "image file not found" in c.problems[victim]
    assert victim in [p["item"] for p in cl.get("/api/config").json()["problems"]]


def test_skip_marks_the_item_for_everyone(client_for):
    cl = client_for("likert", k=2, n=1)
    join(cl)
    join(cl, "bob")
    t = nxt(cl)
    r = cl.post("/api/skip", json={"rater": "ann", "item": t["item"], "reason": "img onerror"})
    assert r.status_code == 200 and r.json()["item"] != t["item"]
    assert "browser could not display" in cl.campaign.problems[t["item"]]
    assert nxt(cl, "bob")["item"] != t["item"]
    assert cl.post("/api/skip", json={"rater": "bob", "item": t["item"]}).status_code == 409


def test_undo_gives_the_task_back_and_the_answer_can_change(client_for):
    cl = client_for("likert", k=1, rubric="two", n=1)
    join(cl)
    assert cl.post("/api/undo", json={"rater": "ann"}).status_code == 409  # nothing to undo yet
    t1 = nxt(cl)
    t2 = answer(cl, t1, 2).json()
    assert (t2["item"], t2["dimension"]) == (t1["item"], "quality")
    t3 = answer(cl, t2, 5).json()  # finishes the item; the page moves to a new one
    assert t3["item"] != t1["item"]
    back = cl.post("/api/undo", json={"rater": "ann"}).json()
    assert (back["item"], back["dimension"]) == (t1["item"], "quality")
    assert back["undone"]["value"] == 5
    answer(cl, back, 4)
    got = {(a.item, a.dimension): a.value for a in cl.campaign.store.answers()}
    assert got == {(t1["item"], "alignment"): 2, (t1["item"], "quality"): 4}
    assert cl.campaign.store.n_undone() == 1
    # the item the page had moved to was given back, not lost: it is served next
    assert nxt(cl)["item"] == t3["item"]


def test_pairwise_answers_are_stored_in_the_manifest_orientation(client_for):
    cl = client_for("pairwise", k=1, n=6)
    join(cl)
    seen = {"ab": 0, "ba": 0}
    while not (t := nxt(cl))["done"]:
        seen[t["shown"]] += 1
        left_field = t["images"][0]["url"].split("?")[0].rsplit("/", 1)[1]
        assert left_field == ("image_a" if t["shown"] == "ab" else "image_b")
        assert [i["label"] for i in t["images"]] == ["A", "B"]
        wrong = "ba" if t["shown"] == "ab" else "ab"
        assert answer(cl, t, "left", shown=wrong).status_code == 409  # a stale layout is refused
        assert answer(cl, t, "middle").status_code == 422
        assert answer(cl, t, "left").status_code == 200
    assert seen["ab"] and seen["ba"]  # six pairs: both layouts occur
    for a in cl.campaign.store.answers():
        assert a.choice == "left"
        assert a.value == ("model_a" if a.shown == "ab" else "model_b")


def test_status_endpoint(client_for):
    cl = client_for("binary", k=2, n=2)
    for r in ("ann", "bob"):
        join(cl, r)
        while not (t := nxt(cl, r))["done"]:
            answer(cl, t, "pass" if t["item"].endswith("sd1dot5") else "fail", name=r)
    s = cl.get("/api/status").json()
    assert s["items_complete"] == 4 and s["answers"] == 8
    a = s["agreement"][""]
    assert a["statistic"] == "krippendorff_alpha_nominal" and a["value"] == 1.0 and a["units"] == 4


def test_page_is_served(client_for):
    cl = client_for("likert")
    r = cl.get("/")
    assert r.status_code == 200 and "judgekit label" in r.text and "<script>" in r.text


def test_missing_fastapi_names_the_extra(monkeypatch):
    from judgekit.label import app

    monkeypatch.setitem(sys.modules, "fastapi", None)
    with pytest.raises(MissingDependencyError, match=r"judgekit\[label\]"):
        app._fastapi()


def test_a_question_judged_without_the_prompt_hides_it(client_for):
    cl = client_for("pairwise", k=1, rubric="pairwise-t2i-aspects", n=1)
    join(cl)
    t1 = nxt(cl)
    assert t1["dimension"] == "prompt_adherence" and t1["prompt"]
    t2 = answer(cl, t1, "tie").json()
    assert t2["dimension"] == "visual_quality" and t2["prompt"] is None  # its rubric inputs omit the prompt
