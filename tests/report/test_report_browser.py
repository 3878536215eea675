"""The report in a real headless Chromium: it renders every plot without a console error, pages,
filters, sorts and searches, keeps untrusted text as text, and opens deep links."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

import judgekit as jk
from tests.browser import console_errors
from tests.report.conftest import page_data
from tests.report.zoo import XSS, XSS_REASONING


def renders(d) -> int:
    return int(d.execute_script("return Number(document.body && document.body.dataset.renders) || 0"))


def wait_render(d, before: int, timeout: float = 15) -> None:
    WebDriverWait(d, timeout).until(lambda drv: renders(drv) > before)


def open_page(d, path, fragment: str = "") -> None:
    d.get("about:blank")
    d.get(path.resolve().as_uri() + fragment)
    wait_render(d, 0)


def navigate(d, fragment: str) -> None:
    before = renders(d)
    d.execute_script("location.hash = arguments[0]", fragment)
    wait_render(d, before)


def cards(d):
    return d.find_elements(By.CSS_SELECTOR, "#jk-list .jk-card")


def card_models(d) -> list[str]:
    return [c.find_element(By.CSS_SELECTOR, ".jk-model").text for c in cards(d)]


def card_scores(d) -> list[float | None]:
    out = []
    for c in cards(d):
        t = c.find_element(By.CSS_SELECTOR, ".jk-score").text
        out.append(None if t in ("failed", "–") else float(t))
    return out


@pytest.fixture(scope="module")
def big_report(tmp_path_factory, judge_server_session):
    """135 pointwise samples (45 prompts x 3 models): three pages of 50."""
    from tests.fixtures_spine import make_manifest
    from tests.report.zoo import script

    root = tmp_path_factory.mktemp("big")
    manifest = make_manifest(root, 135, models=("alpha", "beta", "gamma"))
    judge_server_session.reset(script)
    res = jk.score("aesthetics-simple", str(manifest), backend="openai:judge", base_url=judge_server_session.url,
                   api_key="t", cache=False, out=root / "results.jsonl")
    return jk.report(root / "results.jsonl", root / "big.html", n_boot=50), res


def test_overview_renders_every_plot_offline_without_console_errors(chromium, zoo_report, methods_report, tmp_path):
    open_page(chromium, zoo_report.path)
    data = page_data(zoo_report.path)
    WebDriverWait(chromium, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".jk-plot.js-plotly-plot .main-svg")) >= len(data["plots"]))
    plots = chromium.find_elements(By.CSS_SELECTOR, ".jk-plot.js-plotly-plot")
    assert len(plots) == len(data["plots"]) == zoo_report.n_plots
    # Every plot drew its traces (a heatmap, bars, points), not an empty frame.
    drawn = chromium.execute_script(
        "return [...document.querySelectorAll('.jk-plot')].map(p => p.querySelectorAll('.trace, .hm, .point, .box').length)")
    assert all(n > 0 for n in drawn), drawn
    tables = chromium.find_elements(By.CSS_SELECTOR, ".jk-overview table.jk-table")
    assert len(tables) >= 4  # summary, win rates, position, leaderboard, calibration
    chromium.save_screenshot(str(tmp_path / "overview.png"))
    assert (tmp_path / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert console_errors(chromium) == []
    # The zoo has no safety, seeds or attributes results: none of their sections.
    assert chromium.find_elements(By.CSS_SELECTOR, ".jk-sec-safety, .jk-sec-seeds, .jk-sec-bias") == []

    # The issue-13 methods: safety, sampling variance and bias sections, and the bias charts.
    open_page(chromium, methods_report.path)
    data = page_data(methods_report.path)
    WebDriverWait(chromium, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".jk-plot.js-plotly-plot .main-svg")) >= len(data["plots"]))
    for cls in ("safety", "seeds", "bias"):
        [head] = chromium.find_elements(By.CSS_SELECTOR, f"h2.jk-sec-{cls}")
        table = head.find_element(By.XPATH, "following-sibling::div[1]//table")
        assert len(table.find_elements(By.TAG_NAME, "tr")) > 2, cls
    # the bias intervals are named for what they are (issue 18.3)
    assert "bias-corrected percentile bootstrap over prompts" in chromium.find_element(By.CSS_SELECTOR, "h2.jk-sec-bias").text
    seeds = data["seeds"][0]["rows"][0]
    best = seeds["best_of_n"]
    cell = f"{best['value']:.3f} [{best['ci_low']:.3f}, {best['ci_high']:.3f}]"
    assert cell in chromium.find_element(By.CSS_SELECTOR, "h2.jk-sec-seeds + div table").text
    [link] = chromium.find_elements(By.CSS_SELECTOR, ".jk-flagged a")
    assert link.get_attribute("href").endswith("#sample=s1-sdxl")
    why = chromium.find_element(By.CSS_SELECTOR, ".jk-flagged .jk-why").get_attribute("textContent")
    assert XSS_REASONING in why  # the flagged reasoning is text: no <img src=x> became an element
    assert chromium.find_elements(By.CSS_SELECTOR, ".jk-overview img, .jk-overview i") == []
    bias_plots = [p for p in data["plots"] if p["section"] == "Bias attributes"]
    drawn = chromium.execute_script(
        "return arguments[0].map(id => document.querySelectorAll('#plot-' + id + ' .trace.bars .point').length)",
        [p["id"] for p in bias_plots])
    assert bias_plots and all(n > 0 for n in drawn), drawn
    chromium.save_screenshot(str(tmp_path / "methods.png"))
    before = renders(chromium)
    link.click()
    wait_render(chromium, before)
    assert [c.get_attribute("data-uid") for c in cards(chromium)] == ["s1-sdxl"]
    assert chromium.execute_script("return window.__xss === undefined")
    assert console_errors(chromium) == []


def test_pages_filter_sort_and_search_change_what_is_shown(chromium, big_report, tmp_path):
    info, res = big_report
    open_page(chromium, info.path, "#view=samples")
    count = chromium.find_element(By.ID, "jk-count")
    assert count.get_attribute("data-total") == "135" and len(cards(chromium)) == 50
    first_page = [c.get_attribute("data-uid") for c in cards(chromium)]
    assert first_page == [r.sample_id for r in res.records[:50]]

    before = renders(chromium)
    chromium.find_elements(By.CSS_SELECTOR, ".jk-pager button")[1].click()  # next
    wait_render(chromium, before)
    assert [c.get_attribute("data-uid") for c in cards(chromium)] == [r.sample_id for r in res.records[50:100]]
    assert "page 2 of 3" in chromium.find_element(By.CSS_SELECTOR, ".jk-pageinfo").text
    navigate(chromium, "#view=samples&page=3")
    assert len(cards(chromium)) == 35

    before = renders(chromium)
    Select(chromium.find_element(By.ID, "f-model")).select_by_value("beta")
    wait_render(chromium, before)
    assert chromium.find_element(By.ID, "jk-count").get_attribute("data-total") == "45"
    assert set(card_models(chromium)) == {"beta"} and len(cards(chromium)) == 45  # back to page 1

    before = renders(chromium)
    Select(chromium.find_element(By.ID, "f-sort")).select_by_value("low")
    wait_render(chromium, before)
    scores = card_scores(chromium)
    beta = sorted(r.overall for r in res.records if r.model == "beta" and r.overall is not None)
    assert [s for s in scores if s is not None] == beta  # lowest first, every beta sample

    before = renders(chromium)
    chromium.find_element(By.ID, "b-low").click()  # the quick button keeps the filter and the order
    wait_render(chromium, before)
    assert card_scores(chromium)[0] == beta[0]

    navigate(chromium, "#view=samples&min=4")
    assert all(s >= 4 for s in card_scores(chromium)) and cards(chromium)
    assert int(chromium.find_element(By.ID, "jk-count").get_attribute("data-total")) == sum(
        r.overall is not None and r.overall >= 4 for r in res.records)

    navigate(chromium, "#view=samples")
    before = renders(chromium)
    chromium.find_element(By.ID, "f-q").send_keys("cube number 7")  # prompts 0..44: only prompt 7 matches
    wait_render(chromium, before)
    shown = chromium.find_elements(By.CSS_SELECTOR, "#jk-list .jk-card .jk-prompt")
    expected = [r for r in res.records if r.model_extra["inputs"]["prompt"].startswith("a red cube number 7")]
    assert len(shown) == len(expected) == 3 and all(p.text == "a red cube number 7" for p in shown)
    chromium.save_screenshot(str(tmp_path / "search.png"))
    assert console_errors(chromium) == []


def test_untrusted_text_stays_text(chromium, zoo_report):
    open_page(chromium, zoo_report.path, "#view=samples&q=" + "alert(1)")
    prompts = chromium.find_elements(By.CSS_SELECTOR, "#jk-list .jk-card .jk-prompt")
    assert prompts and all(p.get_attribute("textContent") == XSS for p in prompts)
    whys = [w.get_attribute("textContent") for w in chromium.find_elements(By.CSS_SELECTOR, "#jk-list .jk-why")]
    assert XSS_REASONING in whys
    # Nothing from the data became an element or ran: three scripts (data, plotly, page), no
    # <b>/<i>/<img src=x> from the text, no handler fired.
    assert chromium.execute_script("return document.scripts.length") == 3
    assert chromium.find_elements(By.CSS_SELECTOR, "#jk-list b") == [] or all(
        b.text in ("reason: ",) for b in chromium.find_elements(By.CSS_SELECTOR, "#jk-list b"))
    assert chromium.find_elements(By.CSS_SELECTOR, "#jk-list i, #jk-list img[src='x']") == []
    assert chromium.execute_script("return window.__xss === undefined")
    assert console_errors(chromium) == []


def test_deep_link_opens_the_sample_and_missing_images_show_as_error_cards(chromium, zoo_report):
    open_page(chromium, zoo_report.path, "#sample=p0-sd3")
    [card] = cards(chromium)
    assert card.get_attribute("data-uid") == "p0-sd3"
    assert "a red circle above a blue square" in card.text
    assert chromium.find_elements(By.CSS_SELECTOR, "#jk-list .jk-clamp") == []  # full reasoning in the detail view
    others = chromium.find_elements(By.CSS_SELECTOR, "#jk-main .jk-grouprow .jk-mini")
    assert len(others) == 3  # flux, sdxl and the sample whose image is missing
    err = chromium.find_elements(By.CSS_SELECTOR, "#jk-main .jk-grouprow .jk-img-error")
    assert len(err) == 1 and "not-there.png does not exist" in err[0].text

    before = renders(chromium)
    chromium.find_elements(By.CSS_SELECTOR, "#jk-main .jk-grouprow .jk-mini")[0].click()
    wait_render(chromium, before)
    assert chromium.execute_script("return location.hash").startswith("#sample=")
    navigate(chromium, "#sample=" + "no-such-sample")
    assert "No sample with id no-such-sample" in chromium.find_element(By.ID, "jk-count").text
    assert console_errors(chromium) == []


def test_prompt_view_puts_every_model_in_one_row_and_sorts_by_disagreement(chromium, zoo_report):
    data = page_data(zoo_report.path)
    open_page(chromium, zoo_report.path, "#view=prompts&rubric=viescore-t2i&sort=disagree")
    groups = chromium.find_elements(By.CSS_SELECTOR, "#jk-list .jk-group")
    mine = [g for g in data["groups"] if g["r"] == "viescore-t2i"]
    assert len(groups) == len(mine)
    spreads = sorted((g["d"] for g in mine if g["d"] is not None), reverse=True)
    top = max(mine, key=lambda g: -1 if g["d"] is None else g["d"])
    assert f"spread {spreads[0]:.3f}" in groups[0].text and top["p"] in groups[0].text
    minis = groups[0].find_elements(By.CSS_SELECTOR, ".jk-mini")
    assert len(minis) == len(top["rows"])
    assert {m.find_element(By.CSS_SELECTOR, ".jk-model").text for m in minis} >= {"flux", "sd3", "sdxl"}
    # Every rubric kind renders its card body without an error.
    for rubric, selector in [("pairwise-t2i", ".jk-pair"), ("dsg", ".jk-qs"), ("vqascore", ".jk-vqa"),
                             ("text-rendering", ".jk-diff"), ("viescore-edit", ".jk-role-source")]:
        navigate(chromium, f"#view=samples&rubric={rubric}")
        assert chromium.find_elements(By.CSS_SELECTOR, f"#jk-list .jk-card {selector}"), rubric
    navigate(chromium, "#view=samples&rubric=dsg")
    zeroed = chromium.find_elements(By.CSS_SELECTOR, "#jk-list tr.jk-zeroed")
    assert zeroed and "zeroed: parent" in zeroed[0].text
    assert json.loads(chromium.execute_script("return JSON.stringify(document.title)")).startswith("judgekit report")
    assert console_errors(chromium) == []


def test_linked_images_load_from_disk_under_the_page_policy(chromium, zoo):
    info = jk.report(zoo["pointwise"], zoo["root"] / "linked-b" / "r.html", link_images=True, n_boot=0)
    open_page(chromium, info.path, "#view=samples&q=circle")
    WebDriverWait(chromium, 10).until(lambda d: d.execute_script(
        "const im = [...document.querySelectorAll('#jk-list img')]; return im.length && im.every(i => i.complete)"))
    widths = chromium.execute_script("return [...document.querySelectorAll('#jk-list img')].map(i => i.naturalWidth)")
    assert widths and all(w == 320 for w in widths)  # the original files, not thumbnails
    assert chromium.find_elements(By.CSS_SELECTOR, "#jk-list .jk-img-error")  # the missing one
    assert console_errors(chromium) == []
