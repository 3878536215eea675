"""A statistic with its confidence interval, and the plain estimates: Likert means and pass rates.

Every interval judgekit reports is an ``Estimate``: ``value``, ``ci_low``, ``ci_high`` (the names
used in Python, JSON, CSV and printed tables alike), ``n``, the confidence ``level`` and the
``method`` that made the interval. An undefined value or bound is NaN in Python and ``null`` in
JSON (``to_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from ..errors import ConfigError, DataError
from .bootstrap import Groups, bootstrap_ci


def _num(x: Any) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


@dataclass
class Estimate:
    """A point estimate with its confidence interval; ``note`` says why a value is undefined."""

    value: float
    ci_low: float
    ci_high: float
    n: int
    level: float = 0.95
    method: str = ""  # "bootstrap-prompt", "bootstrap-item", "wilson", ...
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: The bootstrap draws (not serialized): same seed and groups give paired draws across scorers.
    replicates: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_interval(cls, value: float, interval: tuple[float, float], n: int, **kw: Any) -> Estimate:
        return cls(float(value), float(interval[0]), float(interval[1]), int(n), **kw)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"value": _num(self.value), "ci_low": _num(self.ci_low), "ci_high": _num(self.ci_high),
                             "n": self.n, "level": self.level}
        if self.method:
            d["method"] = self.method
        if self.note:
            d["note"] = self.note
        d.update(self.extra)
        return d


def likert_mean(
    scores: ArrayLike,
    groups: Groups | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Mean rating with a percentile-bootstrap CI resampling ``groups`` (prompt ids) when given,
    single ratings otherwise.

    >>> e = likert_mean([5, 4, 4, 2, 3, 5], groups=["p1", "p1", "p2", "p2", "p3", "p3"])
    >>> round(e.value, 3), e.method
    (3.833, 'bootstrap-prompt')
    """
    x = np.asarray(scores, dtype=float)
    if x.size == 0:
        raise DataError("likert_mean: no scores")
    if not np.isfinite(x).all():
        raise DataError("likert_mean: scores must be finite numbers (drop failed samples first)")
    method = "bootstrap-prompt" if groups is not None else "bootstrap-item"
    interval = bootstrap_ci(x, groups=groups, n_boot=n_boot, level=level, seed=seed)
    return Estimate.from_interval(x.mean(), interval, x.size, level=level, method=method)


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes in n independent trials.

    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        raise DataError("wilson_interval: n must be positive")
    z = float(norm.ppf(1.0 - (1.0 - level) / 2.0))
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def pass_rate(
    passed: ArrayLike,
    groups: Groups | None = None,
    *,
    method: str = "bootstrap",
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Share of items that pass, with a CI named by ``method``: ``bootstrap`` (resamples
    ``groups`` when given) or ``wilson`` (treats every item as independent, so it refuses
    ``groups``: with several images per prompt use the bootstrap).

    >>> round(pass_rate([1, 1, 0, 1, 1, 1, 1, 0, 1, 1], method="wilson").ci_low, 4)
    0.4902
    """
    x = np.asarray(passed, dtype=float)
    if x.size == 0:
        raise DataError("pass_rate: no items")
    if not np.isin(x, (0.0, 1.0)).all():
        raise DataError("pass_rate: every item must be pass (1/True) or fail (0/False)")
    if method == "wilson":
        if groups is not None:
            raise ConfigError("pass_rate: the Wilson interval assumes independent items; use method='bootstrap' with groups")
        return Estimate.from_interval(x.mean(), wilson_interval(int(x.sum()), x.size, level), x.size,
                                      level=level, method="wilson")
    if method != "bootstrap":
        raise ConfigError(f"pass_rate: method must be 'bootstrap' or 'wilson', not {method!r}")
    return likert_mean(x, groups, n_boot=n_boot, level=level, seed=seed)
