"""What a new user reads first: `rubrics list`, `demo --help`, the README's rubric kinds and the
pair count in docs/pairwise.md, checked against the code they describe."""

import re
from pathlib import Path

import pytest

from judgekit.cli import main
from judgekit.kinds import BUILTIN_KINDS
from judgekit.pairs import plan_pairs
from judgekit.rubric import builtin_rubrics, load_rubric
from judgekit.types import Sample

REPO = Path(__file__).resolve().parents[2]


def test_rubrics_list_wraps_descriptions_at_word_boundaries(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "90")
    assert main(["rubrics", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    indent = lines[0].index("description")
    shown: dict[str, str] = {}
    name = None
    for line in lines[1:]:
        if line[:1] != " ":
            name = line.split()[0]
            shown[name] = line[indent:]
        else:
            shown[name] += " " + line[indent:]
        assert len(line) <= 90
    assert set(shown) == set(builtin_rubrics())
    for rubric, text in shown.items():
        full = " ".join(load_rubric(rubric).description.strip().split("\n\n")[0].split())
        assert text == full  # every word whole, nothing cut off


def test_readme_lists_the_real_rubric_kinds():
    readme = (REPO / "README.md").read_text()
    m = re.search(r"^kind: \w+ +# (.+)$", readme, re.M)
    assert m, "README's rubric example lost its list of kinds"
    assert [k.strip() for k in m.group(1).split("|")] == list(BUILTIN_KINDS)


def test_demo_help_lists_the_files_it_announces(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    before_options = out.split("\noptions:")[0].rstrip()
    assert not before_options.endswith(":")
    for name in ("results.jsonl", "summary.csv", "categories.csv", "questions.csv", "load_report.txt"):
        assert f"- {name}" in out


def _samples(models: int, seeds: int) -> list[Sample]:
    return [Sample(id=f"m{m}-s{s}", prompt="a cat", prompt_id="p0", image=f"m{m}s{s}.png", model=f"m{m}")
            for m in range(models) for s in range(seeds)]


def test_pairs_per_prompt_as_docs_pairwise_says():
    doc = " ".join((REPO / "docs" / "pairwise.md").read_text().split())
    assert "3 models with 2 seeds each give 12 pairs" in doc
    assert len(plan_pairs(_samples(3, 2), "all").pairs) == 12
    for n, s in ((2, 1), (4, 1), (3, 3), (5, 2)):
        assert len(plan_pairs(_samples(n, s), "all").pairs) == s * s * n * (n - 1) // 2
