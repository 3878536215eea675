"""docs/extending.md's examples run, in order, as written: a backend, a rubric kind, a metric,
a statistic and a dataset loader. A change that breaks an extension point breaks this test."""

import json
import re
from pathlib import Path

from judgekit import kinds
from judgekit.backends import _FACTORIES

from .fixtures_spine import write_png

DOC = Path(__file__).resolve().parent.parent / "docs" / "extending.md"


def test_every_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 5, "one example per extension point"
    lines = [{"id": f"s{i}", "prompt": "a red car", "image": str(write_png(tmp_path / f"{i}.png", seed=i)), "model": "m"}
             for i in range(2)]
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    monkeypatch.chdir(tmp_path)
    # The examples register a backend and a kind: take them out again afterwards.
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    monkeypatch.setitem(_FACTORIES, "constant", None)
    namespace: dict = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{DOC.name} example {i + 1}", "exec"), namespace)
    assert "threshold" in kinds.known_kinds()
