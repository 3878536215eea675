"""The report's header shows the judge card's usage per served model (issue 21, part 2): in a real
headless Chromium, each figure shown equals the card's, and the card's equal what the scripted
server counted (tests/cli/test_cost_served.py recomputes them)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

import judgekit as jk
from judgekit.judge_card import read_card
from tests.browser import console_errors
from tests.cli.test_cost_served import AUG, NOV, expected_per_served, run_priced, serve_snapshots
from tests.report.conftest import page_data
from tests.report.test_report_browser import open_page


def _table(driver) -> list[dict[str, str]]:
    box = driver.find_element(By.CSS_SELECTOR, "#jk-judges details.jk-usage")
    box.find_element(By.TAG_NAME, "summary").click()  # collapsed under the sticky header
    head = [th.text for th in box.find_elements(By.CSS_SELECTOR, "thead th")]
    return [dict(zip(head, (td.text for td in tr.find_elements(By.TAG_NAME, "td"))))
            for tr in box.find_elements(By.CSS_SELECTOR, "tbody tr")]


def test_the_header_usage_table_equals_the_judge_card(chromium, judge_server, manifest_factory, tmp_path, capsys):
    judge_server.script = serve_snapshots
    judge_server.cached_tokens = 40
    assert run_priced(judge_server, manifest_factory(4), tmp_path) == 0
    capsys.readouterr()
    want = expected_per_served(judge_server)
    card = read_card(tmp_path / "r.jsonl")
    info = jk.report(tmp_path / "r.jsonl", tmp_path / "report.html", n_boot=20)
    # The report rebuilds the card from the records: the same usage (only the price file's name,
    # which the records do not carry, is missing).
    shown = page_data(info.path)["judge_card"]["usage"]
    assert shown == {k: v for k, v in card["usage"].items() if k != "prices"}
    open_page(chromium, info.path)
    rows = {r["served model"]: r for r in _table(chromium)}
    assert set(rows) == {AUG, NOV}
    for sid, row in rows.items():
        books = card["usage"]["models"][sid]
        assert int(row["requests"]) == books["charged"]["requests"] == want[sid]["requests"]
        assert int(row["from cache"]) == 0
        assert int(row["prompt tokens"]) == books["charged"]["prompt_tokens"] == want[sid]["prompt_tokens"]
        assert int(row["cached prompt tokens"]) == books["charged"]["cached_tokens"] == want[sid]["cached_tokens"]
        assert int(row["completion tokens"]) == books["charged"]["completion_tokens"] == want[sid]["completion_tokens"]
        assert row["cost"] == f"${books['charged']['cost_usd']:.6f}"
        assert float(row["cost"][1:]) == pytest.approx(want[sid]["cost"], abs=1e-6)
        assert row["cost when first answered"] == "$0.000000"
    summary = chromium.find_element(By.CSS_SELECTOR, "#jk-judges details.jk-usage summary").text
    total = sum(card["usage"]["models"][s]["charged"]["cost_usd"] for s in (AUG, NOV))
    assert f"{sum(w['requests'] for w in want.values())} requests, 2 served model(s), cost ${total:.6f}" in summary
    assert console_errors(chromium) == []
