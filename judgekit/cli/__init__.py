"""The ``judgekit`` command. Each subcommand lives in its own module exposing
``register(subparsers)`` (adds its parser and sets ``func``) ; ``func(args) -> int`` runs it.

Usage and configuration errors (``JudgekitError``) exit with status 2 and one line on stderr;
a finished run exits 0 even when some samples failed (they are in the results file)."""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import JudgekitError

# Subcommand modules, in the order `judgekit --help` lists them.
SUBCOMMANDS = [
    "judgekit.cli.score",
    "judgekit.cli.rubrics",
    "judgekit.cli.demo",
    "judgekit.cli.questions",
    "judgekit.cli.calibrate",
    "judgekit.cli.pairs",
    "judgekit.cli.leaderboard",
    "judgekit.cli.metrics",
    "judgekit.cli.label",
    "judgekit.cli.report",
    "judgekit.cli.summary",
    "judgekit.cli.safety",
    "judgekit.cli.bias",
    "judgekit.cli.import_",
    "judgekit.cli.edit",
    "judgekit.cli.merge",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="judgekit",
        description="Judge text-to-image and image-editing outputs with a multimodal LLM, "
        "and measure how well the judge agrees with people.",
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"judgekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except JudgekitError as exc:
        print(f"judgekit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("judgekit: interrupted; completed calls are cached, rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
