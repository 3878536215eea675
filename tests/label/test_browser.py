"""Two raters in real headless Chromium against `judgekit label` running as a real server
process: answers by clicking and by keys, an undo, a SIGKILL of the server mid-way and a
restart, then the labels file is checked answer by answer and fed to calibrate/leaderboard."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import console_errors
from tests.label.helpers import (
    MODELS,
    RUBRIC_2D,
    LabelServer,
    judgekit,
    pairwise_manifest,
    pointwise_manifest,
)

pytest.importorskip("selenium")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT = 15


def item_of(db, handle: str) -> str:
    """The item behind a task handle, read from the campaign database (the page never says)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return con.execute("SELECT item FROM handles WHERE handle=?", (handle,)).fetchone()[0]


def fetch_as(url: str, token: str) -> bytes:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


class Rater:
    """One person at one browser."""

    def __init__(self, driver, name: str, db=None):
        self.d, self.name, self.db = driver, name, db

    def open(self, url: str, join: bool = True) -> None:
        """``url``: the server (then type the name when ``join``), or a personal link."""
        self.d.get(url if "token=" in url else url + "/")
        if join:
            box = WebDriverWait(self.d, WAIT).until(lambda d: d.find_element(By.ID, "name") if d.find_element(By.ID, "join").is_displayed() else None)
            box.send_keys(self.name, Keys.ENTER)
        self.wait_seq(0)
        self.d.execute_script("document.activeElement && document.activeElement.blur()")

    def seq(self) -> int:
        return int(self.d.execute_script("return Number(document.getElementById('work').dataset.seq || 0)"))

    def wait_seq(self, after: int) -> None:
        WebDriverWait(self.d, WAIT, poll_frequency=0.03).until(lambda d: self.seq() > after)

    def task(self) -> dict | None:
        """What the page shows now, read from the DOM (None when the rater is done)."""
        t = self.d.execute_script("""
            if (!document.getElementById('done').hidden) return null;
            const c = document.getElementById('card');
            const figs = [...document.querySelectorAll('#images figure')];
            return {task: c.dataset.task, dimension: c.dataset.dimension, shown: c.dataset.shown,
                    images: figs.map(f => ({label: f.dataset.label,
                                            src: f.querySelector('img') ? f.querySelector('img').getAttribute('src') : null})),
                    prompt: document.getElementById('prompt-text').textContent,
                    progress: document.getElementById('progress').textContent};
        """)
        if t is not None and self.db is not None:
            t["item"] = item_of(self.db, t["task"])
        return t

    def key(self, key: str) -> None:
        ActionChains(self.d).send_keys(key).perform()

    def click(self, value) -> None:
        self.d.find_element(By.CSS_SELECTOR, f'#answers button[data-value="{value}"]').click()

    def act(self, how, arg) -> None:
        """Press a key or click a button, then wait until the page shows the next task."""
        before = self.seq()
        (self.key if how == "key" else self.click)(arg)
        self.wait_seq(before)

    def wait_images(self) -> None:
        WebDriverWait(self.d, WAIT).until(lambda d: d.execute_script(
            "return [...document.querySelectorAll('#images img')].every(i => i.complete && i.naturalWidth > 0)"))

    def screenshot(self, path) -> None:
        """Once the images are drawn, with the mouse off the buttons (no hover highlight)."""
        self.wait_images()
        ActionChains(self.d).move_to_element(self.d.find_element(By.ID, "title")).perform()
        self.d.save_screenshot(str(path))


