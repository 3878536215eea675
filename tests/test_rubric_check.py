"""`per_call: all` shows the judge every criterion (issue 15, item 2) and `rubrics validate`
reports every mistake of a file at once, one clear line each (item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import RubricError
from judgekit.rubric import builtin_rubrics
from judgekit.rubric_check import check_rubric

REPO = Path(__file__).resolve().parent.parent
VIESCORE = (REPO / "rubrics" / "viescore-t2i.yaml").read_text()


def _all_rubric(tmp_path: Path, template: str | None = None) -> Path:
    text = VIESCORE.replace("name: viescore-t2i", "name: vs-all") + "per_call: all\n"
    if template:
        text = text.replace("template: pointwise.j2", f"template: {template}")
    p = tmp_path / "vs-all.yaml"
    p.write_text(text)
    return p


def test_per_call_all_shows_every_criterion_and_asks_for_every_dimension(judge_server, manifest_factory, tmp_path):
    rubric = _all_rubric(tmp_path)
    res = jk.score(str(rubric), str(manifest_factory(2)), backend="openai:judge", base_url=judge_server.url, cache=False)
    assert len(judge_server.received) == 2  # one call per sample
    body = judge_server.received[0]
    text = " ".join(p.get("text", "") for m in body["messages"] for p in (m["content"] if isinstance(m["content"], list) else [{"text": m["content"]}]))
    r = jk.load_rubric(rubric)
    for d in r.dimensions:
        assert " ".join(d.criteria.split()) in " ".join(text.split()), d.name
        assert f'"{d.name}"' in text
    assert 'Criterion "":' not in text
    assert "a red cube number 0" in text  # the rubric's inputs: the prompt is shown
    schema = body["response_format"]["json_schema"]["schema"]
    assert list(schema["properties"]) == [d.name for d in r.dimensions] == schema["required"]
    assert all(x.status == "ok" and set(x.scores) == {d.name for d in r.dimensions} for x in res)


def test_per_dimension_prompts_are_unchanged_by_the_all_branch(manifest_factory, capsys):
    # The per-dimension text is what cached answers were keyed on: it must not move.
    assert main(["rubrics", "render", "aesthetics-simple", "--data", str(manifest_factory(1))]) == 0
    out = capsys.readouterr().out
    assert 'Criterion "aesthetics": How visually appealing the image is' in out
    assert "Judge each of these criteria" not in out


def test_validate_refuses_a_one_criterion_template_under_per_call_all(tmp_path, capsys):
    # A one-criterion template (what pointwise.j2 was before per_call: all was served).
    src = ('{% block user %}{{ image("image") }}{% if "prompt" in inputs %}{{ prompt }}{% endif %}\n'
           'Criterion "{{ dimension }}": {{ criteria }}\nAnswer {"reasoning": "...", "score": N}.{% endblock %}')
    (tmp_path / "one.j2").write_text(src)
    rubric = _all_rubric(tmp_path, "one.j2")
    check = check_rubric(rubric)
    assert not check.ok and len(check.problems) == 1
    assert "cannot serve per_call: all" in check.problems[0] and "semantic_consistency" in check.problems[0]
    assert main(["rubrics", "validate", str(rubric)]) == 2
    assert "cannot serve per_call: all" in capsys.readouterr().err
    assert check_rubric(_all_rubric(tmp_path)).ok  # the built-in template serves it


def test_validate_refuses_a_template_that_hides_a_dimensions_criteria(tmp_path):
    (tmp_path / "nocrit.j2").write_text('{% block user %}{{ image("image") }} Rate "{{ dimension }}".{% endblock %}')
    p = tmp_path / "r.yaml"
    p.write_text("name: r\ninputs: [image]\ntemplate: nocrit.j2\nscale: {min: 1, max: 5}\n"
                 "dimensions: [{name: look, criteria: how nice it looks}]\ncombine: {rule: single}\n")
    (problem,) = check_rubric(p).problems
    assert "criteria of dimension 'look'" in problem


BAD = """\
name: bad
version: 1
inputs: [promt, image]
scale:
  min: 1
  max: 5
  labels: {0: off the bottom, 3: fine, 9: off the top}
template: mine.j2
dimensions:
  - {name: look, criteria: how it looks}
