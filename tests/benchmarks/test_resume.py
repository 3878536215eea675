"""`judgekit bench run` killed mid-way resumes from the cache: the rerun sends only the
requests the killed run had not completed (counted at the server), and reports the same table
as an uninterrupted run."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from judgekit.cli import main
from tests.fixtures_spine import write_png
from tests.judge_server import Reply
from tests.kill_resume import kill_and_resume

REPO = Path(__file__).resolve().parents[2]


def test_bench_run_killed_midway_resumes_without_repeating_a_request(judge_server, tmp_path):
    judge_server.reset(lambda body, n: Reply(content="Yes", delay=0.05,
                                             top_logprobs=[("Yes", math.log(0.8)), ("No", math.log(0.2))]))
    rows, images = [], {}
    for i in range(16):
        prompt = f"scene number {i} with a lamp"
        rows.append({"prompt": prompt, "atom_count": 3,
                     "vqa_list": [[f"Is there a lamp in scene {i}?", "Yes"], [f"Is the lamp lit in scene {i}?", "Yes"],
                                  [f"How many lamps are in scene {i}?", "one"]],
                     "skills": ["object", "attribute", "count"]})
        images[prompt] = str(write_png(tmp_path / "img" / f"{i}.png", seed=i))
    total = 16 * 3
    data, img_json = tmp_path / "geneval2_data.jsonl", tmp_path / "images.json"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    img_json.write_text(json.dumps(images))
    cache = tmp_path / "c.sqlite"
    cmd = [sys.executable, "-m", "judgekit", "bench", "run", "geneval2", "--data", str(data), "--images", str(img_json),
           "--backend", "openai:judge", "--base-url", judge_server.url, "--out", str(tmp_path / "run"),
           "--cache", str(cache), "--concurrency", "2", "--no-progress", "--bootstrap", "100"]
    kill_and_resume(cmd, judge_server, cache, total, lambda: len(judge_server.received) >= 12)
    resumed = json.loads((tmp_path / "run" / "report.json").read_text())

    # An uninterrupted run (in this process, with its own cache) reports the same table.
    fresh_args = [*cmd[3:]]
    fresh_args[fresh_args.index(str(tmp_path / "run"))] = str(tmp_path / "fresh")
    fresh_args[fresh_args.index(str(cache))] = str(tmp_path / "c2.sqlite")
    assert main(fresh_args) == 0
    fresh = json.loads((tmp_path / "fresh" / "report.json").read_text())
    assert resumed["statistics"] == fresh["statistics"] and resumed["n_prompts"] == 16
