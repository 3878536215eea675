"""``judgekit report`` on a 10,000-sample results file (2,500 prompts x 4 models, three
dimensions with reasoning each, one small PNG per sample, 1% failures with raw replies).

Timed: ``jk.report(results file, ...)`` end to end (read the results, thumbnail 10,000 images,
bootstrap CIs, plots, write the HTML). Baseline, in the same process: reading the same results
file and writing its records back as JSON, the least any report generator must do. Printed: both
times, the ratio, and the report's size.

With Chromium installed (``/usr/bin/chromium``, see tests/browser.py) it also opens the report
headless and prints how long the page takes to parse its data and show the first page, to change
a filter, and to sort all 10,000 samples, to show the page stays responsive.

    .venv/bin/python bench/bench_report.py                # 10,000 samples
    .venv/bin/python bench/bench_report.py --n 2000       # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.browser, when run from a checkout

import judgekit as jk  # noqa: E402

MODELS = ("flux", "sd3", "sdxl", "pixart")
DIMS = ("semantic_consistency", "naturalness", "artifacts")


def synthesize(root: Path, n: int, image_size: int, seed: int = 0) -> Path:
    """Results records in the layout the pointwise method and the runner write."""
    rng = np.random.default_rng(seed)
    img_dir = root / "img"
    img_dir.mkdir(parents=True)
    quality = rng.normal(0, 1, len(MODELS))
    lines = []
    for i in range(n):
        m = i % len(MODELS)
        pid = i // len(MODELS)
        path = img_dir / f"{i}.png"
        base = rng.integers(0, 256, 3)
        arr = np.clip(base + rng.integers(-40, 40, (image_size, image_size, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(arr, "RGB").save(path)
        failed = rng.random() < 0.01
        scores = {d: (None if failed and k == 2 else float(np.clip(round(5 + 2 * quality[m] + rng.normal(0, 2)), 0, 10)))
                  for k, d in enumerate(DIMS)}
        reasoning = {d: f"Sample {i}: the {d.replace('_', ' ')} is judged against the prompt; objects, colors and layout "
                        f"were checked one by one and {scores[d]} of 10 fits what is visible." for d in DIMS if scores[d] is not None}
        rec = {
            "sample_id": f"p{pid}-{MODELS[m]}", "prompt_id": f"p{pid}", "model": MODELS[m], "rubric": "viescore-t2i",
            "status": "failed" if failed else "ok", "scores": scores,
            "overall": None if failed else float(np.sqrt(min(scores[DIMS[0]], 10) * min(scores[DIMS[1]], scores[DIMS[2]]))),
            "reasoning": reasoning, "error": "artifacts: invalid reply after 3 attempts: reply holds no JSON object" if failed else None,
            "details": {"raw_replies": {"artifacts": "I cannot tell."}} if failed else {}, "meta": {},
            "provenance": {"rubric": "viescore-t2i", "kind": "pointwise"},
            "inputs": {"prompt": f"prompt {pid}: a {['red', 'blue', 'green'][pid % 3]} object number {pid} on a table",
                       "image": str(path)},
        }
        lines.append(json.dumps(rec))
    out = root / "results.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def baseline(results: Path, out: Path) -> float:
    t0 = time.perf_counter()
    res = jk.load_results(results)
    with out.open("w", encoding="utf-8") as fh:
        for r in res.records:
            fh.write(r.model_dump_json() + "\n")
    return time.perf_counter() - t0


def browse(path: Path) -> dict[str, float] | None:
    from tests.browser import CHROMIUM, console_errors, start_chromium

    if not os.path.exists(CHROMIUM):
        return None
    try:
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return None
    profile = tempfile.mkdtemp(prefix="jk-bench-chromium-")
    d = start_chromium(profile)
    try:
        def renders():
            return int(d.execute_script("return Number(document.body && document.body.dataset.renders) || 0"))

        def timed_hash(fragment: str) -> float:
            before = renders()
            t = time.perf_counter()
            d.execute_script("location.hash = arguments[0]", fragment)
            WebDriverWait(d, 60, poll_frequency=0.01).until(lambda _: renders() > before)
            return time.perf_counter() - t

        t = time.perf_counter()
        d.get(path.resolve().as_uri() + "#view=samples")
        WebDriverWait(d, 120, poll_frequency=0.02).until(lambda _: renders() > 0)
        first = time.perf_counter() - t
        out = {"load and first page": first, "filter by model": timed_hash("#view=samples&model=sd3"),
               "sort 10,000 by score": timed_hash("#view=samples&sort=low"),
               "per-prompt view, by disagreement": timed_hash("#view=prompts&sort=disagree")}
        errors = console_errors(d)
        if errors:
            print("browser console errors:", errors[:3])
        return out
    finally:
        d.quit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--image-size", type=int, default=64, help="side of each synthesized PNG (default 64)")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="jk-bench-report-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        results = synthesize(root, args.n, args.image_size)
        print(f"synthesized {args.n:,} results and {args.n:,} {args.image_size}px PNGs in {time.perf_counter() - t:.1f} s "
              f"({results.stat().st_size / 1e6:.1f} MB of JSONL)")
        base = baseline(results, root / "copy.jsonl")
        info = jk.report(results, root / "report.html")
        print(f"baseline (read the results, write them back as JSON): {base:.2f} s")
        print(f"judgekit report: {info.seconds:.2f} s -> {info.bytes / 1e6:.1f} MB HTML "
              f"({info.n_samples:,} samples, {info.n_images:,} thumbnails, {info.n_plots} plots, cpus={os.cpu_count()})")
        print(f"ratio report / baseline: {info.seconds / base:.1f}x   (goal: report under 60 s)")
        linked = jk.report(results, root / "linked.html", link_images=True)
        print(f"with --link-images: {linked.seconds:.2f} s -> {linked.bytes / 1e6:.1f} MB HTML")
        if not args.no_browser:
            timings = browse(root / "report.html")
            if timings is None:
                print("browser timings skipped (no /usr/bin/chromium or no selenium)")
            else:
                print("headless Chromium: " + "; ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()))


if __name__ == "__main__":
    main()
