"""Fixtures of the labelling tests: campaigns over real manifests, and the browser."""

from __future__ import annotations

import pytest

from judgekit.label import Campaign, LabelStore, Settings, load_label_items
from tests.browser import browser  # noqa: F401  (the headless Chromium fixture)
from tests.label.helpers import RUBRIC_2D, pairwise_manifest, pointwise_manifest


@pytest.fixture
def make_campaign(tmp_path):
    """``make_campaign(mode, k=2, rubric=None, n=5, missing=0)`` -> a Campaign on a fresh database."""
    opened = []

    def make(mode="likert", k=2, rubric=None, n=5, missing=0, db=None, clock=None):
        import judgekit as jk

        if mode == "pairwise":
            man = pairwise_manifest(tmp_path, n)
        else:
            man = pointwise_manifest(tmp_path, n, missing=missing)
        if rubric == "two":
            (tmp_path / "two.yaml").write_text(RUBRIC_2D)
            rubric = str(tmp_path / "two.yaml")
        r = jk.load_rubric(rubric) if rubric else None
        store = LabelStore(db or tmp_path / "labels.sqlite")
        opened.append(store)
        kw = {} if clock is None else {"clock": clock}
        return Campaign(load_label_items(man, mode), store, Settings.from_rubric(mode, r, k=k), str(man), **kw)

    yield make
    for s in opened:
        s.close()
