"""A board: a folder holding the arena's settings, its models' manifests and the battle store.

    board/
      settings.json      rubric, judge backend, anchor and its rating, fit and bootstrap settings
      arena.sqlite       models, images, battles (both orders' verdicts, judge identity, prompt), history
      cache.sqlite       the judge's replies (judgekit's response cache), so a killed run resumes for free
      models/NAME.jsonl  each model's manifest as added, image paths relative to this folder

Models join and leave over the board's life; the anchor's rating stays where ``init`` put it, so
every rating printed on the board is on the same scale.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError, DataError
from ..manifest import load_samples
from ..stats.battles import Battles
from ..stats.leaderboard import Leaderboard, leaderboard
from ..types import Sample
from ..usage import PriceTable, parse_prices
from .store import ArenaStore

SETTINGS_FILE = "settings.json"
_SCORE = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5}
STORE_FILE = "arena.sqlite"


class ArenaSettings(BaseModel):
    """What ``judgekit arena init`` fixes for the board's life (``settings.json``)."""

    model_config = ConfigDict(extra="forbid")

    rubric: str = Field(description="pairwise rubric: a built-in name or a YAML path")
    backend: str = Field(description="judge backend spec, e.g. openai:MODEL")
    base_url: str | None = None
    anchor: str = Field(description="the model whose rating is fixed")
    anchor_rating: float = 1000.0
    target_ci: float = Field(15.0, gt=0, description="default full width of every model's CI to stop at")
    level: float = Field(0.95, gt=0, lt=1)
    n_boot: int = Field(200, ge=20, description="bootstrap draws of each convergence check")
    prior: float = Field(0.01, ge=0, description="L2 prior of the Bradley-Terry fit (keeps early ratings finite)")
    min_battles: int = Field(10, ge=1, description="battles a model needs before its CI can count as converged")
    seed: int = 0
    concurrency: int = Field(16, ge=1)
    parse_retries: int = Field(2, ge=0)
    cache: str | None = Field("cache.sqlite", description="response cache, relative to the board; null: none")
    rubric_options: dict[str, Any] = Field(default_factory=dict)
    engine_options: dict[str, Any] = Field(default_factory=dict)
    #: The price table (``arena init --prices``, as in docs/cost.md: model id -> USD per million
    #: tokens), stored in full so the board prices its battles wherever it is opened; null: none.
    prices: dict[str, Any] | None = None


def _safe_name(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model) or "_"


