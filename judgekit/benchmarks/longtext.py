"""LongText-Bench: prompts asking for long texts in images, English and Chinese
(``judgekit.datasets.longtext``). The judge transcribes the image; the score is the recall of
the target words (English) or characters (Chinese), pooled over the file: total matched over
total target tokens (a micro average), per language.

Options (``--set``): ``pattern``, the image path under ``--images`` formatted with
``prompt_id`` and ``language`` (default ``{prompt_id}.png``).
"""

from __future__ import annotations

from ..datasets.longtext import load_longtext, longtext_samples
from ..errors import ConfigError
from ..rubric import load_rubric
from ..types import Result
from .aggregate import Unit
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard

CARD = ProtocolCard(
    name="longtext",
    title="LongText-Bench",
    task="text-to-image",
    repository="X-Omni LongText-Bench (the English and Chinese prompt files)",
    official_judge="an OCR-capable VLM transcribes each image (see the benchmark's evaluation script)",
    official_prompt="the benchmark's transcription prompt (not read by judgekit)",
    aggregation="per language: total matched target tokens / total target tokens (words for English, "
                "characters for Chinese); extra text is not penalised",
    data="the LongText-Bench JSONL file of one language (prompt_id, prompt, text, category, length)",
    images="a folder; each image at --set pattern (default {prompt_id}.png) under it",
    license="see the benchmark's repository",
    runnable=True,
    parts=(
        Part("transcription", "approximate", "judgekit's text-rendering template asks the judge for the image's text"),
        Part("recall and micro average", "exact", "word-level (en) / character-level (zh) bag-of-tokens recall"),
        Part("image layout", "approximate", "judgekit's --set pattern, not a layout read from the official script"),
    ),
)


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("pattern",))
    pattern = req.option("pattern", "{prompt_id}.png")
    if req.images is None or not req.images.is_dir():
        raise ConfigError(f"--images must be the folder of generated images (got {req.images})")
    items = load_longtext(req.data)
    samples = longtext_samples(items, "model", str(req.images / pattern))
    for s in samples:
        s.model = None
        s.meta["benchmark"] = "longtext"
    return Prepared(load_rubric("text-rendering"), samples, PromptChoice("judgekit"),
                    notes=["transcription prompt: judgekit's text-rendering template"])


def unit(results: list[Result]) -> Unit:
    r = results[0]
    return {"language": r.details.get("language") or r.meta.get("language"),
            "matched": r.details.get("matched", 0), "total": r.details.get("total", 0)}


def aggregate(units: list[Unit]) -> dict[str, float]:
    out: dict[str, float] = {}
    m_all = sum(u["matched"] for u in units)
    t_all = sum(u["total"] for u in units)
    out["text score (micro recall)"] = m_all / t_all if t_all else float("nan")
    for lang in sorted({u["language"] for u in units}):
        m = sum(u["matched"] for u in units if u["language"] == lang)
        t = sum(u["total"] for u in units if u["language"] == lang)
        out[f"language {lang}"] = m / t if t else float("nan")
    return out


def official_text(estimates: dict[str, float]) -> str:
    return "\n".join(f"{k}: {v:.4f}" for k, v in estimates.items())
