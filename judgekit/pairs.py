"""Pair planning: which images to judge against each other, from a pointwise manifest.

A pointwise manifest has several models' images per prompt (samples sharing ``prompt_id``, or
the same ``prompt`` text). ``plan_pairs`` turns it into pairwise samples (``image_a``,
``image_b``, ``model_a``, ``model_b``): every pair of images of different models on a prompt
(``"all"``), or ``K`` of them drawn per prompt (``"random:K"``), so that comparing N models does
not cost N^2 judgments on every prompt. The draw for a prompt depends only on the seed and the
prompt's id, so adding prompts to a manifest leaves the pairs of the others unchanged.

>>> from judgekit.types import Sample
>>> s = [Sample(id=f"{m}-{p}", prompt=f"p{p}", prompt_id=str(p), image=f"{m}{p}.png", model=m)
...      for p in range(2) for m in ("x", "y", "z")]
>>> len(plan_pairs(s, "all").pairs), len(plan_pairs(s, "random:1", seed=0).pairs)
(6, 2)
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, DataError
from .types import Sample


@dataclass
class PairPlan:
    pairs: list[Sample]
    #: prompts left out because they have images of fewer than two models
    single_model_prompts: list[str] = field(default_factory=list)


def parse_plan(spec: str) -> int | None:
    """``"all"`` -> None; ``"random:K"`` -> K (a positive integer)."""
    if spec == "all":
        return None
    m = re.fullmatch(r"random:(\d+)", spec.strip())
    if not m or int(m.group(1)) < 1:
        raise ConfigError(f"pair plan must be 'all' or 'random:K' with K >= 1, not {spec!r}")
    return int(m.group(1))


def plan_pairs(samples: Iterable[Sample], plan: str = "all", seed: int = 0) -> PairPlan:
    """Pairwise samples from pointwise ones (see the module docstring).

    Pairs only join images of different models. Within a pair, model_a is the sample that
    comes first in (model, id) order; both orders are judged anyway. A pair's id is
    ``"<id_a>~<id_b>"`` and its ``meta`` records the two source sample ids.
    """
    k = parse_plan(plan)
    by_prompt: dict[str, list[Sample]] = {}
    for s in samples:
        if s.model is None or s.image is None:
            raise DataError(f"sample {s.id!r}: pair planning needs 'model' and 'image' on every sample")
        by_prompt.setdefault(s.group, []).append(s)
    pairs: list[Sample] = []
    single: list[str] = []
    for prompt_key, group in by_prompt.items():
        group = sorted(group, key=lambda s: (s.model, s.id))
        candidates = [(a, b) for a, b in itertools.combinations(group, 2) if a.model != b.model]
        if not candidates:
            single.append(prompt_key)
            continue
        if k is not None and k < len(candidates):
            # str seeds hash with SHA-512 in `random`: stable across runs and Python versions.
            rng = random.Random(f"{seed}:{prompt_key}")
            picked = sorted(rng.sample(range(len(candidates)), k))
            candidates = [candidates[i] for i in picked]
        pairs += [_pair(a, b) for a, b in candidates]
    return PairPlan(pairs, single)


def _pair(a: Sample, b: Sample) -> Sample:
    meta = {k: v for k, v in a.meta.items() if b.meta.get(k) == v}  # what the two share (e.g. category)
    meta.update({"sample_a": a.id, "sample_b": b.id})
    if a.seed is not None or b.seed is not None:
        meta.update({"seed_a": a.seed, "seed_b": b.seed})
    return Sample(
        id=f"{a.id}~{b.id}",
        prompt=a.prompt,
        prompt_id=a.prompt_id or a.group,
        image_a=a.image,
        image_b=b.image,
        model_a=a.model,
        model_b=b.model,
        meta=meta,
    )


def write_pairs(pairs: Iterable[Sample], path: str | Path) -> int:
    """Write a pairwise manifest (JSONL) with image paths relative to its own folder, so it can
    be moved together with the images. Returns the number of lines."""
    p = Path(path)
    base = p.resolve().parent
    n = 0
    with p.open("w", encoding="utf-8") as fh:
        for s in pairs:
            d = s.model_dump(exclude_none=True)
            meta = d.pop("meta", {})
            for f in ("image_a", "image_b"):
                if f in d and os.path.isabs(d[f]):
                    d[f] = os.path.relpath(d[f], base)
            fh.write(json.dumps({**d, **meta}) + "\n")
            n += 1
    return n
