"""A simulated arena world: models with known Bradley-Terry strengths, one tiny image per model and
prompt, and a scripted pairwise judge that answers by those strengths with a position bias and noise.

The judge sees image (model m, prompt p) as having quality ``strength[m] + prompt_effect[m, p]``
(Elo points). Shown X first and Y second it draws ``u = q_X - q_Y + bias + L`` with L logistic noise
on the Elo scale (so without ties and bias, P(X wins) is exactly the Bradley-Terry probability), and
says "tie" when ``|u| < tie_margin``, else "A" (first) or "B". The noise is a fixed function of
(seed, prompt, first, second): like a judge at temperature 0, asking twice gives the same answer.

Used by tests/arena (over a real HTTP server: ``judge_script``) and bench/bench_arena.py (in
process: ``sim_judge``, for speed).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from judgekit.arena.store import JudgedBattle, PlannedBattle

from .judge_server import Reply

ELO = 400.0 / np.log(10.0)  # logistic scale of the Elo curve


@dataclass
class World:
    models: list[str]
    strength: np.ndarray  # Elo points, one per model
    prompts: list[str]
    effect: np.ndarray  # (models, prompts): how much better/worse each image is than its model's strength
    bias: float = 35.0  # Elo points the first-shown image gains
    tie_margin: float = 30.0
    seed: int = 0
    images: dict[str, tuple[int, int]] = field(default_factory=dict)  # sha256 of image bytes -> (model, prompt)

    @property
    def quality(self) -> np.ndarray:
        return self.strength[:, None] + self.effect

    def verdicts(self, first: np.ndarray, second: np.ndarray, prompt: np.ndarray) -> np.ndarray:
        """0 = "A" (first shown wins), 1 = "B", 2 = "tie", for arrays of model and prompt indices."""
        q = self.quality
        u01 = _uniform(self.seed, prompt, first, second)
        noise = ELO * np.log(u01 / (1 - u01))
        u = q[first, prompt] - q[second, prompt] + self.bias + noise
        return np.where(np.abs(u) < self.tie_margin, 2, np.where(u > 0, 0, 1))

    def battle(self, i: np.ndarray, j: np.ndarray, prompt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Both orders of battles (i vs j on prompt) and their merge: (ab, ba, score of i) with
        score 1 / 0 / 0.5 (agreement gives the winner, anything else a tie)."""
        ab = self.verdicts(i, j, prompt)  # i shown first
        ba = self.verdicts(j, i, prompt)  # j shown first
        i_ab = np.choose(ab, [1.0, 0.0, 0.5])
        i_ba = np.choose(ba, [0.0, 1.0, 0.5])
        return ab, ba, np.where(i_ab == i_ba, i_ab, 0.5)


def _uniform(seed: int, *keys: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random number in (0, 1) per key tuple (splitmix64 over the keys)."""
    with np.errstate(over="ignore"):
        h = np.full(np.broadcast(*keys).shape, np.uint64(seed * 0x9E3779B97F4A7C15 % 2**64), dtype=np.uint64)
        for k in keys:
            h = h ^ (np.asarray(k, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2)))
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = h ^ (h >> np.uint64(31))
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


def make_world(n_models: int = 12, n_prompts: int = 200, *, spread: float = 600.0, prompt_sd: float = 50.0,
               seed: int = 0, bias: float = 35.0, tie_margin: float = 30.0) -> World:
    """Strengths spread over ``spread`` Elo points (evenly, with jitter), model ``m00`` the weakest."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0.0, spread, n_models) + rng.normal(0, spread / n_models / 4, n_models)
    base[0], base[-1] = 0.0, spread
    models = [f"m{i:02d}" for i in range(n_models)]
    prompts = [f"p{k:05d}" for k in range(n_prompts)]
    effect = rng.normal(0.0, prompt_sd, (n_models, n_prompts))
    return World(models, base, prompts, effect, bias, tie_margin, seed)


def add_model(world: World, strength: float) -> World:
    """The same world with one more model (its images' effects drawn from the same distribution)."""
    rng = np.random.default_rng(world.seed + 1000)
    effect = np.vstack([world.effect, rng.normal(0.0, world.effect.std(), (1, world.effect.shape[1]))])
    return World([*world.models, f"m{len(world.models):02d}"], np.r_[world.strength, strength], world.prompts,
                 effect, world.bias, world.tie_margin, world.seed, dict(world.images))


def write_manifests(world: World, folder: Path, models: list[int] | None = None) -> dict[str, Path]:
    """One tiny distinct PNG per (model, prompt) and one manifest per model; registers each image's
    hash in ``world.images`` so the scripted judge can tell who made what."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for m in models if models is not None else range(len(world.models)):
        name = world.models[m]
        (folder / name).mkdir(exist_ok=True)
        lines = []
        for p, pid in enumerate(world.prompts):
            img = Image.new("RGB", (2, 1))
            img.putpixel((0, 0), (m, p // 256, p % 256))
            img.putpixel((1, 0), (world.seed % 256, 7, 7))
            path = folder / name / f"{pid}.png"
            img.save(path, format="PNG")
            world.images[hashlib.sha256(path.read_bytes()).hexdigest()] = (m, p)
            lines.append(json.dumps({"id": f"{name}-{pid}", "prompt_id": pid, "prompt": f"prompt number {p}",
                                     "image": f"{name}/{pid}.png", "model": name}))
        out[name] = folder / f"{name}.jsonl"
        out[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _shown(body: dict) -> list[str]:
    """sha256 of the images of a chat request, in the order shown."""
    found = []
    for msg in body.get("messages", []):
        content = msg.get("content")
        for part in content if isinstance(content, list) else []:
            if part.get("type") == "image_url":
                data = part["image_url"]["url"].split(",", 1)[1]
                found.append(hashlib.sha256(base64.b64decode(data)).hexdigest())
    return found


def judge_script(world: World):
    """A ``JudgeServer`` script: the pairwise verdict the world's judge gives for the two images."""
    labels = ["A", "B", "tie"]

    def script(body: dict, n: int) -> Reply:
        shown = [world.images[h] for h in _shown(body)]
        (m1, p1), (m2, _) = shown
        v = int(world.verdicts(np.array([m1]), np.array([m2]), np.array([p1]))[0])
        return Reply(content=json.dumps({"reasoning": f"image {labels[v]} fits better", "winner": labels[v]}))

    return script


def request_key(world: World, body: dict) -> tuple[tuple[int, int], ...]:
    """((first model, prompt), (second model, prompt)) of a pairwise request: what a judgment is about."""
    return tuple(world.images[h] for h in _shown(body))


def sim_judge(world: World):
    """An in-process judge for the arena loop (the benchmark's; tests use the HTTP server)."""
    index = {m: i for i, m in enumerate(world.models)}
    pindex = {p: k for k, p in enumerate(world.prompts)}
    labels = ["A", "B", "tie"]
    winner = {1.0: "model_a", 0.0: "model_b", 0.5: "tie"}

    async def judge(battles: list[PlannedBattle]) -> list[JudgedBattle]:
        if not battles:
            return []
        i = np.array([index[b.model_a] for b in battles])
        j = np.array([index[b.model_b] for b in battles])
        p = np.array([pindex[b.prompt_id] for b in battles])
        ab, ba, score = world.battle(i, j, p)
        ident = {"judge": "simulated", "seed": world.seed}
        return [JudgedBattle(b.id, winner[float(s)], {"winner": labels[x]}, {"winner": labels[y]}, ident)
                for b, x, y, s in zip(battles, ab.tolist(), ba.tolist(), score.tolist())]

    return judge
