"""Plotly figure specifications (plain ``{"data", "layout"}`` dicts) for the report.

The page renders them with the plotly.js bundle shipped in the ``plotly`` Python package,
embedded once. Building plain dicts instead of ``plotly.graph_objects`` keeps generation fast
(no per-trace validation) and the figures exactly as written here.

Each function returns a list of ``{"id", "section", "title", "fig", "note"}`` entries.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .summary import OWN_SECTION_KINDS, overall_is_only_dimension

PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d", "#ff9da6", "#bab0ac"]


def model_colors(models: list[str]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(sorted(set(models)))}


def _layout(title: str, **kw: Any) -> dict[str, Any]:
    base = {"title": {"text": title, "font": {"size": 14}}, "height": 380, "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
            "paper_bgcolor": "#fff", "plot_bgcolor": "#fafafa", "legend": {"orientation": "h", "y": -0.2}}
    base.update(kw)
    return base


def _entry(pid: str, section: str, title: str, data: list, layout: dict, note: str = "") -> dict[str, Any]:
    return {"id": pid, "section": section, "title": title, "fig": {"data": data, "layout": layout}, "note": note}


def _err(rows: list[dict[str, Any]]) -> dict[str, Any]:
    plus = [None if r["value"] is None or r["ci_high"] is None else r["ci_high"] - r["value"] for r in rows]
    minus = [None if r["value"] is None or r["ci_low"] is None else r["value"] - r["ci_low"] for r in rows]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "thickness": 1.5, "width": 4}


def score_plots(rows: list[dict[str, Any]], summary: list[dict[str, Any]], colors: dict[str, str]) -> list[dict[str, Any]]:
    """Per rubric: score distribution per model and dimension (box plots), and the summary
    table's means with 95% CIs as a forest plot."""
    out = []
    rubrics = sorted({r["r"] for r in rows if r["k"] not in OWN_SECTION_KINDS})
    for ri, rubric in enumerate(rubrics):
        mine = [r for r in rows if r["r"] == rubric and r["st"] == "ok"]
        if not mine:  # every sample failed: the summary table says so; an empty plot says nothing
            continue
        models = sorted({r["m"] for r in mine})
        dims = sorted({d for r in mine for d in r["sc"]})
        with_overall = not overall_is_only_dimension(mine).get(rubric, False)
        traces = []
        for m in models:
            xs, ys, uids = [], [], []
            for r in mine:
                if r["m"] != m:
                    continue
                if r["o"] is not None and with_overall:
                    xs.append("overall")
                    ys.append(r["o"])
                    uids.append(r.get("u"))
                for d in dims:
                    v = r["sc"].get(d)
                    if v is not None:
                        xs.append(d)
                        ys.append(v)
                        uids.append(r.get("u"))
            # meta and customdata let the page link a click: a box to its filtered samples, an
            # outlier to its sample.
            traces.append({"type": "box", "name": m, "x": xs, "y": ys, "boxmean": True, "marker": {"color": colors.get(m)},
                           "boxpoints": "outliers", "customdata": uids, "meta": {"rubric": rubric, "model": m}})
        out.append(_entry(f"dist-{ri}", "Scores", f"{rubric}: score distribution per model and dimension", traces,
                          _layout(f"{rubric}: score distribution per model and dimension", boxmode="group",
                                  yaxis={"title": {"text": "score"}, "zeroline": False})))
        srows = [s for s in summary if s["rubric"] == rubric and s["value"] is not None]
        sdims = list(dict.fromkeys(s["dimension"] for s in srows))
        forest = []
        for di, d in enumerate(sdims):
            sel = [s for s in srows if s["dimension"] == d]
            # One dimension: color by model, as everywhere else; several: by dimension.
            color = [colors.get(s["model"]) for s in sel] if len(sdims) == 1 else PALETTE[di % len(PALETTE)]
            forest.append({"type": "scatter", "mode": "markers", "name": d, "x": [s["value"] for s in sel],
                           "y": [f"{s['model']} · {d}" for s in sel], "error_x": _err(sel),
                           "customdata": [{"rubric": rubric, "model": s["model"], "dim": d} for s in sel],
                           "marker": {"size": 9, "color": color}, "showlegend": len(sdims) > 1,
                           "hovertemplate": "%{y}: %{x:.3f}<extra></extra>"})
        height = max(240, 60 + 26 * len(srows))
        out.append(_entry(f"forest-{ri}", "Scores", f"{rubric}: mean score with 95% CI (bootstrap over prompts)", forest,
                          _layout(f"{rubric}: mean score with 95% CI (bootstrap over prompts)", height=height,
                                  margin={"l": 200, "r": 20, "t": 50, "b": 50},
                                  yaxis={"autorange": "reversed", "type": "category"}, xaxis={"title": {"text": "mean"}}),
                          note="failed samples are counted in n and left out of the mean"))
    return out


