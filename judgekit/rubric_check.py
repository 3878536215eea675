"""``judgekit rubrics validate``: every problem of a rubric file in one pass.

``rubric.parse_rubric`` already refuses broken fields and broken rules between fields (labels off
the scale, weights of dimensions that do not exist, ``version: 1``). What needs the method and
its templates is checked here:

- the method can be built (its options, its templates exist and parse);
- every variable a template reads is one the method gives it (found statically, so a misspelt
  name in a branch the sample would not take is still caught);
- every input is a sample field, or a manifest key a template actually reads;
- rendered against a synthetic sample, each call shows the judge the criteria it scores: one
  dimension's criteria per call, or, with ``per_call: all``, every dimension's in the one call
  (a one-criterion template under ``per_call: all`` would show the judge no criteria at all).
  When another problem stops the render, the same rule is checked on the template's source: a
  template that serves ``per_call: all`` must read ``dimensions``.

Every check runs whatever the others found, so one pass lists every problem: a field that does not
parse is left out (with its dimension, when a dimension lacks its name or criteria) and the checks
that need a built rubric run on the rest.

Questions rubrics get their question file at run time (``--questions``); without one in the
rubric their options and templates are checked, not a render.
"""

from __future__ import annotations

import copy
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import JudgekitError
from .kinds import kind_factory
from .prompts import template_variables
from .rubric import Rubric, builtin_rubrics, rubric_report
from .types import IMAGE_FIELDS, Sample, TextPart

#: Inputs a sample carries by name; any other input is read from the manifest's extra keys.
SAMPLE_INPUTS = tuple(f for f in Sample.model_fields if f not in ("id", "meta"))


@dataclass
class RubricCheck:
    """The rubric (None when its fields do not parse) and every problem found, one line each."""

    rubric: Rubric | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rubric is not None and not self.problems


