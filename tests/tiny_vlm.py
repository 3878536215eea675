"""Build a tiny random-weight LLaVA-architecture VLM on local disk, offline, in a few seconds.

Both vLLM and transformers load it, so the test suite can drive the real engines without a
model hub. Random weights test plumbing (batching, structured outputs, logprobs, parity between
engines), never judging quality.

What makes it work (see notes/local-engines.md):

- a byte-level BPE tokenizer trained here on a synthetic corpus, in which ``Yes`` and ``No``
  (bare and with a leading space) are single tokens, with ChatML specials and ``<image>``;
- a chat template that emits ``<image>`` for every image part;
- ``LlavaProcessor`` with the PIL CLIP image processor: 56x56 input, patch 14, so 16 image
  tokens (17 patches with CLS, minus CLS under the "default" feature strategy);
- head size 32 in both towers, because vLLM's CPU attention only accepts 32, 64, 80, ...;
- weights renamed to the hub layout vLLM's loader expects (transformers 5 saves the vision tower
  without its ``vision_model.`` level; transformers reads either form);
- a deterministic bias: one embedding channel held at a large constant, and the lm_head rows of
  ``"``, ``Yes`` and ``No`` reading it, so those tokens always rank high. Without it, Yes/No never
  show up among the top logprobs and constrained JSON strings may never close.

Example::

    python tests/tiny_vlm.py /tmp/tiny-vlm     # then: vllm:/tmp/tiny-vlm or hf:/tmp/tiny-vlm
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"]

# ChatML, with content either a string or a list of typed parts (the form both transformers'
# processors and vLLM's chat front end hand to the template).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or part['type'] == 'image_url' %}{{ '<image>' }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# The bias: channel 0 of every input embedding is set to this value (see module docstring).
_BIAS_CHANNEL = 0
_BIAS_VALUE = 4.0
_FAVOURED = {'"': 0.9, "Yes": 0.8, "No": 0.7}


def _corpus() -> list[str]:
    words = (
        "Yes No yes no YES NO the a an image picture photo prompt shows does is are of with "
        "score reasoning rating quality object color red blue green cat dog teddy bear book "
        "reading sitting on table left right count two three one match matches question answer "
        "true false good bad "
    ).split()
    json_bits = ['{"reasoning": "', '", "score": ', "}", '{"', '":"', '","', '":', "0", "1", "2",
                 "3", "4", "5", "6", "7", "8", "9", "10"]
    lines = []
    for i in range(300):
        w = [words[(i * 7 + k * 3) % len(words)] for k in range(8)]
        lines.append(" ".join(w))
        lines.append(f"Question: does the image show a {w[0]}? Answer: Yes" if i % 2 else
                     f"Question: is it {w[1]}? Answer: No")
        lines.append("".join(json_bits[(i + k) % len(json_bits)] for k in range(6)))
    lines += ["Yes", "No", " Yes", " No"] * 200
    return lines


def build_tokenizer(out: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        extra_special_tokens={"image_token": "<image>"},
    )
    fast.chat_template = CHAT_TEMPLATE
    for word in ("Yes", "No", " Yes", " No", '"'):
        ids = fast.encode(word, add_special_tokens=False)
        if len(ids) != 1:
            raise RuntimeError(f"tiny tokenizer: {word!r} is not a single token ({ids})")
    return fast


def build(out: str | Path, seed: int = 0) -> Path:
    """Write the tiny VLM (config, weights, tokenizer, processor) into ``out``; return it."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(out)
    vocab = len(tokenizer)
    image_token_id = tokenizer.convert_tokens_to_ids("<image>")

    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": 56},
        crop_size={"height": 56, "width": 56},
        do_center_crop=True,
        do_convert_rgb=True,
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        image_token="<image>",
        chat_template=CHAT_TEMPLATE,
    )

    vision = CLIPVisionConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
        image_size=56, patch_size=14, projection_dim=64,
    )
    text = LlamaConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=32, max_position_embeddings=8192,
        tie_word_embeddings=False, bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    config = LlavaConfig(
        vision_config=vision, text_config=text, image_token_id=image_token_id,
        vision_feature_select_strategy="default", vision_feature_layer=-2,
        projector_hidden_act="gelu", tie_word_embeddings=False,
    )
    config.eos_token_id = tokenizer.eos_token_id
    config.pad_token_id = tokenizer.pad_token_id

    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    with torch.no_grad():
        emb = model.get_input_embeddings().weight
        emb[:, _BIAS_CHANNEL] = _BIAS_VALUE
        head = model.get_output_embeddings().weight
        for word, value in _FAVOURED.items():
            (tid,) = tokenizer.encode(word, add_special_tokens=False)
            head[tid, _BIAS_CHANNEL] = value
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    processor.save_pretrained(out)

    # Hub layout for vLLM: vision_tower.X -> vision_tower.vision_model.X (once).
    for shard in out.glob("*.safetensors"):
        tensors = load_file(shard)
        renamed = {}
        for k, v in tensors.items():
            head_, sep, tail = k.partition("vision_tower.")
            if sep and not tail.startswith("vision_model."):
                k = f"{head_}vision_tower.vision_model.{tail}"
            renamed[k] = v.contiguous()
        save_file(renamed, shard, metadata={"format": "pt"})
    (out / "TINY_VLM.json").write_text(json.dumps({"built_by": "tests/tiny_vlm.py", "seed": seed}))
    return out


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else "tiny-vlm"))
