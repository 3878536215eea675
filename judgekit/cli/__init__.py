"""The ``judgekit`` command. Each subcommand lives in its own module exposing
``register(subparsers)`` (adds its parser and sets ``func``) ; ``func(args) -> int`` runs it.

Exit status:

- 0: the run finished and at least one sample succeeded (failed samples, if any, are in the
  results file with their reason);
- 2: a usage or configuration error (``JudgekitError``: a bad option, a missing file, a judge
  server that cannot be reached or does not serve the model), one line on stderr;
- 5: ``score`` stopped at its budget (``--max-cost`` / ``--max-tokens``), or ``arena run`` at
  ``--budget-usd``; rerun (with a larger budget) to continue;
- 3: the run finished but no sample succeeded (every sample failed, no reference to compare
  with, no question generated, an ``--import-batch`` that completed none): the output holds only failures;
- 4: ``judgekit drift`` found that the judge has changed (cli/drift.py);
- 130: interrupted (completed calls are cached)."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from ..errors import JudgekitError

EXIT_USAGE = 2
#: A run that finished with no successful sample: scripts must not mistake it for a result.
EXIT_ALL_FAILED = 3

# Subcommand modules, in the order `judgekit --help` lists them.
SUBCOMMANDS = [
    "judgekit.cli.score",
    "judgekit.cli.rubrics",
    "judgekit.cli.demo",
    "judgekit.cli.questions",
    "judgekit.cli.calibrate",
    "judgekit.cli.pairs",
    "judgekit.cli.leaderboard",
    "judgekit.cli.arena",
    "judgekit.cli.metrics",
    "judgekit.cli.label",
    "judgekit.cli.report",
    "judgekit.cli.summary",
    "judgekit.cli.safety",
    "judgekit.cli.bias",
    "judgekit.cli.import_",
    "judgekit.cli.edit",
    "judgekit.cli.cache",
    "judgekit.cli.merge",
    "judgekit.cli.results",
    "judgekit.cli.drift",
    "judgekit.cli.bench",
    "judgekit.cli.batch",
]


class _Parser(argparse.ArgumentParser):
    """argparse leaves an argument a subcommand does not know to the top-level parser, which then
    prints its own usage (``judgekit [-h] COMMAND ...``) instead of the subcommand's. Each parser
    of this class (subcommand parsers inherit it) reports what it was left itself."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    from ..summaries import SmallSampleWarning

    try:
        with warnings.catch_warnings():
            # Printed summaries carry this warning as a line under the table; stderr would repeat it.
            warnings.filterwarnings("ignore", category=SmallSampleWarning)
            return int(args.func(args) or 0)
    except JudgekitError as exc:
        print(f"judgekit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("judgekit: interrupted; completed calls are cached, rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
