"""WISE (PKU-YuanGroup/WISE): 1,000 prompts that need world knowledge (culture, time, space,
biology, physics, chemistry), each with an ``Explanation`` of what a correct image shows.

Two protocols (``--method``):

- ``verified`` (default, WISE_Verified): one call per image; the judge sees the prompt and the
  explanation and answers ``Score: 0`` or ``Score: 1``. A category's score is its mean; overall
  = 0.40 culture + 0.12 x each of time, space, biology, physics, chemistry.
- ``legacy`` (the original WISE): consistency, realism and aesthetic quality, each 0-2, in one
  call; WiScore = (0.7 c + 0.2 r + 0.1 a) / 2; overall = 0.4 culture + 0.167 time + 0.133 space
  + 0.1 x each science. judgekit also reports the unweighted mean of the six categories, flagged:
  it is what Bagel's ``cal_score.py`` printed as overall until its PR #299 corrected the weights.

Categories follow the prompt ids, as the official calculators assign them (the ranges differ
between the two data sets). Images are ``IMAGES/<prompt_id>.png``. ``--data`` is one data file
(a JSON list of ``{Prompt, Explanation, Category, Subcategory, prompt_id}``) or a folder of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError, VerdictParseError
from ..io import read_json
from ..rubric import Rubric
from ..types import Result, Sample
from . import replies
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard

METHODS = ("verified", "legacy")
CATEGORIES = ("CULTURE", "TIME", "SPACE", "BIOLOGY", "PHYSICS", "CHEMISTRY")
# Inclusive prompt-id ranges per category, as calculate_verified.py and WISE_legacy/Calculate.py.
RANGES = {
    "verified": ((1, 400), (401, 520), (521, 640), (641, 760), (761, 880), (881, 1000)),
    "legacy": ((1, 400), (401, 567), (568, 700), (701, 800), (801, 900), (901, 1000)),
}
WEIGHTS = {"verified": (0.40, 0.12, 0.12, 0.12, 0.12, 0.12), "legacy": (0.4, 0.167, 0.133, 0.1, 0.1, 0.1)}

# judgekit's own wording (not the official text).
OWN_VERIFIED = (
    "Judge whether this generated image gets a knowledge-based prompt right.\n"
    "Prompt given to the image generator: \"{Prompt}\"\n"
    "What a correct image shows (the reference interpretation; trust it): \"{Explanation}\"\n"
    "Give 1 only if the image shows what the reference interpretation describes, with the right objects, states "
    "and relations, and is clear enough to verify. Give 0 if it misses the intended answer, only illustrates the "
    "prompt's surface words, contradicts the interpretation, is too ambiguous to check, or is visibly broken. "
    "When in doubt, give 0. Beauty does not matter.\n"
    "Reply with one line: Score: 0 or Score: 1"
)
OWN_LEGACY = (
    "Rate this generated image for a knowledge-based prompt.\n"
    "Prompt: \"{Prompt}\"\nWhat a correct image shows: \"{Explanation}\"\n"
    "Give three integer scores from 0 to 2: Consistency (does the image show what the prompt means, as the "
    "explanation describes: 2 only when fully and exactly), Realism (2 only when it could pass for a photograph), "
    "Aesthetic Quality (2 only for exceptional artistic merit).\n"
    "Reply with three lines:\nConsistency: <0-2>\nRealism: <0-2>\nAesthetic Quality: <0-2>"
)

CARD = ProtocolCard(
    name="wise",
    title="WISE / WISE_Verified",
    task="text-to-image",
    repository="PKU-YuanGroup/WISE",
    official_judge="WISE_Verified: Qwen3.5-35B-A3B served by vLLM, temperature 0, max 500 tokens, thinking off; "
                   "legacy: gpt-4o-2024-05-13, temperature 0",
    official_prompt="vllm_eval.py (Verified: a system line and a protocol text with the prompt and explanation); "
                    "WISE_legacy/gpt_eval.py (legacy)",
    aggregation="Verified: binary score per image, category means, overall = 0.40 culture + 0.12 x 5 others; legacy: "
                "WiScore = (0.7 consistency + 0.2 realism + 0.1 aesthetics) / 2, overall = 0.4/0.167/0.133/0.1/0.1/0.1",
    data="data_verified/*_verified.json (or WISE_legacy/data/*.json with --method legacy): a file or their folder",
    images="a folder of <prompt_id>.png (vllm_eval.py --image_dir)",
    license="see the repository",
    runnable=True,
    methods=METHODS,
    protocol_dir="vllm_eval.py of a WISE checkout (Verified's system line and protocol text)",
    parts=(
        Part("Verified binary judging", "exact", "one call per image with the prompt and explanation; Score 0/1"),
        Part("judge prompt", "approximate", "judgekit's wording unless --protocol-dir reads vllm_eval.py (Verified)"),
        Part("category ranges and weights", "exact", "the prompt-id ranges and weights of calculate_verified.py / "
             "WISE_legacy/Calculate.py"),
        Part("legacy WiScore", "approximate", "the three 0-2 scores and the official formula, in judgekit's wording; "
             "the legacy official prompt is not read"),
        Part("judge", "approximate", "any backend; the official judges are named above"),
    ),
    known_issues=(
        "Bagel's cal_score.py averaged the six categories unweighted as the overall WiScore; ByteDance-Seed/Bagel "
        "PR #299 corrected it to WISE's weights (judgekit reports both for legacy, the unweighted one flagged)",
        "users report scores off the paper (PKU-YuanGroup/WISE #12)",
        "vllm_eval.py skips a missing image and a reply it cannot parse after 3 tries with only a console warning; "
        "calculate_verified.py then refuses the overall unless all 1,000 ids are present; judgekit counts them",
    ),
)


@replies.reply_parser("wise_binary")
def parse_binary(text: str, fields: dict[str, Any]) -> dict[str, float]:
    m = re.search(r"score\W{0,3}\s*[:：]?\s*\**\s*([01])\b", text, re.IGNORECASE)
    if m:
        return {"score": float(m.group(1))}
    bare = re.findall(r"(?m)^\s*([01])\s*$", text)
    if len(bare) == 1:
        return {"score": float(bare[0])}
    raise VerdictParseError("reply has no 'Score: 0' or 'Score: 1'")


@replies.reply_parser("wise_legacy")
def parse_legacy(text: str, fields: dict[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for name, v in re.findall(r"\**(consistency|realism|aesthetic quality)\**\s*[:：]?\s*\**\s*(\d)", text, re.IGNORECASE):
        found.setdefault(name.lower().replace(" ", "_"), float(v))
    need = ("consistency", "realism", "aesthetic_quality")
    if any(k not in found for k in need):
        raise VerdictParseError(f"reply lacks one of Consistency, Realism, Aesthetic Quality (found {sorted(found)})")
    if any(not 0 <= found[k] <= 2 for k in need):
        raise VerdictParseError(f"a score is outside 0-2: {found}")
    c, r, a = (found[k] for k in need)
    return {"overall": (0.7 * c + 0.2 * r + 0.1 * a) / 2, "consistency": c, "realism": r, "aesthetic_quality": a}


def read_rows(path: Path) -> list[dict[str, Any]]:
    files = sorted(p for p in path.glob("*.json") if p.name != "merge.json") if path.is_dir() else [path]
    rows: dict[int, dict[str, Any]] = {}
    for f in files:
        data = read_json(f, "WISE data file", list)
        for i, r in enumerate(data):
            if not isinstance(r, dict) or not isinstance(r.get("prompt_id"), int) or not r.get("Prompt"):
                raise DataError(f"{f}[{i}]: not a WISE record (Prompt, Explanation, Category, Subcategory, prompt_id)")
            rows[r["prompt_id"]] = r
    if not rows:
        raise DataError(f"{path}: no WISE records")
    return [rows[k] for k in sorted(rows)]


def category(method: str, prompt_id: int) -> str | None:
    for name, (lo, hi) in zip(CATEGORIES, RANGES[method]):
        if lo <= prompt_id <= hi:
            return name
    return None


def official_prompt(protocol_dir: Path) -> PromptChoice:
    src = protocol_dir / "vllm_eval.py"
    if not src.is_file():
        raise ConfigError(f"--protocol-dir {protocol_dir}: no vllm_eval.py (expected a WISE checkout)")
    text = src.read_text(encoding="utf-8")
    system = re.search(r'"role":\s*"system".*?"text":\s*"([^"]*)"', text, re.DOTALL)
    user = re.search(r'"text":\s*f"""(.*?)"""', text, re.DOTALL)
    if not system or not user:
        raise ConfigError(f"{src}: could not find the evaluation prompt in it (has vllm_eval.py changed?)")
    body = user.group(1)
    for field in ("Prompt", "Explanation"):
        body = re.sub(r"\{prompt_data\[['\"]" + field + r"['\"]\]\}", "{" + field + "}", body)
    body = body.replace("{{", "{").replace("}}", "}")
    return PromptChoice("official", {"system": system.group(1), "template": body}, str(src))


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(())
    method = req.method or METHODS[0]
    if req.images is None or not req.images.is_dir():
        raise ConfigError(f"--images must be the folder of <prompt_id>.png images (got {req.images})")
    if req.protocol_dir and method != "verified":
        raise ConfigError("--protocol-dir reads WISE_Verified's prompt only: use it with --method verified")
    rows = read_rows(req.data)
    samples = []
    for r in rows:
        pid = r["prompt_id"]
        img = req.images / f"{pid}.png"
        samples.append(Sample(id=str(pid), prompt_id=str(pid), prompt=r["Prompt"], image=str(img) if img.is_file() else None,
                              meta={"benchmark": "wise", "category": category(method, pid),
                                    "subcategory": r.get("Subcategory"),
                                    "fields": {"Prompt": r["Prompt"], "Explanation": r.get("Explanation", "")}}))
    if req.protocol_dir:
        prompt = official_prompt(req.protocol_dir)
    else:
        prompt = PromptChoice("judgekit", {"template": OWN_VERIFIED if method == "verified" else OWN_LEGACY})
    options = {"template": prompt.texts["template"], "system": prompt.texts.get("system"), "images": ["image"],
               "layout": "text_first", "parser": "wise_binary" if method == "verified" else "wise_legacy"}
    rubric = Rubric(name=f"wise-{method}", kind="bench-reply", inputs=["prompt", "image"],
                    scale={"min": 0, "max": 1, "integer": False}, max_tokens=500, options=options)
    notes = [] if req.protocol_dir else ["judge prompt in judgekit's own wording, not the official text"]
    return Prepared(rubric, samples, prompt, method=method, notes=notes)


def unit(results: list[Result]) -> Unit:
    r = results[0]
    return {"category": r.meta.get("category"), "score": r.overall, "legacy": r.rubric == "wise-legacy"}


def aggregate(units: list[Unit]) -> dict[str, float]:
    legacy = bool(units) and units[0]["legacy"]
    cats = {c: mean(u["score"] for u in units if u["category"] == c) for c in CATEGORIES}
    weights = WEIGHTS["legacy" if legacy else "verified"]
    full = all(v == v for v in cats.values())
    out = {"overall WiScore (official weights)": sum(w * cats[c] for w, c in zip(weights, CATEGORIES)) if full
           else float("nan")}
    if legacy:
        out["overall, unweighted mean of categories (FLAGGED: Bagel's bug before PR #299)"] = \
            mean(cats.values()) if full else float("nan")
    out.update({f"category {c}": v for c, v in cats.items() if v == v})
    return out


def official_text(estimates: dict[str, float]) -> str:
    cats = [estimates.get(f"category {c}", float("nan")) for c in CATEGORIES]
    overall = estimates["overall WiScore (official weights)"]
    return (f"Overall WiScore: {overall:.2f}\nCultural\tTime\tSpace\tBiology\tPhysics\tChemistry\tOverall\n"
            f"{cats[0]:.2f}\t\t{cats[1]:.2f}\t{cats[2]:.2f}\t{cats[3]:.2f}\t{cats[4]:.2f}\t{cats[5]:.2f}\t\t{overall:.2f}")
