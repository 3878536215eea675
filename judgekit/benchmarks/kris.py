"""KRIS-Bench (mercurystraw/Kris_Bench): knowledge-based reasoning in image editing, 20 task
categories under three knowledge types (factual, conceptual, procedural), each sample judged on
1-5 scales: visual consistency (VC), visual quality (VQ), instruction following (IF) and, for
the ten knowledge categories, knowledge plausibility (KP). ``kris_judge.py`` holds the calls.

Aggregation: the repository's scripts write per-sample scores only
(``results/<model>/<category>/metrics.json``); it has no script that aggregates them, and
neither its README nor the part of the paper judgekit could read states how the paper's 0-100
table is computed. So judgekit invents no overall: it reports, per knowledge type, per
reasoning dimension and per category, the mean of each dimension on the official 1-5 scale,
pooled over the group's samples, with bootstrap CIs over samples. The paper's abstract names
the three types and counts seven reasoning dimensions; the dimensions' names and which category
belongs where are taken from BAGEL's evaluation code (``eval/gen/kris/summarize.py``, ByteDance,
Apache-2.0), as the official repository has no such list. That script's 0-100 numbers
(25 x (score - 1), every dimension of every sample pooled into one mean) are a third party's
choice, not the benchmark's: judgekit adds them only when asked (``--set summary=bagel``),
each row named "not official".

Data: ``--data`` is the ``KRIS_Bench`` folder (``<category>/annotation.json`` with ``ori_img``,
``gt_img``, ``ins_en``, ``explain_en`` per image id, and the images beside it), one category
folder, or one ``annotation.json``. Images: ``--images`` is the official ``results`` folder
(``<model>/<category>/<image_id>.jpg``) or one model's folder in it.

Options (``--set``): ``model`` (the model folder, when there are several), ``categories``
(comma-separated subset), ``summary=bagel`` (adds BAGEL's 0-100 rows, each named "not official").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..io import read_json
from ..rubric import Rubric
from ..types import Result, Sample
from .aggregate import Unit
from .base import BenchRequest, ImportedOutputs, Prepared, check_import_options
from .card import Part, PromptChoice, ProtocolCard
from .kris_judge import CALLS, SCRIPT, official_prompts

#: Knowledge type -> reasoning dimension -> categories: the paper's three types; the dimensions
#: and the categories' places as BAGEL's summarize.py lists them (the official repository has none).
TAXONOMY: dict[str, dict[str, tuple[str, ...]]] = {
    "Factual": {"Attribute Perception": ("count_change", "color_change", "size_adjustment", "part_completion",
                                         "anomaly_correction"),
                "Spatial Perception": ("viewpoint_change", "position_movement"),
                "Temporal Prediction": ("temporal_prediction",)},
    "Conceptual": {"Social Science": ("humanities", "practical_knowledge"),
                   "Natural Science": ("biology", "chemistry", "geography", "medicine", "mathematics", "physics")},
    "Procedural": {"Logical Reasoning": ("abstract_reasoning", "rule-based_reasoning"),
                   "Instruction Decomposition": ("multi-element_composition", "multi-instruction_execution")},
}
PLACE = {c: (k, d) for k, dims in TAXONOMY.items() for d, cats in dims.items() for c in cats}
CATEGORIES = tuple(PLACE)
DIMENSIONS = {"consistency_score": "VC", "quality_score": "VQ", "instruction_score": "IF", "knowledge_score": "KP"}
_EXTS = (".jpg", ".png", ".jpeg", ".webp")

CARD = ProtocolCard(
    name="kris",
    title="KRIS-Bench",
    task="image editing",
    repository="mercurystraw/Kris_Bench",
    official_judge="the undated alias gpt-4o, no temperature set (the API default), max 1000 tokens",
    official_prompt="utils/prompts.py (ReasonEdit/prompts.py at some commits), imported by metrics_common.py, "
                    "metrics_knowledge.py, metrics_multi_element.py, metrics_temporal_prediction.py, metrics_view_change.py",
    aggregation="none published: the scripts write per-sample 1-5 scores (VC, VQ, IF; KP for the ten knowledge "
                "categories) to metrics.json and the repository has no script or documented formula for the paper's "
                "0-100 table; judgekit reports each dimension's mean on the 1-5 scale per knowledge type, reasoning "
                "dimension and category, pooled over samples",
    data="the KRIS_Bench folder (<category>/annotation.json: ori_img, gt_img, ins_en, explain_en per image id), "
         "one category folder, or one annotation.json",
    images="the results folder (<model>/<category>/<image_id>.jpg; --set model=NAME when it holds several) or one "
           "model's folder",
    license="see the repository",
    runnable=True,
    protocol_dir="utils/prompts.py or ReasonEdit/prompts.py of a Kris_Bench checkout",
    parts=(
        Part("calls per category and the images each sees", "exact", "the five scripts' branches: VC, IF (with KP in "
             "one call for knowledge categories, with the ground truth for viewpoint change, frames in order for "
             "temporal prediction, every source for multi-element composition), VQ on the edited image alone"),
        Part("judge prompts", "approximate", "judgekit's own wording ending in a JSON object, unless --protocol-dir "
             "reads prompts.py; the short image labels between images are judgekit's either way"),
        Part("score reading", "approximate", "judgekit needs the named score as an integer 1-5, else retries and fails "
             "the sample; the official parsers guess (first digit 1-5 in the reply) and keep off-scale JSON values: "
             "each run counts where they would have read something else"),
        Part("aggregation", "not", "no official aggregation exists; judgekit's 1-5 means per type, dimension and "
             "category are its own summary, not the paper's 0-100 table; BAGEL's summarize.py (25 x (score - 1), "
             "all dimensions pooled), which lmms-eval's port cites and the official repository does not contain, is "
             "added only with --set summary=bagel, each row named 'not official'"),
        Part("decoding and image encoding", "approximate", "temperature 0 and images sent as they are; the scripts "
             "use the API default temperature, and the temporal script re-encodes frames as JPEG (quality 85)"),
    ),
    published_outputs="none found (the repository holds no results/ folder); `bench import kris results/<model>` reads "
                      "the metrics.json files of a run of the official scripts",
    known_issues=(
        "the score parser falls back to the first standalone digit 1-5 anywhere in the reply, so an unparseable "
        "reply still gets a score (metrics_common.py, DEFAULT_PATTERNS)",
        "metrics_common.py picks its explanation-aware instruction prompt when the category contains "
        "'abnormality_correction', but the category is named 'anomaly_correction', so that prompt is never used "
        "(judgekit does what the script does)",
        "some commits of the scripts (2114fec) read 'instruction' / 'explain' and list categories 'object_count', "
        "'daily_life', 'rule_reasoning', 'view_pair', while annotation.json (800662d, 0bf3667) has ins_en / "
        "explain_en and the folders are count_change, practical_knowledge, rule-based_reasoning, viewpoint_change: "
        "a run with those scripts judges with an empty instruction or skips the category; other commits read "
        "ins_en and the folder names, as judgekit does",
        "the scripts read only <image_id>.jpg: a .png output is skipped as missing (judgekit also accepts .png, "
        ".jpeg and .webp, and its run notes say how many)",
    ),
)


def _annotation_files(data: Path) -> list[Path]:
    if data.is_file():
        return [data]
    if (data / "annotation.json").is_file():
        return [data / "annotation.json"]
    return sorted(p for p in data.glob("*/annotation.json"))


def _model_dir(images: Path | None, model: str | None) -> Path:
    if images is None or not images.is_dir():
        raise ConfigError(f"--images must be the results folder (<model>/<category>/<image_id>.jpg), got {images}")
    if model is not None:
        if not (images / model).is_dir():
            raise ConfigError(f"--set model={model}: {images} has no such folder")
        return images / model
    if any((images / c).is_dir() for c in CATEGORIES):
        return images  # one model's folder
    found = sorted(p.name for p in images.iterdir() if p.is_dir())
    if len(found) > 1:
        raise ConfigError(f"{images} holds several models {found}: pick one with --set model=NAME")
    return images / found[0] if found else images


def _frame(name: str) -> int | None:
    m = re.search(r"(\d+)-(\d+)", name)  # "<id>-<frame>.jpg", as the temporal script reads it
    return int(m.group(2)) if m else None


def _sample(cat: str, image_id: str, entry: Any, folder: Path, outputs: Path, where: str) -> Sample:
    if not isinstance(entry, dict) or not entry.get("ori_img"):
        raise DataError(f"{where}[{image_id!r}]: not a KRIS-Bench item (ori_img, ins_en, explain_en, gt_img)")
    names = entry["ori_img"] if isinstance(entry["ori_img"], list) else [entry["ori_img"]]
    if not all(isinstance(n, str) and n for n in names):
        raise DataError(f"{where}[{image_id!r}]: ori_img must be a file name or a list of them, got {entry['ori_img']!r}")
    meta: dict[str, Any] = {"benchmark": "kris", "category": cat, "knowledge_type": PLACE[cat][0],
                            "reasoning_dimension": PLACE[cat][1], "sources": [str(folder / n) for n in names],
                            "explain": str(entry.get("explain_en", entry.get("explain", "")) or "")}
    if SCRIPT[cat] == "temporal":
        frames = [f for f in (_frame(str(n)) for n in names) if f is not None]
        if len(frames) != len(names):
            raise DataError(f"{where}[{image_id!r}]: temporal frames must be named <id>-<frame>, got {names}")
        missing = sorted({1, 2, 3, 4} - set(frames))  # the generated frame: the one of 1-4 not given
        meta.update(frames=frames, target_frame=missing[0] if len(missing) == 1 else max(frames) + 1)
    gt = entry.get("gt_img")
    image = next((str(outputs / cat / f"{image_id}{e}") for e in _EXTS if (outputs / cat / f"{image_id}{e}").is_file()), None)
    return Sample(id=f"{cat}/{image_id}", prompt_id=f"{cat}/{image_id}",
                  instruction=str(entry.get("ins_en", entry.get("instruction", "")) or ""),
                  source_image=str(folder / names[0]), reference_image=str(folder / gt) if gt else None,
                  image=image, model=outputs.name, meta=meta)


def _id_order(key: str) -> tuple[int, str]:
    return (int(key), key) if key.isdigit() else (1 << 30, key)


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("model", "categories", "summary"))
    summary = req.option("summary", "none")
    if summary not in ("none", "bagel"):
        raise ConfigError(f"--set summary must be none or bagel (BAGEL's non-official 0-100 rows), not {summary!r}")
    wanted = req.option("categories", None, (str, type(None)))
    chosen = [c.strip() for c in wanted.split(",")] if wanted else None
    unknown = sorted(set(chosen or ()) - set(CATEGORIES))
    if unknown:
        raise ConfigError(f"--set categories: {unknown} are not KRIS-Bench categories ({', '.join(CATEGORIES)})")
    outputs = _model_dir(req.images, req.option("model", None, (str, type(None))))
    samples = []
    for ann in _annotation_files(req.data):
        cat = ann.parent.name
        if cat not in PLACE:
            raise DataError(f"{ann}: folder {cat!r} is not a KRIS-Bench category ({', '.join(CATEGORIES)})")
        if chosen is not None and cat not in chosen:
            continue
        items = read_json(ann, "KRIS-Bench annotation.json", dict)
        samples += [_sample(cat, str(k), items[k], ann.parent, outputs, str(ann)) for k in sorted(items, key=_id_order)]
    prompt = official_prompts(req.protocol_dir) if req.protocol_dir else PromptChoice("judgekit")
    rubric = Rubric(name="kris-bench", kind="kris-bench", inputs=["source_image", "instruction", "image"],
                    scale={"min": 1, "max": 5, "integer": True}, max_tokens=1000, options={"prompts": prompt.texts})
    notes = ["KRIS-Bench publishes no aggregation: the table gives judgekit's 1-5 means per group, not the paper's "
             "0-100 numbers", "decoding at temperature 0; the official scripts use the API default"]
    if not req.protocol_dir:
        notes.insert(0, "judge prompts in judgekit's own wording, not prompts.py's (pass --protocol-dir to use it)")
    if summary == "bagel":
        for s in samples:
            s.meta["summary"] = "bagel"
        notes.append("--set summary=bagel: the rows marked 'not official' follow BAGEL's eval/gen/kris/summarize.py "
                     "(25 x (score - 1), every dimension of every scored sample pooled); KRIS-Bench itself publishes "
                     "no such formula")
    not_jpg = sum(1 for s in samples if s.image and not str(s.image).endswith(".jpg"))
    if not_jpg:
        notes.append(f"{not_jpg} outputs are not <image_id>.jpg: the official scripts would skip them as missing")
    return Prepared(rubric, samples, prompt, notes=notes)


def unit(results: list[Result]) -> Unit:
    r = results[0]
    return {"category": r.meta.get("category"), "summary": r.meta.get("summary"),
            "scores": {k: v for k, v in r.scores.items() if v is not None}}


def _groups(category: str) -> tuple[str, str, str]:
    kind, dim = PLACE[category]
    return f"{kind} knowledge", dim, category


def aggregate(units: list[Unit]) -> dict[str, float]:
    """Each dimension's mean score (1-5) over the samples of every knowledge type, reasoning
    dimension and category present, in taxonomy order (one pass: the bootstrap calls it often)."""
    sums: dict[tuple[str, str], list[float]] = {}
    for u in units:
        for group in _groups(u["category"]):
            for key, v in u["scores"].items():
                acc = sums.setdefault((group, key), [0.0, 0])
                acc[0] += v
                acc[1] += 1
    kinds, dims = [f"{k} knowledge" for k in TAXONOMY], [d for ds in TAXONOMY.values() for d in ds]
    out = {f"{g} {abbr} (1-5)": sums[(g, key)][0] / sums[(g, key)][1]
           for g in kinds + dims + list(CATEGORIES) for key, abbr in DIMENSIONS.items() if (g, key) in sums}
    if units and units[0].get("summary") == "bagel":
        out.update(_bagel_rows(sums, kinds, dims))
    return out


def _bagel_rows(sums: dict[tuple[str, str], list[float]], kinds: list[str], dims: list[str]) -> dict[str, float]:
    """``--set summary=bagel``: BAGEL's summarize.py numbers, named as not official. Per group the
    mean of every dimension's score of every sample pooled together, mapped 1-5 -> 0-100 by
    25 x (score - 1); Overall pools the three knowledge types."""
    def pooled(groups: list[str]) -> tuple[float, float]:
        cells = [v for (g, _), v in sums.items() if g in groups]
        return sum(c[0] for c in cells), sum(c[1] for c in cells)

    out = {}
    for g in ["Overall", *kinds, *dims]:
        total, n = pooled(kinds if g == "Overall" else [g])
        if n:
            out[f"not official: BAGEL-style {g} AVG (0-100)"] = 25 * (total / n - 1)
    return out


def official_text(estimates: dict[str, float]) -> str:
    lines = ["KRIS-Bench publishes no aggregation script or formula for its 0-100 table; per knowledge type, the mean "
             "1-5 score of each dimension (VC visual consistency, VQ visual quality, IF instruction following, KP "
             "knowledge plausibility):"]
    for kind in TAXONOMY:
        row = [f"{abbr} {estimates[name]:.2f}" for abbr in DIMENSIONS.values()
               if (name := f"{kind} knowledge {abbr} (1-5)") in estimates]
        if row:
            lines.append(f"{kind} Knowledge: " + ", ".join(row))
    return "\n".join(lines)


def result_notes(results: list[Result]) -> list[str]:
    """Where the official parsers would have stored something else than judgekit read."""
    guessed = off = differ = 0
    for r in results:
        official = (r.details or {}).get("official_parser") or {}
        if r.status == "failed":
            guessed += any(v is not None and 1 <= v <= 5 for v in official.values())
            off += any(v is not None and not 1 <= v <= 5 for v in official.values())
        else:
            differ += any(k in r.scores and v != r.scores[k] for k, v in official.items())
    notes = []
    if guessed or off:
        notes.append(f"{guessed} failed samples would have been scored by the official parsers anyway (a guessed "
                     f"digit 1-5), {off} with an off-scale score; judgekit excludes them")
    if differ:
        notes.append(f"{differ} scored samples would have been read differently by the official parsers (their "
                     "first-digit fallback), judgekit keeps the score the judge named")
    return notes


def import_outputs(source: Path, options: dict[str, Any]) -> ImportedOutputs:
    """The official scripts' own per-sample scores (``results/<model>/<category>/metrics.json``)
    as results, so ``bench report`` gives judgekit's table of an official run. A sample lacking
    one of its category's scores, or holding one outside 1-5, is failed and counted."""
    check_import_options(options, ("model", "summary"))
    summary = options.get("summary", "none")
    if summary not in ("none", "bagel"):
        raise ConfigError(f"--set summary must be none or bagel, not {summary!r}")
    folder = _model_dir(source, None if options.get("model") is None else str(options["model"]))
    results: list[Result] = []
    missing = off = 0
    for cat in CATEGORIES:
        path = folder / cat / "metrics.json"
        if not path.is_file():
            continue
        expected = [k for call in CALLS[SCRIPT[cat]] for k in call[3]]
        for image_id, rec in sorted(read_json(path, "KRIS-Bench metrics.json", dict).items(), key=lambda kv: _id_order(kv[0])):
            rec = rec if isinstance(rec, dict) else {}
            values: dict[str, Any] = {k: rec.get(k) for k in expected}
            absent = [k for k, v in values.items() if isinstance(v, bool) or not isinstance(v, int | float)]
            outside = [k for k, v in values.items() if k not in absent and v not in (1, 2, 3, 4, 5)]
            missing += bool(absent)
            off += bool(outside) and not absent
            meta = {"benchmark": "kris", "category": cat, **({"summary": "bagel"} if summary == "bagel" else {})}
            reasoning = {k.removesuffix("_reasoning") + "_score": str(v) for k, v in rec.items()
                         if k.endswith("_reasoning") and v}
            common = {"sample_id": f"{cat}/{image_id}", "prompt_id": f"{cat}/{image_id}", "rubric": "kris-published",
                      "meta": meta, "reasoning": reasoning}
            if absent or outside:
                problems = [f"{k} missing" for k in absent] + [f"{k} = {values[k]} outside 1-5" for k in outside]
                results.append(Result(**common, status="failed", error="metrics.json: " + ", ".join(problems)))
            else:
                results.append(Result(**common, status="ok", scores={k: float(v) for k, v in values.items()}))
    if not results:
        raise DataError(f"{folder}: no <category>/metrics.json of a KRIS-Bench category")
    notes = ["imported from the official scripts' metrics.json files: their scores are as the official parsers read "
             "them (including guessed first digits, which cannot be told apart afterwards)"]
    if missing or off:
        notes.append(f"{missing} samples lack a score and {off} hold one outside 1-5: excluded whole here; BAGEL's "
                     "summarize.py would still pool their other scores, and an off-scale one as it is")
    return results, notes
