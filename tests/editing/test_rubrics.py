"""The editing rubrics render the images each criterion needs, in order, and combine like
VIEScore (SC and PQ groups; overall sqrt(min SC x min PQ))."""

from __future__ import annotations

import math

import pytest

import judgekit as jk
from judgekit.methods import make_method
from judgekit.types import ImagePart, TextPart
from tests.fixtures_spine import write_png


@pytest.fixture
def subject_sample(tmp_path):
    for i, name in enumerate(("src", "token", "out")):
        write_png(tmp_path / f"{name}.png", i + 1)
    return jk.load_samples([{"id": "s1", "model": "DreamEdit", "source_image": str(tmp_path / "src.png"),
                             "subject_image": str(tmp_path / "token.png"), "image": str(tmp_path / "out.png"),
                             "subject": "pink sunglasses"}])[0]


def _calls(rubric, sample):
    out = {}
    for call in make_method(jk.load_rubric(rubric)).plan(sample):
        parts = call.request.messages[-1].content
        out[call.key] = ([p.label for p in parts if isinstance(p, ImagePart)],
                         "".join(p.text for p in parts if isinstance(p, TextPart)))
    return out


def test_subject_edit_shows_source_token_and_edit(subject_sample):
    calls = _calls("subject-edit", subject_sample)
    assert calls["subject_resemblance"][0] == ["source_image", "subject_image", "image"]
    assert calls["over_editing"][0] == ["source_image", "subject_image", "image"]
    assert '("pink sunglasses")' in calls["subject_resemblance"][1]
    assert calls["naturalness"][0] == ["image"] and calls["artifacts"][0] == ["image"]
    assert "pink sunglasses" not in calls["naturalness"][1]


def test_subject_edit_needs_the_subject_name(subject_sample):
    from judgekit.errors import SampleError

    s = subject_sample.model_copy(update={"meta": {}})
    with pytest.raises(SampleError, match="no 'subject'"):
        make_method(jk.load_rubric("subject-edit")).plan(s)


def test_gedit_edit_criteria_and_combination(tmp_path):
    write_png(tmp_path / "a.png", 1)
    write_png(tmp_path / "b.png", 2)
    s = jk.load_samples([{"id": "g", "source_image": str(tmp_path / "a.png"), "image": str(tmp_path / "b.png"),
                          "instruction": "Remove the dog."}])[0]
    calls = _calls("gedit-edit", s)
    assert list(calls) == ["instruction_success", "over_editing", "naturalness", "artifacts"]
    assert calls["instruction_success"][0] == ["source_image", "image"]
    assert "Remove the dog." in calls["instruction_success"][1] and "look the same" in calls["instruction_success"][1]
    assert calls["artifacts"][0] == ["image"] and "Remove the dog." not in calls["artifacts"][1]
    r = jk.load_rubric("gedit-edit")
    scores = {"instruction_success": 8, "over_editing": 3, "naturalness": 9, "artifacts": 6}
    assert r.group_scores(scores) == {"SC": 3.0, "PQ": 6.0}
    assert r.combine_scores(scores) == pytest.approx(math.sqrt(18))
