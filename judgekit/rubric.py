"""Rubric files: the YAML schema, loading by built-in name or path, and validation errors that
name the file, the field and what was expected.

A rubric says what the judge looks at (``inputs``), on which scale it scores (``scale``), which
criteria it scores separately (``dimensions``), with which prompt template, and how dimension
scores combine into one overall number (``combine``)::

    >>> r = load_rubric("viescore-t2i")
    >>> [d.name for d in r.dimensions]
    ['semantic_consistency', 'naturalness', 'artifacts']
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from .errors import InputError, RubricError
from .kinds import known_kinds
from .resources import data_dir

_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: float = 0
    max: float = 10
    integer: bool = True
    #: Optional anchor descriptions shown to the judge, e.g. {1: "unrelated", 5: "exact"}.
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if not self.min < self.max:
            raise InputError(f"min ({self.min}) must be below max ({self.max})")
        return self


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    criteria: str = Field(min_length=1, description="what the judge checks, in plain words")
    group: str | None = None  # VIEScore: "SC" or "PQ"
    template: str | None = None  # overrides the rubric's template for this dimension
    inputs: list[str] | None = None  # overrides the rubric's inputs (e.g. PQ needs no prompt)


class Combine(BaseModel):
    """How dimension scores become ``overall``.

    - ``viescore``: sqrt(min(group SC) * min(group PQ)), VIEScore's overall on the same scale.
    - ``mean`` / ``min``: of all dimensions; ``weighted_mean``: with ``weights``.
    - ``single``: the only dimension's score; ``none``: no overall.
    A sample with any failed dimension gets ``overall = null``: never a partial guess.
    """

    model_config = ConfigDict(extra="forbid")

    rule: Literal["viescore", "mean", "min", "weighted_mean", "single", "none"] = "mean"
    weights: dict[str, float] = Field(default_factory=dict)


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    version: str = "1"
    kind: str = "pointwise"
    description: str = ""
    inputs: list[str] = Field(default_factory=lambda: ["prompt", "image"])
    scale: Scale = Field(default_factory=Scale)
    template: str = "pointwise.j2"
    #: "dimension": one call per dimension (isolated criteria, the default); "all": one call
    #: returns every dimension (cheaper, less isolated).
    per_call: Literal["dimension", "all"] = "dimension"
    dimensions: list[Dimension] = Field(default_factory=list)
    combine: Combine = Field(default_factory=Combine)
    max_tokens: int = Field(1024, gt=0)
    #: Settings of a particular kind (question files, answer mode, merge rule, ...).
    options: dict[str, Any] = Field(default_factory=dict)

    _source: str = PrivateAttr(default="<memory>")
    _text: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Rubric:
        # parse_rubric runs these rules itself, on the raw data, so that a file's field errors
        # and rule errors are reported together; a Rubric built in Python gets them here.
        if not (info.context or {}).get("rules_checked"):
            problems = rule_problems(self.model_dump())
            if problems:
                raise InputError("; ".join(f"{where}: {msg}" for where, msg in problems))
        return self

    @property
    def source(self) -> str:
        """The file the rubric came from (for error messages and provenance)."""
        return self._source

    @property
    def base_dir(self) -> Path | None:
        p = Path(self._source)
        return p.parent if p.exists() else None

    def hash(self) -> str:
        """Content hash of the rubric's meaning (not of its whitespace)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def groups(self) -> dict[str, list[Dimension]]:
        """Group name -> its dimensions, in rubric order (VIEScore: SC and PQ)."""
        out: dict[str, list[Dimension]] = {}
        for d in self.dimensions:
            if d.group is not None:
                out.setdefault(d.group, []).append(d)
        return out

    def group_scores(self, scores: Mapping[str, float | None]) -> dict[str, float | None]:
        """Each group's score: the worst (min) of its dimensions, as VIEScore combines them;
        ``None`` for a group with a failed dimension. Empty for a rubric without groups."""
        out: dict[str, float | None] = {}
        for g, dims in self.groups().items():
            vals = [scores.get(d.name) for d in dims]
            known = [v for v in vals if v is not None]
            out[g] = float(min(known)) if len(known) == len(vals) else None
        return out

    def combine_scores(self, scores: Mapping[str, float | None]) -> float | None:
        """Apply the combination rule; ``None`` when any dimension is missing."""
        known = {k: v for k, v in scores.items() if v is not None}
        if any(d.name not in known for d in self.dimensions) or not self.dimensions:
            return None
        rule = self.combine.rule
        vals = [known[d.name] for d in self.dimensions]
        if rule == "none":
            return None
        if rule == "single":
            return float(vals[0])
        if rule == "mean":
            return float(sum(vals) / len(vals))
        if rule == "min":
            return float(min(vals))
        if rule == "weighted_mean":
            w = self.combine.weights
            total = sum(w[d.name] for d in self.dimensions)
            return float(sum(w[d.name] * known[d.name] for d in self.dimensions) / total)
        # viescore: geometric mean of the worst semantic and the worst perceptual sub-score.
        sc = min(known[d.name] for d in self.dimensions if d.group == "SC")
        pq = min(known[d.name] for d in self.dimensions if d.group == "PQ")
        return float(math.sqrt(max(sc - self.scale.min, 0) * max(pq - self.scale.min, 0)) + self.scale.min)


