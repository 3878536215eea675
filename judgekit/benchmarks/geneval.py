"""GenEval (djghosh13/geneval), VLM variant: its 553 prompts' structured checks (objects,
counts, colours, relative positions) asked to an MLLM judge as a question graph instead of its
Mask2Former detector and CLIP colour classifier (``judgekit.datasets.geneval``).

Its images are its generator's layout: ``IMAGES/<index:05d>/samples/<n:04d>.png`` with the
record in ``IMAGES/<index:05d>/metadata.jsonl``. An image is correct when every check passes;
its summary prints the share of correct images and of prompts with at least one correct image,
the per-tag accuracy, and the overall score, the unweighted mean of the six tag accuracies.

When a folder's ``metadata.jsonl`` holds another prompt than the benchmark's (a generator that
rewrote the prompt, e.g. with an LLM: Bagel #109), the run counts it as a rewritten prompt.
"""

from __future__ import annotations

import json

from ..datasets.geneval import load_geneval
from ..errors import ConfigError
from ..rubric import load_rubric
from ..types import Result, Sample
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard

CARD = ProtocolCard(
    name="geneval",
    title="GenEval (VLM-judge variant)",
    task="text-to-image",
    repository="djghosh13/geneval",
    official_judge="Mask2Former (mmdetection) object detector + CLIP ViT-L/14 colour classifier; not an MLLM",
    official_prompt="none (a detector); judgekit asks its checks as yes/no questions in its own wording",
    aggregation="image correct when all checks pass; per tag the share of correct images; overall = unweighted "
                "mean of the six tag accuracies (0-1)",
    data="prompts/evaluation_metadata.jsonl",
    images="GenEval's output folder: <index:05d>/samples/<n:04d>.png (+ <index:05d>/metadata.jsonl)",
    license="MIT",
    runnable=True,
    parts=(
        Part("checks per prompt", "approximate", "the same objects, counts, colours and positions, asked as a "
             "question graph (count/colour/position credited only when the object is present)"),
        Part("detector and colour classifier", "not", "judgekit ships no detector weights; the MLLM judges instead"),
        Part("aggregation", "exact", "summary_scores.py's shares, tag accuracies and overall mean of tags"),
    ),
    known_issues=(
        "GPT-4o-style prompt rewriting before generation inflates GenEval (ByteDance-Seed/Bagel #109); judgekit "
        "counts folders whose metadata prompt differs from the benchmark's",
        "the benchmark is saturated and its detector disagrees with humans on up to 17.7% of images (GenEval 2 paper)",
    ),
)


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(())
    if req.images is None or not req.images.is_dir():
        raise ConfigError(f"--images must be GenEval's output folder (<index:05d>/samples/*.png), got {req.images}")
    graphs = load_geneval(req.data)
    samples: list[Sample] = []
    rewritten = 0
    for item, g in graphs.items():
        folder = req.images / item
        meta_file = folder / "metadata.jsonl"
        if meta_file.is_file():
            try:
                rec = json.loads(meta_file.read_text(encoding="utf-8").splitlines()[0])
                rewritten += rec.get("prompt") not in (None, g.prompt)
            except (json.JSONDecodeError, IndexError, AttributeError):
                pass
        pngs = sorted((folder / "samples").glob("*.png")) if (folder / "samples").is_dir() else []
        base = {"benchmark": "geneval", "tag": g.meta.get("tag", "")}
        if not pngs:  # no image at all: one failed sample, counted as missing
            samples.append(Sample(id=f"{item}:0", prompt_id=item, prompt=g.prompt, image=None, meta=base))
        for n, p in enumerate(pngs):
            samples.append(Sample(id=f"{item}:{p.stem}", prompt_id=item, prompt=g.prompt, image=str(p), seed=n, meta=base))
    notes = ["judge: an MLLM answers GenEval's checks as questions; the official detector is not reproduced"]
    if rewritten:
        notes.append(f"{rewritten} image folders were generated from a prompt other than GenEval's (rewritten prompts)")
    return Prepared(load_rubric("geneval"), samples, PromptChoice("judgekit"), method_options={"questions": str(req.data)},
                    notes=notes, extra_quirks={"rewritten_prompts": rewritten})


def unit(results: list[Result]) -> Unit:
    return {"tag": results[0].meta.get("tag", ""), "correct": [float(r.overall or 0.0) for r in results]}


def aggregate(units: list[Unit]) -> dict[str, float]:
    tags: dict[str, list[float]] = {}
    for u in units:
        tags.setdefault(u["tag"], []).extend(u["correct"])
    out = {"overall (mean of tags)": mean(mean(v) for v in tags.values()),
           "correct images (share)": mean(c for u in units for c in u["correct"]),
           "correct prompts (share)": mean(float(any(c == 1.0 for c in u["correct"])) for u in units)}
    for tag in sorted(tags):
        out[f"tag {tag}"] = mean(tags[tag])
    return out


def official_text(estimates: dict[str, float]) -> str:
    lines = ["Summary", "=======", f"% correct images: {estimates['correct images (share)']:.2%}",
             f"% correct prompts: {estimates['correct prompts (share)']:.2%}", "", "Task breakdown", "=============="]
    lines += [f"{k[4:]:<16} = {v:.2%}" for k, v in estimates.items() if k.startswith("tag ")]
    lines += ["", f"Overall score (avg. over tasks): {estimates['overall (mean of tags)']:.5f}"]
    return "\n".join(lines)
