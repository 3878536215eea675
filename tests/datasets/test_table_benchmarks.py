"""Benchmark loaders on the datasets' own Parquet/Arrow files: GEdit-Bench (source images in the
``input_image`` column) and GenAI-Bench (one image column per model), images read from bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgekit.datasets.gedit import load_gedit
from judgekit.datasets.genai_bench import load_genai_bench
from judgekit.errors import DataError
from judgekit.images import load_image_part
from judgekit.memory_images import InMemoryImage
from tests.fixtures_spine import write_png

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
HF_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
GEDIT = Path(__file__).parent.parent / "data" / "editing" / "gedit"


def _cell(path: Path) -> dict:
    return {"bytes": path.read_bytes(), "path": path.name}


def test_gedit_from_its_published_table_equals_the_rows_with_source_files(tmp_path):
    rows = [json.loads(x) for x in (GEDIT / "gedit_rows.jsonl").read_text().splitlines()]
    sources = [write_png(tmp_path / "src" / f"{r['key']}_{r['instruction_language']}.png", seed=i) for i, r in enumerate(rows)]
    table = pa.table({
        "key": [r["key"] for r in rows], "task_type": [r["task_type"] for r in rows],
        "instruction": [r["instruction"] for r in rows], "instruction_language": [r["instruction_language"] for r in rows],
        "input_image": pa.array([_cell(p) for p in sources], type=HF_IMAGE),
        "input_image_raw": pa.array([_cell(p) for p in sources], type=HF_IMAGE),
        "Intersection_exist": [r["Intersection_exist"] for r in rows],
    })
    pq.write_table(table, tmp_path / "train-00000-of-00001.parquet")
    from_table = load_gedit(tmp_path / "train-00000-of-00001.parquet", GEDIT / "results")
    # the same rows as JSONL with the sources as files: the route GEdit's docs asked for before
    with_paths = tmp_path / "rows.jsonl"
    with_paths.write_text("".join(json.dumps({**r, "input_image": str(p)}) + "\n" for r, p in zip(rows, sources)))
    from_files = load_gedit(with_paths, GEDIT / "results")
    assert [s.id for s in from_table] == [s.id for s in from_files] and len(from_table) == 8
    for a, b in zip(from_table, from_files):
        assert isinstance(a.source_image, InMemoryImage) and isinstance(b.source_image, str)
        assert load_image_part(a.source_image) == load_image_part(b.source_image)
        assert (a.image, a.instruction, a.meta) == (b.image, b.instruction, b.meta)
    # one source image per row, shared by the models' samples of that row
    assert from_table[0].source_image is from_table[1].source_image


def test_genai_bench_rows_become_one_sample_per_model(tmp_path):
    imgs = [write_png(tmp_path / f"{i}.png", seed=i) for i in range(4)]
    table = pa.table({
        "Index": [1, 2],
        "Prompt": ["a baker pulling bread out of an oven", "three cats and no dogs"],
        "Tags": [{"basic": ["Scene"], "advanced": []}, {"basic": ["Object"], "advanced": ["Counting", "Negation"]}],
        "HumanRatings": [{"DALLE_3": [5, 5, 4], "SDXL_Base": [3, 3, 2]}, {"DALLE_3": [4, 4, 4], "SDXL_Base": [1, 2, 1]}],
        "DALLE_3": pa.array([_cell(imgs[0]), _cell(imgs[1])], type=HF_IMAGE),
        "SDXL_Base": pa.array([_cell(imgs[2]), _cell(imgs[3])], type=HF_IMAGE),
    })
    pq.write_table(table, tmp_path / "genai.parquet")
    s = load_genai_bench(tmp_path / "genai.parquet")
    assert [x.id for x in s] == ["00001:DALLE_3", "00001:SDXL_Base", "00002:DALLE_3", "00002:SDXL_Base"]
    assert s[3].prompt == "three cats and no dogs" and s[3].model == "SDXL_Base" and s[3].prompt_id == "00002"
    assert s[3].meta == {"benchmark": "genai-bench", "tags": {"basic": ["Object"], "advanced": ["Counting", "Negation"]},
                         "human_ratings": [1, 2, 1]}
    assert s[3].image.data == imgs[3].read_bytes()
    assert [x.id for x in load_genai_bench(tmp_path / "genai.parquet", models=["DALLE_3"])] == ["00001:DALLE_3", "00002:DALLE_3"]
    with pytest.raises(DataError, match=r"no image column for \['Flux'\]; models found: \['DALLE_3', 'SDXL_Base'\]"):
        load_genai_bench(tmp_path / "genai.parquet", models=["Flux"])


def test_edit_manifest_from_gedit_parquet_writes_the_sources_once(tmp_path):
    from judgekit.cli import main
    from judgekit.manifest import load_samples

    src = write_png(tmp_path / "s.png", seed=3)
    table = pa.table({
        "key": ["a1f3", "a1f3"], "task_type": ["background_change"] * 2,
        "instruction": ["Change the background to a beach.", "把背景换成海滩。"], "instruction_language": ["en", "cn"],
        "input_image": pa.array([_cell(src), _cell(src)], type=HF_IMAGE), "Intersection_exist": [True, True],
    })
    pq.write_table(table, tmp_path / "gedit.parquet")
    out = tmp_path / "m.jsonl"
    assert main(["edit", "manifest", "gedit", str(tmp_path / "gedit.parquet"), "--results", str(GEDIT / "results"),
                 "--out", str(out)]) == 0
    samples = load_samples(out)
    written = sorted((tmp_path / "m_images").iterdir())
    assert len(written) == 1 and written[0].read_bytes() == src.read_bytes()
    assert {s.source_image for s in samples} == {str(written[0])} and len(samples) == 4