def records(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def no_errors(*raters: Rater, allow_refused: bool = False) -> None:
    for r in raters:
        errs = console_errors(r.d)
        if allow_refused:  # the page's fetches while the server was killed
            errs = [e for e in errs if "ERR_CONNECTION_REFUSED" not in e and "Failed to fetch" not in e]
        assert errs == [], (r.name, errs)


LIKERT_KEYS = {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}


def likert_value(rater: str, t: dict) -> int:
    """A rating that depends on the item, the question and the rater (raters disagree a little)."""
    base = 4 if "sd2dot1" in t["item"] else 2
    return max(1, min(5, base + (t["dimension"] == "quality") - (rater == "bob" and len(t["item"]) % 3 == 0)))


def test_two_raters_likert_kill_restart(browser, tmp_path):
    t0 = time.monotonic()
    man = pointwise_manifest(tmp_path, 5, missing=1)  # 10 items + 1 whose image is missing
    (tmp_path / "rubric.yaml").write_text(RUBRIC_2D)
    out = tmp_path / "labels.jsonl"
    srv = LabelServer("--data", str(man), "--mode", "likert", "--rubric", str(tmp_path / "rubric.yaml"),
                      "--raters", "2", "--out", str(out), log=tmp_path / "server.log")
    with srv:
        db = tmp_path / "labels.sqlite"
        alice, bob = Rater(browser(), "alice", db), Rater(browser(), "bob", db)
        alice.open(srv.url)
        bob.open(srv.url)
        # the item with the missing image is never served, and raters are not told which it was
        assert "gone_0" not in alice.d.page_source and "deleted" not in alice.d.page_source
        assert alice.d.find_element(By.ID, "progress").text == "0 of 10 done"
        expected: dict[tuple[str, str, str], int] = {}
        n = 0

        def step(r: Rater) -> bool:
            nonlocal n
            t = r.task()
            if t is None:
                return False
            assert not t["item"].startswith("gone") and t["prompt"]
            v = likert_value(r.name, t)
            # alternate clicks and keys (and arrows + Enter once in a while)
            if n % 5 == 3:
                before = r.seq()
                for _ in range(v):
                    r.key(Keys.ARROW_RIGHT)
                r.key(Keys.ENTER)
                r.wait_seq(before)
            elif n % 2:
                r.act("key", LIKERT_KEYS[v])
            else:
                r.act("click", v)
            expected[(r.name, t["item"], t["dimension"])] = v
            n += 1
            return True

        for _ in range(6):
            step(alice)
            step(bob)
        alice.screenshot(tmp_path / "likert-alice.png")
        SHOTS.mkdir(parents=True, exist_ok=True)
        alice.screenshot(SHOTS / "label-likert-1400.png")  # docs/label-screenshot.png

        # undo: alice answers 1, takes it back (key u), the same question comes back, she answers 5
        t = alice.task()
        alice.act("key", "1")
        before = alice.seq()
        alice.key("u")
        alice.wait_seq(before)
        assert (alice.task()["item"], alice.task()["dimension"]) == (t["item"], t["dimension"])
        assert "undone" in alice.d.find_element(By.ID, "last").text
        alice.act("click", 5)
        expected[("alice", t["item"], t["dimension"])] = 5
        no_errors(alice, bob)

        # SIGKILL mid-way; bob answers while the server is down (the page keeps retrying)
        acked = dict(expected)
        alice_task = alice.task()
        srv.kill()
        tb = bob.task()
        before = bob.seq()
        bob.key(LIKERT_KEYS[likert_value("bob", tb)])
        WebDriverWait(bob.d, WAIT).until(lambda d: d.find_element(By.ID, "banner").is_displayed())
        expected[("bob", tb["item"], tb["dimension"])] = likert_value("bob", tb)
        srv.start()
        # every answer acknowledged before the kill is in the file the restarted server wrote
        on_restart = {(r["rater"], r["sample_id"], r["dimension"]): r["score"] for r in records(out)}
        assert acked.items() <= on_restart.items()
        bob.wait_seq(before)  # the retried answer got through
        assert not bob.d.find_element(By.ID, "banner").is_displayed()
        # alice comes back (reload, no name typed: her cookie remembers her) to the same question
        alice.open(srv.url, join=False)
        assert (alice.task()["item"], alice.task()["dimension"]) == (alice_task["item"], alice_task["dimension"])

        while step(alice) | step(bob):
            pass
        assert alice.task() is None and bob.task() is None
        assert alice.d.find_element(By.ID, "progress").text == "10 of 10 done"
        alice.screenshot(tmp_path / "likert-done.png")
        no_errors(alice, bob, allow_refused=True)
        assert srv.stop() == 0

    got = records(out)
    assert len(got) == len(expected) == 10 * 2 * 2
    assert {(r["rater"], r["sample_id"], r["dimension"]): r["score"] for r in got} == expected
    per_question: dict[tuple[str, str], set[str]] = {}
    for r in got:
        per_question.setdefault((r["sample_id"], r["dimension"]), set()).add(r["rater"])
    assert len(per_question) == 20 and all(v == {"alice", "bob"} for v in per_question.values())

    # the file is what calibrate and the status command read
    judge = tmp_path / "judge.jsonl"
    judge.write_text("".join(json.dumps({
        "sample_id": sid, "prompt_id": sid.rsplit("_", 1)[0], "model": sid.rsplit("_", 1)[1], "rubric": "t",
        "status": "ok", "scores": {"alignment": 7.0 + i % 3, "quality": 3.0 + i % 4}, "overall": 5.0}) + "\n"
        for i, sid in enumerate(sorted({r["sample_id"] for r in got}))))
    cal = judgekit("calibrate", "--judge", str(judge), "--human", str(out), "--bootstrap", "50",
                   "--out", str(tmp_path / "cal.json"))
    assert cal.returncode == 0, cal.stderr
    report = json.loads((tmp_path / "cal.json").read_text())
    assert set(report["dimensions"]) == {"alignment", "quality"}
    assert report["dimensions"]["alignment"]["meta"]["raters"] == 2
    st = judgekit("label", "--status", "--out", str(out), "--bootstrap", "50")
    assert st.returncode == 0, st.stderr
    assert "10 complete" in st.stdout and "answers: 40 of 40" in st.stdout and "ordinal" in st.stdout
    print(f"likert browser test: {time.monotonic() - t0:.1f}s")


def test_two_raters_pairwise_positions(browser, tmp_path):
    t0 = time.monotonic()
    man = pairwise_manifest(tmp_path, 6)
    pairs = {json.loads(x)["id"]: json.loads(x) for x in man.read_text().splitlines()}
    image_bytes = {(pid, f): (tmp_path / p[f]).read_bytes() for pid, p in pairs.items() for f in ("image_a", "image_b")}
    out = tmp_path / "labels.jsonl"
    srv = LabelServer("--data", str(man), "--mode", "pairwise", "--raters", "2", "--out", str(out),
                      "--invite", "alice", "--invite", "bob", log=tmp_path / "server.log")
    db = tmp_path / "labels.sqlite"
    with srv:
        raters = [Rater(browser(), "alice", db), Rater(browser(), "bob", db)]
        for r in raters:
            r.open(srv.links()[r.name], join=False)
        expected = {}
        how = [("key", "a"), ("click", "right"), ("key", "t"), ("key", Keys.ARROW_RIGHT), ("click", "left"),
               ("key", Keys.ARROW_LEFT), ("key", "b"), ("click", "tie"), ("key", Keys.ARROW_DOWN)]
        n = 0

        def step(r: Rater) -> bool:
            nonlocal n
            t = r.task()
            if t is None:
                return False
            assert [i["label"] for i in t["images"]] == ["A", "B"]
            # which model the page really shows on the left: the bytes of the left image
            left_bytes = fetch_as(srv.url + t["images"][0]["src"], srv.token(r.name))
            side_a = "image_a" if left_bytes == image_bytes[(t["item"], "image_a")] else "image_b"
            assert left_bytes == image_bytes[(t["item"], side_a)]
            p = pairs[t["item"]]
            left_model = p["model_a"] if side_a == "image_a" else p["model_b"]
            right_model = p["model_b"] if side_a == "image_a" else p["model_a"]
            kind, arg = how[n % len(how)]
            side = {"a": "left", Keys.ARROW_LEFT: "left", "left": "left", "b": "right", Keys.ARROW_RIGHT: "right",
                    "right": "right"}.get(arg, "tie")
            if n == 2:
                r.screenshot(tmp_path / "pairwise.png")
            r.act(kind, arg)
            winner = "tie" if side == "tie" else ("model_a" if (left_model if side == "left" else right_model) == p["model_a"] else "model_b")
            expected[(r.name, t["item"])] = (winner, left_model, right_model, side)
            n += 1
            return True

        for _ in range(3):
            for r in raters:
                step(r)
        no_errors(*raters)
        srv.kill()
        srv.start()
        for r in raters:
            r.open(srv.url, join=False)  # the cookie of the link opened before the restart
        while step(raters[0]) | step(raters[1]):
            pass
        assert srv.stop() == 0

    got = records(out)
    assert len(got) == len(expected) == 12
    seen = {}
    for r in got:
        seen[(r["rater"], r["sample_id"])] = (r["winner"], r["left_model"], r["right_model"], r["chosen"])
        assert r["shown"] == ("ab" if r["left_model"] == r["model_a"] else "ba")
    assert seen == expected  # winners in manifest orientation, and the layout recorded is the one shown
    assert {v[1] for v in seen.values()} == {"sd1dot5", "sd2dot1"}  # both models appeared on the left
    for item in pairs:  # counterbalanced: the two raters of a pair saw it in opposite layouts
        assert seen[("alice", item)][1] != seen[("bob", item)][1]
    per_item: dict[str, set[str]] = {}
    for r in got:
        per_item.setdefault(r["sample_id"], set()).add(r["rater"])
    assert sorted(per_item) == sorted(pairs) and all(v == {"alice", "bob"} for v in per_item.values())
    lb = judgekit("leaderboard", str(out), "--bootstrap", "50", "--prior", "0.1")
    assert lb.returncode == 0, lb.stderr
    assert "12 battles, 6 prompts" in lb.stdout
    print(f"pairwise browser test: {time.monotonic() - t0:.1f}s")


SHOTS = Path("/tmp/shots-label-report")


def test_invited_raters_blinding_zoom_and_phone_layout(browser, tmp_path):
    """Personal links only; a second rater cannot act as the first; nothing in the page names an
    item, a model or a file; full resolution on click; the next item's images are prefetched; on a
    phone the image comes before the instructions; the operator's page."""
    man = pointwise_manifest(tmp_path, 3, size=1600)
    out = tmp_path / "labels.jsonl"
    db = tmp_path / "labels.sqlite"
    srv = LabelServer("--data", str(man), "--mode", "likert", "--rubric", "viescore-t2i", "--raters", "2",
                      "--out", str(out), "--invite", "alice", "--invite", "bob", log=tmp_path / "server.log")
    with srv:
        links = srv.links()
        alice, bob = Rater(browser(), "alice", db), Rater(browser(), "bob", db)
        bob.d.get(srv.url + "/?token=" + "x" * 22)
        assert "This link is not valid" in bob.d.find_element(By.ID, "message").text
        bob.d.get(srv.url + "/")
        assert "personal link" in bob.d.find_element(By.ID, "message").text
        alice.open(links["alice"], join=False)
        bob.open(links["bob"], join=False)
        assert "token=" not in alice.d.current_url  # the token left the address bar
        ta = alice.task()
        # bob's page, posting with alice's task (as a curious rater would from the console)
        status = bob.d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            Promise.all([
              fetch('/api/answer', {method: 'POST', headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({rater: 'alice', task: arguments[0], dimension: arguments[1], value: 1, shown: ''})}),
              fetch(arguments[2])]).then(rs => done(rs.map(r => r.status)));
        """, ta["task"], ta["dimension"], ta["images"][0]["src"])
        assert status == [404, 404]
        # blinding: nothing in the DOM (attributes included) names the item, a model or a path
        items = [json.loads(x)["id"] for x in man.read_text().splitlines()]
        dom = alice.d.execute_script("return document.documentElement.outerHTML")
        for bad in [*items, *MODELS, ".png", str(tmp_path)]:
            assert bad not in dom, bad
        # the criteria speak of the buttons' 1-5, not the rubric's 0-10
        crit = alice.d.find_element(By.ID, "crit").text
        assert "1 means" in crit and "5 means" in crit and "10 means" not in crit
        alice.wait_images()
        natural = alice.d.execute_script("return document.querySelector('#images img').naturalWidth")
        assert natural == 1280  # resized on the server for the grading view
        SHOTS.mkdir(parents=True, exist_ok=True)
        alice.screenshot(SHOTS / "label-1400.png")
        alice.d.find_element(By.CSS_SELECTOR, "#images img").click()
        WebDriverWait(alice.d, WAIT).until(lambda d: d.execute_script(
            "const i = document.getElementById('zoom-img'); return !document.getElementById('zoom').hidden && i.complete && i.naturalWidth"))
        assert alice.d.execute_script("return document.getElementById('zoom-img').naturalWidth") == 1600
        alice.d.save_screenshot(str(SHOTS / "label-zoom-1400.png"))
        alice.key(Keys.ESCAPE)
        assert not alice.d.find_element(By.ID, "zoom").is_displayed()
        # answer by key; the next item's images were already requested (prefetch)
        loaded = set(alice.d.execute_script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname).filter(p => p.startsWith('/img/'))"))
        current = {src.split("?")[0] for src in (i["src"] for i in ta["images"])}
        assert loaded - current, "no image of another item was prefetched"
        alice.act("key", "4")
        nxt = alice.task()
        assert {i["src"] for i in nxt["images"]} <= loaded | current or nxt["item"] != ta["item"]
        # a phone: the image before the instructions, the buttons inside the screen
        alice.d.set_window_size(400, 850)
        alice.wait_images()
        geo = alice.d.execute_script("""
            const r = (s) => document.querySelector(s).getBoundingClientRect();
            const bs = [...document.querySelectorAll('#answers button')].map(b => b.getBoundingClientRect());
            return {img: r('#images img').top, aside: r('#instructions').top, width: document.documentElement.clientWidth,
                    right: Math.max(...bs.map(b => b.right)), left: Math.min(...bs.map(b => b.left)),
                    scroll: document.documentElement.scrollWidth};
        """)
        assert geo["img"] < geo["aside"] and geo["left"] >= 0 and geo["right"] <= geo["width"]
        assert geo["scroll"] <= geo["width"]  # no sideways scrolling
        alice.screenshot(SHOTS / "label-400.png")
        alice.d.set_window_size(1400, 1000)
        no_errors(alice)
        # the operator's page: progress per rater and the checks
        op = Rater(browser(), "operator")
        op.d.get(links["operator"])
        WebDriverWait(op.d, WAIT).until(lambda d: d.execute_script("return Number(document.body.dataset.loaded || 0)") > 0)
        table = op.d.find_element(By.ID, "raters").text
        assert "alice" in table and "bob" in table
        op.d.save_screenshot(str(SHOTS / "operator-1400.png"))
        assert srv.stop() == 0