combine: {rule: weighted_mean, weights: {look: 1, feel: 2}}
"""


def test_validate_reports_every_problem_of_a_file_at_once(tmp_path, capsys):
    (tmp_path / "mine.j2").write_text(
        '{% block user %}{{ image("image") }} {{ criteria }} {{ dimenison }} {% if "x" in inputs %}{{ scael.max }}{% endif %}'
        '{% endblock %}')
    p = tmp_path / "bad.yaml"
    p.write_text(BAD)
    problems = check_rubric(p).problems
    want = [
        "field 'version': write the version as a string",
        "field 'scale.labels.0': label for 0 is outside the scale [1, 5]",
        "field 'scale.labels.9': label for 9 is outside the scale [1, 5]",
        "field 'combine.weights': weights for dimensions that do not exist: ['feel']",
        "uses undefined variable 'dimenison'",
        "uses undefined variable 'scael'",  # in a branch the render would not take
        "field 'inputs.0': unknown input 'promt'",
    ]
    for w in want:
        assert sum(w in x for x in problems) == 1, (w, problems)
    assert len(problems) == len(want)
    assert all(x.startswith(str(p)) for x in problems)
    assert main(["rubrics", "validate", str(p)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(want) + 1 and err[-1].endswith("7 problem(s)")
    # Loading the file for a run refuses it with the field and rule errors, all in one error.
    with pytest.raises(RubricError) as ei:
        jk.load_rubric(p)
    assert len(str(ei.value).splitlines()) == 4


def test_version_as_a_number_is_refused_with_the_reason(tmp_path):
    p = tmp_path / "v.yaml"
    p.write_text("name: v\nversion: 1.10\ndimensions: [{name: a, criteria: c}]\n")
    with pytest.raises(RubricError, match=r'version: "1.1".*numbers are refused, not converted'):
        jk.load_rubric(p)
    p.write_text('name: v\nversion: "1.10"\ndimensions: [{name: a, criteria: c}]\n')
    assert jk.load_rubric(p).version == "1.10"


@pytest.mark.parametrize("combine, expected", [
    ("{rule: mean, weights: {a: 1}}", "used only by rule 'weighted_mean'"),
    ("{rule: weighted_mean, weights: {a: 0}}", "positive sum"),
])
def test_weights_that_would_be_ignored_or_divide_by_zero(tmp_path, combine, expected):
    p = tmp_path / "w.yaml"
    p.write_text(f"name: w\ndimensions: [{{name: a, criteria: c}}]\ncombine: {combine}\n")
    with pytest.raises(RubricError, match=expected):
        jk.load_rubric(p)


def test_per_call_all_with_dimension_templates_is_refused(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("name: t\nper_call: all\ndimensions: [{name: a, criteria: c, template: x.j2}, {name: b, criteria: d}]\n")
    with pytest.raises(RubricError, match=r"dimensions.0.template.*per_call: all cannot use"):
        jk.load_rubric(p)


def test_every_builtin_rubric_validates(capsys):
    for name, path in builtin_rubrics().items():
        check = check_rubric(path)
        assert check.ok, (name, check.problems)
        assert main(["rubrics", "validate", name]) == 0


def test_a_meta_input_that_the_template_reads_is_known(tmp_path):
    (tmp_path / "cap.j2").write_text('{% block user %}{{ image("image") }} {{ caption }} {{ criteria }}{% endblock %}')
    p = tmp_path / "c.yaml"
    p.write_text("name: c\ninputs: [caption, image]\ntemplate: cap.j2\ndimensions: [{name: a, criteria: matches the caption}]\n")
    assert check_rubric(p).ok


def test_render_of_an_unknown_input_is_one_line_and_exit_2(tmp_path, manifest_factory, capsys):
    p = tmp_path / "t.yaml"
    p.write_text("name: t\ninputs: [promt, image]\ndimensions: [{name: a, criteria: c}]\n")
    assert main(["rubrics", "render", str(p), "--data", str(manifest_factory(1))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'promt'" in err[0] and "Traceback" not in err[0]


def test_per_call_all_system_message_does_not_say_one_criterion_at_a_time(manifest_factory, tmp_path, capsys):
    # Issue 18 item 28: the one call judges every criterion; the per-dimension system text is kept
    # (cached answers of per-dimension runs are keyed on it).
    assert main(["rubrics", "render", str(_all_rubric(tmp_path)), "--data", str(manifest_factory(1))]) == 0
    system = capsys.readouterr().out.split("--- system\n", 1)[1].split("\n--- user", 1)[0]
    assert "one criterion at a time" not in system and "several criteria in one answer" in system
    assert main(["rubrics", "render", "viescore-t2i", "--data", str(manifest_factory(1))]) == 0
    assert "You judge one criterion at a time" in capsys.readouterr().out


def test_validate_reports_an_input_typo_beside_a_field_that_does_not_parse(tmp_path, capsys):
    # Issue 18 item 18: the typo used to appear only once the broken field was fixed.
    p = tmp_path / "r.yaml"
    p.write_text("name: r\ninputs: [promt, image]\nscale: {min: 0, max: ten}\n"
                 "dimensions: [{name: a, criteria: c, bogus: 1}, {name: b}]\n")
    problems = check_rubric(p).problems
    want = ["field 'scale.max'", "field 'dimensions.0.bogus'", "field 'dimensions.1.criteria'",
            "field 'inputs.0': unknown input 'promt'"]
    for w in want:
        assert sum(w in x for x in problems) == 1, (w, problems)
    assert len(problems) == len(want)
    assert main(["rubrics", "validate", str(p)]) == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith("4 problem(s)")


def test_validate_reports_per_call_all_beside_an_undefined_template_variable(tmp_path):
    # Issue 18 item 18: the undefined variable stopped the render that checks per_call: all.
    (tmp_path / "one.j2").write_text('{% block user %}{{ image("image") }} {{ prompt }} "{{ dimension }}": '
                                     '{{ criterria }}{% endblock %}')
    problems = check_rubric(_all_rubric(tmp_path, "one.j2")).problems
    assert len(problems) == 2, problems
    assert "undefined variable 'criterria'" in problems[0]
    assert "field 'per_call'" in problems[1] and "cannot serve per_call: all" in problems[1]
