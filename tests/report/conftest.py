"""Fixtures of the report tests: the results zoo (every rubric kind, judged through the real
spine), a calibration and a leaderboard file written by the real CLI, and the report of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgekit.cli import main
from tests.browser import chromium, chromium_session  # noqa: F401  (fixtures)
from tests.report.zoo import build_zoo, human_labels


@pytest.fixture(scope="session")
def zoo(tmp_path_factory, judge_server_session) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("zoo")
    files = build_zoo(root, judge_server_session)
    labels = human_labels(files["pointwise"], root / "labels.jsonl")
    assert main(["calibrate", "--judge", str(files["pointwise"]), "--human", str(labels), "--bootstrap", "50",
                 "--fit-map", "isotonic", "--map-out", str(root / "map.json"), "--out", str(root / "cal.json")]) == 0
    assert main(["leaderboard", str(files["pairwise"]), "--bootstrap", "50", "--out", str(root / "lb.json")]) == 0
    return {**files, "calibration": root / "cal.json", "leaderboard": root / "lb.json", "root": root}


@pytest.fixture(scope="session")
def zoo_report(zoo):
    """The report of every zoo results file with the calibration and the leaderboard."""
    import judgekit as jk

    kinds = ["pointwise", "editing", "pairwise", "questions", "vqascore", "text-rendering"]
    info = jk.report([zoo[k] for k in kinds], zoo["root"] / "report.html", calibration=zoo["calibration"],
                     leaderboard=zoo["leaderboard"], n_boot=50)
    return info


def page_data(path: Path) -> dict:
    """The JSON blob embedded in a report, parsed."""
    text = Path(path).read_text(encoding="utf-8")
    start = text.index('<script type="application/json" id="jk-data">') + len('<script type="application/json" id="jk-data">')
    return json.loads(text[start:text.index("</script>", start)])


@pytest.fixture(scope="session")
def methods_zoo(tmp_path_factory, judge_server_session) -> dict[str, Path]:
    """Results of the issue-13 methods (seeds, safety, attributes), judged through the real spine."""
    from tests.report.zoo_methods import build_methods_zoo

    root = tmp_path_factory.mktemp("zoo13")
    return {**build_methods_zoo(root, judge_server_session), "root": root}


@pytest.fixture(scope="session")
def methods_report(methods_zoo):
    import judgekit as jk

    files = [methods_zoo[k] for k in ("seeds", "safety", "attributes")]
    return jk.report(files, methods_zoo["root"] / "methods.html", n_boot=50)
