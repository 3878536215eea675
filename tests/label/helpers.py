"""Manifests for the labelling tests, and the label server as a real subprocess.

Prompts are real: the first TIFA160 prompts from the vendored DSG question file
(tests/data/dsg/tifa160-dev-anns.csv, Apache-2.0, see its provenance). The images are drawn
here (PNG, a different colour scheme and shape per model, with the model's name on it) so a
screenshot shows which model is where; no image data is vendored.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
MODELS = ("sd1dot5", "sd2dot1")
_STYLE = {"sd1dot5": ((38, 70, 140), (250, 200, 70), "ellipse"), "sd2dot1": ((150, 60, 60), (120, 220, 190), "rect")}

RUBRIC_2D = """\
name: test-two-questions
kind: pointwise
description: Two questions about each image, one at a time.
inputs: [prompt, image]
scale:
  min: 1
  max: 5
  labels: {1: "not at all", 2: "barely", 3: "partly", 4: "mostly", 5: "completely"}
dimensions:
  - name: alignment
    criteria: Does the image show everything the prompt asks for?
  - name: quality
    criteria: Is the image well made, free of distortions and artifacts?
combine: {rule: mean}
"""


def tifa_prompts(n: int) -> list[tuple[str, str]]:
    path = REPO / "tests" / "data" / "dsg" / "tifa160-dev-anns.csv"
    seen: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            seen.setdefault(row["item_id"], row["text"])
            if len(seen) == n:
                break
    return list(seen.items())


def draw(path: Path, model: str, prompt_no: int, size: int = 320) -> Path:
    bg, fg, shape = _STYLE.get(model, ((90, 90, 90), (230, 230, 230), "ellipse"))
    im = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(im)
    o = 24 + 8 * (prompt_no % 5)
    box = (o, o + 10, size - o, size - o + 10)
    (d.ellipse if shape == "ellipse" else d.rectangle)(box, fill=fg)
    d.text((10, 8), f"{model}  #{prompt_no}", fill=(255, 255, 255), font_size=22)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    return path


def pointwise_manifest(folder: Path, n_prompts: int, missing: int = 0, size: int = 320) -> Path:
    """``n_prompts`` x 2 models items, plus ``missing`` items whose image file does not exist."""
    lines = []
    for p, (pid, text) in enumerate(tifa_prompts(n_prompts)):
        for m in MODELS:
            draw(folder / "img" / f"{m}_{p}.png", m, p, size=size)
            lines.append({"id": f"{pid}_{m}", "prompt": text, "prompt_id": pid, "model": m, "image": f"img/{m}_{p}.png"})
    for i in range(missing):
        lines.append({"id": f"gone_{i}", "prompt": "an image that was deleted", "prompt_id": f"gone_{i}",
                      "model": MODELS[0], "image": f"img/deleted_{i}.png"})
    path = folder / "manifest.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def pairwise_manifest(folder: Path, n_pairs: int) -> Path:
    """Pairs as `judgekit pairs` writes them: image_a/image_b, model_a/model_b, prompt_id."""
    lines = []
    for p, (pid, text) in enumerate(tifa_prompts(n_pairs)):
        a, b = MODELS if p % 2 == 0 else MODELS[::-1]  # model_a is not always the same model
        draw(folder / "img" / f"{a}_{p}.png", a, p)
        draw(folder / "img" / f"{b}_{p}.png", b, p)
        lines.append({"id": f"{pid}_{a}~{pid}_{b}", "prompt": text, "prompt_id": pid, "model_a": a, "model_b": b,
                      "image_a": f"img/{a}_{p}.png", "image_b": f"img/{b}_{p}.png"})
    path = folder / "pairs.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def judgekit(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "judgekit", *args], capture_output=True, text=True,
                          env=env(), timeout=timeout, cwd=REPO)


class LabelServer:
    """``judgekit label ...`` as a subprocess on a free port; ``kill()`` is SIGKILL."""

    def __init__(self, *args: str, log: Path):
        self.args, self.log = list(args), log
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> LabelServer:
        fh = self.log.open("a")
        self.proc = subprocess.Popen([sys.executable, "-m", "judgekit", "label", *self.args, "--port", str(self.port)],
                                     stdout=fh, stderr=subprocess.STDOUT, env=env(), cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"label server exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/api/config", timeout=2):
                    pass
            except OSError:
                time.sleep(0.1)
                continue
            if "operator" in self.log.read_text():  # the links are printed once it serves
                return self
            time.sleep(0.05)
        raise RuntimeError(f"label server did not answer within {timeout}s:\n{self.log.read_text()}")

    def links(self) -> dict[str, str]:
        """name -> personal link, as the server printed them (``operator`` included)."""
        out = {}
        for line in self.log.read_text().splitlines():
            m = re.match(r"\s+(\S[^:]*?)(?: \(progress, agreement, checks\))?: (http://\S+\?token=\S+)$", line)
            if m:
                out[m.group(1)] = m.group(2).replace(m.group(2).split("/?")[0], self.url)
        return out

    def token(self, name: str) -> str:
        return self.links()[name].rsplit("token=", 1)[1]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM: uvicorn shuts down cleanly and the labels file is written a last time."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=20)
        return self.proc.returncode if self.proc else 0

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read()

    def __enter__(self) -> LabelServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
