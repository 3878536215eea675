"""KRIS-Bench's judge calls: which calls each category gets, which images each call sees, the
prompts (judgekit's own wording, or the official text read from a checkout), and the reading
of the 1-5 scores.

The official scripts (mercurystraw/Kris_Bench ``metrics_*.py``) judge every sample in three
calls, each answered by a JSON object with a ``*_score`` from 1 to 5:

- visual consistency (``consistency_score``): the source image(s) and the edited image;
- instruction following (``instruction_score``), for the ten knowledge categories in the same
  call as knowledge plausibility (``knowledge_score``, with the annotation's explanation);
  viewpoint change adds the ground-truth image; temporal prediction sends the given frames and
  the generated one in frame order; multi-element composition every source image;
- visual quality (``quality_score``): the edited image alone.

judgekit reads a score only where the reply names it (``"consistency_score": 4`` in a JSON
object, or a ``consistency_score: 4`` line) and only as an integer 1-5; anything else is an
invalid reply (retried, then the sample fails). ``official_reading`` re-implements what the
official parsers would have stored for the same reply (they fall back to ``n/5`` and then to
the first standalone digit 1-5 anywhere in the text, and keep an off-scale JSON value), so a run
can count where the two differ.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SampleError, VerdictParseError
from ..images import load_image_part
from ..kinds import register_kind
from ..methods.base import CallOutcome, JudgeCall
from ..types import ChatRequest, ChatResponse, ImagePart, Message, Result, Sample, TextPart
from .base import OwnWordedMethod
from .card import PromptChoice

#: Which official script judges each category (its CATEGORIES lists).
SCRIPT: dict[str, str] = {
    **dict.fromkeys(("count_change", "color_change", "anomaly_correction", "position_movement", "size_adjustment",
                     "part_completion", "multi-instruction_execution"), "common"),
    "viewpoint_change": "view",
    **dict.fromkeys(("abstract_reasoning", "mathematics", "practical_knowledge", "medicine", "rule-based_reasoning",
                     "biology", "geography", "chemistry", "humanities", "physics"), "knowledge"),
    "multi-element_composition": "multi",
    "temporal_prediction": "temporal",
}

#: Per script: ``(call key, prompt name, images, score keys)``; images name ``pair`` (source,
#: edited), ``pair_gt`` (source, edited, ground truth), ``sources`` (every source, then the
#: edited one), ``frames`` (given and generated frames in frame order), ``edited`` (alone).
Call = tuple[str, str, str, tuple[str, ...]]
_QUALITY: Call = ("quality", "quality", "edited", ("quality_score",))
CALLS: dict[str, tuple[Call, ...]] = {
    "common": (("consistency", "consistency", "pair", ("consistency_score",)),
               ("instruction", "instruction", "pair", ("instruction_score",)), _QUALITY),
    "view": (("consistency", "consistency", "pair", ("consistency_score",)),
             ("instruction", "view_instruction", "pair_gt", ("instruction_score",)), _QUALITY),
    "knowledge": (("consistency", "consistency", "pair", ("consistency_score",)),
                  ("dual", "knowledge", "pair", ("instruction_score", "knowledge_score")), _QUALITY),
    "multi": (("consistency", "multi_consistency", "sources", ("consistency_score",)),
              ("instruction", "multi_instruction", "sources", ("instruction_score",)), _QUALITY),
    "temporal": (("consistency", "temporal_consistency", "frames", ("consistency_score",)),
                 ("instruction", "temporal_instruction", "frames", ("instruction_score",)), _QUALITY),
}

_SCALE = ("Use the whole 1-5 scale: 5 = fully, 4 = one small shortfall, 3 = one clear shortfall, "
          "2 = several shortfalls, 1 = not at all.")


def _end(*keys: str) -> str:
    fields = ", ".join(f'"{k}": N' for k in keys)
    return f"\nReason step by step in a few sentences, then end with one JSON object: {{{{\"reasoning\": \"...\", {fields}}}}}"


# judgekit's own wording (not the official prompts.py text). Filled with str.format, as the
# official scripts fill theirs: {instruct}, {explanation}, {N} (the generated frame's number).
OWN_PROMPTS: dict[str, str] = {
    "consistency": "An editing model changed the original image following this instruction: \"{instruct}\". Judge only "
                   "what the instruction does not ask to change (people, objects, layout, colours, background, "
                   "lighting) and score from 1 to 5 how unchanged it is in the edited image; requested changes and "
                   "their quality do not count here. " + _SCALE + _end("consistency_score"),
    "quality": "Score from 1 to 5 the visual quality of this generated image: coherent structure and anatomy, natural "
               "lighting and perspective, no artifacts, duplicates or melted textures (mild softness is not a "
               "fault). " + _SCALE + _end("quality_score"),
    "instruction": "An editing model was given the original image and this instruction: \"{instruct}\". First say what "
                   "changed between the two images, then what the edited image should show, then score from 1 to 5 "
                   "how exactly the edited image carries out the instruction (the right object, attribute and "
                   "amount; changes it did not ask for are judged elsewhere). " + _SCALE + _end("instruction_score"),
    "knowledge": "An editing model was given the original image and this instruction: \"{instruct}\". What should "
                 "happen, by real-world knowledge: {explanation}\nGive two separate scores from 1 to 5. "
                 "instruction_score: how exactly the edited image carries out the instruction. knowledge_score: "
                 "whether the result shows what the explanation says would really happen; when the instruction is "
                 "not carried out (instruction_score 2 or less) knowledge_score is 1. " + _SCALE
                 + _end("instruction_score", "knowledge_score"),
    "view_instruction": "An editing model was asked to change the viewpoint of the original image: \"{instruct}\". The "
                        "third image shows the correct result. Score from 1 to 5 how exactly the edited image shows "
                        "the scene from that viewpoint. " + _SCALE + _end("instruction_score"),
    "temporal_consistency": "The frames below form one sequence; frame {N} was generated by a model from the others "
                            "following: \"{instruct}\". Score from 1 to 5 how consistent frame {N} is with the given "
                            "frames (same scene, subjects, style and camera). " + _SCALE + _end("consistency_score"),
    "temporal_instruction": "The frames below form one sequence; frame {N} was generated by a model from the others "
                            "following: \"{instruct}\". Score from 1 to 5 how well frame {N} is the frame that "
                            "belongs at that point of the sequence. " + _SCALE + _end("instruction_score"),
    "multi_consistency": "A model composed one image from the source images below following: \"{instruct}\". Score "
                         "from 1 to 5 how faithfully the result keeps the scene it builds on and the look of every "
                         "element it takes from the sources. " + _SCALE + _end("consistency_score"),
    "multi_instruction": "A model composed one image from the source images below following: \"{instruct}\". Score "
                         "from 1 to 5 how exactly the result carries out the instruction. " + _SCALE
                         + _end("instruction_score"),
}

#: The official prompts.py's variable for each of judgekit's prompt names.
OFFICIAL_NAMES = {
    "consistency": "prompt_consist", "quality": "prompt_quality", "instruction": "prompt_instruction_following",
    "knowledge": "prompt_dual_evaluation", "view_instruction": "prompt_view_instruction_following",
    "temporal_consistency": "prompt_consist_temporal", "temporal_instruction": "prompt_instruction_temporal",
    "multi_consistency": "prompt_consist_multi", "multi_instruction": "prompt_instruction_multi",
}


def official_prompts(protocol_dir: Path) -> PromptChoice:
    """The official prompt texts from a Kris_Bench checkout's ``utils/prompts.py`` (at some
    commits: ``ReasonEdit/prompts.py``), read as string constants: nothing in it is executed."""
    for rel in ("utils/prompts.py", "ReasonEdit/prompts.py", "prompts.py"):
        src = protocol_dir / rel
        if src.is_file():
            break
    else:
        raise ConfigError(f"--protocol-dir {protocol_dir}: no utils/prompts.py (expected a Kris_Bench checkout)")
    try:
        tree = ast.parse(src.read_text(encoding="utf-8"), str(src))
    except SyntaxError as exc:
        raise ConfigError(f"{src}: not readable as Python ({exc.msg}, line {exc.lineno})") from None
    found = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
             and isinstance(n.value.value, str) for t in n.targets if isinstance(t, ast.Name)}
    missing = sorted(v for v in OFFICIAL_NAMES.values() if v not in found)
    if missing:
        raise ConfigError(f"{src}: no {', '.join(missing)} in it (has prompts.py changed?)")
    texts = {name: found[var] for name, var in OFFICIAL_NAMES.items()}
    for name, text in texts.items():
        try:
            text.format(instruct="", explanation="", N=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{src}: {OFFICIAL_NAMES[name]} is not a template judgekit can fill ({exc!r})") from None
    return PromptChoice("official", texts, str(src))


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every balanced ``{...}`` block of ``text`` that is a JSON object, in order."""
    out, depth, start = [], 0, -1
    for i, ch in enumerate(text):
        if ch == "{":
            start = i if depth == 0 else start
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                try:
                    obj = json.loads(text[start:i + 1])
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    out.append(obj)
    return out