def pairwise_plots(wins: list[dict[str, Any]], position: list[dict[str, Any]], colors: dict[str, str]) -> list[dict[str, Any]]:
    """Per pairwise rubric: win rates with CIs, and position consistency / first-shown win rate
    per dimension (a fair judge's first-shown rate is 0.5)."""
    out = []
    for ri, rubric in enumerate(sorted({w["rubric"] for w in wins} | {p["rubric"] for p in position})):
        sel = [w for w in wins if w["rubric"] == rubric and w["value"] is not None]
        if sel:
            data = [{"type": "scatter", "mode": "markers", "x": [w["value"] for w in sel], "y": [w["model"] for w in sel],
                     "error_x": _err(sel), "marker": {"size": 10, "color": [colors.get(w["model"]) for w in sel]},
                     "showlegend": False, "hovertemplate": "%{y}: %{x:.3f}<extra></extra>"}]
            out.append(_entry(f"winrate-{ri}", "Pairwise", f"{rubric}: win rate (W + T/2) / N with 95% CI", data,
                              _layout(f"{rubric}: win rate (W + T/2) / N with 95% CI", height=max(240, 80 + 30 * len(sel)),
                                      margin={"l": 160, "r": 20, "t": 50, "b": 50}, xaxis={"range": [0, 1]},
                                      yaxis={"autorange": "reversed", "type": "category"})))
        pos = [p for p in position if p["rubric"] == rubric
               and any(p[k]["value"] is not None for k in ("consistency", "first_shown_win_rate"))]
        if pos:
            data = []
            for key, label, color in (("consistency", "position consistency", "#4c78a8"),
                                      ("first_shown_win_rate", "first-shown image wins", "#f58518")):
                ests = [p[key] for p in pos]
                data.append({"type": "bar", "name": label, "x": [p["dimension"] for p in pos], "y": [e["value"] for e in ests],
                             "error_y": {**_err(ests)}, "marker": {"color": color},
                             "hovertemplate": label + " %{x}: %{y:.3f}<extra></extra>"})
            layout = _layout(f"{rubric}: position consistency and first-position win rate (95% CI)", barmode="group",
                             yaxis={"range": [0, 1.05]},
                             shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                                      "line": {"dash": "dot", "color": "#888"}}])
            out.append(_entry(f"position-{ri}", "Pairwise", layout["title"]["text"], data, layout,
                              note="consistency: both orders name the same winner; first-shown rate: (A + tie/2) over "
                                   "both orders' verdicts; the dotted line is an unbiased judge's 0.5"))
    return out


