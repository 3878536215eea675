"""GenEval 2 (facebookresearch/GenEval2): 800 prompts, each with one VQA question per atom,
scored by Soft-TIFA.

Its data file ``geneval2_data.jsonl`` has one prompt a line: ``prompt``, ``atom_count``,
``vqa_list`` (``[question, answer]`` pairs: "How many ...?" questions answered with a number
word, every other question with "Yes") and ``skills`` (one per pair: object, attribute, count,
position, verb). Images come as its evaluator takes them: a JSON object ``{prompt: image path}``
(relative paths are read from the JSON file's folder).

Methods (``--method``), as its ``evaluation.py`` defines them, all from the judge's first
answer token:

- ``soft_tifa_gm`` (default) / ``soft_tifa_am``: per atom, the probability of the right answer
  (the summed probability of its spellings: "Yes", "yes", " yes", " Yes"; for a count also the
  capitalised and digit forms); per prompt the geometric (GM) or arithmetic (AM) mean;
- ``tifa``: per atom 1 when the most likely first token is one of those spellings, else 0; per
  prompt the mean;
- ``vqascore``: P(yes) to "does this image show '<prompt>'?".

Headline: 100 x the mean of the prompt scores. Its analysis script adds, for the atom methods,
per-skill scores (100 x the mean over all atoms of that skill: Soft-TIFA AM's reading) and
per-atomicity scores (100 x the mean over prompts with that atom count of the geometric mean).

The data is CC BY-NC 4.0: judgekit reads the user's copy and ships none of it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError, SampleError, VerdictParseError
from ..images import load_image_part
from ..kinds import register_kind
from ..methods.base import CallOutcome, JudgeCall
from ..rubric import Rubric
from ..types import ChatRequest, ChatResponse, ImagePart, Message, Result, Sample, TextPart
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard

METHODS = ("soft_tifa_gm", "soft_tifa_am", "tifa", "vqascore")
SKILLS = ("object", "attribute", "count", "position", "verb")
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

# judgekit's own wording (not the official text); --protocol-dir reads the official one.
OWN_QUESTION = "{} Reply with one word."
OWN_VQASCORE = 'Does the image show "{}"? Reply with Yes or No.'

CARD = ProtocolCard(
    name="geneval2",
    title="GenEval 2",
    task="text-to-image",
    repository="facebookresearch/GenEval2",
    official_judge="Qwen/Qwen3-VL-8B-Instruct (transformers 4.57.0), greedy, one new token, full-vocabulary softmax",
    official_prompt="evaluation.py: the question followed by a one-word instruction (atoms); a fixed "
                    "'Does this image show ...' question (vqascore)",
    aggregation="per prompt: GM (soft_tifa_gm) or AM (soft_tifa_am, tifa) of the per-atom scores; headline "
                "100 x mean over the 800 prompts; per skill 100 x atom-level mean; per atom count 100 x mean GM",
    data="geneval2_data.jsonl from the user's checkout (prompt, atom_count, vqa_list, skills)",
    images="JSON object {prompt: image path}, as evaluation.py --image_filepath_data takes",
    license="CC BY-NC 4.0 (never vendored: judgekit reads the user's copy)",
    runnable=True,
    methods=METHODS,
    protocol_dir="evaluation.py of a GenEval2 checkout (the question suffix and the VQAScore question)",
    parts=(
        Part("questions and answers", "exact", "the vqa_list of the user's data file, one judge call per atom"),
        Part("answer probability", "approximate",
             "summed over the same spellings as evaluation.py, but read from the backend's top logprobs (top 20): "
             "a spelling outside the top 20 counts 0, where the official softmax covers the whole vocabulary"),
        Part("hard TIFA", "exact", "the first generated token, lower-cased, among the right answer's spellings"),
        Part("aggregation", "exact", "AM / GM per prompt, 100 x mean over prompts; per-skill and per-atomicity tables"),
        Part("judge", "approximate", "any backend with logprobs; the official judge is Qwen3-VL-8B-Instruct "
             "(vllm:Qwen/Qwen3-VL-8B-Instruct comes closest)"),
    ),
    known_issues=(
        "evaluation.py ignores the answer of every non-count pair and scores P(Yes): harmless for the released "
        "data, where all of them are 'Yes' (judgekit checks this and refuses another answer)",
        "a spelling is scored by its first token only (tokenizer.encode(answer)[0]): a multi-token number word "
        "is credited by its first piece",
        "README names the method soft_tifa while evaluation.py only accepts soft_tifa_am / soft_tifa_gm",
        "a prompt missing from the image JSON stops the official run; judgekit fails that prompt and counts it",
    ),
)


def _spellings(question: str, answer: str) -> frozenset[str]:
    """The first-token spellings evaluation.py credits for one atom."""
    if question.startswith("How many"):
        a = answer
        digit = str(_NUMBER_WORDS.index(a.lower()) + 1) if a.lower() in _NUMBER_WORDS else "other"
        return frozenset({a, a.capitalize(), " " + a, " " + a.capitalize(), digit, " " + digit})
    return frozenset({"Yes", "yes", " yes", " Yes"})


def _first_position(resp: ChatResponse) -> tuple[str, dict[str, float]]:
    """The generated first token and ``{token: probability}`` of its top alternatives."""
    if not resp.logprobs:
        raise VerdictParseError("the backend returned no token logprobs; GenEval 2 needs a backend that does "
                                "(vllm:, hf:, or an openai: server that returns top_logprobs)")
    first = resp.logprobs[0]
    probs: dict[str, float] = {}
    for tok, lp in [*(first.top or []), (first.token, first.logprob)]:
        if lp is not None and math.isfinite(lp) and tok not in probs:
            probs[tok] = math.exp(lp)
    return first.token, probs


def geometric_mean(xs: list[float]) -> float:
    """As scipy.stats.gmean: 0 when any value is 0."""
    if any(x <= 0 for x in xs):
        return 0.0
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


class GenEval2Method:
    """One probability request per atom (or per prompt for vqascore)."""

    kind = "geneval2"

    def __init__(self, rubric: Rubric, parse_retries: int = 0, replay: bool = False, **options: Any):
        self.rubric = rubric
        opts = {**rubric.options, **options}
        self.method = str(opts.get("method", METHODS[0]))
        self.question_text = str(opts.get("question_text", OWN_QUESTION))
        self.vqascore_text = str(opts.get("vqascore_text", OWN_VQASCORE))
        self.top_logprobs = int(opts.get("top_logprobs", 20))
        if self.method not in METHODS:
            raise ConfigError(f"GenEval 2 method {self.method!r} is not one of {list(METHODS)}")

    def provenance(self) -> dict[str, Any]:
        return {"rubric": self.rubric.name, "rubric_version": self.rubric.version, "rubric_hash": self.rubric.hash(),
                "method": self.method, "question_text": self.question_text, "vqascore_text": self.vqascore_text}

    def _request(self, image: ImagePart, text: str) -> ChatRequest:
        # Image first, then the text, in one user turn, as evaluation.py builds its message.
        msgs = (Message("user", (image, TextPart(text))),)
        return ChatRequest(msgs, None, max_tokens=1, temperature=0.0, seed=0, logprobs=True, top_logprobs=self.top_logprobs)

    def plan(self, sample: Sample) -> list[JudgeCall]:
        if not sample.image:
            raise SampleError(f"prompt {sample.prompt!r} has no image in the image JSON")
        image = load_image_part(sample.image, "image")
        if self.method == "vqascore":
            spell = _spellings("", "Yes")
            return [JudgeCall("vqascore", self._request(image, self.vqascore_text.format(sample.prompt)),
                              lambda r: self._parse(r, spell), 0)]
        return [JudgeCall(f"a{i}", self._request(image, self.question_text.format(q)), self._parser(_spellings(q, a)), 0)
                for i, (q, a) in enumerate(sample.meta["vqa_list"])]

    def _parser(self, spellings: frozenset[str]) -> Callable[[ChatResponse], dict[str, Any]]:
        return lambda r: self._parse(r, spellings)

    @staticmethod
    def _parse(resp: ChatResponse, spellings: frozenset[str]) -> dict[str, Any]:
        token, probs = _first_position(resp)
        return {"p": min(1.0, sum(p for t, p in probs.items() if t in spellings)),
                "token": token, "hit": token.lower() in spellings}

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        errors = [f"{k}: {o.error}" for k, o in outcomes.items() if not o.ok]
        if errors:
            return Result.for_sample(sample, self.rubric.name, status="failed", error="; ".join(errors))
        keys = ["vqascore"] if self.method == "vqascore" else [f"a{i}" for i in range(len(sample.meta["vqa_list"]))]
        vals = [outcomes[k].value for k in keys]
        atom = [float(v["hit"]) for v in vals] if self.method == "tifa" else [v["p"] for v in vals]
        score = geometric_mean(atom) if self.method == "soft_tifa_gm" else sum(atom) / len(atom)
        return Result.for_sample(sample, self.rubric.name, status="ok", scores={self.method: score}, overall=score,
                                 details={"atom_scores": atom, "tokens": [v["token"] for v in vals],
                                          "p_right": [v["p"] for v in vals]})


register_kind("geneval2", GenEval2Method)


def read_data(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                prompt, atoms, vqa, skills = rec["prompt"], int(rec["atom_count"]), rec["vqa_list"], rec["skills"]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise DataError(f"{path}:{n}: not a GenEval 2 record (prompt, atom_count, vqa_list, skills): {exc!r}") from None
            if not isinstance(vqa, list) or not vqa or len(vqa) != len(skills):
                raise DataError(f"{path}:{n}: vqa_list and skills must be non-empty lists of one length")
            for q, a in vqa:
                if not q.startswith("How many") and a != "Yes":
                    raise DataError(f"{path}:{n}: answer {a!r} to {q!r}: GenEval 2 scores P(Yes) for every "
                                    "non-count question, so another answer would be scored wrongly")
            bad = sorted(set(skills) - set(SKILLS))
            if bad:
                raise DataError(f"{path}:{n}: unknown skill {bad[0]!r} (GenEval 2 has {', '.join(SKILLS)})")
            rows.append({"prompt": prompt, "atom_count": atoms, "vqa_list": [list(p) for p in vqa], "skills": list(skills)})
    return rows


def official_prompt(protocol_dir: Path) -> PromptChoice:
    """The question suffix and the VQAScore question, read from the checkout's evaluation.py."""
    src = protocol_dir / "evaluation.py"
    if not src.is_file():
        raise ConfigError(f"--protocol-dir {protocol_dir}: no evaluation.py (expected a GenEval2 checkout)")
    text = src.read_text(encoding="utf-8")
    q = _literal(r"(?P<s>\{\}[^{q}]*)", r"\s*\.format\(question\)", text)
    v = _literal(r"(?P<s>[^{q}]*\{\}[^{q}]*)", "", text, before=r"message_prompt\s*=\s*")
    if not q or not v:
        raise ConfigError(f"{src}: could not find the official question text in it (has evaluation.py changed?)")
    return PromptChoice("official", {"question_text": q, "vqascore_text": v}, str(src))


