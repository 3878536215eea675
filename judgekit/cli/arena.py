"""``judgekit arena``: a standing leaderboard judged pairwise by adaptive sampling.

    judgekit arena init board/ --rubric pairwise-t2i --backend openai:MODEL --anchor sdxl
    judgekit arena add board/ --data flux.jsonl
    judgekit arena run board/ --target-ci 15 [--max-battles 20000] [--budget-usd 50 [--prices prices.yaml]]
    judgekit arena show board/ [--html board.html] [--out board.json]
    judgekit arena remove board/ MODEL
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from ..io import write_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "arena",
        help="a standing leaderboard: adaptive pairwise battles until every rating's CI is within a target",
        description="A board (a folder) of models judged pairwise, both orders, by a judge backend. `run` picks "
        "battles by expected information (close ratings, wide CIs), spread over prompts, refits Bradley-Terry after "
        "each batch and stops when every model's bootstrap CI (over prompts) is within --target-ci, or at "
        "--max-battles. The anchor's rating is fixed for the board's life. See docs/arena.md.",
    )
    asub = p.add_subparsers(dest="arena_command", metavar="ACTION", required=True)
    i = asub.add_parser("init", help="create a board")
    i.add_argument("board", help="folder to create the board in")
    i.add_argument("--rubric", default="pairwise-t2i", help="pairwise rubric (default pairwise-t2i)")
    i.add_argument("--backend", required=True, help="judge backend spec, e.g. openai:MODEL")
    i.add_argument("--base-url", help="OpenAI-compatible server URL (default $OPENAI_BASE_URL); key from $OPENAI_API_KEY")
    i.add_argument("--anchor", required=True, metavar="MODEL", help="the model whose rating is fixed")
    i.add_argument("--anchor-rating", type=float, default=1000.0, help="the anchor's rating (default 1000)")
    i.add_argument("--target-ci", type=float, default=15.0, help="default CI width `run` stops at (default 15)")
    i.add_argument("--bootstrap", type=int, default=200, metavar="N", help="bootstrap draws per check (default 200)")
    i.add_argument("--level", type=float, default=0.95)
    i.add_argument("--prior", type=float, default=0.01, help="Bradley-Terry L2 prior (default 0.01)")
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--concurrency", type=int, default=16)
    i.add_argument("--no-cache", action="store_true", help="keep no response cache in the board")
    i.add_argument("--option", action="append", metavar="KEY=VALUE", help="rubric-kind option, repeatable")
    i.add_argument("--prices", metavar="FILE", help="price table (docs/cost.md), stored in the board: every battle's "
                   "cost is recorded and `run --budget-usd` needs no --prices")
    i.set_defaults(func=_init)
    a = asub.add_parser("add", help="add the models of a manifest (their images on the board's prompts)")
    a.add_argument("board")
    a.add_argument("--data", required=True, help="JSONL manifest: id, prompt_id, prompt, image, model")
    a.add_argument("--model", help="model name, for a manifest whose samples name none")
    a.set_defaults(func=_add)
    r = asub.add_parser("run", help="judge battles until the target CI or the budget")
    r.add_argument("board")
    r.add_argument("--target-ci", type=float, help="full width of every model's CI to stop at (default: the board's)")
    r.add_argument("--max-battles", type=int,
                   help="judge at most this many battles in this run (a killed run's pending battles included)")
    r.add_argument("--batch-size", type=int, help="battles per batch (default: adaptive)")
    r.add_argument("--budget-usd", type=float, metavar="USD", help="the board's total spend over all its runs: plan no "
                   "battle that could take it over USD, finish the batch in flight, exit with status 5; a rerun with "
                   "a larger budget continues (needs a price table)")
    r.add_argument("--prices", metavar="FILE", help="price table for this run (default: the one stored at init)")
    r.add_argument("--quiet", action="store_true", help="no line per batch")
    r.set_defaults(func=_run)
    s = asub.add_parser("show", help="the leaderboard with CIs and battles used")
    s.add_argument("board")
    s.add_argument("--html", metavar="PAGE", help="also write an HTML page with rating over battles")
    s.add_argument("--out", metavar="JSON", help="also write the leaderboard and history as JSON")
    s.set_defaults(func=_show)
    d = asub.add_parser("remove", help="stop scheduling a model (its battles stay)")
    d.add_argument("board")
    d.add_argument("model")
    d.set_defaults(func=_remove)


def _init(args: argparse.Namespace) -> int:
    from ..arena import Board
    from .options import parse_key_values

    board = Board.init(
        args.board, rubric=args.rubric, backend=args.backend, base_url=args.base_url, anchor=args.anchor,
        anchor_rating=args.anchor_rating, target_ci=args.target_ci, n_boot=args.bootstrap, level=args.level,
        prior=args.prior, seed=args.seed, concurrency=args.concurrency, cache=None if args.no_cache else "cache.sqlite",
        rubric_options=parse_key_values(args.option, "--option"), prices=_price_dict(args.prices),
    )
    print(f"board created in {board.path} (anchor {args.anchor} at {args.anchor_rating:g}); "
          f"add models with `judgekit arena add {args.board} --data MANIFEST`")
    board.close()
    return 0


def _price_dict(path: str | None) -> dict | None:
    """The table of ``--prices FILE`` as the board stores it (checked by the usage module's reader)."""
    if path is None:
        return None
    from dataclasses import asdict

    from ..usage import load_prices

    return {model: asdict(price) for model, price in load_prices(path).prices.items()}


def _spend_line(spend: dict, budget: float | None = None) -> str:
    """What the board's judged battles used, and cost when it was priced."""
    tokens = (f"{spend['requests']} requests, {spend['prompt_tokens']} prompt tokens, "
              f"{spend['completion_tokens']} completion tokens")
    of = f" of a ${budget:g} budget" if budget is not None else ""
    if spend["battles"] and spend["unpriced"] == spend["battles"]:
        return f"usage: {spend['battles']} battles, {tokens}; cost not recorded (no price table: see docs/cost.md)"
    unpriced = f"; {spend['unpriced']} battles judged without a price table are not counted" if spend["unpriced"] else ""
    return f"cost: ${spend['cost_usd']:.4f} spent{of} on {spend['battles']} battles ({tokens}){unpriced}"


def _add(args: argparse.Namespace) -> int:
    from ..arena import Board

    with Board(args.board) as board:
        added = board.add(args.data, model=args.model)
        for name, n in added.items():
            print(f"{name}: {n} images")
        print(f"models on the board: {', '.join(board.store.models())}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from ..arena import Board

    with Board(args.board) as board:
        board.remove(args.model)
        print(f"{args.model} removed: no new battles; its {board.store.counts()['ok']} board battles stay in the history")
    return 0


def _run(args: argparse.Namespace) -> int:
    from ..arena import Board, run_arena

    def line(e: dict) -> None:
        width = ""
        if "max_width" in e:  # infinite while a model has too few battles for a CI: say so in words
            w = e["max_width"]
            width = f", max CI width {w:.1f}" if math.isfinite(w) else ", max CI width undefined (too few battles)"
        print(f"batch {e['batch']}: {e['battles']} battles judged{width}; planned {e.get('planned', 0)}", file=sys.stderr)

    from ..usage import load_prices

    prices = load_prices(args.prices) if args.prices else None
    with Board(args.board) as board:
        run = run_arena(board, target_ci=args.target_ci, max_battles=args.max_battles, batch_size=args.batch_size,
                        api_key=os.environ.get("OPENAI_API_KEY"), on_round=None if args.quiet else line,
                        budget_usd=args.budget_usd, prices=prices)
        why = {"target": f"every model's CI is within {run.target:g}", "budget": "the --max-battles budget is spent",
               "cost": f"the next battle could take the board's spend over the ${run.budget_usd or 0:g} budget "
                       "(rerun with a larger --budget-usd to continue)",
               "exhausted": "no battle is left to judge (add prompts or models)",
               "failing": "every battle of the last batch failed (see the reasons below)"}[run.stopped]
        print(f"stopped: {why}. This run judged {run.judged} battles ({run.judgments} judgments, {run.failed} failed) "
              f"in {run.batches} batches, {run.seconds:.1f} s")
        if run.spent_usd is not None:
            print(f"this run: ${run.spent_usd:.4f}; " + _spend_line(board.store.spend(), run.budget_usd))
        if run.leaderboard is not None:
            print(run.leaderboard.format())
        if run.unplaceable:
            print(f"warning: {', '.join(run.unplaceable)} share(s) no prompt with the other models and cannot be "
                  "placed: add their images on the board's prompts", file=sys.stderr)
        board_failures = [f"{a} vs {b} on {p}: {e}" for p, a, b, e in board.store.failures(3)]
        wide = {m: w for m, w in run.widths.items() if not w <= run.target}
        if wide:
            print("still wider than the target: " + ", ".join(f"{m} {w:.1f}" if math.isfinite(w) else f"{m} (too few battles)"
                                                            for m, w in sorted(wide.items())))
    if run.stopped == "failing":
        print("failed battles: " + "; ".join(board_failures), file=sys.stderr)
    if run.judged and run.failed == run.judged:
        from . import EXIT_ALL_FAILED

        return EXIT_ALL_FAILED
    if run.stopped == "cost":
        from .cost_options import EXIT_BUDGET

        return EXIT_BUDGET
    return 0


def _show(args: argparse.Namespace) -> int:
    from ..arena import Board, write_page

    with Board(args.board) as board:
        s = board.settings
        lb = board.leaderboard()
        counts = board.store.counts()
        removed = {m["model"] for m in board.store.model_info() if m["removed"] is not None}
        head = (f"board {board.path}: {counts['ok']} battles judged ({2 * counts['ok']} judgments), {counts['failed']} failed, "
                f"{counts['pending']} pending; anchor {s.anchor} fixed at {s.anchor_rating:g}; "
                f"Bradley-Terry, {s.n_boot} bootstrap draws over prompts, prior {s.prior:g}")
        print(head)
        spend = board.store.spend()
        print(_spend_line(spend))
        if lb is None:
            print("no ratings yet: run `judgekit arena run` once the anchor and another model are on the board")
        else:
            print(lb.format())
            if removed:
                print(f"removed (shown for their history, no longer scheduled): {', '.join(sorted(removed))}")
        for pid, a, b, err in board.store.failures():
            print(f"failed: {pid} {a} vs {b}: {err}", file=sys.stderr)
        history = board.store.history()
        if args.html:
            models = [r.model for r in lb.rows] if lb is not None else board.store.models(True)
            write_page(args.html, title=f"Arena {board.path.name}", lb=lb, history=history, models=models,
                       removed=removed, notes=[head])
            print(f"page written to {args.html}", file=sys.stderr)
        if args.out:
            write_json(args.out, {"settings": s.model_dump(), "counts": counts, "spend": spend, "removed": sorted(removed),
                                  "leaderboard": None if lb is None else lb.to_dict(), "history": history,
                                  "judges": board.store.judges()})
    return 0
