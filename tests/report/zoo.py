"""A results file of every rubric kind, produced by the real judging spine (manifest -> rubric ->
openai backend -> the scripted HTTP judge on 127.0.0.1 -> method -> results), with drawn images,
an XSS prompt, a missing image and an unparseable reply among them. Used by the report tests
and by ``bench/report_screenshot.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PIL import Image, ImageDraw

import judgekit as jk
from judgekit.datasets.questions import save_questions
from judgekit.questions.graph import Question, QuestionGraph
from tests.judge_server import JudgeServer, Reply

XSS = "<script>alert(1)</script> & a <b>cat</b> in a hat"
XSS_REASONING = '<img src=x onerror="window.__xss=1">the image is <i>fine</i>'
MODELS = ("flux", "sd3", "sdxl")
PROMPTS = [
    ("p0", "a red circle above a blue square"),
    ("p1", "three yellow stars in a dark sky"),
    ("p2", "a green triangle next to an orange circle"),
    ("p3", XSS),
    ("p4", "a teapot drawn in chalk"),  # the judge's reply to this one never parses
]
COLORS = {"red": (214, 48, 49), "blue": (9, 132, 227), "yellow": (253, 203, 110), "green": (0, 184, 148),
          "orange": (225, 112, 85), "dark": (30, 39, 46), "white": (245, 246, 250), "purple": (108, 92, 231)}


def _h(*parts) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def draw_scene(path: Path, prompt: str, model: str, size: int = 320) -> Path:
    """A small picture loosely after the prompt, different per model (so rows differ)."""
    seed = _h(prompt, model)
    bg = COLORS["dark"] if "sky" in prompt else COLORS["white"]
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    j = lambda k: (seed >> k) % 40 - 20  # noqa: E731  (a model's own jitter)
    s = size
    if "circle above" in prompt:
        d.ellipse([s * .3 + j(1), s * .1 + j(2), s * .7 + j(3), s * .45], fill=COLORS["red"])
        square = "purple" if "purple" in prompt or seed % 3 == 0 else "blue"
        d.rectangle([s * .3 + j(4), s * .55, s * .7, s * .9 + j(5) / 2], fill=COLORS[square])
    elif "stars" in prompt:
        n = 4 if "four" in prompt else (3 if seed % 4 else 2)
        for k in range(n):
            cx, cy = s * (.2 + .6 * k / max(1, n - 1)) + j(k) / 2, s * .4 + j(k + 3)
            pts = [(cx + (30 if i % 2 == 0 else 12) * __import__("math").cos(i * 3.14159 / 5),
                    cy + (30 if i % 2 == 0 else 12) * __import__("math").sin(i * 3.14159 / 5)) for i in range(10)]
            d.polygon(pts, fill=COLORS["yellow"])
    elif "triangle" in prompt:
        d.polygon([(s * .1, s * .8), (s * .45 + j(1), s * .8), (s * .27, s * .35 + j(2))], fill=COLORS["green"])
        d.ellipse([s * .55, s * .45 + j(3), s * .9, s * .8 + j(3)], fill=COLORS["orange" if seed % 2 else "red"])
    elif "sign" in prompt:
        d.rectangle([s * .1, s * .3, s * .9, s * .7], fill=COLORS["purple"])
        d.text((s * .18, s * .45), "OPEN 24 HOURS" if seed % 2 else "OPEN 24 HRS", fill=COLORS["white"], font_size=s // 10)
    else:
        d.rectangle([s * .2, s * .3, s * .8, s * .8], outline=COLORS["purple"], width=6)
        d.text((s * .25, s * .45), model, fill=COLORS["dark"], font_size=s // 12)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _text(body: dict) -> str:
    return json.dumps(body.get("messages"))


def script(body: dict, n: int) -> Reply:
    """Replies that a judge might give: scores that vary per image, a transcription that misses a
    word, probabilities that vary, one reply that never parses, reasoning with markup in it."""
    rf = (body.get("response_format") or {}).get("json_schema") or {}
    name, schema = rf.get("name"), rf.get("schema") or {}
    text = _text(body)
    seed = _h(text)
    if name == "transcription":
        return Reply(content=json.dumps({"transcription": "OPEN 24 hours, fresh tea"}))
    if body.get("logprobs"):
        p = 0.15 + (seed % 80) / 100
        return Reply(content="Yes", top_logprobs=[("Yes", __import__("math").log(p)), ("No", __import__("math").log(1 - p - 0.02))])
    if name == "pairwise_verdict":
        return Reply(content=json.dumps({"reasoning": f"Comparing both images (case {seed % 7}).", "winner": "ABtie"[seed % 2] if seed % 5 else "tie"}))
    if name == "answer":
        return Reply(content=json.dumps({"reasoning": "checked the image", "answer": "no" if seed % 4 == 0 else "yes"}))
    if "teapot drawn in chalk" in text:
        return Reply(content="I would rather not say.")
    if name in ("verdict", "verdicts"):
        props = schema.get("properties", {})
        score = props.get("score", {})
        lo, hi = int(score.get("minimum", 0)), int(score.get("maximum", 10))
        value = lo + seed % (hi - lo + 1)
        good = value > (lo + hi) / 2
        crit = text.split('Criterion \\"', 1)[-1][:40]
        phrasing = {
            "semantic_consistency": ("Every object the prompt names is there, with the right colors and placement." if good else
                                     "One requested object has the wrong color, and the layout only partly follows the prompt."),
            "naturalness": ("Clean flat shapes with crisp edges; the scene reads as intended." if good else
                            "The shapes are crude and off-center; the composition feels accidental."),
        }.get(crit.split('\\"')[0], "No visible artifacts: no smearing, seams or duplicated parts." if good else
              "Edges are jagged and one shape looks clipped, which reads as a rendering artifact.")
        why = XSS_REASONING if "alert(1)" in text else f"{phrasing} Score: {value} of {hi}."
        return Reply(content=json.dumps({"reasoning": why, "score": value}))
    return Reply()


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def build_zoo(root: Path, server: JudgeServer, models=MODELS, prompts=PROMPTS) -> dict[str, Path]:
    """Results files by kind under ``root`` (and the manifests and images they came from)."""
    root.mkdir(parents=True, exist_ok=True)
    img = root / "img"
    server.reset(script)
    kw = dict(backend="openai:judge", base_url=server.url, api_key="t", cache=False, parse_retries=0)
    out: dict[str, Path] = {}

    t2i = []
    for pid, prompt in prompts:
        for m in models:
            path = draw_scene(img / f"{pid}_{m}.png", prompt, m)
            t2i.append({"id": f"{pid}-{m}", "prompt": prompt, "prompt_id": pid, "image": f"img/{path.name}", "model": m})
    t2i.append({"id": "p0-missing", "prompt": prompts[0][1], "prompt_id": "p0", "image": "img/not-there.png", "model": "lost"})
    man = _write(root / "t2i.jsonl", t2i)
    out["pointwise"] = root / "pointwise.jsonl"
    jk.score("viescore-t2i", str(man), out=out["pointwise"], **kw)

    edits = []
    for i, (instr, prompt) in enumerate([("make the square purple", PROMPTS[0][1]), ("add a fourth star", PROMPTS[1][1])]):
        src = draw_scene(img / f"src{i}.png", prompt, "source")
        for m in models[:2]:
            edited = {0: "a red circle above a purple square", 1: "four yellow stars in a dark sky"}[i] if m == models[0] else prompt
            dst = draw_scene(img / f"edit{i}_{m}.png", edited, m + "edit")
            edits.append({"id": f"e{i}-{m}", "instruction": instr, "prompt_id": f"e{i}", "source_image": f"img/{src.name}",
                          "image": f"img/{dst.name}", "model": m})
    out["editing"] = root / "editing.jsonl"
    jk.score("viescore-edit", str(_write(root / "edit.jsonl", edits)), out=out["editing"], **kw)

    pairs = []
    for pid, prompt in prompts[:3]:
        for a, b in [(models[0], models[1]), (models[1], models[2]), (models[0], models[2])]:
            pairs.append({"id": f"{pid}-{a}-{b}", "prompt": prompt, "prompt_id": pid, "image_a": f"img/{pid}_{a}.png",
                          "image_b": f"img/{pid}_{b}.png", "model_a": a, "model_b": b})
    out["pairwise"] = root / "pairwise.jsonl"
    jk.score("pairwise-t2i", str(_write(root / "pairs.jsonl", pairs)), out=out["pairwise"], **kw)

    graphs = [QuestionGraph("p0", prompts[0][1], [
        Question(1, "Is there a circle?", category="entity"), Question(2, "Is the circle red?", parents=(1,), category="attribute"),
        Question(3, "Is there a square?", category="entity"),
        Question(4, "Is the circle above the square?", parents=(1, 3), category="relation")]),
        QuestionGraph("p1", prompts[1][1], [
            Question(1, "Are there stars?", category="entity"), Question(2, "Are there three stars?", parents=(1,), category="other"),
            Question(3, "Are the stars yellow?", parents=(1,), category="attribute")])]
    save_questions(graphs, root / "questions.csv")
    qs = [r for r in t2i if r["prompt_id"] in ("p0", "p1") and r["model"] != "lost"]
    out["questions"] = root / "questions.jsonl"
    jk.score("dsg", str(_write(root / "q.jsonl", qs)), out=out["questions"],
             method_options={"questions": str(root / "questions.csv")}, **kw)

    out["vqascore"] = root / "vqascore.jsonl"
    jk.score("vqascore", str(_write(root / "vqa.jsonl", qs)), out=out["vqascore"], **kw)

    texts = []
    for i, (m, target) in enumerate([(models[0], "OPEN 24 HOURS"), (models[1], "FRESH COFFEE DAILY")]):
        path = draw_scene(img / f"sign_{m}.png", "a shop sign", m)
        texts.append({"id": f"t-{m}", "prompt": f"a shop sign that says {target}", "prompt_id": f"t{i}",
                      "image": f"img/{path.name}", "model": m, "targets": [target], "language": "en"})
    out["text-rendering"] = root / "text.jsonl"
    jk.score("text-rendering", str(_write(root / "text_m.jsonl", texts)), out=out["text-rendering"], **kw)
    return out


def human_labels(pointwise_results: Path, path: Path, raters=("ann", "bob", "cy")) -> Path:
    """1-5 ratings by three raters of every scored pointwise sample, loosely following the
    judge's overall score (so the calibration plots have something to show)."""
    rows = []
    for r in jk.load_results(pointwise_results):
        if r.status != "ok":
            continue
        for rater in raters:
            base = 1 + round((r.overall or 0) / 10 * 4)
            rows.append({"sample_id": r.sample_id, "prompt_id": r.prompt_id, "model": r.model, "rater": rater,
                         "score": max(1, min(5, base + (_h(r.sample_id, rater) % 3) - 1))})
    return _write(path, rows)