def _number(value: Any, default: float) -> float | None:
    if value is None:
        return default
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def rule_problems(data: Any) -> list[tuple[str, str]]:
    """The rules between fields, as ``(field, message)`` pairs, every one that is broken.

    They read the raw mapping defensively (a field of the wrong type is left to the field
    validation, which reports it beside these), so one pass over a file finds all its errors."""
    if not isinstance(data, dict):
        return []
    out: list[tuple[str, str]] = []
    raw_dims = data.get("dimensions")
    dims: list[dict[str, Any]] = [d for d in raw_dims if isinstance(d, dict)] if isinstance(raw_dims, list) else []
    names: list[str] = [d["name"] for d in dims if isinstance(d.get("name"), str)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        out.append(("dimensions", f"dimension names must be unique; repeated: {dupes}"))

    raw_combine = data.get("combine")
    combine: dict[str, Any] = raw_combine if isinstance(raw_combine, dict) else {}
    rule = combine.get("rule", "mean")
    raw_weights = combine.get("weights")
    weights: dict[Any, Any] = raw_weights if isinstance(raw_weights, dict) else {}
    if rule == "viescore" and not {"SC", "PQ"} <= {d.get("group") for d in dims}:
        out.append(("combine.rule", "rule 'viescore' needs dimensions with group SC and group PQ"))
    if rule == "single" and len(dims) != 1:
        out.append(("combine.rule", f"rule 'single' needs exactly one dimension, the rubric has {len(dims)}"))
    unknown = sorted(str(k) for k in weights if k not in names)
    if unknown:
        out.append(("combine.weights", f"weights for dimensions that do not exist: {unknown} (dimensions: {names})"))
    if weights and rule != "weighted_mean":
        out.append(("combine.weights", f"weights are used only by rule 'weighted_mean', not {rule!r}"))
    if rule == "weighted_mean":
        missing = sorted(set(names) - set(weights))
        if missing:
            out.append(("combine.weights", f"rule 'weighted_mean' needs a weight for every dimension; missing {missing}"))
        vals = [v for v in weights.values() if isinstance(v, int | float)]
        if any(v < 0 for v in vals) or (vals and not sum(vals) > 0):
            out.append(("combine.weights", "weights must be non-negative with a positive sum"))

    raw_scale = data.get("scale")
    scale: dict[str, Any] = raw_scale if isinstance(raw_scale, dict) else {}
    lo, hi = _number(scale.get("min"), 0.0), _number(scale.get("max"), 10.0)
    raw_labels = scale.get("labels")
    labels: dict[Any, Any] = raw_labels if isinstance(raw_labels, dict) else {}
    if lo is not None and hi is not None:
        for key in labels:
            try:
                v = float(key)
            except (TypeError, ValueError):
                continue  # not a number: the field validation says so
            if not lo <= v <= hi:
                out.append((f"scale.labels.{key}", f"label for {key} is outside the scale [{lo:g}, {hi:g}]"))

    if data.get("per_call") == "all":
        kind = data.get("kind", "pointwise")
        if kind != "pointwise":
            out.append(("per_call", f"per_call applies to pointwise rubrics; kind {kind!r} plans its own calls"))
        for i, d in enumerate(dims):
            if d.get("template"):
                out.append((f"dimensions.{i}.template", f"dimension {d.get('name')!r} sets its own template, "
                            "which per_call: all cannot use (one call renders the rubric's template)"))
    return out


def _format_validation_error(source: str, err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        got = e.get("input")
        got_s = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{source}: field '{where}': {e['msg']}{got_s}")
    return lines


def rubric_report(text: str, source: str = "<memory>") -> tuple[Rubric | None, list[str]]:
    """Parse rubric YAML text into ``(rubric, problems)``: every field error and every broken
    rule, one line each naming ``source`` and the field. ``rubric`` is built whenever the fields
    themselves are valid (even if rules are broken), so further checks can run on it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [f"{source}: not valid YAML: {exc}"]
    if not isinstance(data, dict):
        return None, [f"{source}: expected a mapping of rubric fields at the top level"]
    problems = [f"{source}: field '{where}': {msg}" for where, msg in rule_problems(data)]
    version = data.get("version")
    if isinstance(version, int | float) and not isinstance(version, bool):
        # Refused, not converted: YAML reads `version: 1.10` as the number 1.1, so a number
        # cannot be turned back into the version the author wrote.
        problems.append(f"{source}: field 'version': write the version as a string, e.g. version: \"{version}\" "
                        f"(numbers are refused, not converted: YAML reads 1.10 as 1.1)")
        data = {k: v for k, v in data.items() if k != "version"}
    rubric = None
    try:
        rubric = Rubric.model_validate(data, context={"rules_checked": True})
    except ValidationError as exc:
        problems[:0] = _format_validation_error(source, exc)
    kind = data.get("kind", "pointwise")
    if isinstance(kind, str) and kind not in known_kinds():
        problems.append(f"{source}: field 'kind': {kind!r} is not one of {known_kinds()}")
        rubric = None
    if rubric is not None:
        rubric._source, rubric._text = source, text
    return rubric, problems


def parse_rubric(text: str, source: str = "<memory>") -> Rubric:
    """Parse rubric YAML text; errors name ``source`` and the offending field, all of a file's
    errors in one ``RubricError`` (one per line)."""
    rubric, problems = rubric_report(text, source)
    if problems or rubric is None:
        raise RubricError("\n".join(problems))
    return rubric


def builtin_rubrics() -> dict[str, Path]:
    """Built-in rubric name -> file."""
    return {p.stem: p for p in sorted(data_dir("rubrics").glob("*.yaml"))}


def load_rubric(name_or_path: str | Path | Rubric) -> Rubric:
    """Load a built-in rubric by name (``"viescore-t2i"``) or a rubric file by path."""
    if isinstance(name_or_path, Rubric):
        return name_or_path
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise RubricError(f"rubric file {str(path)!r} does not exist")
        return parse_rubric(path.read_text(encoding="utf-8"), str(path))
    builtins = builtin_rubrics()
    if str(name_or_path) not in builtins:
        raise RubricError(
            f"no built-in rubric named {str(name_or_path)!r}; built-ins: {sorted(builtins)} "
            "(or give a path to a .yaml file)"
        )
    p = builtins[str(name_or_path)]
    return parse_rubric(p.read_text(encoding="utf-8"), str(p))
