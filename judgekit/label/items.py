"""What raters label: the manifest's samples as items, with their images checked and confined to
the manifest's folder.

An item whose image is missing or outside that folder is kept with a ``problem``: it is never
assigned (the operator sees why), so one bad line costs one item, not the session. The full
check (the judge's image policy, every pixel decoded) runs when an item is about to be assigned
(:mod:`.pixels`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, DataError

MODES = ("likert", "binary", "pairwise")
#: Image fields a rater sees, in display order, per kind of manifest.
POINTWISE_IMAGES = ("source_image", "image")  # an editing sample shows its source first
PAIRWISE_IMAGES = ("image_a", "image_b")


@dataclass
class Item:
    id: str
    prompt: str | None
    prompt_id: str | None
    model: str | None = None
    model_a: str | None = None
    model_b: str | None = None
    #: image field -> absolute path (resolved inside the manifest folder)
    images: dict[str, str] = field(default_factory=dict)
    #: image field -> the path as the manifest wrote it (what the labels file records)
    written: dict[str, str] = field(default_factory=dict)
    problem: str | None = None

    @property
    def group(self) -> str:
        """The unit agreement CIs resample: the prompt (several images of it move together)."""
        return self.prompt_id or self.prompt or self.id


def inside_root(path: str, root: str) -> bool:
    real = os.path.realpath(path)  # realpath: a symlink pointing out of the folder is outside too
    return os.path.commonpath([real, root]) == root


def load_label_items(manifest: str | Path, mode: str) -> list[Item]:
    """Items of a manifest for ``mode``; every sample must have the fields the mode needs."""
    import judgekit as jk

    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    path = Path(manifest)
    root = manifest_root(path)
    samples = jk.load_samples(path)  # resolves image paths against the manifest's folder
    if not samples:
        raise DataError(f"{path}: the manifest has no samples")
    raw_paths = _written_paths(path)
    items = []
    for s in samples:
        if mode == "pairwise":
            need: tuple[str, ...] = ("image_a", "image_b", "model_a", "model_b")
            fields = PAIRWISE_IMAGES
        else:
            need = ("image",)
            fields = POINTWISE_IMAGES
        missing = [f for f in need if getattr(s, f) in (None, "")]
        if missing:
            hint = " (a pointwise manifest: use --mode likert or binary, or make pairs with `judgekit pairs`)" \
                if mode == "pairwise" and s.image else ""
            raise DataError(f"{path}: sample {s.id!r} has no {', '.join(missing)} for --mode {mode}{hint}")
        images = {f: getattr(s, f) for f in fields if getattr(s, f)}
        item = Item(
            id=s.id, prompt=s.prompt or s.instruction, prompt_id=s.prompt_id, model=s.model,
            model_a=s.model_a, model_b=s.model_b, images=images,
            written={f: raw_paths.get(s.id, {}).get(f, v) for f, v in images.items()},
        )
        if mode == "pairwise" and s.model_a == s.model_b:
            item.problem = f"both images are from model {s.model_a!r}"
        for f, p in images.items():
            why = None if item.problem else _quick_problem(p, root)
            if why:
                item.problem = f"{f}: {why}: {item.written[f]}"
        items.append(item)
    return items


def _quick_problem(path: str, root: str) -> str | None:
    """The start-up check (no decoding: a long manifest must load fast); the full check runs
    when an item is about to be shown."""
    if not inside_root(path, root):
        return "image path is outside the manifest's folder"
    if not os.path.isfile(path):
        return "image file not found"
    return None


def _written_paths(path: Path) -> dict[str, dict[str, str]]:
    """Image paths exactly as the manifest lines wrote them (load_samples made them absolute)."""
    import json

    out: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)  # load_samples has already validated every line
                sid = str(d.get("id", d.get("sample_id")))
                out[sid] = {k: v for k, v in d.items() if k in POINTWISE_IMAGES + PAIRWISE_IMAGES and isinstance(v, str)}
    return out


def manifest_root(manifest: str | Path) -> str:
    return os.path.realpath(Path(manifest).parent)
