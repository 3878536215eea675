"""The price table, the cost of one reply, and the documented token estimates (OpenAI's image
formulas checked against the worked examples of OpenAI's vision guide)."""

import io

import pytest
from PIL import Image

from judgekit.errors import DataError
from judgekit.types import ChatRequest, ImagePart, Message, TextPart
from judgekit.usage import DEFAULT_IMAGE_TOKENS, estimate_prompt, image_tokens, parse_prices, text_tokens

TABLE = {"gpt-4o": {"input": 2.5, "cached_input": 1.25, "output": 10.0, "batch_discount": 0.5},
         "gpt-4o-mini": {"input": 0.15, "output": 0.6}}


def test_cost_splits_cached_prompt_tokens_and_applies_the_batch_discount():
    prices = parse_prices(TABLE)
    usage = {"prompt_tokens": 1000, "cached_tokens": 400, "completion_tokens": 100}
    live = (600 * 2.5 + 400 * 1.25 + 100 * 10.0) / 1e6
    assert prices.cost("gpt-4o", usage) == pytest.approx(live)
    assert prices.cost("gpt-4o", usage, batch=True) == pytest.approx(live * 0.5)
    # no cached_input price: cached tokens cost the full input price
    assert prices.cost("gpt-4o-mini", usage) == pytest.approx((1000 * 0.15 + 100 * 0.6) / 1e6)


def test_lookup_by_exact_id_then_longest_dated_prefix():
    prices = parse_prices(TABLE)
    assert prices.lookup("gpt-4o-2024-08-06") is prices.prices["gpt-4o"]
    assert prices.lookup("gpt-4o-mini-2024-07-18") is prices.prices["gpt-4o-mini"]
    assert prices.lookup("gpt-4") is None and prices.cost("claude", {"prompt_tokens": 1}) is None


@pytest.mark.parametrize("bad, words", [
    ({"m": {"input": 1}}, "missing 'output'"),
    ({"m": {"input": 1, "output": -2}}, "m.output must be a number"),
    ({"m": {"input": 1, "output": 2, "batch_discount": 1.5}}, "at most 1"),
    ({"m": {"input": 1, "output": 2, "price": 3}}, "unknown field 'price'"),
    ([1, 2], "expected a mapping"),
])
def test_a_bad_price_table_is_one_clear_error(bad, words):
    with pytest.raises(DataError, match=words):
        parse_prices(bad, "p.yaml")


@pytest.mark.parametrize("model, w, h, tokens", [
    ("gpt-4o", 1024, 1024, 765),  # OpenAI's example: 4 tiles
    ("gpt-4o", 2048, 4096, 1105),  # scaled to 1024x2048, then 768x1536: 6 tiles
    ("gpt-4o-2024-08-06", 512, 512, 255),
    ("gpt-4o-mini", 512, 512, 2833 + 5667),
    ("gpt-4.1-mini", 1024, 1024, 1659),  # 1024 patches x 1.62, rounded up
    ("gpt-4.1-nano", 1800, 2400, 3572),  # OpenAI's example: 1452 patches, x 2.46
])
def test_image_tokens_follow_openais_documented_formulas(model, w, h, tokens):
    assert image_tokens(model, w, h) == tokens


def test_unknown_model_gets_the_stated_per_image_estimate():
    buf = io.BytesIO()
    Image.new("RGB", (512, 512)).save(buf, "PNG")
    req = ChatRequest(messages=(Message("user", (TextPart("one two three"), ImagePart(buf.getvalue()))),))
    est = estimate_prompt(req, "my-local-judge")
    assert image_tokens("my-local-judge", 512, 512) is None
    assert est.images == DEFAULT_IMAGE_TOKENS and not est.images_by_formula
    assert est.text == 3 + 3 + text_tokens("one two three") == 3 + 3 + 4
    assert estimate_prompt(req, "gpt-4o").images == 255


def test_a_local_model_directory_counts_text_with_its_own_tokenizer(tiny_vlm_dir):
    from transformers import AutoTokenizer

    from judgekit.usage.tokens import load_local_tokenizer

    count = load_local_tokenizer(str(tiny_vlm_dir))
    text = "a teddy bear reading a book, with a red scarf"
    expected = len(AutoTokenizer.from_pretrained(str(tiny_vlm_dir)).encode(text, add_special_tokens=False))
    assert count is not None and count(text) == expected
    assert load_local_tokenizer("gpt-4o") is None  # not a directory: the documented estimate
