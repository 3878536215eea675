"""Parquet files and Hugging Face save_to_disk folders as sample sources: the same records as the
JSONL manifest of the same images, image bytes read without writing files, rows streamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import DataError
from judgekit.memory_images import InMemoryImage
from judgekit.tables import parse_columns
from tests.fixtures_spine import make_manifest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

#: The storage of the Hugging Face ``Image`` feature.
HF_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
HF_FEATURES = {
    "id": {"dtype": "string", "_type": "Value"},
    "caption": {"dtype": "string", "_type": "Value"},
    "edited_image": {"_type": "Image"},
    "model": {"dtype": "string", "_type": "Value"},
    "prompt_id": {"dtype": "string", "_type": "Value"},
    "rater_note": {"dtype": "string", "_type": "Value"},
}


def _rows(manifest: Path) -> list[dict]:
    return [json.loads(line) for line in manifest.read_text().splitlines()]


def _hf_table(manifest: Path):
    """The manifest's samples as a Hugging Face dataset would hold them: images embedded as
    ``{bytes, path}`` cells, under column names that differ from judgekit's."""
    rows = _rows(manifest)
    return pa.table(
        {
            "id": [r["id"] for r in rows],
            "caption": [r["prompt"] for r in rows],
            "edited_image": pa.array(
                [{"bytes": (manifest.parent / r["image"]).read_bytes(), "path": Path(r["image"]).name} for r in rows],
                type=HF_IMAGE,
            ),
            "model": [r["model"] for r in rows],
            "prompt_id": [r["prompt_id"] for r in rows],
            "rater_note": [f"note {i}" for i in range(len(rows))],
        }
    ).replace_schema_metadata({"huggingface": json.dumps({"info": {"features": HF_FEATURES}})})


def _save_to_disk_layout(table, folder: Path) -> Path:
    """The folder ``datasets.Dataset.save_to_disk`` writes: Arrow streaming files, state.json
    listing them, dataset_info.json with the features."""
    folder.mkdir()
    name = "data-00000-of-00001.arrow"
    with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=3):
            writer.write_batch(batch)
    (folder / "state.json").write_text(json.dumps({
        "_data_files": [{"filename": name}], "_fingerprint": "0" * 16, "_format_columns": None,
        "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False, "_split": None,
    }))
    (folder / "dataset_info.json").write_text(json.dumps({"features": HF_FEATURES}))
    return folder


def _comparable(res) -> list[dict]:
    out = []
    for r in res:
        d = r.model_dump()
        d.pop("inputs", None)
        d.pop("meta", None)  # the table's extra column (rater_note) is meta there only: compared apart
        d["provenance"] = {k: v for k, v in d["provenance"].items() if k != "created"}
        out.append(d)
    return out


COLUMNS = {"image": "edited_image", "prompt": "caption"}


def _score(srv, data, **kw):
    return jk.score("viescore-t2i", data, backend="openai:judge", base_url=srv.url, cache=False, **kw)


def test_parquet_and_save_to_disk_give_the_records_of_the_jsonl_run(judge_server, tmp_path):
    manifest = make_manifest(tmp_path / "m", 6)
    table = _hf_table(manifest)
    pq.write_table(table, tmp_path / "data.parquet", row_group_size=4)
    shards = tmp_path / "shards"
    shards.mkdir()
    pq.write_table(table.slice(0, 4), shards / "train-00000-of-00002.parquet")
    pq.write_table(table.slice(4), shards / "train-00001-of-00002.parquet")
    disk = _save_to_disk_layout(table, tmp_path / "saved")

    want = _comparable(_score(judge_server, str(manifest)))
    for source in (tmp_path / "data.parquet", shards, disk):
        res = _score(judge_server, str(source), columns=COLUMNS)
        assert _comparable(res) == want, source
        assert [r.meta for r in res] == [{"rater_note": f"note {i}"} for i in range(6)]  # image column: not meta
        assert all(set(r.inputs["image"]) == {"sha256", "bytes"} for r in res)  # read from bytes, no file written


def test_rows_become_samples_with_images_in_memory(tmp_path):
    manifest = make_manifest(tmp_path / "m", 3)
    pq.write_table(_hf_table(manifest), tmp_path / "d.parquet")
    files_before = sorted(tmp_path.rglob("*"))
    samples = jk.load_samples(tmp_path / "d.parquet", columns=COLUMNS)
    assert [s.id for s in samples] == ["s0", "s1", "s2"] and samples[0].prompt == "a red cube number 0"
    assert isinstance(samples[0].image, InMemoryImage)
    assert samples[0].image.data == (tmp_path / "m" / "img" / "0.png").read_bytes()
    assert sorted(tmp_path.rglob("*")) == files_before  # nothing written to read the images


def test_usual_column_names_need_no_mapping_and_a_path_only_cell_is_a_file(tmp_path):
    img = make_manifest(tmp_path, 1).parent / "img" / "0.png"
    table = pa.table({
        "prompt": ["a cat"],
        "image": pa.array([{"bytes": None, "path": "img/0.png"}], type=HF_IMAGE),
    })
    pq.write_table(table, tmp_path / "t.parquet")
    (s,) = jk.load_samples(tmp_path / "t.parquet")
    assert s.id == "0" and s.prompt == "a cat" and s.image == str(img.resolve())


_STREAM = """
import resource, sys
from judgekit.tables import iter_table_samples
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # peak resident bytes (Linux: KiB)
it = iter_table_samples(sys.argv[1])
for _ in range(2000): next(it)  # imports and first batches: the baseline
base, total, count = rss(), 0, 2000
for s in it:
    total += len(s.image.data); count += 1
print(count, total, rss() - base)
"""


