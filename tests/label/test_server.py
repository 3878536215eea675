"""The real server process under concurrent raters over HTTP (threads posting at once)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from tests.label.helpers import LabelServer, pointwise_manifest

pytest.importorskip("uvicorn")


def call(url, path, body=None, token=""):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json",
                                                                 "Authorization": f"Bearer {token}"})
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
    invites = [a for r in raters for a in ("--invite", r)]
    with LabelServer("--data", str(man), "--mode", "binary", "--raters", "3", "--out", str(out), *invites,
                     log=tmp_path / "server.log") as srv:
        barrier = threading.Barrier(len(raters))

        def work(name):
            try:
                token = srv.token(name)
                assert call(srv.url, "/api/join", {"rater": name})[0] == 403  # invited raters only
                barrier.wait()
                st, t = call(srv.url, "/api/next", token=token)
                while not t["done"]:
                    st, t = call(srv.url, "/api/answer", {"task": t["task"], "dimension": "",
                                                          "value": "pass" if len(name + t["task"]) % 2 else "fail"},
                                 token=token)
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


def test_one_server_per_campaign_database(tmp_path):
    from tests.label.helpers import judgekit

    man = pointwise_manifest(tmp_path, 2)
    out = tmp_path / "labels.jsonl"
    with LabelServer("--data", str(man), "--mode", "likert", "--out", str(out), log=tmp_path / "server.log") as srv:
        second = judgekit("label", "--data", str(man), "--mode", "likert", "--out", str(out), "--port", str(srv.port + 1))
        assert second.returncode == 2
        assert f"another `judgekit label` server (pid {srv.proc.pid}) is serving the campaign" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        assert srv.stop() == 0
    # stopped (or killed: the kernel drops the lock), the campaign can be served again
    with LabelServer("--data", str(man), "--mode", "likert", "--out", str(out), log=tmp_path / "server2.log") as srv:
        srv.kill()
    with LabelServer("--data", str(man), "--mode", "likert", "--out", str(out), log=tmp_path / "server3.log") as srv:
        assert srv.stop() == 0


def test_serving_beyond_this_machine_needs_invited_raters(tmp_path, capsys):
    from judgekit.cli import main

    man = pointwise_manifest(tmp_path, 1)
    args = ["label", "--data", str(man), "--mode", "likert", "--out", str(tmp_path / "l.jsonl")]
    assert main([*args, "--host", "0.0.0.0"]) == 2
    assert "--allowed-host" in capsys.readouterr().err
    assert main([*args, "--host", "0.0.0.0", "--allowed-host", "label.example.org"]) == 2
    assert "invite the raters with --invite" in capsys.readouterr().err
    assert main([*args, "--raters-file", str(tmp_path / "none.txt")]) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_personal_links_are_printed_and_only_they_get_in(tmp_path):
    man = pointwise_manifest(tmp_path, 2)
    names = tmp_path / "raters.txt"
    names.write_text("# the pilot\nAlice\nbob\n\n")
    out = tmp_path / "labels.jsonl"
    with LabelServer("--data", str(man), "--mode", "likert", "--out", str(out), "--raters-file", str(names),
                     "--invite", "Cy", "--raters", "1", log=tmp_path / "server.log") as srv:
        links = srv.links()
        assert set(links) == {"alice", "bob", "cy", "operator"}  # case-folded
        assert len({v for v in links.values()}) == 4
        st, body = call(srv.url, "/api/next", token="made-up")
        assert st == 401
        st, body = call(srv.url, "/api/status", token=srv.token("alice"))
        assert st == 403
        st, body = call(srv.url, "/api/status", token=srv.token("operator"))
        assert st == 200 and sorted(r["rater"] for r in body["raters"]) == ["alice", "bob", "cy"]
        req = urllib.request.Request(srv.url + "/")
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError("the page opened without a link")
        except urllib.error.HTTPError as e:
            assert e.code == 401 and "personal link" in e.read().decode()
        assert srv.stop() == 0
    # restarted without --invite: the same links still work, and nobody joins by name
    with LabelServer("--data", str(man), "--mode", "likert", "--out", str(out), log=tmp_path / "server2.log") as srv2:
        assert srv2.links()["alice"].rsplit("=", 1)[1] == links["alice"].rsplit("=", 1)[1]
        assert call(srv2.url, "/api/join", {"rater": "mallory"})[0] == 403
        assert srv2.stop() == 0