def read_scores(text: str, keys: tuple[str, ...]) -> dict[str, int]:
    """The reply's score for each key, where the reply names it: the last JSON object holding
    the key, else ``key: N`` lines that all agree. Raises ``VerdictParseError`` otherwise."""
    objects = _json_objects(text)
    out = {}
    for key in keys:
        held = [o[key] for o in objects if key in o]
        if held:
            value: Any = held[-1]
        else:
            labelled = set(re.findall(rf"\b{key}\b[\"'*]*\s*[:：=]\s*[\"'*]*\s*(-?\d+(?:\.\d+)?)", text, re.IGNORECASE))
            if len(labelled) > 1:
                raise VerdictParseError(f"reply gives {key} several values {sorted(labelled)}", text)
            if not labelled:
                raise VerdictParseError(f"reply names no {key}", text)
            value = labelled.pop()
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value).strip()):
            raise VerdictParseError(f"{key} = {value!r} is not an integer 1-5", text)
        if not 1 <= int(value) <= 5:
            raise VerdictParseError(f"{key} = {value} is outside 1-5", text)
        out[key] = int(value)
    return out


def official_reading(text: str, key: str, script: str, dual: bool = False) -> int | None:
    """What the official script would store as ``key`` for this reply (None: nothing, and the
    script leaves the sample to a later rerun). Its first JSON-like block holding the key wins
    (no range check); then, except in the dual call, ``key: N``-like text, ``N/5``, ``N out of
    5``, and finally the first standalone digit 1-5 anywhere in the reply."""
    block = re.search(r"\{[^{}]*" + ("instruction_score" if dual else key) + r"[^{}]*\}", text, re.DOTALL)
    if block:
        try:
            value = json.loads(block.group(0)).get(key)
            if value is not None or dual:
                return None if value is None else int(value)
        except (ValueError, TypeError):
            pass
    stem = key.split("_")[0]
    if dual:
        m = re.search(rf"{stem}[_\s]*score\s*[:：]\s*([1-5])", text, re.IGNORECASE)
        return int(m.group(1)) if m else None
    patterns = [r"([1-5])\s*/\s*5", r"([1-5])\s+out\s+of\s+5", r"\b([1-5])\b"]
    if script in ("common", "view", "knowledge"):  # the multi and temporal scripts have no key pattern
        colon = "[:：]" if script == "knowledge" else "[:：]?"  # metrics_knowledge.py wants the colon
        patterns.insert(0, rf"{stem}[_\s]*score\s*{colon}\s*([1-5])")
    for pat in patterns:
        m = re.search(pat, text, re.IGNORECASE | re.DOTALL)
        if m:
            return int(m.group(1))
    return None


