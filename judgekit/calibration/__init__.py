"""How far to trust a judge: its scores against human labels.

- ``scores``: per-sample scores from results files, metric files or records;
- ``labels``: human labels in any column layout, and the label sets that ship with judgekit;
- ``join``: scorers and labels on the same items, every unmatched row counted;
- ``report``: ``calibrate`` -> agreement with CIs, the human ceiling, baselines side by side;
- ``pairwise``: pairwise (A/B/tie) labels -> tie-aware pairwise accuracy next to the human figure;
- ``compare``: several judges ranked on the same labels, with a paired test of the top two;
- ``maps``: calibration maps (isotonic, ordinal) from judge scores to the human scale;
- ``ppi``: prediction-powered estimates of model means and win rates.
"""

from __future__ import annotations

from .compare import Comparison, compare_judges
from .labels import HumanLabels, builtin_labels, load_human_labels
from .maps import CalibrationMap, apply_calibration, fit_map, load_map
from .pairwise import PairwiseCalibration, calibrate_pairwise
from .ppi import PPIReport, prediction_powered
from .report import CalibrationReport, calibrate
from .scores import Scores, load_scores

__all__ = [
    "CalibrationMap",
    "CalibrationReport",
    "Comparison",
    "HumanLabels",
    "PPIReport",
    "PairwiseCalibration",
    "Scores",
    "apply_calibration",
    "builtin_labels",
    "calibrate",
    "calibrate_pairwise",
    "compare_judges",
    "fit_map",
    "load_human_labels",
    "load_map",
    "load_scores",
    "prediction_powered",
]
