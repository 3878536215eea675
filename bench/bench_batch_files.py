"""Batch request files for 10,000 judge requests with 512x512 images: their size, the time to
build them, and the driver's peak memory, against a baseline measured in the same process.

- judgekit: ``judgekit score --export-batch`` (the path ``--batch`` uses to build its files):
  manifest streamed, rubric rendered, images read, cache consulted, each request's cache key
  computed and its line streamed to disk, split under the Batch API's 200 MB file limit.
- baseline: the least any builder does for the same requests: read each image, base64 it, dump a
  minimal chat-completions body (the prompt and the image, no rubric text), append the line to
  one file, once per request.

Time and memory are reported as judgekit / baseline ratios (absolute times drift on a shared
machine). Peak memory is the process's peak resident set (ru_maxrss): the baseline runs first, so
judgekit's figure is the peak of the whole process including it. Goal: streaming, peak < 1 GB.

    python bench/bench_batch_files.py [--n 10000] [--images 20]

Measured (2 shared CPU cores, December 2026): 10,002 requests in 33 files of at most 200 MiB,
6.78 GB in all (about 678 KB a request); judgekit 308 s, baseline 199 s (ratio 1.55); peak
resident memory 197 MB (46 MB over the baseline's peak): streaming, under the 1 GB goal.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import resource
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from judgekit.backends.batch_files import MAX_BYTES  # noqa: E402
from judgekit.cli import main  # noqa: E402

RUBRIC = "viescore-t2i"  # three requests (dimensions) per sample
PER_SAMPLE = 3


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def photo_like_png(path: Path, seed: int) -> None:
    """512x512 with smooth structure plus sensor-like noise: compresses like a generated image
    (about 500 KB as PNG), unlike pure noise (790 KB) or flat colour (a few KB)."""
    rng = np.random.default_rng(seed)
    smooth = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).resize((512, 512), Image.BICUBIC)
    arr = np.asarray(smooth).astype(np.int16) + rng.normal(0, 6, (512, 512, 3)).astype(np.int16)
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path)


def with_text_chunk(png: bytes, text: str) -> bytes:
    """The same PNG with a tEXt chunk before IEND: other bytes (another request), same pixels,
    no re-encoding (10,000 distinct 512x512 encodes would dominate the benchmark)."""
    data = b"Comment\0" + text.encode()
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return png[:-12] + chunk + png[-12:]


def make_manifest(tmp: Path, n: int, n_images: int) -> Path:
    """One distinct image file per sample (a pool of ``n_images`` pictures), so that no two
    requests are equal (equal requests are one request in a batch file)."""
    (tmp / "img").mkdir()
    pool = []
    for i in range(n_images):
        photo_like_png(tmp / "img" / "pool.png", i)
        pool.append((tmp / "img" / "pool.png").read_bytes())
    with (tmp / "m.jsonl").open("w") as fh:
        for i in range(-(-n // PER_SAMPLE)):
            (tmp / "img" / f"{i}.png").write_bytes(with_text_chunk(pool[i % n_images], f"sample {i}"))
            fh.write(json.dumps({"id": f"s{i}", "prompt": f"a photo of object number {i}", "image": f"img/{i}.png",
                                 "model": "m"}) + "\n")
    return tmp / "m.jsonl"


def baseline(manifest: Path, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with manifest.open() as src, out.open("wb") as dst:
        for raw in src:
            s = json.loads(raw)
            data = (manifest.parent / s["image"]).read_bytes()
            url = "data:image/png;base64," + base64.b64encode(data).decode()
            body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
                {"type": "text", "text": s["prompt"]}, {"type": "image_url", "image_url": {"url": url}}]}]}
            for k in range(PER_SAMPLE):
                dst.write((json.dumps({"custom_id": f"{s['id']}-{k}", "method": "POST", "url": "/v1/chat/completions",
                                       "body": body}) + "\n").encode())
    return time.perf_counter() - start, out.stat().st_size


def judgekit_export(manifest: Path, tmp: Path) -> tuple[float, list[int]]:
    out = tmp / "requests.jsonl"
    start = time.perf_counter()
    argv = ["score", "--rubric", RUBRIC, "--data", str(manifest), "--backend", "openai:gpt-4o",
            "--base-url", "http://127.0.0.1:9/v1", "--cache", str(tmp / "c.sqlite"), "--no-progress",
            "--export-batch", str(out)]
    buf = io.StringIO()
    stdout, sys.stdout = sys.stdout, buf
    try:
        code = main(argv)
    finally:
        sys.stdout = stdout
    elapsed = time.perf_counter() - start
    assert code == 0, buf.getvalue()
    print("  " + buf.getvalue().strip()[:300] + " ...")
    parts = sorted(tmp.glob("requests*.jsonl"), key=lambda p: int(p.suffixes[0][1:]) if len(p.suffixes) > 1 else 1)
    sizes = [p.stat().st_size for p in parts]
    return elapsed, sizes


def run(n: int, n_images: int) -> None:
    with tempfile.TemporaryDirectory() as d:  # outside the checkout: gigabytes, never to be committed
        tmp = Path(d)
        manifest = make_manifest(tmp, n, n_images)
        start_mb = peak_mb()
        base_s, base_bytes = baseline(manifest, tmp / "baseline.jsonl")
        base_mb = peak_mb()
        (tmp / "baseline.jsonl").unlink()
        jk_s, sizes = judgekit_export(manifest, tmp)
        jk_mb = peak_mb()
    total = sum(sizes)
    n = -(-n // PER_SAMPLE) * PER_SAMPLE
    print(f"{n} requests ({RUBRIC}, {PER_SAMPLE} per sample), 512x512 PNG images ({n_images} distinct files, ~{(total / n) / 1e3:.0f} KB a request line)")
    print(f"batch files: {len(sizes)} (largest {max(sizes) / 2**20:.1f} MiB, last {sizes[-1] / 2**20:.1f} MiB; limit "
          f"{MAX_BYTES / 2**20:.0f} MiB); total {total / 1e9:.2f} GB; "
          f"baseline's one file {base_bytes / 1e9:.2f} GB")
    print(f"build time: judgekit {jk_s:.1f} s ({n / jk_s:.0f} requests/s), baseline {base_s:.1f} s; ratio {jk_s / base_s:.2f}")
    print(f"peak resident memory: before {start_mb:.0f} MB, after baseline {base_mb:.0f} MB, after judgekit {jk_mb:.0f} MB "
          f"(goal < 1024 MB: {'met' if jk_mb < 1024 else 'NOT met'}); judgekit's growth over baseline's peak "
          f"{jk_mb - base_mb:.0f} MB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--images", type=int, default=20, help="distinct pictures in the pool")
    a = ap.parse_args()
    run(a.n, a.images)