def leaderboard_plots(lb: dict[str, Any] | None, colors: dict[str, str]) -> list[dict[str, Any]]:
    if not lb:
        return []
    rows = sorted(lb["rows"], key=lambda r: r["rank"])
    level = int(round(100 * float(lb.get("level") or 0.95)))
    method_name = str(lb.get("method") or "")
    method = {"bt": "Bradley-Terry", "elo": "Elo"}.get(method_name, method_name)
    title = f"Leaderboard: {method} ratings with {level}% CI"
    data = [{"type": "scatter", "mode": "markers", "x": [r["value"] for r in rows], "y": [r["model"] for r in rows],
             "error_x": _err(rows), "marker": {"size": 10, "color": [colors.get(r["model"], "#4c78a8") for r in rows]},
             "showlegend": False, "hovertemplate": "%{y}: %{x:.1f}<extra></extra>"}]
    out = [_entry("lb-ratings", "Leaderboard", title, data,
                  _layout(title, height=max(240, 80 + 30 * len(rows)), margin={"l": 160, "r": 20, "t": 50, "b": 50},
                          yaxis={"autorange": "reversed", "type": "category"}, xaxis={"title": {"text": "rating"}}))]
    h = lb.get("head_to_head")
    if h and h.get("win_rate"):
        models = h["models"]
        order = [m for m in (r["model"] for r in rows) if m in models] + [m for m in models if m not in {r["model"] for r in rows}]
        ix = [models.index(m) for m in order]
        z = [[h["win_rate"][i][j] for j in ix] for i in ix]
        n = h.get("n") or [[None] * len(models) for _ in models]
        text = [[("" if z[a][b] is None else f"{z[a][b]:.2f}") + (f"<br>n={n[i][j]}" if n[i][j] else "")
                 for b, j in enumerate(ix)] for a, i in enumerate(ix)]
        data = [{"type": "heatmap", "z": z, "x": order, "y": order, "text": text, "texttemplate": "%{text}",
                 "colorscale": "RdBu", "zmin": 0, "zmax": 1, "hovertemplate": "%{y} vs %{x}: %{z:.3f}<extra></extra>",
                 "colorbar": {"title": {"text": "win rate"}}}]
        t = "Head-to-head: row model's win rate against column model"
        out.append(_entry("lb-h2h", "Leaderboard", t, data,
                          _layout(t, height=max(300, 120 + 40 * len(order)), margin={"l": 140, "r": 20, "t": 50, "b": 100},
                                  yaxis={"autorange": "reversed", "type": "category"}, xaxis={"type": "category"})))
    return out


def _apply_map(cmap: dict[str, Any], x: np.ndarray) -> np.ndarray | None:
    try:
        from ..calibration.maps import CalibrationMap

        return CalibrationMap.from_dict(cmap).apply(x)
    except Exception:  # a map this version cannot read: leave its curve out, keep the report
        return None


def _reliability(pred: np.ndarray, obs: np.ndarray, bins: int = 10) -> tuple[list, list, list]:
    lo, hi = float(pred.min()), float(pred.max())
    if hi <= lo:
        return [lo], [float(obs.mean())], [int(obs.size)]
    idx = np.minimum(((pred - lo) / (hi - lo) * bins).astype(int), bins - 1)
    xs, ys, ns = [], [], []
    for b in range(bins):
        m = idx == b
        if m.any():
            xs.append(float(pred[m].mean()))
            ys.append(float(obs[m].mean()))
            ns.append(int(m.sum()))
    return xs, ys, ns


