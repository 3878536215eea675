"""The fenced ``python`` examples of README.md and docs/*.md run, as the docstring examples do
(tests/test_doctests.py): an example that no longer matches the code fails here, not in the hands
of the reader who copies it.

Each example runs in a folder holding the files the docs name (``manifest.jsonl``,
``results.jsonl``, ``judge.jsonl``, ``calibration/``, ...), built once from real data and a local
scripted judge. An example that needs what a test cannot have (a GPU, a model's weights, a
network server) starts with a visible first line ``# not run: <reason>``; it is reported as
skipped with that reason, and its imports are still resolved, so a renamed module or function
fails even there (judgekit's imports: a third-party import may need the very model or library the
example cannot have). An example that takes more than a few seconds starts with ``# slow:
<reason>`` and runs with the ``slow`` tests. The examples of one page run in order in one namespace, as a reader pastes them
into one session. docs/extending.md's examples run in tests/test_extending.py, with the tiny
manifest they assert on.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Pages whose examples another test runs (with the data those examples assert on).
RUN_ELSEWHERE = {"docs/extending.md": "tests/test_extending.py"}
DOCS = [p for p in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
        if str(p.relative_to(ROOT)) not in RUN_ELSEWHERE]
_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
_NOT_RUN = re.compile(r"#\s*not run:\s*(\S.*)")
_SLOW = re.compile(r"#\s*slow:\s*(\S.*)")


def _examples() -> list[tuple[str, str]]:
    out = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for m in _BLOCK.finditer(text):
            line = text.count("\n", 0, m.start()) + 2  # the first line of code
            out.append((f"{path.relative_to(ROOT)}:{line}", m.group(1)))
    return out


EXAMPLES = _examples()


def _parse(code: str, where: str) -> ast.Module:
    # Top-level ``await`` is allowed: examples show ``await jk.score_async(...)`` as in a notebook.
    return compile(code, where, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def _judgekit_import(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "judgekit"
    return isinstance(node, ast.Import) and any(a.name.split(".")[0] == "judgekit" for a in node.names)


def _resolve_imports(tree: ast.Module, where: str) -> None:
    """Run every judgekit import statement of the example (wherever it stands), alone."""
    imports = [n for n in ast.walk(tree) if _judgekit_import(n)]
    for node in imports:
        exec(compile(ast.Module(body=[node], type_ignores=[]), where, "exec"), {})


@pytest.fixture(scope="session")
def doc_world(tmp_path_factory):
    """The files the examples name: a small manifest of real PNGs judged by a local scripted
    server (two models, three prompts, three seeds), and VIEScore's published GPT-4o verdicts on
    ImagenHub's text-guided editing imported as a judge's results."""
    import judgekit as jk
    from judgekit.importers import import_verdicts
    from tests.fixtures_spine import write_png
    from tests.judge_server import JudgeServer

    d = tmp_path_factory.mktemp("doc_world")
    (d / "calibration").symlink_to(ROOT / "calibration")
    rows = []
    for p in range(3):
        for model in ("sdxl", "flux"):
            for seed in range(3):
                img = write_png(d / "img" / f"{model}_{p}_{seed}.png", seed=100 * p + 10 * seed + len(model))
                rows.append({"id": f"{model}-p{p}-s{seed}", "prompt": f"a red cube number {p}", "prompt_id": f"p{p}",
                             "image": f"img/{img.name}", "model": model, "seed": seed})
    (d / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with JudgeServer() as server:
        jk.score("viescore-t2i", d / "manifest.jsonl", backend="openai:judge", base_url=server.url, cache=False,
                 out=d / "results.jsonl")
    judge = import_verdicts("viescore", ROOT / "calibration/imagenhub/viescore_gpt4o_0shot/ImagenHub_Text-Guided_IE")
    judge.save(d / "judge.jsonl")
    judge.save(d / "judge_text.jsonl")
    return d


def test_examples_were_found():
    # The collection itself must be able to fail: the docs do hold examples, in these files.
    names = {where.split(":")[0] for where, _ in EXAMPLES}
    assert len(EXAMPLES) >= 20 and "README.md" in names and "docs/pairwise.md" in names
    assert all((ROOT / t).is_file() for t in RUN_ELSEWHERE.values())


#: One namespace per page: its examples build on each other.
_NAMESPACES: dict[str, dict] = {}


def _first_line(code: str) -> str:
    return code.lstrip().splitlines()[0] if code.strip() else ""


@pytest.mark.parametrize("where,code", [
    pytest.param(w, c, id=w, marks=[pytest.mark.slow] if _SLOW.match(_first_line(c)) else []) for w, c in EXAMPLES
])
def test_doc_example(where, code, doc_world, monkeypatch):
    tree = _parse(code, where)
    _resolve_imports(tree, where)
    reason = _NOT_RUN.match(_first_line(code))
    if reason:
        pytest.skip(f"not run: {reason.group(1)}")
    monkeypatch.chdir(doc_world)
    monkeypatch.setattr("sys.argv", ["example"])
    namespace = _NAMESPACES.setdefault(where.split(":")[0], {"__name__": "__main__"})
    code_obj = compile(tree, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code_obj, namespace)  # an example with top-level await gives a coroutine
    if inspect.iscoroutine(result):
        asyncio.run(result)
