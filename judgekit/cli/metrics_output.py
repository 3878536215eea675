"""What the metric subcommands share: their common options and JSONL output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..io import jsonable


def add_common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    p.add_argument("--batch-size", type=int, default=32, metavar="N")
    p.add_argument(
        "--workers", type=int, metavar="N", help="image-loading worker processes (default: cores - 1, max 8)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", metavar="PATH", help="write results here (default: stdout)")


class JsonlWriter:
    def __init__(self, out: str | None):
        self.fh = open(out, "w", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
        self.close_it = bool(out)

    def write(self, obj: dict[str, Any]) -> None:
        self.fh.write(json.dumps(jsonable(obj), ensure_ascii=False, allow_nan=False) + "\n")

    def close(self) -> None:
        if self.close_it:
            self.fh.close()
        else:
            self.fh.flush()


def progress_label(args: argparse.Namespace, label: str) -> bool | str:
    return False if args.no_progress or not sys.stderr.isatty() else label
