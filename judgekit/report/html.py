"""Assembling the single HTML file: the page skeleton, the stylesheet, the data as one JSON blob
in a ``<script type="application/json">`` element, plotly.js once, and the page script.

The blob is made safe for its element by escaping ``<``, ``>`` and ``&`` (so no ``</script>``
or ``<!--`` can appear in it) and U+2028/U+2029 as JSON ``\\uXXXX`` escapes, which
``JSON.parse`` reads back to the same characters. The page script then renders every string with
``textContent``, so untrusted prompts and reasoning never become markup.
"""

from __future__ import annotations

import html
import json
import math
import re
from importlib import resources
from typing import Any

from ..errors import MissingDependencyError

_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")

# Everything the page needs is inline; it may load nothing from anywhere (images are data: URIs,
# or files next to the report with --link-images).
_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src data: blob: {link}; font-src data:")


def _finite(obj: Any) -> Any:
    """NaN and infinities -> None, recursively (JSON has no NaN; JSON.parse would refuse it)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def script_json(obj: Any) -> str:
    """``obj`` as JSON text that is safe inside ``<script type="application/json">``."""
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a NaN somewhere in free-form details: write it as null
        text = json.dumps(_finite(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


def plotly_js() -> str:
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise MissingDependencyError("plotly", "report", "the report's plots") from None
    js = get_plotlyjs()
    # Never let the bundle end its own <script> element early.
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


def _asset(name: str) -> str:
    return resources.files("judgekit.report").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def page(data: dict[str, Any], title: str, subtitle: str, link_images: bool) -> str:
    """The whole HTML document."""
    csp = _CSP.format(link="'self' file:" if link_images else "")
    t = html.escape(title)
    return "".join([
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{html.escape(csp, quote=False)}\">",
        f"<title>{t}</title><style>{_asset('report.css')}</style></head><body>",
        "<div class=\"jk-top\"><h1>", t, "</h1><nav class=\"jk-tabs\">",
        "<a class=\"jk-tab\" href=\"#view=overview\" data-view=\"overview\">Overview</a>",
        "<a class=\"jk-tab\" href=\"#view=samples\" data-view=\"samples\">Samples</a>",
        "<a class=\"jk-tab\" href=\"#view=prompts\" data-view=\"prompts\">By prompt</a></nav>",
        f"<span class=\"jk-meta\">{html.escape(subtitle)}</span><div id=\"jk-judges\"></div>"
        "<div id=\"jk-controls\" hidden></div></div>",
        "<main id=\"jk-main\"><noscript>This report needs JavaScript to show its samples.</noscript></main>",
        "<script type=\"application/json\" id=\"jk-data\">", script_json(data), "</script>\n",
        "<script>", plotly_js(), "</script>\n",
        "<script>", _asset("report.js"), "</script>\n</body></html>\n",
    ])