def test_streaming_100k_rows_keeps_memory_flat(tmp_path):
    """100,000 rows of small images (about 300 MB of image bytes once read) stream in batches:
    the process's peak memory grows by a small fraction of that (a list would hold all of it)."""
    import subprocess
    import sys

    from tests.fixtures_spine import write_png

    pngs = [write_png(tmp_path / f"{i}.png", seed=i, size=32).read_bytes() for i in range(50)]
    n = 100_000
    table = pa.table({
        "prompt": pa.array(["p"] * n),
        "image": pa.DictionaryArray.from_arrays(
            pa.array([i % len(pngs) for i in range(n)], pa.int32()), pa.array(pngs, pa.binary())
        ).cast(pa.binary()),
    })
    pq.write_table(table, tmp_path / "big.parquet", row_group_size=1000)  # small on disk: dictionary-encoded
    del table
    out = subprocess.run([sys.executable, "-c", _STREAM, str(tmp_path / "big.parquet")], capture_output=True,
                         text=True, check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    count, total, grown = map(int, out.split())
    assert count == n and total > 250_000_000
    assert grown < 60_000_000, f"peak memory grew {grown / 1e6:.0f} MB while streaming {total / 1e6:.0f} MB of images"


def test_hub_names_and_bad_columns_are_clear_errors(tmp_path, capsys):
    with pytest.raises(DataError, match="download it first"):
        jk.load_samples("stepfun-ai/GEdit-Bench")
    assert main(["score", "--rubric", "viescore-t2i", "--data", "stepfun-ai/GEdit-Bench", "--backend", "openai:x"]) != 0
    assert "never downloads" in capsys.readouterr().err
    manifest = make_manifest(tmp_path / "m", 2)
    pq.write_table(_hf_table(manifest), tmp_path / "d.parquet")
    with pytest.raises(DataError, match="no column 'photo' for 'image'; columns: id, caption"):
        jk.load_samples(tmp_path / "d.parquet", columns={"image": "photo"})
    with pytest.raises(DataError, match="not a sample field"):
        parse_columns("picture=edited_image")
    assert parse_columns("image=edited_image, source_image=input_image") == {"image": "edited_image", "source_image": "input_image"}
    (tmp_path / "dd").mkdir()
    (tmp_path / "dd" / "dataset_dict.json").write_text('{"splits": ["train", "test"]}')
    with pytest.raises(DataError, match="several splits"):
        jk.load_samples(tmp_path / "dd")


def test_cli_scores_a_parquet_file_with_columns(judge_server, tmp_path, capsys):
    manifest = make_manifest(tmp_path / "m", 4)
    pq.write_table(_hf_table(manifest), tmp_path / "d.parquet")
    out = tmp_path / "r.jsonl"
    rc = main(["score", "--rubric", "viescore-t2i", "--data", str(tmp_path / "d.parquet"), "--columns",
               "image=edited_image,prompt=caption", "--backend", "openai:judge", "--base-url", judge_server.url,
               "--no-cache", "--no-progress", "--out", str(out)])
    assert rc == 0
    assert [r.sample_id for r in jk.load_results(out)] == ["s0", "s1", "s2", "s3"]


def test_a_real_datasets_object_and_its_save_to_disk_folder(judge_server, tmp_path):
    datasets = pytest.importorskip("datasets")  # not in every environment: the pyarrow layout test above stands in
    manifest = make_manifest(tmp_path / "m", 4)
    rows = _rows(manifest)
    ds = datasets.Dataset.from_dict(
        {"id": [r["id"] for r in rows], "caption": [r["prompt"] for r in rows], "model": [r["model"] for r in rows],
         "prompt_id": [r["prompt_id"] for r in rows],
         "edited_image": [str(manifest.parent / r["image"]) for r in rows]},
        features=datasets.Features({"id": datasets.Value("string"), "caption": datasets.Value("string"),
                                    "model": datasets.Value("string"), "prompt_id": datasets.Value("string"),
                                    "edited_image": datasets.Image()}),
    )
    ds = ds.map(lambda x: x)  # embeds the image bytes
    ds.save_to_disk(str(tmp_path / "saved"))
    want = _comparable(_score(judge_server, str(manifest)))
    assert _comparable(_score(judge_server, ds, columns=COLUMNS)) == want
    assert _comparable(_score(judge_server, str(tmp_path / "saved"), columns=COLUMNS)) == want


def test_a_hub_download_folder_its_splits_and_glob_patterns(tmp_path):
    manifest = make_manifest(tmp_path / "m", 6)
    table = _hf_table(manifest)
    hub = tmp_path / "hub"
    (hub / "data").mkdir(parents=True)
    (hub / "README.md").write_text("---\nconfigs: ...\n---\n")
    pq.write_table(table.slice(0, 3), hub / "data" / "train-00000-of-00002.parquet")
    pq.write_table(table.slice(3, 2), hub / "data" / "train-00001-of-00002.parquet")
    assert [s.id for s in jk.load_samples(hub, columns=COLUMNS)] == ["s0", "s1", "s2", "s3", "s4"]
    pq.write_table(table.slice(5), hub / "data" / "test-00000-of-00001.parquet")
    with pytest.raises(DataError, match=r"several splits; pass one of: .*data/test-\*\.parquet, .*data/train-\*\.parquet"):
        jk.load_samples(hub, columns=COLUMNS)
    train = jk.load_samples(str(hub / "data" / "train-*.parquet"), columns=COLUMNS)
    assert [s.id for s in train] == ["s0", "s1", "s2", "s3", "s4"]
    assert [s.id for s in jk.load_samples(str(hub / "data" / "test-*.parquet"), columns=COLUMNS)] == ["s5"]
    with pytest.raises(DataError, match="no Parquet file matches"):
        jk.load_samples(str(hub / "data" / "validation-*.parquet"))