def _literal(body: str, after: str, text: str, before: str = "") -> str | None:
    """The first Python string literal (single- or double-quoted) matching ``body`` between
    ``before`` and ``after``; the other quote may appear inside it."""
    for quote in ("'", '"'):
        m = re.search(before + quote + body.replace("{q}", quote) + quote + after, text)
        if m:
            return m.group("s")
    return None


def read_images(path: Path) -> dict[str, str]:
    from ..io import read_json

    data = read_json(path, "GenEval 2 image JSON", dict)
    base = path.resolve().parent
    return {str(k): str(base / v) for k, v in data.items() if isinstance(v, str)}


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(())
    method = req.method or METHODS[0]
    if req.images is None:
        raise ConfigError("--images is required: the JSON object {prompt: image path} of the generated images")
    rows = read_data(req.data)
    images = read_images(req.images)
    prompt = official_prompt(req.protocol_dir) if req.protocol_dir else PromptChoice(
        "judgekit", {"question_text": OWN_QUESTION, "vqascore_text": OWN_VQASCORE})
    samples = [Sample(id=f"{i:04d}", prompt_id=f"{i:04d}", prompt=r["prompt"], image=images.get(r["prompt"]),
                      meta={"benchmark": "geneval2", **{k: r[k] for k in ("atom_count", "vqa_list", "skills")}})
               for i, r in enumerate(rows)]
    rubric = Rubric(name=f"geneval2-{method.replace('_', '-')}", kind="geneval2", inputs=["prompt", "image"],
                    scale={"min": 0, "max": 1, "integer": False}, options={"method": method, **prompt.texts})
    notes = [] if req.protocol_dir else ["judge prompt in judgekit's own wording, not evaluation.py's text "
                                         "(pass --protocol-dir to use the official text)"]
    return Prepared(rubric, samples, prompt, method=method, notes=notes)


