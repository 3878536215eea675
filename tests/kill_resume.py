"""Kill a judgekit command mid-run and run it again: the rerun must send the judge only the
requests the killed run had not completed (counted at the scripted server)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def kill_and_resume(cmd: list[str], judge_server, cache: Path, total: int, killed_when: Callable[[], bool]) -> int:
    """SIGKILL ``cmd`` once ``killed_when()`` holds (60 s at most), check that the kill landed
    mid-run, run ``cmd`` again to the end and check that it asked only for the rest. Returns how
    many replies the killed run had cached."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not killed_when():
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(cache) as db:
        completed = db.execute("SELECT count(*) FROM responses").fetchone()[0]
    assert 0 < completed < total, "the kill must land mid-run"
    before = len(judge_server.received)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert len(judge_server.received) - before == total - completed
    return completed
