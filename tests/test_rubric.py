from pathlib import Path

import pytest

import judgekit as jk
from judgekit.cli import main
from judgekit.errors import RubricError
from judgekit.rubric import builtin_rubrics, parse_rubric


def test_builtins_load_and_validate():
    names = builtin_rubrics()
    assert {"viescore-t2i", "aesthetics-simple"} <= set(names)
    for name in names:
        r = jk.load_rubric(name)
        assert r.name == name, f"{name}: the file name and the rubric name must agree"


def test_viescore_overall_is_geometric_mean_of_worst_sc_and_worst_pq():
    r = jk.load_rubric("viescore-t2i")
    assert r.combine_scores({"semantic_consistency": 9, "naturalness": 4, "artifacts": 6}) == pytest.approx(6.0)
    assert r.combine_scores({"semantic_consistency": 0, "naturalness": 10, "artifacts": 10}) == 0.0
    assert r.combine_scores({"semantic_consistency": 9, "naturalness": None, "artifacts": 6}) is None


@pytest.mark.parametrize(
    "body, field, expected",
    [
        ("name: x\nscale: {min: 5, max: 1}\ndimensions: [{name: a, criteria: c}]", "scale", "below max"),
        ("name: x\ndimensions: [{name: a}]", "dimensions.0.criteria", "Field required"),
        ("name: x\ndimensions: [{name: a, criteria: c}]\ncombine: {rule: median}", "combine.rule", "viescore"),
        ("name: x\nkind: nonsense\ndimensions: [{name: a, criteria: c}]", "kind", "is not one of"),
        ("name: x\ndimensions: [{name: a, criteria: c}, {name: a, criteria: d}]", "dimensions", "unique"),
        ("name: x\ndimensions: [{name: a, criteria: c}]\nbogus: 1", "bogus", "Extra inputs"),
        ("name: x\ndimensions: [{name: a, criteria: c}]\ncombine: {rule: viescore}", "combine.rule", "group SC"),
    ],
)
def test_errors_name_file_field_and_expectation(tmp_path: Path, body, field, expected):
    f = tmp_path / "bad.yaml"
    f.write_text(body)
    with pytest.raises(RubricError) as ei:
        jk.load_rubric(f)
    msg = str(ei.value)
    assert str(f) in msg and f"'{field}'" in msg and expected in msg


def test_not_yaml_and_not_mapping(tmp_path):
    with pytest.raises(RubricError, match="not valid YAML"):
        parse_rubric("name: [unclosed", "x.yaml")
    with pytest.raises(RubricError, match="mapping"):
        parse_rubric("- a\n- b", "x.yaml")


def test_unknown_name_lists_builtins():
    with pytest.raises(RubricError, match="viescore-t2i"):
        jk.load_rubric("no-such-rubric")


def test_hash_tracks_meaning_not_formatting():
    a = parse_rubric("name: x\ndimensions: [{name: a, criteria: c}]")
    b = parse_rubric("name:   x\n\ndimensions:\n  - name: a\n    criteria: c\n")
    c = parse_rubric("name: x\ndimensions: [{name: a, criteria: changed}]")
    assert a.hash() == b.hash() != c.hash()


def test_cli_rubrics_commands(capsys, tmp_path, manifest_factory):
    assert main(["rubrics", "list"]) == 0
    assert "viescore-t2i" in capsys.readouterr().out
    assert main(["rubrics", "show", "aesthetics-simple"]) == 0
    assert "aesthetics" in capsys.readouterr().out
    good = tmp_path / "mine.yaml"
    good.write_text("name: mine\ninputs: [image]\nscale: {min: 1, max: 5}\ndimensions: [{name: look, criteria: nice}]\ncombine: {rule: single}\n")
    assert main(["rubrics", "validate", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndimensions: []\nscale: {min: 3, max: 2}")
    assert main(["rubrics", "validate", str(bad)]) == 2
    assert "scale" in capsys.readouterr().err
    m = manifest_factory(2)
    assert main(["rubrics", "render", "viescore-t2i", "--data", str(m)]) == 0
    out = capsys.readouterr().out
    assert "[image image: image/png" in out and "a red cube number 0" in out and '"reasoning"' in out
