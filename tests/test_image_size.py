"""Huge images (issue 18 item 13), through the runner and the scripted OpenAI-compatible server:
an image over ``max_image_pixels`` is downscaled for the judge with the resize recorded, Pillow's
DecompressionBombWarning never reaches the user, an image beyond what Pillow decodes safely is a
per-sample failure with the reason (not an "internal error"), and a file that is not an image
names its path. Pillow's own limit is lowered in these tests so that small files cross it."""

import base64
import io
import json
import warnings

import numpy as np
import pytest
from PIL import Image

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import ConfigError
from judgekit.images import _fit_size, load_image_part, max_image_pixels


def _manifest(tmp_path, sizes: dict[str, tuple[int, int]], fmt="PNG"):
    lines = []
    for name, (w, h) in sizes.items():
        p = tmp_path / f"{name}.{fmt.lower()}"
        Image.fromarray(np.random.default_rng(w * h).integers(0, 256, (h, w, 3), dtype=np.uint8)).save(p, format=fmt)
        lines.append({"id": name, "prompt": "noise", "image": p.name, "model": "m"})
    m = tmp_path / "m.jsonl"
    m.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return m


def _sent_sizes(server):
    sizes = []
    for body in server.received:
        for part in body["messages"][-1]["content"]:
            if isinstance(part, dict) and part.get("type") == "image_url":
                data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
                sizes.append(Image.open(io.BytesIO(data)).size)
    return sizes


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_image_over_the_limit_is_downscaled_and_the_result_says_so(judge_server, tmp_path, fmt):
    m = _manifest(tmp_path, {"big": (300, 200), "small": (60, 40)}, fmt)
    res = jk.score("viescore-t2i", str(m), backend="openai:judge", base_url=judge_server.url, cache=False,
                   max_image_pixels=10_000)
    big, small = res
    assert big.status == small.status == "ok"
    assert big.details["resized_images"] == {"image": {"from": [300, 200], "to": [122, 81]}}
    assert "resized_images" not in small.details
    assert sorted(set(_sent_sizes(judge_server))) == [(60, 40), (122, 81)]  # what the judge really got


def test_the_default_budget_and_no_limit(tmp_path):
    p = tmp_path / "x.png"
    Image.new("RGB", (300, 200), (10, 20, 30)).save(p)
    assert load_image_part(p).resized is None  # 60 000 pixels: far under 4096 x 4096
    with max_image_pixels(1000):
        part = load_image_part(p)
        assert part.resized == ((300, 200), (38, 25)) and Image.open(io.BytesIO(part.data)).size == (38, 25)
        assert load_image_part(p).data == part.data  # deterministic: a stable cache key
    with max_image_pixels(None):
        assert load_image_part(p).resized is None
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ConfigError, match="max image pixels"):
            with max_image_pixels(bad):
                pass


@pytest.mark.parametrize(("size", "limit"), [((4097, 4097), 4096 * 4096), ((12_000, 12_000), 4096 * 4096),
                                             ((14_000, 9_000), 4096 * 4096), ((7, 3), 10), ((640, 480), 10_000)])
def test_fit_size_keeps_the_aspect_within_the_budget(size, limit):
    w, h = _fit_size(size, limit)
    assert w * h <= limit and 1 <= w <= size[0] and 1 <= h <= size[1]
    scale = (limit / (size[0] * size[1])) ** 0.5
    assert abs(w - size[0] * scale) <= 1 and abs(h - size[1] * scale) <= 1  # the same aspect, to a pixel


def test_pillow_bomb_limits_give_no_warning_and_a_per_sample_reason(judge_server, tmp_path, monkeypatch):
    # With Pillow's limit at 20 000 pixels, 170 x 170 (28 900) would warn and 300 x 200 (60 000,
    # over twice the limit) would raise DecompressionBombError.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)
    m = _manifest(tmp_path, {"warns": (170, 170), "bomb": (300, 200), "fine": (50, 50)})
    (tmp_path / "text.png").write_text("hello, this is not an image")
    with m.open("a") as f:
        f.write(json.dumps({"id": "text", "prompt": "noise", "image": "text.png", "model": "m"}) + "\n")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = jk.score("viescore-t2i", str(m), backend="openai:judge", base_url=judge_server.url, cache=False,
                       max_image_pixels=10_000)
    assert not [w for w in seen if issubclass(w.category, Image.DecompressionBombWarning)]
    by_id = {r.sample_id: r for r in res}
    assert by_id["warns"].status == "ok"
    assert by_id["warns"].details["resized_images"] == {"image": {"from": [170, 170], "to": [100, 100]}}
    assert by_id["fine"].status == "ok" and "resized_images" not in by_id["fine"].details
    bomb = by_id["bomb"]
    assert bomb.status == "failed" and "internal error" not in bomb.error
    assert f"image {tmp_path / 'bomb.png'} is too large to decode safely" in bomb.error
    assert "60000 pixels" in bomb.error and "PIL.Image.MAX_IMAGE_PIXELS" in bomb.error
    text = by_id["text"]
    assert text.status == "failed" and str(tmp_path / "text.png") in text.error and "BytesIO" not in text.error


def test_cli_flag(judge_server, tmp_path, capsys):
    m = _manifest(tmp_path, {"big": (300, 200)})
    out = tmp_path / "r.jsonl"
    base = ["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "openai:judge", "--base-url",
            judge_server.url, "--no-cache", "--no-progress", "--out", str(out)]
    assert main([*base, "--max-image-pixels", "10000"]) == 0
    assert json.loads(out.read_text())["details"]["resized_images"]["image"]["to"] == [122, 81]
    assert main([*base, "--max-image-pixels", "0"]) == 0  # no limit
    assert "resized_images" not in json.loads(out.read_text())["details"]
    assert main([*base, "--max-image-pixels", "-1"]) == 2
    assert "--max-image-pixels must be 0 (no limit) or more" in capsys.readouterr().err
