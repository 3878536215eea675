"""The shape of the package: no import cycles between modules, and every module small enough to
read in one sitting. (The layers between packages are import-linter contracts in pyproject.toml,
run by `make test`.)"""

from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "judgekit"


def _cycle(graph, root: Path) -> list[str]:
    """One import cycle among the modules under ``root`` (package ``__init__`` re-exports
    excluded, since a package importing its own submodules is not a cycle of concepts), or []."""
    inits = {m for m in graph.modules if (root.parent / m.replace(".", "/") / "__init__.py").exists()}
    deps = {m: {d for d in graph.find_modules_directly_imported_by(m) if d not in inits}
            for m in graph.modules if m not in inits}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str]:
        state[m] = 1
        path.append(m)
        for d in sorted(deps.get(m, ())):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state and (found := visit(d)):
                return found
        state[m] = 2
        path.pop()
        return []

    for m in sorted(deps):
        if m not in state and (found := visit(m)):
            return found
    return []


def test_no_import_cycles():
    cycle = _cycle(grimp.build_graph("judgekit"), PACKAGE)
    assert not cycle, " -> ".join(cycle)


def test_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    # The check above must be able to fail: build a package with a cycle and find it.
    pkg = tmp_path / "cyclic_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import y\n\nx = 1\n")
    (pkg / "b.py").write_text("from .a import x\n\ny = 2\n")
    (pkg / "c.py").write_text("from .a import x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycle(grimp.build_graph("cyclic_pkg"), pkg) == ["cyclic_pkg.a", "cyclic_pkg.b", "cyclic_pkg.a"]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 420, "split this module by concept"


def test_public_class_names_are_unique():
    # Two public classes with one name (two ``Estimate``s, two ``Scale``s) make every import a
    # guess; private helpers (leading underscore) are exempt.
    seen: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("class ") and not line.startswith("class _"):
                name = line[6:].split("(")[0].split(":")[0].strip()
                seen.setdefault(name, []).append(str(path.relative_to(PACKAGE)))
    dupes = {k: v for k, v in seen.items() if len(v) > 1}
    assert not dupes, dupes


#: Built-in exceptions judgekit must not raise itself: a caller cannot tell them from a bug, and the
#: CLI shows them as a traceback. judgekit.errors has the types (InputError is a ValueError too).
BARE = ("ValueError", "TypeError")


def _bare_raises(source: str) -> list[int]:
    """Lines of ``source`` that raise a bare ValueError or TypeError (``raise ValueError(...)``,
    ``raise TypeError``); re-raising a caught exception (``raise``, ``raise exc``) is fine."""
    import ast

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id in BARE:
                lines.append(node.lineno)
    return sorted(lines)


def test_no_bare_value_or_type_errors():
    found = [f"{p.relative_to(PACKAGE)}:{line}" for p in sorted(PACKAGE.rglob("*.py"))
             for line in _bare_raises(p.read_text(encoding="utf-8"))]
    assert not found, f"raise judgekit's own errors (judgekit/errors.py) instead of a bare ValueError/TypeError: {found}"


def test_bare_raise_finder_finds_them():
    # The check above must be able to fail.
    src = ("def f(x):\n    if x:\n        raise ValueError('bad')\n    try:\n        pass\n    except ValueError as e:\n"
           "        raise\n    raise TypeError\n\n\ndef g():\n    raise InputError('fine')\n")
    assert _bare_raises(src) == [3, 8]
