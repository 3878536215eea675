"""The campaign store: WAL, durability under SIGKILL, settings binding, concurrent raters."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from judgekit.errors import ConfigError
from judgekit.label import Campaign, LabelStore, Settings, load_label_items
from judgekit.label.store import Conflict
from tests.label.helpers import env, pointwise_manifest

WRITER = textwrap.dedent("""
    import sys
    from judgekit.label import Campaign, LabelStore, Settings, load_label_items
    man, db = sys.argv[1], sys.argv[2]
    c = Campaign(load_label_items(man, "likert"), LabelStore(db), Settings("likert", k=1), man)
    c.join("ann")
    n = 0
    while True:
        t = c.next_task("ann")
        if t["done"]:
            break
        c.answer("ann", t["task"], t["dimension"], 1 + n % 5)
        n += 1
        print("ok", c.item_of("ann", t["task"]), 1 + (n - 1) % 5, flush=True)  # acknowledged = committed
    print("finished", flush=True)
    sys.stdin.readline()  # wait to be killed
""")


def test_sigkill_loses_no_acknowledged_answer(tmp_path):
    man = pointwise_manifest(tmp_path, 20)
    db = tmp_path / "labels.sqlite"
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(man), str(db)], stdout=subprocess.PIPE,
                         stdin=subprocess.PIPE, text=True, env=env())
    acked = {}
    for line in p.stdout:
        parts = line.split()
        if parts[0] == "ok":
            acked[parts[1]] = int(parts[2])
        if len(acked) == 25:  # mid-way through the 40 items
            break
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    assert p.returncode == -signal.SIGKILL
    store = LabelStore(db, readonly=True)
    got = {a.item: a.value for a in store.answers(rater="ann")}
    store.close()
    # every acknowledged answer is there; at most the one in flight beyond them
    assert {k: got[k] for k in acked} == acked
    assert len(got) - len(acked) in (0, 1)


def test_database_is_in_wal_mode_with_full_sync(tmp_path):
    LabelStore(tmp_path / "x.sqlite").close()
    con = sqlite3.connect(tmp_path / "x.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_a_database_is_bound_to_its_mode_and_questions(tmp_path, make_campaign):
    make_campaign("likert", rubric="two")
    man = tmp_path / "manifest.jsonl"
    with pytest.raises(ConfigError, match="other settings.*mode"):
        Campaign(load_label_items(man, "binary"), LabelStore(tmp_path / "labels.sqlite"), Settings("binary"), str(man))
    with pytest.raises(ConfigError, match="dimensions"):
        Campaign(load_label_items(man, "likert"), LabelStore(tmp_path / "labels.sqlite"), Settings("likert"), str(man))
    # raising K later is allowed (more raters for the human ceiling)
    Campaign(load_label_items(man, "likert"), LabelStore(tmp_path / "labels.sqlite"),
             Settings.from_rubric("likert", __import__("judgekit").load_rubric(str(tmp_path / "two.yaml")), k=5), str(man))


def test_status_of_a_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no labelling database"):
        LabelStore(tmp_path / "none.sqlite", readonly=True)


def test_not_a_database(tmp_path):
    (tmp_path / "junk.sqlite").write_text("this is not sqlite " * 100)
    with pytest.raises(ConfigError, match="not a usable labelling database"):
        LabelStore(tmp_path / "junk.sqlite")


def test_concurrent_raters_fill_every_item_exactly_k_times(make_campaign):
    c = make_campaign("likert", k=3, rubric="two", n=10)  # 20 items x 2 questions
    raters = [f"r{i}" for i in range(6)]
    for r in raters:
        c.join(r)
    errors = []
    barrier = threading.Barrier(len(raters))

    def work(r):
        barrier.wait()
        try:
            while not (t := c.next_task(r))["done"]:
                c.answer(r, t["task"], t["dimension"], 1 + len(r) % 5)
        except Exception as exc:  # collected: an exception in a thread must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(r,)) for r in raters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    answers = c.store.answers()
    per = {}
    for a in answers:
        per.setdefault((a.item, a.dimension), []).append(a.rater)
    assert len(per) == 20 * 2
    assert all(len(v) == 3 and len(set(v)) == 3 for v in per.values())


def test_the_same_answer_posted_twice_at_once_is_stored_once(make_campaign):
    c = make_campaign("likert", k=1)
    c.join("ann")
    t = c.next_task("ann")
    results = []
    barrier = threading.Barrier(2)

    def post(v):
        barrier.wait()
        try:
            c.answer("ann", t["task"], t["dimension"], v)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    th = [threading.Thread(target=post, args=(v,)) for v in (2, 4)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    assert sorted(results) == ["conflict", "ok"]
    assert len(c.store.answers(item=c.item_of("ann", t["task"]))) == 1
