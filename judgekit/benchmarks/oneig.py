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

Text part (``--method text``): ``scripts/text/text_content.csv`` (``id``, ``text_content``), images
``IMAGES/<model>/<id>*`` (its ``$IMAGE_DIR/text``). Each non-black tile is transcribed; both texts
are normalised as ``text_utils.py`` does (punctuation dropped; Chinese keeps only CJK, Latin
letters and digits); per tile the edit distance ED, completion CR (ED = 0) and matched words
(characters for Chinese). Pooled over all tiles: ED and CR are means, WAC = matched / target
words, and text score = 1 - min(MAX_ED, ED) (1 - CR) (1 - WAC) / MAX_ED (MAX_ED 100 for
English, 50 for Chinese).

Options (``--set``): ``model`` (folder name; needed when there are several), ``grid`` ("2,2"),
``language`` (EN or ZH: the ``_zh`` question files, and MAX_ED), ``classes`` (comma list).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from ..datasets.questions import save_questions
from ..errors import ConfigError, DataError
from ..io import read_json
from ..questions.graph import Question, QuestionGraph
from ..rubric import Rubric, load_rubric
from ..types import Result, Sample
from . import replies
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
    data="alignment: scripts/alignment/Q_D/ (its <class>.json question files); text: scripts/text/text_content.csv",
    images="alignment: IMAGES/<class>/<model>/<key>.png; text: IMAGES/text/<model>/<id>.png; each an m x n grid "
           "of the prompt's seeds (2x2 by default)",
    license="see the repository",
    runnable=True,
    methods=("alignment", "text"),
    parts=(
        Part("alignment: grid tiles, black tiles dropped, question graph", "exact",
             "the same tiles, the same one-level dependency rule (judgekit's dsg rule), the same means"),
        Part("alignment judge prompt", "approximate", "judgekit's question template (reasoning, then yes/no) instead "
             "of Qwen2.5-VL-7B answering 'Yes' or 'No' only"),
        Part("text: normalisation, ED / CR / WAC and the text score", "exact", "text_utils.py's and "
             "text_score.py's rules, pooled over tiles as they are"),
        Part("text: transcription", "approximate", "the judge transcribes with judgekit's wording and up to 1024 "
             "tokens; the official OCR stops at 128 tokens (256 for targets over 60 words)"),
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
        "text_score.py compares against the text_content cell as written, a Python list's text: its brackets, "
        "quotes and commas vanish in normalisation, so the target is the strings joined by spaces",
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
    if (req.method or "alignment") == "text":
        return prepare_text(req)
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
    if results[0].meta.get("part") == "text":
        return {"part": "text", **{k: sum(float(r.scores.get(k) or 0.0) for r in results)
                                   for k in ("ed", "cr", "matched", "gt_words")},
                "tiles": len(results), "max_ed": results[0].meta.get("max_ed", 100)}
    return {"part": "alignment", "class": results[0].meta.get("class"),
            "score": mean(r.overall for r in results if r.overall is not None)}


def aggregate(units: list[Unit]) -> dict[str, float]:
    if units and units[0]["part"] == "text":
        tiles = sum(u["tiles"] for u in units)
        ed, cr = sum(u["ed"] for u in units) / tiles, sum(u["cr"] for u in units) / tiles
        words = sum(u["gt_words"] for u in units)
        wac = sum(u["matched"] for u in units) / words if words else float("nan")
        top = units[0]["max_ed"]
        return {"text score": 1 - min(top, ed) * (1 - cr) * (1 - wac) / top, "ED (edit distance)": ed,
                "CR (completion rate)": cr, "WAC (word accuracy)": wac}
    out = {"alignment (mean over prompts)": mean(u["score"] for u in units)}
    for cls in sorted({u["class"] for u in units}):
        out[f"class {cls}"] = mean(u["score"] for u in units if u["class"] == cls)
    return out


def official_text(estimates: dict[str, float]) -> str:
    if "text score" in estimates:
        e = estimates
        return (f",ED,CR,WAC,text score\nmodel,{e['ED (edit distance)']},{e['CR (completion rate)']},"
                f"{e['WAC (word accuracy)']},{e['text score']}")
    return f",alignment\nmodel,{estimates['alignment (mean over prompts)']}"


# --- the text part ---------------------------------------------------------------------------

_KEEP = "a-zA-Z0-9\u00c0\u00c2\u00c4\u00c7\u00c8\u00c9\u00ca\u00cb\u00ce\u00cf\u00d4\u00d6\u00d9\u00db\u00dc" \
        "\u00e0\u00e2\u00e4\u00e7\u00e8\u00e9\u00ea\u00eb\u00ee\u00ef\u00f4\u00f6\u00f9\u00fb\u00fc"
_CJK = re.compile("[\u4e00-\u9fff]")
OWN_OCR = ("Write out all the text visible in this image, exactly as written, and nothing else. "
           "If the image contains no text, reply: No text recognized.")
# What a transcription may add that is not text of the image (text_utils.py drops the same two).
_NOISE = ("addCriterion", "No text recognized.")


def normalise(text: str) -> str:
    """OneIG's normalisation: keep letters (with French accents), digits, CJK and whitespace;
    Chinese text keeps only its CJK, Latin and digit characters (no spaces); otherwise spaces
    are collapsed."""
    cleaned = re.sub(f"[^\u4e00-\u9fa5{_KEEP}\\s]", "", text)
    if _CJK.search(cleaned):
        return "".join(re.findall(f"[\u4e00-\u9fa5{_KEEP}]", text)).strip()
    return re.sub(r"\s+", " ", cleaned).strip()


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def matched_units(target: str, ocr: str) -> tuple[int, int]:
    """(matched, target count): characters for Chinese targets, words otherwise."""
    if _CJK.search(target):
        t, o = Counter(target), Counter(ocr)
    else:
        t, o = Counter(target.split()), Counter(ocr.split())
    return sum((t & o).values()), sum(t.values())


@replies.reply_parser("oneig_ocr")
def parse_ocr(text: str, fields: dict[str, Any]) -> dict[str, float]:
    for noise in _NOISE:
        text = text.replace(noise, "")
    ocr, target = normalise(text), normalise(str(fields["target"]))
    ed = edit_distance(ocr, target)
    matched, total = matched_units(target, ocr)
    return {"overall": float(ed), "ed": float(ed), "cr": float(ed == 0), "matched": float(matched),
            "gt_words": float(total)}


def prepare_text(req: BenchRequest) -> Prepared:
    language = req.option("language", "EN")
    if language not in ("EN", "ZH"):
        raise ConfigError("--set language must be EN or ZH")
    try:
        grid = tuple(int(x) for x in str(req.option("grid", "2,2", (str, int))).split(","))
        assert len(grid) == 2 and min(grid) >= 1
    except (ValueError, AssertionError):
        raise ConfigError("--set grid must be two positive integers, e.g. 2,2") from None
    if not req.data.is_file():
        raise ConfigError(f"--data must be OneIG's text_content.csv (got {req.data})")
    if req.images is None or not req.images.is_dir():
        raise ConfigError(f"--images must be the text image folder holding <model>/<id>.png (got {req.images})")
    model = req.option("model", None, (str, type(None)))
    if model is None:
        found = sorted(p.name for p in req.images.iterdir() if p.is_dir())
        if len(found) != 1:
            raise ConfigError(f"{req.images}: pick the model folder with --set model=NAME (found {found})")
        model = found[0]
    with req.data.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "id" not in rows[0] or "text_content" not in rows[0]:
        raise DataError(f"{req.data}: expected OneIG's text CSV with id and text_content columns")
    tiles_dir = req.work_dir / "tiles"
    tiles_dir.mkdir(parents=True, exist_ok=True)
    max_ed = 100 if language == "EN" else 50
    samples, black = [], 0
    for row in rows:
        pid = str(row["id"])
        folder = req.images / model
        found_files = sorted(p for p in folder.glob(f"{pid}*") if p.suffix.lower() in _EXTS) if folder.is_dir() else []
        kept: list[str] = []
        if len(found_files) == 1:
            try:
                kept, n_black = _tiles(found_files[0], (grid[0], grid[1]), tiles_dir, f"text_{pid}")
                black += n_black
            except (UnidentifiedImageError, OSError):
                kept = []
        base = {"benchmark": "oneig", "part": "text", "max_ed": max_ed, "fields": {"target": row["text_content"]}}
        if not kept:
            samples.append(Sample(id=f"text_{pid}:0", prompt_id=f"text_{pid}", image=None, meta=base))
        for t, path in enumerate(kept):
            samples.append(Sample(id=f"text_{pid}:{t}", prompt_id=f"text_{pid}", image=path, seed=t, meta=base))
    rubric = Rubric(name="oneig-text", kind="bench-reply", inputs=["image"], scale={"min": 0, "max": 1000, "integer": False},
                    max_tokens=1024, options={"template": OWN_OCR, "images": ["image"], "layout": "images_first",
                                              "parser": "oneig_ocr"})
    return Prepared(rubric, samples, PromptChoice("judgekit"), method="text",
                    notes=["transcription by the judge in judgekit's wording (the official OCR is Qwen2.5-VL-7B with "
                           "128 or 256 new tokens)"], extra_quirks={"black_images": black})
