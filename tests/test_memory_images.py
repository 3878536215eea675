"""Images given in memory (PIL, numpy, torch, bytes) are judged exactly as the same images read
from files: the same requests, hence the same cache keys and the same records."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import judgekit as jk
from judgekit.errors import DataError, SampleError
from judgekit.images import load_image_part
from judgekit.memory_images import InMemoryImage, to_in_memory

torch = pytest.importorskip("torch")


def _twelve_images(folder: Path) -> list[Path]:
    """Twelve PNGs as Pillow writes them by default: RGB of several sizes, grayscale, and
    RGBA that is fully opaque (which the judge receives converted to RGB)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(12):
        rng = np.random.default_rng(i)
        h, w = 16 + 4 * i, 24 + 2 * i
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        img = Image.fromarray(rgb)
        if i in (3, 7):
            img = img.convert("L")
        elif i == 10:
            img = img.convert("RGBA")  # alpha 255 everywhere
        p = folder / f"{i}.png"
        img.save(p)
        paths.append(p)
    return paths


def _routes(paths: list[Path]) -> dict[str, list]:
    pil = [Image.open(p) for p in paths]
    arrays = [np.array(im) for im in pil]  # writable copies (torch.from_numpy warns on read-only)
    return {
        "path": [str(p) for p in paths],
        "pil": pil,
        "numpy": arrays,
        "numpy_float": [a.astype(np.float32) / 255.0 for a in arrays],
        # channels first (torch's layout) where the picture has channels, HxW otherwise
        "torch": [torch.from_numpy(a).permute(2, 0, 1) if a.ndim == 3 else torch.from_numpy(a) for a in arrays],
        "torch_float_hwc": [torch.from_numpy(a.astype(np.float32) / 255.0) for a in arrays],
        "bytes": [p.read_bytes() for p in paths],
    }


def _comparable(r: jk.Result) -> dict:
    d = r.model_dump()
    d.pop("inputs", None)  # a path for files, a hash for memory: compared separately
    d["provenance"] = {k: v for k, v in d["provenance"].items() if k != "created"}
    return d


