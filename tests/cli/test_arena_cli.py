"""`judgekit arena init|add|run|show|remove` end to end against the scripted HTTP judge."""

from __future__ import annotations

import json
import re

from judgekit.cli import main
from tests.arena_world import judge_script, make_world, write_manifests
from tests.judge_server import Reply


def test_arena_commands(tmp_path, judge_server, monkeypatch, capsys):
    world = make_world(5, 30, spread=800.0, seed=2)
    judge_server.reset(judge_script(world))
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    files = write_manifests(world, tmp_path / "img")
    board = str(tmp_path / "board")
    assert main(["arena", "init", board, "--backend", "openai:judge", "--base-url", judge_server.url,
                 "--anchor", "m01", "--anchor-rating", "1200", "--bootstrap", "50"]) == 0
    for name in ("m00", "m01", "m02", "m03"):
        assert main(["arena", "add", board, "--data", str(files[name])]) == 0
    assert main(["arena", "show", board]) == 0
    assert "no ratings yet" in capsys.readouterr().out
    assert main(["arena", "run", board, "--target-ci", "250", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "stopped: every model's CI is within 250" in out
    first = int(re.search(r"This run judged (\d+) battles", out).group(1))
    # A fifth model later, with a budget: only what the budget allows is judged.
    assert main(["arena", "add", board, "--data", str(files["m04"])]) == 0
    assert main(["arena", "run", board, "--target-ci", "250", "--max-battles", "7", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "the --max-battles budget is spent" in out and "This run judged 7 battles" in out
    assert main(["arena", "remove", board, "m00"]) == 0
    page, js = tmp_path / "board.html", tmp_path / "board.json"
    assert main(["arena", "show", board, "--html", str(page), "--out", str(js)]) == 0
    out = capsys.readouterr().out
    assert f"{first + 7} battles judged ({2 * (first + 7)} judgments)" in out
    assert re.search(r"m01\s+1200\.0\s+\[\s*1200\.0,\s+1200\.0\]", out)  # the anchor stays where init put it
    assert "removed (shown for their history, no longer scheduled): m00" in out
    html = page.read_text()
    assert "<script" not in html and html.count('class="rating"') == 5 and 'class="ci"' in html
    data = json.loads(js.read_text())
    assert data["counts"]["ok"] == first + 7 and data["removed"] == ["m00"]
    assert data["history"][-1]["battles"] == first + 7
    assert data["judges"][0]["rubric"] == "pairwise-t2i"
    # Clear one-line errors.
    assert main(["arena", "remove", board, "m01"]) == 2
    assert main(["arena", "add", board, "--data", str(files["m01"])]) == 2
    assert main(["arena", "show", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "the anchor" in err and "already on the board" in err and "not an arena board" in err


def test_a_judge_that_fails_everything_stops_the_run(tmp_path, judge_server, monkeypatch, capsys):
    world = make_world(3, 10, seed=4)
    judge_server.reset(lambda body, n: Reply(content="I cannot compare these images."))
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    files = write_manifests(world, tmp_path / "img")
    board = str(tmp_path / "board")
    assert main(["arena", "init", board, "--backend", "openai:judge", "--base-url", judge_server.url, "--anchor", "m00"]) == 0
    for f in files.values():
        assert main(["arena", "add", board, "--data", str(f)]) == 0
    assert main(["arena", "run", board, "--quiet"]) == 3  # one batch, all failed: stop, exit status 3
    out, err = capsys.readouterr()
    assert "every battle of the last batch failed" in out and "invalid reply" in err
    assert main(["arena", "show", board]) == 0
    assert "failed" in capsys.readouterr().out


def test_the_progress_line_says_too_few_battles_instead_of_inf(tmp_path, judge_server, manifest_factory, monkeypatch,
                                                               capsys):
    """Four battles between two models leave the challenger's CI undefined (infinite width): the
    per-batch line says so in words, as the closing "still wider" line does, never ``inf``."""
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    board = str(tmp_path / "board")
    assert main(["arena", "init", board, "--backend", "openai:gpt-4o", "--base-url", judge_server.url,
                 "--anchor", "sdxl", "--bootstrap", "20"]) == 0
    assert main(["arena", "add", board, "--data", str(manifest_factory(8))]) == 0
    capsys.readouterr()
    assert main(["arena", "run", board, "--target-ci", "15", "--max-battles", "30"]) == 0
    captured = capsys.readouterr()
    assert "flux (too few battles)" in captured.out  # the run ended with an undefined width
    batch_lines = [ln for ln in captured.err.splitlines() if ln.startswith("batch ")]
    assert batch_lines and not any("inf" in ln for ln in batch_lines)
    assert any("max CI width undefined (too few battles)" in ln for ln in batch_lines)