def check_rubric(name_or_path: str | Path) -> RubricCheck:
    """Check a rubric file (or a built-in rubric by name); never raises for what it checks."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml") and not path.exists():
        builtins = builtin_rubrics()
        if str(name_or_path) not in builtins:
            return RubricCheck(None, [f"no built-in rubric named {str(name_or_path)!r} and no such file; "
                                      f"built-ins: {sorted(builtins)}"])
        path = builtins[str(name_or_path)]
    if not path.is_file():
        return RubricCheck(None, [f"rubric file {str(path)!r} does not exist"])
    text = path.read_text(encoding="utf-8")
    rubric, problems = rubric_report(text, str(path))
    checked = rubric if rubric is not None else _without_broken_fields(text, str(path))
    if checked is not None:
        problems += method_problems(checked)
    return RubricCheck(rubric, problems)


def _without_broken_fields(text: str, source: str) -> Rubric | None:
    """The rubric with the fields that do not parse left out (a dimension that lacks its name or
    criteria left out whole), so the later checks still run; None when nothing usable remains."""
    import yaml
    from pydantic import ValidationError

    from .kinds import known_kinds

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or data.get("kind", "pointwise") not in known_kinds():
        return None
    data = copy.deepcopy(data)
    data["version"] = str(data.get("version", "1"))
    if not isinstance(data.get("name"), str) or not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$", data["name"]):
        data["name"] = "unnamed"
    for _ in range(50):  # each round drops at least one broken field
        try:
            rubric = Rubric.model_validate(data, context={"rules_checked": True})
        except ValidationError as exc:
            if not all(_drop(data, e["loc"], e["type"] == "missing") for e in exc.errors()):
                return None
            continue
        rubric._source, rubric._text = source, text
        return rubric
    return None


def _drop(data: Any, loc: tuple[Any, ...], missing: bool) -> bool:
    """Remove the value at ``loc`` (its container when the value itself is missing); False when
    the broken part is the whole rubric."""
    if missing:
        loc = loc[:-1]
        # A missing field of a dimension: drop the dimension (a list item), not its mapping key.
        while loc and not isinstance(loc[-1], int):
            loc = loc[:-1]
    if not loc:
        return False
    parent = data
    for key in loc[:-1]:
        try:
            parent = parent[key]
        except (KeyError, IndexError, TypeError):
            return True  # already gone with an earlier error's field
    try:
        del parent[loc[-1]]
    except (KeyError, IndexError, TypeError):
        pass
    return True


def _inputs(rubric: Rubric) -> list[tuple[str, str]]:
    out = [(f"inputs.{i}", name) for i, name in enumerate(rubric.inputs)]
    for j, d in enumerate(rubric.dimensions):
        out += [(f"dimensions.{j}.inputs.{i}", name) for i, name in enumerate(d.inputs or [])]
    return out


def method_problems(rubric: Rubric) -> list[str]:
    """What the method and templates of a parsed rubric get wrong (see the module docstring)."""
    src = rubric.source
    try:
        factory = kind_factory(rubric.kind, src)
        method, templates = _method_and_templates(rubric)
    except JudgekitError as exc:
        return str(exc).splitlines()
    problems: list[str] = []
    given = getattr(factory, "template_variables", None)
    used: set[str] = set()
    for t in templates:
        try:
            names = template_variables(t, rubric.base_dir)
        except JudgekitError as exc:
            problems.append(f"{src}: {exc}")
            continue
        used |= names
        if given is None:
            continue  # a third-party kind that does not say what its templates get
        allowed = set(given) | set(SAMPLE_INPUTS) | {name for _, name in _inputs(rubric)}
        for v in sorted(names - allowed):
            problems.append(f"{src}: template {t!r} uses undefined variable {v!r} (a {rubric.kind} template is given: "
                            f"{', '.join(sorted(given))}, and the sample's text inputs)")
    for where, name in _inputs(rubric):
        if name not in SAMPLE_INPUTS and name not in used:
            problems.append(f"{src}: field '{where}': unknown input {name!r}: not a sample field "
                            f"({', '.join(SAMPLE_INPUTS)}) and not read by the template ({', '.join(templates)})")
    if method is not None and rubric.kind in ("pointwise", "pairwise"):
        # The render needs every template variable defined; with other problems, the static check.
        problems += _render_problems(rubric, method) if not problems else _static_call_problems(rubric, templates)
    return problems


def _static_call_problems(rubric: Rubric, templates: list[str]) -> list[str]:
    """The render check's rule read from the templates' sources: a template used for ``per_call:
    all`` reads ``dimensions`` (to show every criterion), one used per dimension reads ``criteria``."""
    need = "dimensions" if rubric.kind == "pointwise" and rubric.per_call == "all" else "criteria"
    problems = []
    for t in templates:
        try:
            names = template_variables(t, rubric.base_dir)
        except JudgekitError:
            continue  # reported already
        if need not in names:
            what = ("cannot serve per_call: all: it does not loop over `dimensions`, so the one call would not show "
                    "the judge the criteria" if need == "dimensions" else "does not read `criteria`, so the judge "
                    "would not be shown the criteria it scores")
            problems.append(f"{rubric.source}: field 'per_call': template {t!r} {what}" if need == "dimensions"
                            else f"{rubric.source}: template {t!r} {what}")
    return problems


def _method_and_templates(rubric: Rubric) -> tuple[Any, list[str]]:
    if rubric.kind == "questions" and not rubric.options.get("questions"):
        from .methods._common import parse_options
        from .methods.questions import QuestionOptions

        opts = parse_options(QuestionOptions, rubric, {})
        template = rubric.template if rubric.template != "pointwise.j2" else "question.j2"
        return None, sorted({template, opts.prob_template})
    from .methods import make_method

    method = make_method(rubric)
    return method, sorted(method.provenance().get("template_hash") or {})


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def synthetic_sample(rubric: Rubric, image_dir: Path) -> Sample:
    """A sample holding every input the rubric names: text as ``<name>``, images as a small PNG."""
    from PIL import Image

    png = image_dir / "synthetic.png"
    Image.new("RGB", (8, 8), (128, 64, 32)).save(png)
    fields: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for _, name in _inputs(rubric):
        if name in IMAGE_FIELDS:
            fields[name] = str(png)
        elif name == "seed":
            fields[name] = 0
        elif name in SAMPLE_INPUTS:
            fields[name] = f"<{name}>"
        else:
            meta[name] = f"<{name}>"
    if rubric.kind == "pairwise":
        fields.setdefault("image_a", str(png))
        fields.setdefault("image_b", str(png))
    return Sample(id="synthetic", meta=meta, **fields)


def _render_problems(rubric: Rubric, method: Any) -> list[str]:
    """Render every call for a synthetic sample and check that each shows its criteria."""
    src = rubric.source
    with tempfile.TemporaryDirectory() as tmp:
        try:
            calls = method.plan(synthetic_sample(rubric, Path(tmp)))
        except JudgekitError as exc:
            return [f"{src}: rendering a synthetic sample failed: {exc}"]
    text = {c.key: _norm(" ".join(p.text for m in c.request.messages for p in m.content if isinstance(p, TextPart)))
            for c in calls}
    problems = []
    if rubric.kind == "pointwise" and rubric.per_call == "all":
        (shown,) = text.values()
        missing = [d.name for d in rubric.dimensions if _norm(d.criteria) not in shown or d.name not in shown]
        if missing:
            problems.append(f"{src}: field 'per_call': template {rubric.template!r} cannot serve per_call: all: the "
                            f"one call does not show the name and criteria of {missing} (a template for all dimensions "
                            f"loops over `dimensions`, as the built-in pointwise.j2 does)")
        return problems
    for d in rubric.dimensions:
        keys = [d.name] if rubric.kind == "pointwise" else [f"{o}:{d.name}" for o in ("AB", "BA")]
        if any(_norm(d.criteria) not in text.get(k, "") for k in keys):
            template = d.template or rubric.template
            problems.append(f"{src}: template {template!r} does not show the judge the criteria of dimension {d.name!r} "
                            f"(per_call: {rubric.per_call} renders `criteria` once per call)")
    return problems
