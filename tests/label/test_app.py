"""The HTTP API through Starlette's TestClient: refusals (4xx), identity by token, images by
opaque handle, undo, pairs, and what a rater may never receive."""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from judgekit.errors import MissingDependencyError  # noqa: E402
from judgekit.label.app import Access, create_app  # noqa: E402


class Rater:
    """One rater's side of the API: every call carries their token (as a bearer header, so
    several raters can share one TestClient), and every body they receive is kept."""

    def __init__(self, cl, name: str):
        self.cl, self.name = cl, name
        self.token = cl.campaign.invite(name)
        self.received: list[str] = []

    def _keep(self, r):
        self.received.append(r.text if "json" in r.headers.get("content-type", "") or "html" in
                             r.headers.get("content-type", "") else "")
        self.received.append(" ".join(f"{k}: {v}" for k, v in r.headers.items()))
        return r

    def get(self, path, **kw):
        return self._keep(self.cl.get(path, headers={"Authorization": f"Bearer {self.token}"}, **kw))

    def post(self, path, body):
        return self._keep(self.cl.post(path, json=body, headers={"Authorization": f"Bearer {self.token}"}))

    def next(self):
        r = self.get("/api/next")
        assert r.status_code == 200, r.text
        return r.json()

    def answer(self, t, value, **over):
        return self.post("/api/answer", {"task": t["task"], "dimension": t["dimension"], "value": value,
                                         "shown": t["shown"], **over})

    def item(self, task) -> str:
        return self.cl.campaign.item_of(self.name, task["task"])


@pytest.fixture
def client_for(make_campaign):
    clients = []

    def make(*args, access=None, **kw):
        c = make_campaign(*args, **kw)
        cl = TestClient(create_app(c, access=access), base_url="http://127.0.0.1")  # a host the app accepts
        clients.append(cl)
        cl.campaign = c
        return cl

    yield make
    for cl in clients:
        cl.close()


def test_refusals_are_4xx_with_a_message(client_for):
    cl = client_for("likert", k=1)
    ann = Rater(cl, "ann")
    t = ann.next()
    cases = [
        (dict(task="no-such-task"), 4, 404),
        (dict(), 6, 422), (dict(), 0, 422), (dict(), "4", 422), (dict(), True, 422), (dict(), 3.5, 422),
        (dict(dimension="colour"), 4, 422),
    ]
    for over, value, status in cases:
        r = ann.answer(t, value, **over)
        assert r.status_code == status, (over, value, r.text)
        assert r.json()["error"]
    assert ann.answer(t, 4).status_code == 200
    assert ann.answer(t, 5).status_code == 409  # already answered: never overwritten
    assert cl.campaign.store.answers()[0].value == 4


