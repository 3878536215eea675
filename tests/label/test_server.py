"""The real server process under concurrent raters over HTTP (threads posting at once)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from tests.label.helpers import LabelServer, pointwise_manifest

pytest.importorskip("uvicorn")


def call(url, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_concurrent_raters_over_http(tmp_path):
    man = pointwise_manifest(tmp_path, 6)  # 12 items
    out = tmp_path / "labels.jsonl"
    raters = [f"rater{i}" for i in range(5)]
    errors: list = []
    with LabelServer("--data", str(man), "--mode", "binary", "--raters", "3", "--out", str(out),
                     log=tmp_path / "server.log") as srv:
        barrier = threading.Barrier(len(raters))

        def work(name):
            try:
                assert call(srv.url, "/api/join", {"rater": name})[0] == 200
                barrier.wait()
                st, t = call(srv.url, f"/api/next?rater={name}")
                while not t["done"]:
                    st, t = call(srv.url, "/api/answer", {"rater": name, "item": t["item"], "dimension": "",
                                                          "value": "pass" if len(name + t["item"]) % 2 else "fail"})
                    assert st == 200, t
            except Exception as exc:  # collected: a failure in a thread must fail the test
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(r,)) for r in raters]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert srv.stop() == 0
    assert errors == []
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    per_item: dict[str, list[str]] = {}
    for r in recs:
        per_item.setdefault(r["sample_id"], []).append(r["rater"])
    assert len(per_item) == 12
    assert all(len(v) == 3 and len(set(v)) == 3 for v in per_item.values())
    assert len(recs) == 36
    assert "stopped" in (tmp_path / "server.log").read_text()