class Board:
    """An arena board on disk. ``Board.init(path, ...)`` creates one, ``Board(path)`` opens it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        sfile = self.path / SETTINGS_FILE
        if not sfile.is_file():
            raise DataError(f"{self.path} is not an arena board (no {SETTINGS_FILE}); create one with `judgekit arena init`")
        try:
            self.settings = ArenaSettings.model_validate_json(sfile.read_text(encoding="utf-8"))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"{sfile}: field '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None
        self.price_table()  # a hand-edited table is checked on open, as the rest of the settings
        self.store = ArenaStore(self.path / STORE_FILE)

    @classmethod
    def init(cls, path: str | Path, **settings: Any) -> Board:
        """Create a board folder (it must not hold a board already)."""
        p = Path(path)
        if (p / SETTINGS_FILE).exists():
            raise ConfigError(f"{p} already holds an arena board; open it, or choose another folder")
        try:
            s = ArenaSettings(**settings)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"arena setting '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None
        if s.prices is not None:
            parse_prices(s.prices, "--prices")
        from ..rubric import load_rubric

        rubric = load_rubric(s.rubric)
        if rubric.kind != "pairwise":
            raise ConfigError(f"the arena judges pairs: rubric {rubric.name!r} is {rubric.kind!r}, not pairwise (e.g. pairwise-t2i)")
        (p / "models").mkdir(parents=True, exist_ok=True)
        tmp = p / (SETTINGS_FILE + ".tmp")
        tmp.write_text(s.model_dump_json(indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, p / SETTINGS_FILE)
        return cls(p)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def price_table(self) -> PriceTable | None:
        """The board's price table, or None when ``init`` was given none."""
        p = self.settings.prices
        return None if p is None else parse_prices(p, f"{self.path / SETTINGS_FILE}: prices")

    @property
    def cache_path(self) -> Path | None:
        c = self.settings.cache
        return None if c is None else (self.path / c if not os.path.isabs(c) else Path(c))

    # --- models --------------------------------------------------------------------------------

    def add(self, data: str | Path | list[Sample], model: str | None = None) -> dict[str, int]:
        """Add the models of a manifest (each sample an image of one model on one prompt).

        ``model`` names the model of a manifest whose samples carry none. Every model must be
        new to the board; a prompt id must keep the prompt text it has on the board. One image per
        model and prompt is judged: extra images (other seeds) are counted, the lowest seed kept.
        Returns the number of images added per model.
        """
        samples = load_samples(data)
        source = str(Path(data).resolve()) if isinstance(data, str | Path) else "<samples>"
        by_model: dict[str, dict[str, Sample]] = {}
        extra: dict[str, int] = {}
        for s in sorted(samples, key=lambda s: (s.seed if s.seed is not None else -1, s.id)):
            name = model or s.model
            if not name:
                raise DataError(f"sample {s.id!r} names no model: add 'model' to the manifest or pass --model")
            if not s.image:
                raise DataError(f"sample {s.id!r} has no image")
            if not isinstance(s.image, str):  # the board keeps paths: its battles outlive this process
                raise DataError(f"sample {s.id!r}: the arena needs image files, not images in memory; save them first")
            if not os.path.isfile(s.image):
                raise DataError(f"sample {s.id!r}: image {s.image} does not exist")
            got = by_model.setdefault(name, {})
            if s.group in got:
                extra[name] = extra.get(name, 0) + 1
                continue
            got[s.group] = s
        if not by_model:
            raise DataError(f"{source}: no samples")
        known = self.store.prompts()
        for name, per_prompt in by_model.items():
            for pid, s in per_prompt.items():
                if s.prompt and known.get(pid) and known[pid] != s.prompt:
                    raise DataError(f"model {name!r}, prompt {pid!r}: prompt text {s.prompt!r} differs from the board's {known[pid]!r}")
        added = {}
        for name, per_prompt in sorted(by_model.items()):
            rows = [(pid, s.prompt, os.path.abspath(str(s.image)), s.id) for pid, s in sorted(per_prompt.items())]
            self.store.add_model(name, source, rows)
            self._write_manifest(name, rows)
            added[name] = len(rows)
        return {**added, **{f"{n} (extra images ignored)": k for n, k in extra.items()}}

    def _write_manifest(self, name: str, rows: list[tuple[str, str | None, str, str]]) -> None:
        folder = self.path / "models"
        folder.mkdir(exist_ok=True)
        target = folder / f"{_safe_name(name)}.jsonl"
        base = folder.resolve()
        with target.open("w", encoding="utf-8") as fh:
            for pid, prompt, image, sid in rows:
                rec = {"id": sid, "prompt_id": pid, "prompt": prompt, "model": name, "image": os.path.relpath(image, base)}
                fh.write(json.dumps({k: v for k, v in rec.items() if v is not None}) + "\n")

    def remove(self, model: str) -> None:
        """Stop scheduling ``model``; its battles stay (evidence about the others, and history)."""
        if model == self.settings.anchor:
            raise ConfigError(f"{model!r} is the anchor: its fixed rating is what keeps the board's scale; it cannot leave")
        self.store.remove_model(model)

    # --- ratings -------------------------------------------------------------------------------

    def battles(self) -> Battles | None:
        """The judged battles (every model, removed ones included), or None before any."""
        rows = self.store.outcomes()
        if not rows:
            return None
        models = sorted({m for _, a, b, _ in rows for m in (a, b)})
        pid, ma, mb, win = zip(*rows)
        # An "inconsistent" verdict (the rubric's merge rule) counts as a tie, as in `judgekit leaderboard`.
        score = [_SCORE.get(w, 0.5) for w in win]
        return Battles.from_arrays(ma, mb, score, pid, models=models)

    def leaderboard(self, n_boot: int | None = None, start: dict[str, float] | None = None) -> Leaderboard | None:
        """Bradley-Terry ratings anchored at the anchor's rating, with CIs from a bootstrap over
        prompts; None before the anchor has a battle."""
        b = self.battles()
        s = self.settings
        if b is None or s.anchor not in b.models:
            return None
        return leaderboard(b, method="bt", n_boot=s.n_boot if n_boot is None else n_boot, level=s.level, seed=s.seed,
                           anchor=s.anchor, init=s.anchor_rating, prior=s.prior, start=start)
