"""``judgekit results info FILE``: the judge card of a run (who answered, with counts)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("results", help="facts about a results file: `results info FILE` prints its judge card",
                       description="Facts about a results file.")
    inner = p.add_subparsers(dest="results_command", metavar="ACTION", required=True)
    info = inner.add_parser("info", help="print the judge card of a run",
                            description="Print the judge card of a run: requested and served model ids with counts, "
                            "system fingerprints, endpoints, engine and version, rubric and template hashes, sampling "
                            "parameters, token usage and the judgekit version. FILE is a results file (its "
                            "<stem>.card.json is read, or the card is rebuilt from the records) or a .card.json file.")
    info.add_argument("file", metavar="FILE")
    info.add_argument("--json", action="store_true", help="print the card as JSON")
    info.set_defaults(func=run_info)


def run_info(args: argparse.Namespace) -> int:
    from ..judge_card import format_card, read_card

    card = read_card(args.file)
    print(json.dumps(card, indent=2, ensure_ascii=False) if args.json else format_card(card))
    return 0
