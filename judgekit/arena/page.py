"""``judgekit arena show --html PAGE``: one self-contained HTML file (no script, no network) with
the leaderboard and each model's rating over the number of battles, CI bands where the
bootstrap ran, drawn as inline SVG.

The run report (``judgekit report``) is built around result files; the arena's history lives in
the board's store, so the board writes its own small page instead of going through it.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from ..stats.leaderboard import Leaderboard

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"]
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 860, 440, 64, 150, 20, 44


def rating_svg(history: list[dict[str, Any]], models: list[str]) -> str:
    """Each model's rating (line) and CI (band, at the snapshots that have one) against battles."""
    pts = [h for h in history if h["ratings"]]
    if not pts:
        return "<p>No battles judged yet.</p>"
    xs = [float(h["battles"]) for h in pts]
    ys = [v for h in pts for m, v in h["ratings"].items() if m in models]
    ys += [x for h in pts if h["ci"] for m, ci in h["ci"].items() if m in models for x in ci
           if x is not None and math.isfinite(x)]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1

    def sx(x: float) -> float:
        return PAD_L + (x - x0) / (x1 - x0) * (W - PAD_L - PAD_R)

    def sy(y: float) -> float:
        return PAD_T + (y1 - y) / (y1 - y0) * (H - PAD_T - PAD_B)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'role="img" aria-label="rating over battles">']
    for k in range(5):
        yv = y0 + (y1 - y0) * k / 4
        xv = x0 + (x1 - x0) * k / 4
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{sy(yv):.1f}" y2="{sy(yv):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end" font-size="11">{yv:.0f}</text>')
        out.append(f'<text x="{sx(xv):.1f}" y="{H - PAD_B + 16}" text-anchor="middle" font-size="11">{xv:.0f}</text>')
    out.append(f'<text x="{(PAD_L + W - PAD_R) / 2}" y="{H - 6}" text-anchor="middle" font-size="12">battles judged</text>')
    out.append(f'<text x="14" y="{H / 2}" transform="rotate(-90 14 {H / 2})" text-anchor="middle" font-size="12">rating</text>')
    for n, m in enumerate(models):
        color = _COLORS[n % len(_COLORS)]
        line = [(sx(float(h["battles"])), sy(h["ratings"][m])) for h in pts if m in h["ratings"]]
        band = [(float(h["battles"]), h["ci"][m]) for h in pts if h["ci"] and m in h["ci"]
                and all(v is not None and math.isfinite(v) for v in h["ci"][m])]
        if len(band) >= 2:
            upper = " ".join(f"{sx(x):.1f},{sy(ci[1]):.1f}" for x, ci in band)
            lower = " ".join(f"{sx(x):.1f},{sy(ci[0]):.1f}" for x, ci in reversed(band))
            out.append(f'<polygon class="ci" data-model="{html.escape(m)}" points="{upper} {lower}" fill="{color}" fill-opacity="0.15"/>')
        if line:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
            out.append(f'<polyline class="rating" data-model="{html.escape(m)}" points="{d}" fill="none" stroke="{color}" stroke-width="1.6"/>')
            lx, ly = line[-1]
            out.append(f'<text x="{W - PAD_R + 6}" y="{ly + 4:.1f}" font-size="11" fill="{color}">{html.escape(m)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _table(lb: Leaderboard | None, removed: set[str]) -> str:
    if lb is None:
        return "<p>No ratings yet: the anchor has no battle.</p>"
    pct = f"{100 * lb.level:g}% CI"
    rows = ["<tr><th>rank</th><th>model</th><th>rating</th><th>" + pct + "</th><th>width</th><th>W/L/T</th><th>battles</th></tr>"]
    for r in lb.rows:
        ci = f"[{r.ci_low:.1f}, {r.ci_high:.1f}]" if math.isfinite(r.ci_low) else "n/a"
        width = f"{r.ci_high - r.ci_low:.1f}" if math.isfinite(r.ci_low) else "n/a"
        note = " (removed)" if r.model in removed else ""
        rows.append(f"<tr><td>{r.rank}</td><td>{html.escape(r.model)}{note}</td><td>{r.rating:.1f}</td><td>{ci}</td>"
                    f"<td>{width}</td><td>{r.wins}/{r.losses}/{r.ties}</td><td>{r.n}</td></tr>")
    return "<table>" + "\n".join(rows) + "</table>"


def write_page(path: str | Path, *, title: str, lb: Leaderboard | None, history: list[dict[str, Any]],
               models: list[str], removed: set[str], notes: list[str]) -> Path:
    """Write the board's page to ``path``; returns it."""
    p = Path(path)
    body = [
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p>{html.escape(n)}</p>" for n in notes),
        "<h2>Leaderboard</h2>", _table(lb, removed),
        "<h2>Rating over battles</h2>",
        "<p>Each line is a model's Bradley-Terry rating after each batch; bands are the bootstrap CIs "
        "(over prompts) of the batches after which the convergence check ran.</p>",
        rating_svg(history, models),
    ]
    style = ("body{font-family:sans-serif;margin:24px;max-width:1000px}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:nth-child(2){text-align:left}")
    doc = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    p.write_text(doc, encoding="utf-8")
    return p