def unit(results: list[Result]) -> Unit:
    r = results[0]
    atoms, skills = r.details.get("atom_scores", []), r.meta.get("skills", [])
    sums: dict[str, list[float]] = {}
    for a, s in zip(atoms, skills):  # per-skill sum and count: the bootstrap re-adds them cheaply
        acc = sums.setdefault(s, [0.0, 0])
        acc[0] += a
        acc[1] += 1
    return {"score": r.overall, "skill_sums": sums, "gm": geometric_mean(atoms) if atoms else None,
            "atom_count": r.meta.get("atom_count"), "atom_method": r.provenance.get("method") != "vqascore"}


def aggregate(units: list[Unit]) -> dict[str, float]:
    out = {"GenEval 2 score (x100)": 100 * mean(u["score"] for u in units)}
    if units and units[0]["atom_method"]:
        for skill in SKILLS:
            total = sum(u["skill_sums"][skill][0] for u in units if skill in u["skill_sums"])
            n = sum(u["skill_sums"][skill][1] for u in units if skill in u["skill_sums"])
            if n:
                out[f"skill {skill} (atom AM, x100)"] = 100 * total / n
        for k in sorted({u["atom_count"] for u in units}):
            out[f"atomicity {k} (prompt GM, x100)"] = 100 * mean(u["gm"] for u in units if u["atom_count"] == k)
    return out


def official_text(estimates: dict[str, float]) -> str:
    return f"Score: {estimates['GenEval 2 score (x100)']}"