def test_request_shape_is_checked(client_for):
    cl = client_for("likert")
    assert cl.post("/api/join", content=b'{"rater": "ann"}', headers={"content-type": "text/plain"}).status_code == 415
    assert cl.post("/api/join", content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    assert cl.post("/api/join", json=["ann"]).status_code == 422
    assert cl.get("/api/config", headers={"host": "evil.example"}).status_code == 400  # no DNS rebinding


def test_no_token_or_a_wrong_one_gets_nothing(client_for):
    cl = client_for("likert", k=1)
    ann = Rater(cl, "ann")
    t = ann.next()
    img = t["images"][0]["url"]
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        assert cl.get("/api/next", headers=headers).status_code == 401
        assert cl.get(img, headers=headers).status_code == 401
        assert cl.post("/api/answer", json={"task": t["task"], "dimension": "", "value": 3}, headers=headers).status_code == 401
        assert cl.post("/api/undo", json={}, headers=headers).status_code == 401
        assert cl.post("/api/skip", json={"task": t["task"]}, headers=headers).status_code == 401
    assert cl.campaign.store.answers() == []


def test_a_second_raters_token_cannot_write_as_the_first(client_for):
    cl = client_for("likert", k=2, n=2)
    alice, bob = Rater(cl, "alice"), Rater(cl, "bob")
    ta = alice.next()
    bob.next()
    # bob with alice's task, and naming alice in the body (the old way): refused, nothing stored
    r = bob.post("/api/answer", {"rater": "alice", "task": ta["task"], "dimension": "", "value": 1, "shown": ""})
    assert r.status_code == 404
    assert bob.get(ta["images"][0]["url"]).status_code == 404  # nor can he see her task's images
    assert bob.post("/api/skip", {"task": ta["task"]}).status_code == 404
    assert cl.campaign.store.answers() == []
    assert alice.answer(ta, 5).status_code == 200
    assert bob.post("/api/undo", {"rater": "alice"}).status_code == 409  # bob has nothing to undo; alice's stays
    assert [(a.rater, a.value) for a in cl.campaign.store.answers()] == [("alice", 5)]


def test_personal_links_set_a_cookie_and_bad_links_get_a_page(client_for):
    cl = client_for("likert", k=1, access=Access(open_join=False))
    token = cl.campaign.invite("Alice")
    bad = cl.get("/?token=wrong", follow_redirects=False)
    assert bad.status_code == 403 and "This link is not valid" in bad.text and "text/html" in bad.headers["content-type"]
    assert cl.get("/", follow_redirects=False).status_code == 401  # no link at all: a page that says so
    assert cl.post("/api/join", json={"rater": "mallory"}).status_code == 403  # invited raters only
    r = cl.get(f"/?token={token}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # the token leaves the address bar
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = cl.get("/")  # the client kept the cookie
    assert page.status_code == 200 and "<script>" in page.text
    assert cl.get("/api/me").json()["rater"] == "alice"  # names are case-folded
    assert cl.get("/api/next").json()["done"] is False


def test_names_are_case_folded_and_an_open_join_cannot_take_a_name(client_for):
    cl = client_for("likert", k=1)
    c = cl.campaign
    assert c.invite("Alice") == c.invite(" alice ") == c.invite("ALICE")
    assert cl.post("/api/join", json={"rater": "ALICE"}).status_code == 409  # taken: no continuing as alice
    r = cl.post("/api/join", json={"rater": "Bob"})
    assert r.status_code == 200 and r.json()["rater"] == "bob" and r.json()["link"].startswith("/?token=")
    assert cl.get("/api/me").json()["rater"] == "bob"  # the cookie set by the join
    assert cl.post("/api/join", json={"rater": "bob"}).status_code == 409


def test_status_is_for_the_operator_only(client_for):
    cl = client_for("binary", k=1, n=1)
    ann = Rater(cl, "ann")
    assert cl.get("/api/status").status_code == 401
    assert ann.get("/api/status").status_code == 403
    op = cl.campaign.operator_token()
    s = cl.get("/api/status", headers={"Authorization": f"Bearer {op}"})
    assert s.status_code == 200 and s.json()["raters"][0]["rater"] == "ann"
    assert cl.get("/operator").status_code == 401
    assert cl.get(f"/?token={op}", follow_redirects=False).headers["location"] == "/operator"
    assert "operator" in cl.get("/operator").text  # the cookie of the operator link


def test_only_allowed_hosts_are_answered(client_for):
    cl = client_for("likert", access=Access(allowed_hosts=["label.example.org"]))
    assert cl.get("/api/config", headers={"host": "label.example.org"}).status_code == 200
    assert cl.get("/api/config", headers={"host": "localhost:8765"}).status_code == 200
    assert cl.get("/api/config", headers={"host": "evil.example"}).status_code == 400


def test_images_are_served_by_handle_only(client_for):
    from judgekit.images import load_image_part

    cl = client_for("likert", missing=1)
    ann = Rater(cl, "ann")
    t = ann.next()
    item = cl.campaign.items[ann.item(t)]
    r = ann.get(t["images"][0]["url"])
    assert r.status_code == 200 and r.content == load_image_part(item.images["image"]).data
    assert ann.get(t["images"][0]["url"][:-1] + "x").status_code == 404
    assert ann.get("/img/not-a-handle/abc").status_code == 404
    assert ann.get("/image/image?item=" + item.id).status_code == 404  # the old by-item route is gone
    assert ann.get("/img/../../etc/passwd").status_code == 404


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


def test_a_campaign_in_which_nothing_can_be_labelled_is_refused_with_the_first_reason(tmp_path, capsys):
    """Issue 18 item 32: every image outside the manifest's folder."""
    import json

    from judgekit.cli import main
    from judgekit.errors import DataError
    from judgekit.label import Campaign, LabelStore, Settings, load_label_items
    from tests.label.helpers import draw

    draw(tmp_path / "elsewhere" / "a.png", "sd1dot5", 0)
    (tmp_path / "study").mkdir()
    man = tmp_path / "study" / "m.jsonl"
    man.write_text("".join(json.dumps({"id": f"s{i}", "image": "../elsewhere/a.png", "model": "m", "prompt": "p"}) + "\n"
                           for i in range(3)))
    with pytest.raises(DataError, match=r"no item can be labelled \(3 items\); the first, 's0': image: image path is outside"):
        Campaign(load_label_items(man, "likert"), LabelStore(tmp_path / "x.sqlite"), Settings("likert"), str(man))
    assert main(["label", "--data", str(man), "--mode", "likert", "--out", str(tmp_path / "l.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "no item can be labelled" in err and "outside the manifest's folder" in err and len(err.strip().splitlines()) == 1


def test_missing_images_are_never_assigned_and_raters_only_see_a_count(client_for):
    cl = client_for("likert", k=1, missing=2, n=2)
    cfg = cl.get("/api/config").json()
    assert cfg["problems"] == 2  # a count: the reasons (with paths) are the operator's
    ann = Rater(cl, "ann")
    served = []
    while not (t := ann.next())["done"]:
        served.append(ann.item(t))
        assert ann.answer(t, 3).status_code == 200
    assert len(served) == 4 and not any(s.startswith("gone") for s in served)
    assert t["progress"] == {"done": 4, "total": 4, "labels": 4, "target": 4}


def test_an_image_deleted_while_serving_is_withdrawn_not_a_crash(client_for):
    cl = client_for("likert", k=1, n=2)
    c = cl.campaign
    victim = c.order[0]
    os.remove(c.items[victim].images["image"])
    ann = Rater(cl, "ann")
    seen = []
    while not (t := ann.next())["done"]:
        seen.append(ann.item(t))
        ann.answer(t, 2)
    assert victim not in seen and len(seen) == 3
    assert "does not exist" in c.problems[victim]


def test_undo_gives_the_task_back_and_the_answer_can_change(client_for):
    cl = client_for("likert", k=1, rubric="two", n=1)
    ann = Rater(cl, "ann")
    assert ann.post("/api/undo", {}).status_code == 409  # nothing to undo yet
    t1 = ann.next()
    t2 = ann.answer(t1, 2).json()
    assert (t2["task"], t2["dimension"]) == (t1["task"], "quality")
    t3 = ann.answer(t2, 5).json()  # finishes the item; the page moves to a new one
    assert t3["task"] != t1["task"]
    back = ann.post("/api/undo", {}).json()
    assert (back["task"], back["dimension"]) == (t1["task"], "quality")
    assert back["undone"] == {"dimension": "quality", "value": 5, "choice": "5"}
    ann.answer(back, 4)
    first = ann.item(t1)
    got = {(a.item, a.dimension): a.value for a in cl.campaign.store.answers()}
    assert got == {(first, "alignment"): 2, (first, "quality"): 4}
    assert cl.campaign.store.n_undone() == 1
    # the item the page had moved to was given back, not lost: it is served next, same handle
    assert ann.next()["task"] == t3["task"]


def test_pairwise_answers_are_stored_in_the_manifest_orientation(client_for):
    from judgekit.images import load_image_part

    cl = client_for("pairwise", k=1, n=6)
    ann = Rater(cl, "ann")
    seen = {"ab": 0, "ba": 0}
    while not (t := ann.next())["done"]:
        seen[t["shown"]] += 1
        item = cl.campaign.items[ann.item(t)]
        left = ann.get(t["images"][0]["url"]).content  # which image is on the left: its bytes
        assert left == load_image_part(item.images["image_a" if t["shown"] == "ab" else "image_b"]).data
        assert [i["label"] for i in t["images"]] == ["A", "B"]
        wrong = "ba" if t["shown"] == "ab" else "ab"
        assert ann.answer(t, "left", shown=wrong).status_code == 409  # a stale layout is refused
        assert ann.answer(t, "middle").status_code == 422
        assert ann.answer(t, "left").status_code == 200
    assert seen["ab"] and seen["ba"]  # six pairs: both layouts occur
    for a in cl.campaign.store.answers():
        assert a.choice == "left"
        assert a.value == ("model_a" if a.shown == "ab" else "model_b")


def test_status_endpoint(client_for):
    cl = client_for("binary", k=2, n=2)
    for name in ("ann", "bob"):
        r = Rater(cl, name)
        while not (t := r.next())["done"]:
            r.answer(t, "pass" if r.item(t).endswith("sd1dot5") else "fail")
    op = cl.campaign.operator_token()
    s = cl.get("/api/status", headers={"Authorization": f"Bearer {op}"}).json()
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
    ann = Rater(cl, "ann")
    t1 = ann.next()
    assert t1["dimension"] == "prompt_adherence" and t1["prompt"]
    t2 = ann.answer(t1, "tie").json()
    assert t2["dimension"] == "visual_quality" and t2["prompt"] is None  # its rubric inputs omit the prompt
