"""OneIG-Bench (OneIG-Bench/OneIG-Benchmark), alignment part: per prompt a question graph
(``scripts/alignment/Q_D/<class>.json``: ``{key: {"question": {id: text}, "dependency": {id:
[parent ids]}}}``, either value possibly a JSON string), asked of every tile of the prompt's
image grid.

Its ``alignment_score.py`` cuts ``IMAGES/<class>/<model>/<key>*`` into an m x n grid (row by
row), drops every all-black tile, asks each question of each remaining tile, zeroes a question
when a parent's raw answer is no (one level, as DSG), scores a tile as the mean over its
questions and the prompt as the mean over its tiles; the alignment score is the mean over all
prompts of the classes (anime, human, object; multilingualism in Chinese), prompts without a
usable tile left out.

Options (``--set``): ``model`` (folder name; needed when there are several), ``grid`` ("2,2"),
``language`` (EN or ZH: the ``_zh`` question files), ``classes`` (comma list).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from ..datasets.questions import save_questions
from ..errors import ConfigError, DataError
from ..io import read_json
from ..questions.graph import Question, QuestionGraph
from ..rubric import load_rubric
from ..types import Result, Sample
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard

CARD = ProtocolCard(
    name="oneig",
    title="OneIG-Bench",
    task="text-to-image",
    repository="OneIG-Bench/OneIG-Benchmark",
    official_judge="Qwen/Qwen2.5-VL-7B-Instruct (transformers 4.50.0) for alignment and text OCR; CSD + CLIP "
                   "encoders for style; DreamSim for diversity",
    official_prompt="scripts/utils/inference.py (the question followed by a Yes/No-only instruction)",
    aggregation="alignment: per tile the DSG-style mean, per prompt the mean over non-black tiles, overall the mean "
                "over prompts of all classes; text: 1 - min(MAX_ED, ED)(1 - CR)(1 - WAC)/MAX_ED",
    data="scripts/alignment/Q_D/ of a OneIG-Benchmark checkout (its <class>.json question files)",
    images="IMAGES/<class>/<model>/<key>.png, each an m x n grid of the prompt's seeds (2x2 by default)",
    license="see the repository",
    runnable=True,
    parts=(
        Part("alignment: grid tiles, black tiles dropped, question graph", "exact",
             "the same tiles, the same one-level dependency rule (judgekit's dsg rule), the same means"),
        Part("alignment judge prompt", "approximate", "judgekit's question template (reasoning, then yes/no) instead "
             "of Qwen2.5-VL-7B answering 'Yes' or 'No' only"),
        Part("text rendering (OCR edit distance, completion rate, word accuracy)", "not", "not run yet"),
        Part("style (CSD + CLIP)", "not", "needs encoder weights judgekit does not ship"),
        Part("diversity (DreamSim)", "not", "needs DreamSim weights judgekit does not ship"),
        Part("reasoning (LLM2CLIP)", "not", "needs weights judgekit does not ship"),
    ),
    known_issues=(
        "all-black tiles (what failed generations are saved as) are dropped before scoring, so a model is scored "
        "on its surviving seeds only; judgekit counts them",
        "a prompt whose image is missing or fully black scores NaN and leaves pandas' mean silently; judgekit "
        "counts it as missing",
        "run_alignment.sh passes ${IMAGE_GRID[@]} while it defines IMAGE_GRIDS, so the grid always falls back to "
        "the default 2,2",
        "text_score.py reuses the previous prompt's OCR output when a grid has no usable tile (ocr_results is not "
        "reset)",
    ),
)
_EXTS = (".png", ".jpg", ".jpeg", ".webp")


def _as_mapping(value: Any) -> dict[int, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return {int(k): v for k, v in value.items()}


def read_graphs(qd: Path, classes: list[str], language: str) -> dict[str, QuestionGraph]:
    graphs: dict[str, QuestionGraph] = {}
    for cls in classes:
        f = qd / (f"{cls}.json" if language == "EN" else f"{cls}_zh.json")
        data = read_json(f, "OneIG question file", dict)
        for key, item in data.items():
            try:
                questions, deps = _as_mapping(item["question"]), _as_mapping(item["dependency"])
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise DataError(f"{f} [{key}]: not a OneIG question entry (question, dependency): {exc!r}") from None
            qs = [Question(qid, str(text), parents=tuple(int(p) for p in deps.get(qid, []) if int(p) in questions and int(p) != qid))
                  for qid, text in sorted(questions.items())]
            gid = f"{cls}_{key}"
            graphs[gid] = QuestionGraph(gid, f"OneIG-Bench {cls} {key}", qs, meta={"class": cls})
    return graphs


def _tiles(path: Path, grid: tuple[int, int], out: Path, gid: str) -> tuple[list[str], int]:
    """The non-black tiles as files (row by row), and how many tiles were black."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        w, h = img.width // grid[0], img.height // grid[1]
        kept, black = [], 0
        for i in range(grid[1]):
            for j in range(grid[0]):
                tile = img.crop((j * w, i * h, (j + 1) * w, (i + 1) * h))
                if tile.getbbox() is None:  # every pixel 0: the official evaluator drops it
                    black += 1
                    continue
                p = out / f"{gid}_{i}_{j}.png"
                tile.save(p)
                kept.append(str(p))
    return kept, black


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("model", "grid", "language", "classes"))
    language = req.option("language", "EN")
    if language not in ("EN", "ZH"):
        raise ConfigError("--set language must be EN or ZH")
    classes = [c.strip() for c in req.option("classes", "anime,human,object").split(",") if c.strip()]
    try:
        grid = tuple(int(x) for x in str(req.option("grid", "2,2", (str, int))).split(","))
        assert len(grid) == 2 and min(grid) >= 1
    except (ValueError, AssertionError):
        raise ConfigError("--set grid must be two positive integers, e.g. 2,2") from None
    if not req.data.is_dir():
        raise ConfigError(f"--data must be the Q_D folder of question files (got {req.data})")
    if req.images is None or not req.images.is_dir():
        raise ConfigError(f"--images must be the folder of <class>/<model>/<key>.png grids (got {req.images})")
    model = req.option("model", None, (str, type(None)))
    if model is None:
        found = sorted({p.name for c in classes if (req.images / c).is_dir() for p in (req.images / c).iterdir() if p.is_dir()})
        if len(found) != 1:
            raise ConfigError(f"{req.images}: pick the model folder with --set model=NAME (found {found})")
        model = found[0]
    graphs = read_graphs(req.data, classes, language)
    tiles_dir = req.work_dir / "tiles"
    tiles_dir.mkdir(parents=True, exist_ok=True)
    samples, black = [], 0
    for gid, g in graphs.items():
        cls, key = g.meta["class"], gid[len(g.meta["class"]) + 1:]
        folder = req.images / cls / model
        found_files = sorted(p for p in folder.glob(f"{key}*") if p.suffix.lower() in _EXTS) if folder.is_dir() else []
        kept: list[str] = []
        if len(found_files) == 1:
            try:
                kept, n_black = _tiles(found_files[0], (grid[0], grid[1]), tiles_dir, gid)
                black += n_black
            except (UnidentifiedImageError, OSError):
                kept = []
        base = {"benchmark": "oneig", "class": cls}
        if not kept:  # no image, several candidates, or only black tiles: the prompt has no score
            samples.append(Sample(id=f"{gid}:0", prompt_id=gid, prompt=g.prompt, image=None, meta=base))
        for t, path in enumerate(kept):
            samples.append(Sample(id=f"{gid}:{t}", prompt_id=gid, prompt=g.prompt, image=path, seed=t, meta=base))
    qfile = req.work_dir / "oneig_questions.csv"
    save_questions(graphs.values(), qfile)
    notes = ["judge: judgekit's question template, not Qwen2.5-VL-7B's Yes/No-only question",
             "text, style, diversity and reasoning parts are not run"]
    return Prepared(load_rubric("dsg"), samples, PromptChoice("judgekit"), method_options={"questions": str(qfile)},
                    notes=notes, extra_quirks={"black_images": black})


def unit(results: list[Result]) -> Unit:
    return {"class": results[0].meta.get("class"), "score": mean(r.overall for r in results if r.overall is not None)}


def aggregate(units: list[Unit]) -> dict[str, float]:
    out = {"alignment (mean over prompts)": mean(u["score"] for u in units)}
    for cls in sorted({u["class"] for u in units}):
        out[f"class {cls}"] = mean(u["score"] for u in units if u["class"] == cls)
    return out


def official_text(estimates: dict[str, float]) -> str:
    return f",alignment\nmodel,{estimates['alignment (mean over prompts)']}"
