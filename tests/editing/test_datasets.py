"""Editing benchmark loaders (GEdit-Bench, ImgEdit single-turn, ImagenHub task folders) on
fixtures in each benchmark's published layout, and the manifests they write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.datasets.gedit import load_gedit
from judgekit.datasets.imagenhub_tasks import load_imagenhub_task
from judgekit.datasets.imgedit import load_imgedit
from judgekit.editing import write_manifest
from judgekit.errors import DataError
from judgekit.types import IMAGE_FIELDS

DATA = Path(__file__).parent.parent / "data" / "editing"


def test_gedit_rows_models_languages_and_paths():
    s = load_gedit(DATA / "gedit" / "gedit_rows.jsonl", DATA / "gedit" / "results")
    assert len(s) == 8
    ids = [x.id for x in s]
    assert ids[:4] == ["a1f3:en:EditorA", "a1f3:en:EditorB", "a1f3:zh:EditorA", "a1f3:zh:EditorB"]
    zh = s[2]
    assert zh.prompt_id == "a1f3" and zh.model == "EditorA" and zh.instruction == "把背景换成海滩。"
    assert zh.task_type == "background_change" and zh.instruction_language == "zh"
    assert zh.image.endswith("EditorA/fullset/background_change/cn/a1f3.png") and Path(zh.image).is_file()
    assert zh.source_image.endswith("cn/a1f3_SRCIMG.png") and Path(zh.source_image).is_file()
    assert {x.meta["intersection"] for x in s if x.prompt_id == "b702"} == {False}


def test_gedit_intersection_inputs_only_and_errors(tmp_path):
    inter = load_gedit(DATA / "gedit" / "gedit_rows.jsonl", DATA / "gedit" / "results", models=["EditorB"],
                       subset="intersection")
    assert [x.id for x in inter] == ["a1f3:en:EditorB", "a1f3:zh:EditorB", "c9e0:en:EditorB"]
    inputs = load_gedit(DATA / "gedit" / "gedit_rows.jsonl")
    assert [x.id for x in inputs] == ["a1f3:en", "a1f3:zh", "b702:en", "c9e0:en"]
    assert all(x.image is None and x.model is None for x in inputs)
    with pytest.raises(DataError, match="no MODEL/fullset/ folder"):
        load_gedit(DATA / "gedit" / "gedit_rows.jsonl", DATA / "gedit" / "results", models=["Nope"])
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"key": "k", "task_type": "color_alter", "instruction": "x", "instruction_language": "fr"}\n')
    with pytest.raises(DataError, match=r"rows.jsonl:1: instruction_language 'fr'"):
        load_gedit(bad)
    bad.write_text('{"key": "k", "instruction": "x"}\n')
    with pytest.raises(DataError, match=r"lacks \['task_type', 'instruction_language'\]"):
        load_gedit(bad)


def test_imgedit_categories_and_a_missing_output():
    s = load_imgedit(DATA / "imgedit" / "basic_edit.json", DATA / "imgedit" / "origin", DATA / "imgedit" / "results")
    assert [x.id for x in s] == ["1082:EditorA", "1082:EditorB", "673:EditorA", "673:EditorB", "97:EditorA", "97:EditorB"]
    first = s[0]
    assert first.task_type == "alter" and first.instruction_language == "en"
    assert first.source_image.endswith("origin/animal/000342021.jpg") and Path(first.source_image).is_file()
    assert first.image.endswith("results/EditorA/1082.png")
    # EditorB never produced key 97: the sample is kept (it fails when judged, with the path).
    assert s[-1].image.endswith("EditorB/97.png") and not Path(s[-1].image).exists()
    only = load_imgedit(DATA / "imgedit" / "basic_edit.json", DATA / "imgedit" / "origin",
                        {"mine": DATA / "imgedit" / "results" / "EditorA"})
    assert {x.model for x in only} == {"mine"}


def test_imagenhub_mask_task():
    s = load_imagenhub_task(DATA / "imagenhub" / "ImagenHub_Mask-Guided_IE")
    assert [x.id for x in s] == ["sample_100081_1.jpg:Glide", "sample_100081_1.jpg:SDXLInpaint",
                                 "sample_129062_2.jpg:Glide", "sample_129062_2.jpg:SDXLInpaint"]
    x = s[0]
    assert x.task_type == "mask_guided" and x.instruction == "turn the frisbee into a ball"
    assert x.meta["target_local_caption"] == "a ball" and x.meta["task"] == "ImagenHub_Mask-Guided_IE"
    assert Path(x.mask).is_file() and Path(x.source_image).is_file() and Path(x.image).is_file()
    assert x.reference_image is None and x.subject_image is None
    with pytest.raises(DataError, match="no dataset_lookup.json"):
        load_imagenhub_task(DATA / "imagenhub")


def test_manifest_round_trip_keeps_fields_and_meta(tmp_path):
    samples = load_imagenhub_task(DATA / "imagenhub" / "ImagenHub_Mask-Guided_IE")
    out = tmp_path / "sub" / "m.jsonl"
    out.parent.mkdir()
    assert write_manifest(samples, out) == 4
    back = jk.load_samples(out)
    assert [b.model_dump() for b in back] == [s.model_dump() | {k: str(Path(getattr(s, k)).resolve())
                                              for k in IMAGE_FIELDS if getattr(s, k)} for s in samples]
    assert back[0].task_type == "mask_guided"


@pytest.mark.parametrize("argv,n", [
    (["gedit", str(DATA / "gedit" / "gedit_rows.jsonl"), "--results", str(DATA / "gedit" / "results"),
      "--subset", "intersection"], 6),
    (["imgedit", str(DATA / "imgedit" / "basic_edit.json"), "--origin-root", str(DATA / "imgedit" / "origin"),
      "--results", str(DATA / "imgedit" / "results"), "--model", "EditorA"], 3),
    (["imagenhub", str(DATA / "imagenhub" / "ImagenHub_Mask-Guided_IE")], 4),
])
def test_cli_manifest(tmp_path, argv, n):
    out = tmp_path / "m.jsonl"
    assert main(["edit", "manifest", *argv, "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == n and all(Path(x["source_image"]).is_absolute() for x in lines)


def test_cli_manifest_imgedit_needs_origin(tmp_path):
    assert main(["edit", "manifest", "imgedit", str(DATA / "imgedit" / "basic_edit.json"),
                 "--out", str(tmp_path / "m.jsonl")]) == 2


def test_imagenhub_subject_driven_task(tmp_path):
    from PIL import Image

    d = tmp_path / "ImagenHub_Subject-Driven_IE"
    for sub in ("input", "token", "DreamEdit"):
        (d / sub).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(d / sub / "sample_0.jpg")
    (d / "dataset_lookup.json").write_text(json.dumps({"sample_0.jpg": {"subject": "dog6"}}))
    (s,) = load_imagenhub_task(d)
    assert s.id == "sample_0.jpg:DreamEdit" and s.task_type == "subject_driven" and s.instruction is None
    assert s.meta["subject"] == "dog" and s.meta["subject_id"] == "dog6"
    assert s.subject_image.endswith("token/sample_0.jpg") and s.mask is None
    # The subject-driven rubric can render it: three images and the subject's name.
    from judgekit.methods import make_method

    calls = make_method(jk.load_rubric("subject-edit")).plan(s)
    assert len(calls) == 4 and '("dog")' in calls[0].request.messages[-1].text
