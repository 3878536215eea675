"""Make docs/report-screenshot.png: the report of a small run of every rubric kind, judged through
the real spine against the test suite's scripted judge on 127.0.0.1, opened in headless Chromium.

    .venv/bin/python bench/report_screenshot.py [--out docs/report-screenshot.png] [--keep DIR]

Needs the dev extra (selenium) and Debian's chromium + chromium-driver (see tests/browser.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import judgekit as jk  # noqa: E402
from judgekit.cli import main as cli  # noqa: E402
from tests.browser import console_errors, start_chromium  # noqa: E402
from tests.judge_server import JudgeServer  # noqa: E402
from tests.report.zoo import build_zoo, human_labels  # noqa: E402

KINDS = ["pointwise", "pairwise", "editing", "questions", "vqascore", "text-rendering"]


def build(root: Path) -> Path:
    with JudgeServer() as srv:
        files = build_zoo(root, srv)
    labels = human_labels(files["pointwise"], root / "labels.jsonl")
    cli(["calibrate", "--judge", str(files["pointwise"]), "--human", str(labels), "--bootstrap", "200",
         "--fit-map", "isotonic", "--map-out", str(root / "map.json"), "--out", str(root / "cal.json")])
    cli(["leaderboard", str(files["pairwise"]), "--bootstrap", "200", "--out", str(root / "lb.json")])
    info = jk.report([files[k] for k in KINDS], root / "report.html", calibration=root / "cal.json",
                     leaderboard=root / "lb.json", title="judgekit report: six rubric kinds, three models")
    print(info)
    return info.path


def shoot(page: Path, out: Path, fragment: str, width: int, height: int) -> None:
    profile = tempfile.mkdtemp(prefix="jk-shot-")
    d = start_chromium(profile)
    try:
        d.set_window_size(width, height)
        d.get(page.resolve().as_uri() + fragment)
        time.sleep(1.5)  # plots and images settle
        errors = console_errors(d)
        if errors:
            raise SystemExit(f"console errors in the report: {errors}")
        d.save_screenshot(str(out))
    finally:
        d.quit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "report-screenshot.png"))
    ap.add_argument("--view", default="#view=samples&sort=disagree", help="URL fragment to open")
    ap.add_argument("--size", default="1400x1000", help="window size WxH")
    ap.add_argument("--keep", help="write the run and the report into this folder instead of a temporary one")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="jk-shot-") as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        page = build(root)
        shoot(page, Path(args.out), args.view, w, h)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
