import io

import numpy as np
import pytest
from PIL import Image

from judgekit.errors import SampleError
from judgekit.images import load_image_part


def _save(tmp_path, name, img, **kw):
    p = tmp_path / name
    img.save(p, **kw)
    return p


def _decoded(part):
    img = Image.open(io.BytesIO(part.data))
    img.load()
    return img


def test_rgb_png_and_jpeg_pass_through_unchanged(tmp_path):
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8))
    for name, fmt, mt in [("a.png", "PNG", "image/png"), ("a.jpg", "JPEG", "image/jpeg")]:
        p = _save(tmp_path, name, img, format=fmt)
        part = load_image_part(p)
        assert part.data == p.read_bytes() and part.media_type == mt


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1"])
def test_lossless_in_meaning_modes_become_rgb(tmp_path, mode):
    base = Image.fromarray(np.random.default_rng(1).integers(0, 255, (8, 8, 3), dtype=np.uint8))
    src = base.convert(mode)
    p = _save(tmp_path, f"x_{mode}.{'jpg' if mode == 'CMYK' else 'png'}", src)
    part = load_image_part(p)
    out = _decoded(part)
    assert out.mode == "RGB" and out.size == (8, 8)
    # deterministic: same bytes every time (stable cache keys)
    assert load_image_part(p).data == part.data
    if mode in ("L", "P"):
        assert np.array_equal(np.asarray(out), np.asarray(src.convert("RGB")))


def test_16bit_grayscale_is_rescaled(tmp_path):
    arr = np.array([[0, 65535], [32768, 257]], dtype=np.uint16)
    p = _save(tmp_path, "g16.png", Image.fromarray(arr))
    out = np.asarray(_decoded(load_image_part(p)))
    assert out[..., 0].tolist() == [[0, 255], [128, 1]]


def test_opaque_alpha_dropped_transparent_refused(tmp_path):
    rgba = Image.new("RGBA", (4, 4), (10, 20, 30, 255))
    assert _decoded(load_image_part(_save(tmp_path, "opaque.png", rgba))).getpixel((0, 0)) == (10, 20, 30)
    rgba.putpixel((1, 1), (0, 0, 0, 0))
    p = _save(tmp_path, "holes.png", rgba)
    with pytest.raises(SampleError, match="transparent") as ei:
        load_image_part(p)
    assert str(p) in str(ei.value)


def test_missing_and_corrupt_files_name_the_path(tmp_path):
    with pytest.raises(SampleError, match="does not exist"):
        load_image_part(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(SampleError, match="not a readable image") as ei:
        load_image_part(bad)
    assert str(bad) in str(ei.value)
