"""``judgekit report``: one self-contained HTML file to look at results.

    judgekit report results.jsonl [more.jsonl ...] [--calibration cal.json] [--leaderboard lb.json] -o report.html
"""

from __future__ import annotations

import argparse

from ..errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="a self-contained HTML report: images, scores, reasoning, failures and plots",
        description="Write one HTML file that opens offline: every sample's images (embedded thumbnails), prompt, "
        "per-dimension scores and reasoning, failures with their raw replies; sorting, filtering, search, "
        "per-prompt rows and deep links; plots of score distributions, CIs, leaderboard and calibration. "
        "See docs/report.md.",
    )
    p.add_argument("results", nargs="+", metavar="RESULTS", help="judgekit results file(s) (JSONL)")
    p.add_argument("-o", "--out", default="report.html", help="the HTML file to write (default report.html)")
    p.add_argument("--calibration", metavar="JSON", help="a `judgekit calibrate --out` file")
    p.add_argument("--leaderboard", metavar="JSON", help="a `judgekit leaderboard --out` file")
    p.add_argument("--link-images", action="store_true",
                   help="link the original image files (relative to the report) instead of embedding thumbnails")
    p.add_argument("--data", action="append", metavar="MANIFEST",
                   help="manifest(s) to take prompts and images from, for results that do not record them")
    p.add_argument("--thumb-size", type=int, default=256, metavar="PX", help="longest side of a thumbnail (default 256)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap draws for the CIs (default 1000)")
    p.add_argument("--title", help="the page title")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..report import report

    if args.thumb_size < 16:
        raise ConfigError("--thumb-size must be at least 16 pixels")
    if args.bootstrap < 0:
        raise ConfigError("--bootstrap must be >= 0")
    info = report(args.results, args.out, calibration=args.calibration, leaderboard=args.leaderboard,
                  link_images=args.link_images, samples=args.data, title=args.title, thumb_size=args.thumb_size,
                  n_boot=args.bootstrap)
    print(f"wrote {info}")
    return 0
