"""DPG-Bench (TencentQQGYLab/ELLA, ``dpg_bench/``): 1,065 dense prompts, each with a DSG-style
question graph in ``dpg_bench.csv``.

Its evaluator takes one image per prompt, ``<item_id>.png``: a 2x2 grid of four samples of side
``--resolution``. It crops the four tiles (top-left, top-right, bottom-left, bottom-right),
asks every question of each tile, zeroes a question when a parent scores 0 (walking the
questions in file order), and scores the tile as the mean; the prompt's score is the mean over
its tiles and the headline 100 x the mean over prompts. Its category tables pool the raw answers
(dependencies ignored) by the tuple's category (``entity - whole``) and its first word (L1).

Options (``--set``): ``resolution`` (tile side; default half the grid's width), ``pic_num``
(tiles per grid, 1 to 4; default 4 as its ``dist_eval.sh``).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..datasets.dsg import load_dsg_csv
from ..errors import ConfigError
from ..rubric import load_rubric
from ..types import Result, Sample
from .aggregate import Unit, mean
from .base import BenchRequest, Prepared
from .card import Part, PromptChoice, ProtocolCard

_EXTS = (".png", ".jpg", ".jpeg", ".webp")

CARD = ProtocolCard(
    name="dpg",
    title="DPG-Bench",
    task="text-to-image",
    repository="TencentQQGYLab/ELLA (dpg_bench/)",
    official_judge="mPLUG-large VQA (damo/mplug_visual-question-answering_coco_large_en, ModelScope)",
    official_prompt="none: mPLUG answers the bare question text of dpg_bench.csv; an answer counts when it is exactly 'yes'",
    aggregation="per tile: questions in file order, zeroed when a parent scores 0, mean; per prompt the mean over "
                "its tiles; headline 100 x mean over prompts; L1/L2 category tables of raw answers x 100",
    data="dpg_bench.csv (DSG schema: item_id, text, proposition_id, dependency, tuple, question_natural_language, ...)",
    images="a folder of <item_id>.png, each a 2x2 grid of four samples (the folder compute_dpg_bench.py reads)",
    license="Apache-2.0 (ELLA repository)",
    runnable=True,
    parts=(
        Part("2x2 grid cropping and per-tile scoring", "exact", "the same four crops in the same order"),
        Part("dependency zeroing and x100 headline", "exact", "judgekit's `dpg` question rule"),
        Part("category tables", "exact", "raw answers of the last tile, as compute_dpg_bench.py keeps them"),
        Part("judge", "approximate", "an MLLM answers each question with reasoning then yes/no (judgekit's question "
             "template) instead of mPLUG-large's free answer"),
        Part("the first question of the file", "approximate", "judgekit keeps it; the official script drops it"),
    ),
    known_issues=(
        "compute_dpg_bench.py skips data row 0 (`if i == 0: continue` after the header is already consumed), "
        "so the first item loses its first question",
        "the category tables use only the last tile's raw answers (qid2scores_orig is overwritten per tile)",
        "--pic-num defaults to 1 in compute_dpg_bench.py (only the top-left tile) and to 4 in dist_eval.sh: "
        "papers differ on which they ran",
        "an image that raises is skipped silently ('Failed filename'), shrinking the denominator; judgekit counts it",
        "users report scores several points off the papers (BLIP3o #46, Infinity #103)",
    ),
)


def _grid(folder: Path, item: str) -> Path | None:
    for ext in _EXTS:
        p = folder / f"{item}{ext}"
        if p.is_file():
            return p
    return None


def _crops(grid: Path, item: str, out: Path, resolution: int | None, pic_num: int) -> list[str | None]:
    """The grid's tiles as files (official order); None for each when the grid cannot be cut."""
    try:
        with Image.open(grid) as img:
            img.load()
            r = resolution or img.width // 2
            if img.width < 2 * r or img.height < 2 * r or r < 1:
                return [None] * pic_num  # not a 2x2 grid of that tile size: failed, never padded
            boxes = [(0, 0, r, r), (r, 0, 2 * r, r), (0, r, r, 2 * r), (r, r, 2 * r, 2 * r)][:pic_num]
            paths: list[str | None] = []
            for k, box in enumerate(boxes):
                p = out / f"{item}_{k}.png"
                img.crop(box).convert("RGB").save(p)
                paths.append(str(p))
            return paths
    except (UnidentifiedImageError, OSError):
        return [None] * pic_num


def prepare(req: BenchRequest) -> Prepared:
    req.check_options(("resolution", "pic_num"))
    resolution = req.option("resolution", None, (int, type(None)))
    pic_num = req.option("pic_num", 4, (int,))
    if not 1 <= pic_num <= 4:
        raise ConfigError("--set pic_num must be 1 to 4")
    if req.images is None or not req.images.is_dir():
        raise ConfigError(f"--images must be the folder of <item_id>.png 2x2 grids (got {req.images})")
    graphs = load_dsg_csv(req.data).graphs
    crops_dir = req.work_dir / "crops"
    crops_dir.mkdir(parents=True, exist_ok=True)
    samples = []
    for item, g in graphs.items():
        # The official L2 category is the tuple's text before "(": "entity - whole (dog)".
        cats = {str(q.id): (q.tuple.split("(")[0].strip() or q.category) for q in g.questions}
        grid = _grid(req.images, item)
        tiles = _crops(grid, item, crops_dir, resolution, pic_num) if grid else [None] * pic_num
        for k, tile in enumerate(tiles):
            samples.append(Sample(id=f"{item}:{k}", prompt_id=item, prompt=g.prompt, image=tile, seed=k,
                                  meta={"benchmark": "dpg", "tile": k, "categories": cats}))
    return Prepared(load_rubric("dpg"), samples, PromptChoice("judgekit"), method_options={"questions": str(req.data)},
                    notes=["judge: an MLLM with judgekit's question template, not mPLUG-large"])


def unit(results: list[Result]) -> Unit:
    tiles = sorted(results, key=lambda r: r.seed or 0)
    last = tiles[-1]
    cats = last.meta.get("categories", {})
    pooled: dict[str, list[float]] = {}
    for q in last.details.get("questions", []):
        if q.get("raw") is not None:
            acc = pooled.setdefault(cats.get(str(q["id"]), q.get("category") or "uncategorized"), [0.0, 0])
            acc[0] += q["raw"]
            acc[1] += 1
    return {"score": mean(r.overall for r in tiles if r.overall is not None), "categories": pooled}


def aggregate(units: list[Unit]) -> dict[str, float]:
    out = {"DPG-Bench score": mean(u["score"] for u in units)}
    l1: dict[str, list[float]] = {}
    l2: dict[str, list[float]] = {}
    for u in units:
        for cat, (s, n) in u["categories"].items():
            for table, key in ((l1, cat.split("-")[0].strip()), (l2, cat)):
                acc = table.setdefault(key, [0.0, 0])
                acc[0] += s
                acc[1] += n
    for name, table in (("L1", l1), ("L2", l2)):
        for key in sorted(table):
            out[f"{name} {key}"] = 100 * table[key][0] / table[key][1]
    return out


def official_text(estimates: dict[str, float]) -> str:
    lines = ["L1 category scores:"]
    lines += [f"\t{k[3:]}: {v}" for k, v in estimates.items() if k.startswith("L1 ")]
    lines.append("L2 category scores:")
    lines += [f"\t{k[3:]}: {v}" for k, v in estimates.items() if k.startswith("L2 ")]
    lines.append(f"DPG-Bench score: {estimates['DPG-Bench score']}")
    return "\n".join(lines)
