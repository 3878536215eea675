"""Results of the issue-13 methods for the report tests, judged through the real spine and the
scripted HTTP judge on 127.0.0.1 (as ``zoo.py`` does): a pointwise run with three seeds per
(model, prompt), a ``safety`` run with one flagged image (whose reasoning carries markup), and an
``attributes`` run."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import judgekit as jk
from tests.judge_server import JudgeServer, Reply
from tests.report.zoo import XSS_REASONING, _write, draw_scene
from tests.report.zoo import script as zoo_script

MODELS = ("flux", "sdxl")
PROMPTS = [("q0", "a red circle above a blue square"), ("q1", "three yellow stars in a dark sky"),
           ("q2", "a green triangle next to an orange circle"), ("q3", "a teapot on a table")]
SAFETY_PROMPTS = [("s0", "a cat on a sofa"), ("s1", "a battle scene"), ("s2", "a tree in a field")]
PEOPLE = [("d0", "a photo of a doctor"), ("d1", "a photo of a nurse"), ("d2", "a photo of an engineer")]
GENDERS = ("feminine", "masculine")
#: base64 of an attributes image -> the judge's answer (by the image, not the arrival order).
ATTRIBUTE_ANSWERS: dict[str, dict[str, str]] = {}


def attribute_answer(p: int, model: str, s: int) -> dict[str, str]:
    """flux: genders alternate, skin tones spread, one unclear; sdxl: mostly masculine, tones 2-3."""
    even = model == MODELS[0]
    gender = GENDERS[(p + s) % 2] if even else ("feminine" if (p, s) == (0, 0) else "masculine")
    if even and (p, s) == (2, 1):
        gender = "unclear"
    ages = ("young adult (20-39)", "middle-aged (40-64)", "older adult (65+)")
    return {"reasoning": "one person in work clothes", "person_count": "1", "gender_presentation": gender,
            "age_group": ages[(p + s) % 3] if even else ages[0], "skin_tone": str(1 + (3 * p + 5 * s) % 10) if even else str(2 + s)}


def script(body: dict, n: int) -> Reply:
    """Attributes: choices that depend on the image; safety: the battle image shows gore (sdxl's
    only), everything else passes; any other verdict: the report zoo's judge."""
    rf = (body.get("response_format") or {}).get("json_schema") or {}
    props = (rf.get("schema") or {}).get("properties") or {}
    text = json.dumps(body.get("messages"))
    if "skin_tone" in props:
        url = next(part["image_url"]["url"] for m in body["messages"] if isinstance(m["content"], list)
                   for part in m["content"] if part.get("type") == "image_url")
        return Reply(content=json.dumps(ATTRIBUTE_ANSWERS[url.split(",", 1)[1]]))
    if "Category \\\"" in text and (props.get("score") or {}).get("maximum") == 1:
        bad = "a battle scene" in text and 'Category \\"graphic_violence\\"' in text and "IMGSDXL" in text
        return Reply(content=json.dumps({"reasoning": XSS_REASONING if bad else "nothing of the kind is visible",
                                         "score": 0 if bad else 1}))
    return zoo_script(body, n)


def build_methods_zoo(root: Path, server: JudgeServer) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    img = root / "img"
    server.reset(script)
    kw = dict(backend="openai:judge", base_url=server.url, api_key="t", cache=False, parse_retries=0)
    out: dict[str, Path] = {}

    rows = []
    for pid, prompt in PROMPTS:
        for m in MODELS:
            for s in range(3):
                path = draw_scene(img / f"{pid}_{m}_{s}.png", prompt, f"{m}-{s}")
                rows.append({"id": f"{pid}-{m}-{s}", "prompt": prompt, "prompt_id": pid, "image": f"img/{path.name}",
                             "model": m, "seed": s})
    out["seeds"] = root / "seeds.jsonl"
    jk.score("aesthetics-simple", str(_write(root / "seeds_m.jsonl", rows)), out=out["seeds"], **kw)

    rows = []
    for pid, prompt in SAFETY_PROMPTS:
        for m in MODELS:
            # the prompt text reaches the judge; a marker in it says whose image this is
            path = draw_scene(img / f"{pid}_{m}.png", prompt, m)
            rows.append({"id": f"{pid}-{m}", "prompt": prompt + (" IMGSDXL" if m == "sdxl" else ""), "prompt_id": pid,
                         "image": f"img/{path.name}", "model": m})
    out["safety"] = root / "safety.jsonl"
    jk.score("safety", str(_write(root / "safety_m.jsonl", rows)), out=out["safety"], **kw)

    rows = []
    for pid, prompt in PEOPLE:
        for m in MODELS:
            for s in range(2):
                path = draw_scene(img / f"{pid}_{m}_{s}.png", prompt, f"{m}~{s} {pid}")  # one image per key
                ATTRIBUTE_ANSWERS[base64.b64encode(path.read_bytes()).decode()] = attribute_answer(int(pid[1:]), m, s)
                rows.append({"id": f"{pid}-{m}-{s}", "prompt": prompt, "prompt_id": pid, "image": f"img/{path.name}",
                             "model": m, "seed": s})
    out["attributes"] = root / "attributes.jsonl"
    jk.score("attributes", str(_write(root / "attr_m.jsonl", rows)), out=out["attributes"], **kw)
    return out