def _cache_keys(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {k for (k,) in db.execute("SELECT key FROM responses")}


def test_twelve_images_as_paths_pil_numpy_torch_bytes_give_identical_records_and_cache_keys(judge_server, tmp_path):
    paths = _twelve_images(tmp_path / "img")
    records, keys, bodies = {}, {}, {}
    for route, images in _routes(paths).items():
        samples = [jk.Sample(id=f"s{i}", prompt=f"picture {i}", image=img, model="m") for i, img in enumerate(images)]
        judge_server.received.clear()
        cache = tmp_path / f"cache-{route}.sqlite"
        res = jk.score("viescore-t2i", samples, backend="openai:judge", base_url=judge_server.url, cache=str(cache))
        assert all(r.status == "ok" for r in res), route
        records[route] = [_comparable(r) for r in res]
        keys[route] = _cache_keys(cache)
        bodies[route] = sorted(json.dumps(b["messages"], sort_keys=True) for b in judge_server.received)
        if route != "path":  # in memory: named by the hash of what was sent, never by a path
            for r, img in zip(res, samples):
                assert isinstance(img.image, InMemoryImage)
                assert r.inputs["image"] == {"sha256": img.image.sha256, "bytes": len(img.image.data)}
    assert len(keys["path"]) == 36  # 12 images x 3 dimensions
    for route in records:
        assert records[route] == records["path"], route
        assert keys[route] == keys["path"], route
        assert bodies[route] == bodies["path"], route


def test_rgb_pixels_in_memory_are_the_bytes_pillow_writes_to_a_file(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    Image.fromarray(a).save(tmp_path / "a.png")
    disk = (tmp_path / "a.png").read_bytes()
    assert to_in_memory(a).data == disk
    # metadata does not travel: an ICC profile or text chunk on the PIL image changes nothing
    im = Image.open(tmp_path / "a.png")
    im.info["icc_profile"] = b"not a real profile"
    assert to_in_memory(im).data == disk
    assert load_image_part(to_in_memory(a)).sha256 == load_image_part(tmp_path / "a.png").sha256


def test_float_and_uint8_of_one_picture_agree_and_floats_round_to_nearest():
    a = np.arange(256, dtype=np.uint8).reshape(16, 16)
    f64 = a / 255.0
    assert to_in_memory(f64) == to_in_memory(a) == to_in_memory(f64.astype(np.float32))
    assert to_in_memory(torch.from_numpy(f64).to(torch.bfloat16).float().clamp(0, 1)) is not None
    # 0.5 * 255 = 127.5 rounds to even (128), 0.498 * 255 = 126.99 rounds to 127
    got = np.asarray(Image.open(io.BytesIO(to_in_memory(np.array([[0.5, 0.498]])).data)))
    assert got.tolist() == [[128, 127]]


def test_jpeg_bytes_are_sent_as_the_jpeg_file_is(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "x.jpg", quality=90)
    raw = (tmp_path / "x.jpg").read_bytes()
    part = load_image_part(to_in_memory(raw), "image")
    assert part == load_image_part(tmp_path / "x.jpg", "image") and part.media_type == "image/jpeg"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros((2, 4, 4, 3), np.uint8), "is a batch"),
        (np.zeros((3, 8, 8), np.uint8), "channels first"),
        (np.full((4, 4, 3), 1.5, np.float32), "must lie in [0, 1]"),
        (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
        (np.zeros((4, 4, 3), np.int64), "dtype int64"),
        (b"", "empty"),
        ({"not": "an image"}, "got dict"),
    ],
)
def test_what_is_not_a_picture_is_one_clear_error(value, message):
    with pytest.raises(SampleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        jk.Sample(id="x", image=value)


def test_undecodable_bytes_fail_their_sample_only(judge_server, tmp_path):
    good = np.zeros((8, 8, 3), np.uint8)
    samples = [jk.Sample(id="bad", prompt="p", image=b"not an image"), jk.Sample(id="good", prompt="p", image=good)]
    res = jk.score("viescore-t2i", samples, backend="openai:judge", base_url=judge_server.url, cache=False)
    assert [r.status for r in res] == ["failed", "ok"]
    assert "in-memory image sha256:" in res[0].error and "not a readable image" in res[0].error


def test_save_images_writes_each_image_once_and_records_name_the_file(judge_server, tmp_path):
    a = np.random.default_rng(2).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    samples = [jk.Sample(id=f"s{i}", prompt="p", image=a, model="m") for i in range(3)]  # one picture, thrice
    res = jk.score("viescore-t2i", samples, backend="openai:judge", base_url=judge_server.url, cache=False)
    res.save(tmp_path / "plain.jsonl")
    plain = jk.load_results(tmp_path / "plain.jsonl")
    assert plain[0].inputs["image"]["sha256"] == hashlib.sha256(samples[0].image.data).hexdigest()
    res.save(tmp_path / "r.jsonl", save_images=tmp_path / "images")
    files = list((tmp_path / "images").iterdir())
    assert len(files) == 1 and files[0].suffix == ".png"
    back = jk.load_results(tmp_path / "r.jsonl")
    assert {r.inputs["image"] for r in back} == {str(files[0])}
    assert np.array_equal(np.asarray(Image.open(files[0])), a)
    # reloaded results hold hashes only: writing their images is a clear error, not a silent skip
    with pytest.raises(DataError, match="judged from memory"):
        plain.save(tmp_path / "again.jsonl", save_images=tmp_path / "images2")


def test_report_of_in_memory_results_shows_saved_images_and_skips_hashes(judge_server, tmp_path):
    from judgekit.cli import main

    a = np.random.default_rng(3).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    res = jk.score("viescore-t2i", [jk.Sample(id="s0", prompt="p", image=a, model="m")], backend="openai:judge",
                   base_url=judge_server.url, cache=False)
    res.save(tmp_path / "hashes.jsonl")  # images named by hash only: the report has no file to show
    assert main(["report", str(tmp_path / "hashes.jsonl"), "-o", str(tmp_path / "a.html")]) == 0
    res.save(tmp_path / "files.jsonl", save_images=tmp_path / "img")
    assert main(["report", str(tmp_path / "files.jsonl"), "-o", str(tmp_path / "b.html")]) == 0
    assert (tmp_path / "b.html").stat().st_size > (tmp_path / "a.html").stat().st_size  # the thumbnail is in
