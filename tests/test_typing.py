"""The typed public API: judgekit ships ``py.typed``, every public function and method is fully
annotated, the synchronous twins have their coroutine's signature, and the lazily imported metric
names are visible to type checkers. (mypy itself runs in `make test`, see pyproject.toml.)"""

import ast
import importlib.resources
import inspect
from pathlib import Path

import pytest

import judgekit as jk
import judgekit.calibration
import judgekit.metrics
from judgekit.questions import generate

PUBLIC = [(jk, name) for name in jk.__all__] + [(judgekit.calibration, name) for name in judgekit.calibration.__all__]


def test_package_ships_py_typed():
    assert importlib.resources.files("judgekit").joinpath("py.typed").is_file()


def _missing_annotations(fn) -> list[str]:
    sig = inspect.signature(fn)
    missing = [p.name for p in sig.parameters.values() if p.name not in ("self", "cls") and p.annotation is p.empty]
    if sig.return_annotation is sig.empty and fn.__name__ != "__init__":
        missing.append("return")
    return missing


def _callables(obj):
    """The function itself, or a class's own public methods (and __init__) defined in judgekit."""
    if inspect.isfunction(obj):
        yield obj.__name__, obj
    elif inspect.isclass(obj) and obj.__module__.startswith("judgekit"):
        for name, member in vars(obj).items():
            fn = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
            if inspect.isfunction(fn) and (not name.startswith("_") or name == "__init__"):
                yield f"{obj.__name__}.{name}", fn


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=[f"{m.__name__}.{n}" for m, n in PUBLIC])
def test_public_api_is_annotated(module, name):
    obj = getattr(module, name)
    gaps = {label: miss for label, fn in _callables(obj) if (miss := _missing_annotations(fn))}
    assert not gaps, f"unannotated: {gaps}"


def test_annotation_check_finds_a_gap():
    # the check above must be able to fail
    def untyped(x, y: int):
        return x

    assert _missing_annotations(untyped) == ["x", "return"]


@pytest.mark.parametrize(
    ("twin", "coroutine"),
    [(jk.score, jk.score_async), (jk.generate_questions, generate.generate_questions_async)],
    ids=["score", "generate_questions"],
)
def test_sync_twin_has_its_coroutines_signature(twin, coroutine):
    assert inspect.signature(twin) == inspect.signature(coroutine)
    assert twin.__name__ != coroutine.__name__  # the twin keeps its own name and docstring
    assert twin.__doc__ != coroutine.__doc__


def test_lazy_metric_names_are_visible_to_type_checkers():
    """Every name ``judgekit.metrics`` resolves lazily is also imported, from the same module,
    under ``if TYPE_CHECKING:``, so a type checker sees the real function instead of Any."""
    init = Path(judgekit.metrics.__file__)
    tree = ast.parse(init.read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    declared = {a.name: imp.module for imp in block.body if isinstance(imp, ast.ImportFrom) for a in imp.names}
    assert declared == judgekit.metrics._EXPORTS