def _reader(keys: tuple[str, ...]) -> Callable[[ChatResponse], dict[str, int]]:
    return lambda r: read_scores(r.text, keys)


class KrisMethod(OwnWordedMethod):
    kind = "kris-bench"
    own_prompts = OWN_PROMPTS

    def _images(self, sample: Sample, which: str) -> list[tuple[str, str]]:
        meta = sample.meta
        if not sample.image:
            raise SampleError(f"{sample.id}: no edited image (a failed generation)")
        edited = str(sample.image)
        if which == "edited":
            return [("Image to evaluate:", edited)]
        sources = [str(s) for s in meta["sources"]]
        if which == "sources":
            return [(f"Source image {i}:", s) for i, s in enumerate(sources, 1)] + [("Result image:", edited)]
        if which == "frames":
            frames = [(n, f"Frame {n} (given):", s) for n, s in zip(meta["frames"], sources, strict=True)]
            frames.append((meta["target_frame"], f"Frame {meta['target_frame']} (generated):", edited))
            return [(label, path) for _, label, path in sorted(frames, key=lambda f: f[0])]
        pair = [("Original image:", sources[0]), ("Edited image:", edited)]
        if which == "pair_gt":
            if not sample.reference_image:
                raise SampleError(f"{sample.id}: viewpoint change without its gt_img")
            pair.append(("Ground-truth image:", str(sample.reference_image)))
        return pair

    def plan(self, sample: Sample) -> list[JudgeCall]:
        meta = sample.meta
        fields = {"instruct": sample.instruction or "", "explanation": meta.get("explain", ""), "N": meta.get("target_frame")}
        loaded: dict[str, ImagePart] = {}
        calls = []
        for key, prompt, which, scores in CALLS[SCRIPT[meta["category"]]]:
            parts: list[TextPart | ImagePart] = [TextPart(self.prompts[prompt].format(**fields))]
            for label, path in self._images(sample, which):
                if path not in loaded:
                    loaded[path] = load_image_part(path, label)
                parts += [TextPart(label), loaded[path]]
            req = ChatRequest((Message("user", tuple(parts)),), None, max_tokens=self.rubric.max_tokens)
            calls.append(JudgeCall(key, req, _reader(scores), self.parse_retries))
        return calls

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        script = SCRIPT[sample.meta["category"]]
        official: dict[str, int | None] = {}
        for key, _, _, scores in CALLS[script]:
            o = outcomes.get(key)
            text = o.response.text if o is not None and o.response is not None else ""
            for s in scores:
                official[s] = official_reading(text, s, script, dual=key == "dual") if text else None
        details: dict[str, Any] = {"official_parser": official}
        errors = [f"{k}: {o.error}" for k, o in outcomes.items() if not o.ok]
        if errors:
            return Result.for_sample(sample, self.rubric.name, status="failed", error="; ".join(errors), details=details)
        scores_out = {k: float(v) for o in outcomes.values() for k, v in o.value.items()}
        return Result.for_sample(sample, self.rubric.name, status="ok", scores=scores_out, details=details)


register_kind("kris-bench", KrisMethod)
