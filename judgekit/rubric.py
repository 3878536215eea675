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
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from .errors import RubricError
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
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
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
    def _consistent(self) -> Rubric:
        names = [d.name for d in self.dimensions]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"dimension names must be unique; repeated: {dupes}")
        if self.combine.rule == "viescore":
            groups = {d.group for d in self.dimensions}
            if not {"SC", "PQ"} <= groups:
                raise ValueError("combine rule 'viescore' needs dimensions with group SC and group PQ")
        if self.combine.rule == "weighted_mean":
            missing = sorted(set(names) - set(self.combine.weights))
            if missing:
                raise ValueError(f"combine rule 'weighted_mean' needs a weight for every dimension; missing {missing}")
        if self.combine.rule == "single" and len(names) != 1:
            raise ValueError("combine rule 'single' needs exactly one dimension")
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


def _format_validation_error(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        got = e.get("input")
        got_s = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{source}: field '{where}': {e['msg']}{got_s}")
    return "\n".join(lines)


def parse_rubric(text: str, source: str = "<memory>") -> Rubric:
    """Parse rubric YAML text; errors name ``source`` and the offending field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RubricError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RubricError(f"{source}: expected a mapping of rubric fields at the top level")
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        raise RubricError(_format_validation_error(source, exc)) from None
    if rubric.kind not in known_kinds():
        raise RubricError(f"{source}: field 'kind': {rubric.kind!r} is not one of {known_kinds()}")
    rubric._source, rubric._text = source, text
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
