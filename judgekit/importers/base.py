"""The importer registry and what every importer shares: turning one item's per-group score
lists, as a published judge recorded them, into a judgekit result record.

A published judge often answers several of a rubric's dimensions in one call and records them as
a list (VIEScore: ``SC = [editing success, over-editing]``). :func:`group_record` maps such lists
onto the rubric's dimensions of that group, in rubric order, validates every number against the
rubric's scale (no clamping, no rounding), and records anything that does not fit as a failed
record with the reason. It never invents a score.

It follows the published judges' own reading where that is lenient on form only: a bare number
is a one-element list (VIEScore's parser stores a reply ``7`` as ``[7]``), and a value between the
whole numbers of an integer scale (a half point, ``8.5`` on 0-10) is kept as written and listed
in the record's ``details.off_grid`` ({dimension: value}), since the judge did give that score. What
is wrong in content stays a failure: a value off the scale, a list of the wrong length, a value
that is not a number.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..errors import ConfigError, VerdictParseError
from ..rubric import Rubric
from ..types import Result
from ..verdict import validate_score

#: Importer name -> module path (imported lazily; each module exposes ``import_dir``).
_IMPORTERS: dict[str, str] = {
    "viescore": "judgekit.importers.viescore",
    "gedit": "judgekit.importers.gedit",
}


def register_importer(name: str, module: str) -> None:
    """Register a format: ``module`` has ``import_dir(path, rubric, **options) -> Imported``."""
    _IMPORTERS[name] = module


def known_importers() -> list[str]:
    return sorted(_IMPORTERS)


def get_importer(name: str) -> Callable[..., Imported]:
    if name not in _IMPORTERS:
        raise ConfigError(f"no importer named {name!r}; known: {known_importers()}")
    return importlib.import_module(_IMPORTERS[name]).import_dir


def default_rubric(name: str, path: Any) -> str:
    """The rubric importer ``name`` lays ``path`` out by when none is given: the module's
    ``default_rubric(path)`` (or its ``DEFAULT_RUBRIC``)."""
    get_importer(name)  # an unknown name is the same error
    module = importlib.import_module(_IMPORTERS[name])
    if hasattr(module, "default_rubric"):
        return str(module.default_rubric(path))
    if hasattr(module, "DEFAULT_RUBRIC"):
        return str(module.DEFAULT_RUBRIC)
    raise ConfigError(f"importer {name!r} has no default rubric; pass one (--rubric)")


@dataclass
class Imported:
    """The records of an import plus a short account of what was read."""

    records: list[Result]
    source: str
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.records if r.status == "failed"]


@dataclass
class GroupEntry:
    """One group's recorded verdict for one item: the score list (anything, as read) and the
    judge's reasoning; ``missing`` says why there is no entry at all."""

    scores: Any = None
    reasoning: str | None = None
    missing: str | None = None
    raw: Any = None  # the entry as read, kept on failed records (minus bulky prompt text)


def require_groups(rubric: Rubric, groups: tuple[str, ...]) -> None:
    loose = [d.name for d in rubric.dimensions if d.group is None]
    if loose:
        raise ConfigError(
            f"rubric {rubric.name!r}: dimension(s) {loose} belong to no group; an imported verdict fills a "
            "rubric's dimensions group by group, so every dimension needs one"
        )
    have = rubric.groups()
    lacking = [g for g in groups if g not in have]
    if lacking:
        raise ConfigError(
            f"rubric {rubric.name!r} has no dimension group(s) {lacking} (its groups: {sorted(have)}); "
            "the imported lists map onto a rubric's group dimensions in order"
        )


def import_provenance(rubric: Rubric, importer: str, source: str, **extra: Any) -> dict[str, Any]:
    """Provenance of an imported record: the rubric whose layout it follows, and where the
    verdicts came from (the judge itself is not judgekit's: no backend, no decoding)."""
    from .._version import __version__

    return {
        "kind": rubric.kind,
        "rubric": rubric.name,
        "rubric_version": rubric.version,
        "rubric_hash": rubric.hash(),
        "imported": {"importer": importer, "source": source, **extra},
        "judgekit_version": __version__,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def group_record(
    rubric: Rubric,
    entries: Mapping[str, GroupEntry],
    *,
    sample_id: str,
    prompt_id: str | None,
    model: str | None,
    meta: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
) -> Result:
    """One result from one item's group entries (``{"SC": GroupEntry, "PQ": GroupEntry}``).

    Every problem of every group is collected, so a failed record says all that is wrong with
    the item, and the groups that are fine keep their scores (as a live run keeps the dimensions
    that parsed)."""
    scores: dict[str, float | None] = {}
    reasoning: dict[str, str] = {}
    errors: list[str] = []
    raw: dict[str, Any] = {}
    off_grid: dict[str, float] = {}
    for group, dims in rubric.groups().items():
        e = entries.get(group) or GroupEntry(missing=f"no {group} entry")
        values, why = _group_values(e, len(dims), rubric)
        if why:
            errors.append(f"{group}: {why}")
            if e.raw is not None:
                raw[group] = e.raw
        for i, d in enumerate(dims):
            scores[d.name] = values[i] if values else None
            if values and e.reasoning is not None:
                reasoning[d.name] = e.reasoning
            if values and rubric.scale.integer and not float(values[i]).is_integer():
                off_grid[d.name] = values[i]
    ok = not errors
    details: dict[str, Any] = {"raw_entries": raw} if raw else {}
    if off_grid:
        details["off_grid"] = off_grid
    return Result(
        sample_id=sample_id,
        prompt_id=prompt_id,
        model=model,
        rubric=rubric.name,
        status="ok" if ok else "failed",
        scores=scores,
        groups=rubric.group_scores(scores),
        overall=rubric.combine_scores(scores) if ok else None,
        reasoning=reasoning,
        error="; ".join(errors) or None,
        details=details,
        meta=dict(meta or {}),
        provenance=dict(provenance or {}),
    )


def _group_values(e: GroupEntry, n: int, rubric: Rubric) -> tuple[list[float] | None, str | None]:
    if e.missing:
        return None, e.missing
    s = e.scores
    if isinstance(s, int | float) and not isinstance(s, bool):
        s = [s]  # a bare number is a one-element list, as the published parser reads it
    if not isinstance(s, list):
        return None, f"score is not a list ({type(s).__name__} {s!r})"
    if len(s) != n:
        return None, f"score list has {len(s)} value(s), the rubric's group has {n} dimension(s) ({s!r})"
    # On the scale's range, whole or not: a half point is kept (and marked off the grid by the caller).
    continuous = rubric.scale.model_copy(update={"integer": False})
    out = []
    for i, v in enumerate(s):
        try:
            out.append(validate_score(v, continuous))
        except VerdictParseError as exc:
            return None, f"value {i + 1}: {exc.reason}"
    if e.reasoning is not None and not isinstance(e.reasoning, str):
        return None, f"reasoning is not a string ({type(e.reasoning).__name__})"
    return out, None