def calibration_plots(cals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per calibrated dimension: the agreement statistics next to the human ceiling (bars with
    CIs), the judge-vs-human scatter, and the reliability diagram (binned predicted vs observed
    human rating, for the judge linearly rescaled and, when the report has one, after its map)."""
    out = []
    for ci, cal in enumerate(cals):
        dim = f" ({cal['dimension']})" if cal.get("dimension") else ""
        stats = [s for s in cal["stats"] if s["statistic"] != "system_spearman"]
        scorers = list(dict.fromkeys(s["scorer"] for s in stats))
        statnames = list(dict.fromkeys(s["statistic"] for s in stats))
        data = []
        for si, sc in enumerate(scorers):
            sel = [next((s for s in stats if s["scorer"] == sc and s["statistic"] == st),
                        {"value": None, "ci_low": None, "ci_high": None}) for st in statnames]
            color = "#888" if sc == "human ceiling" else PALETTE[si % len(PALETTE)]
            data.append({"type": "bar", "name": sc, "x": statnames, "y": [s["value"] for s in sel], "error_y": _err(sel),
                         "marker": {"color": color}})
        t = f"Agreement with people{dim}: each scorer and the human ceiling, 95% CI"
        out.append(_entry(f"cal-agree-{ci}", "Calibration", t, data, _layout(t, barmode="group"),
                          note=cal.get("note") or ""))
        items = cal.get("items") or []
        judge = cal["scorers"][0] if cal.get("scorers") else None
        pts = [(it["scores"].get(judge), it["human"], it.get("key")) for it in items if judge in (it.get("scores") or {})]
        pts = [p for p in pts if p[0] is not None and p[1] is not None and math.isfinite(p[0]) and math.isfinite(p[1])]
        if not pts:
            continue
        x = np.array([p[0] for p in pts])
        y = np.array([p[1] for p in pts])
        keys = [" / ".join(map(str, p[2] or [])) for p in pts]
        head = next((s for s in stats if s["scorer"] == judge and s["statistic"] == "spearman"), None)
        ceil = next((s for s in stats if s["scorer"] == "human ceiling" and s["statistic"] == "spearman"), None)

        def fmt(s):
            return "n/a" if not s or s["value"] is None else (
                f"{s['value']:.3f}" + ("" if s["ci_low"] is None else f" [{s['ci_low']:.3f}, {s['ci_high']:.3f}]"))

        t = f"{judge} vs mean human rating{dim}: Spearman {fmt(head)}; human ceiling {fmt(ceil)}"
        data = [{"type": "scatter", "mode": "markers", "x": x.tolist(), "y": y.tolist(), "text": keys, "name": "items",
                 "customdata": [{"q": str((p[2] or [""])[0])} for p in pts],
                 "marker": {"size": 6, "opacity": 0.45, "color": "#4c78a8"},
                 "hovertemplate": "%{text}<br>judge %{x:.3f}, human %{y:.2f}<extra></extra>"}]
        out.append(_entry(f"cal-scatter-{ci}", "Calibration", t, data,
                          _layout(t, xaxis={"title": {"text": f"{judge} score"}, "zeroline": False},
                                  yaxis={"title": {"text": "mean human rating"}, "zeroline": False}),
                          note=f"{len(pts)} items"))
        levels = [float(v) for v in cal.get("levels") or []] or [float(y.min()), float(y.max())]
        h_lo, h_hi = min(levels), max(levels)
        span = float(x.max() - x.min()) or 1.0
        lin = h_lo + (x - x.min()) / span * (h_hi - h_lo)
        data = [{"type": "scatter", "mode": "lines", "x": [h_lo, h_hi], "y": [h_lo, h_hi], "name": "perfect calibration",
                 "line": {"dash": "dot", "color": "#888"}}]
        curves = [("judge, linearly rescaled", lin, "#f58518")]
        mapped = _apply_map(cal["map"], x) if cal.get("map") else None
        if mapped is not None:
            curves.append((f"judge after its {cal['map'].get('method', cal['map'].get('kind'))} map", mapped, "#54a24b"))
        for label, pred, color in curves:
            bx, by, bn = _reliability(pred, y)
            data.append({"type": "scatter", "mode": "lines+markers", "x": bx, "y": by, "name": label, "text": [f"n={n}" for n in bn],
                         "marker": {"size": [6 + 14 * math.sqrt(n / max(bn)) for n in bn], "color": color},
                         "hovertemplate": "predicted %{x:.2f}, observed %{y:.2f} (%{text})<extra></extra>"})
        t = f"Reliability diagram{dim}: binned prediction vs observed mean human rating"
        out.append(_entry(f"cal-reliability-{ci}", "Calibration", t, data,
                          _layout(t, xaxis={"title": {"text": "predicted human rating"}, "range": [h_lo - 0.1, h_hi + 0.1]},
                                  yaxis={"title": {"text": "observed mean human rating"}, "range": [h_lo - 0.1, h_hi + 0.1]}),
                          note="" if mapped is not None else "no calibration map in this report (calibrate --fit-map adds one)"))
    return out
