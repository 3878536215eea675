"""Fixtures of the judging spine: the scripted OpenAI-compatible server, an in-process judge
that answers at once (where only the driver is measured), and small manifests of real PNG files
written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from judgekit.types import ChatResponse
from tests.judge_server import JudgeServer, default_reply


@pytest.fixture(scope="session")
def judge_server_session():
    with JudgeServer() as srv:
        yield srv


@pytest.fixture
def judge_server(judge_server_session):
    """A running scripted server, reset to default replies for each test."""
    judge_server_session.reset(default_reply)
    yield judge_server_session
    judge_server_session.reset(default_reply)


def write_png(path: Path, seed: int, size: int = 32, mode: str = "RGB") -> Path:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    img = Image.fromarray(arr, "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def make_manifest(tmp: Path, n: int, models=("sdxl", "flux"), prompts: int | None = None) -> Path:
    """n samples over ``models``, images under tmp/img, prompt ids shared across models."""
    lines = []
    for i in range(n):
        model = models[i % len(models)]
        pid = i // len(models) if prompts is None else i % prompts
        img = write_png(tmp / "img" / f"{i}.png", seed=i)
        lines.append(
            {"id": f"s{i}", "prompt": f"a red cube number {pid}", "prompt_id": f"p{pid}", "image": f"img/{img.name}", "model": model}
        )
    path = tmp / "manifest.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


@pytest.fixture
def manifest_factory(tmp_path):
    return lambda n, **kw: make_manifest(tmp_path, n, **kw)


class InstantJudge:
    """Answers every request with a valid 1-5 verdict, without I/O."""

    spec = "instant:judge"
    max_batch_size = 1

    def __init__(self) -> None:
        self.requests = 0

    async def generate(self, requests):
        self.requests += len(requests)
        return [ChatResponse(text=json.dumps({"reasoning": "fine", "score": 4})) for _ in requests]

    async def aclose(self) -> None:
        pass

    def describe(self):
        return {"spec": self.spec}

    def cache_identity(self):
        return {"spec": self.spec, "endpoint": "memory"}
