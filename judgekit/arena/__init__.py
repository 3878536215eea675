"""The standing arena: a board of models judged pairwise by adaptive sampling until every rating's
CI is within a target, with an anchor whose rating never moves, and models that come and go.

    >>> from judgekit.arena import Board, run_arena                        # doctest: +SKIP
    >>> board = Board.init("board", rubric="pairwise-t2i", backend="openai:judge", anchor="sdxl")  # doctest: +SKIP
    >>> board.add("sdxl.jsonl"); board.add("flux.jsonl")                   # doctest: +SKIP
    >>> run = run_arena(board, target_ci=15, max_battles=20000)            # doctest: +SKIP
    >>> print(run.leaderboard.format())                                    # doctest: +SKIP

Modules: ``board`` (the folder and its settings), ``store`` (SQLite: models, images, battles,
history), ``sampler`` (which battles next), ``judge`` (a batch through the runner), ``run`` (the
loop), ``page`` (the HTML page with rating over battles). See docs/arena.md.
"""

from __future__ import annotations

from .board import ArenaSettings, Board
from .judge import Judge, RunnerJudge
from .page import write_page
from .run import ArenaRun, ci_widths, run_arena, run_arena_async
from .sampler import Candidates, plan_batch
from .store import ArenaStore, JudgedBattle, PlannedBattle

__all__ = [
    "ArenaRun",
    "ArenaSettings",
    "ArenaStore",
    "Board",
    "Candidates",
    "Judge",
    "JudgedBattle",
    "PlannedBattle",
    "RunnerJudge",
    "ci_widths",
    "plan_batch",
    "run_arena",
    "run_arena_async",
    "write_page",
]
