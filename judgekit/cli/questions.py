"""``judgekit questions``: generate question graphs with an LLM, or check a question file.

    judgekit questions generate --style dsg --prompts prompts.jsonl --backend openai:gpt-4o --out questions.csv
    judgekit questions check questions.csv
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..datasets.prompts import read_prompts
from ..errors import ConfigError
from .options import parse_key_values


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("questions", help="generate question graphs (DSG / TIFA) or check a question file",
                       description=__doc__.split("\n\n")[0])
    qs = p.add_subparsers(dest="questions_command", metavar="ACTION")

    g = qs.add_parser("generate", help="generate questions for prompts with an LLM (text-only requests)")
    g.add_argument("--style", choices=["dsg", "tifa"], default="dsg")
    g.add_argument("--prompts", required=True,
                   help="JSONL with prompt_id (or id) and prompt per line, a .txt file with one prompt per line, "
                        "or a folder of <id>.txt files (DPG-Bench)")
    g.add_argument("--backend", required=True, help="openai:MODEL | vllm:MODEL | hf:MODEL")
    g.add_argument("--base-url", help="OpenAI-compatible server URL")
    g.add_argument("--engine-arg", action="append", metavar="KEY=VALUE", help="backend option, repeatable")
    g.add_argument("--out", required=True, help="question file to write: .csv (DSG schema) or .json (TIFA schema)")
    g.add_argument("--retries", type=int, default=2, help="extra calls for an invalid reply (default 2)")
    g.add_argument("--no-filter", action="store_true", help="TIFA: keep questions the prompt text does not answer")
    g.add_argument("--cache", help="response cache file (default: judgekit's cache); --no-cache to disable")
    g.add_argument("--no-cache", action="store_true")
    g.add_argument("--retry-failed", action="store_true",
                   help="ask again where a cached reply did not validate (valid cached replies are kept)")
    g.set_defaults(func=run_generate)

    c = qs.add_parser("check", help="load a question file and report every repaired or skipped row")
    c.add_argument("path")
    c.set_defaults(func=run_check)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_generate(args: argparse.Namespace) -> int:
    from ..backends import make_backend
    from ..cache import ResponseCache
    from ..datasets.questions import save_questions
    from ..questions.generate import generate_questions_async
    from ..runner import default_cache_path

    if Path(args.out).suffix.lower() not in (".csv", ".json"):
        raise ConfigError("--out must end in .csv (DSG schema) or .json (TIFA schema)")
    prompts = read_prompts(args.prompts)
    opts = parse_key_values(args.engine_arg, "--engine-arg")

    async def go():
        backend = make_backend(args.backend, settings={"base_url": args.base_url}, **opts)
        cache = None if args.no_cache else ResponseCache(args.cache or default_cache_path())
        try:
            return await generate_questions_async(prompts, backend, style=args.style, retries=args.retries,
                                                  filter_unanswerable=not args.no_filter, cache=cache,
                                                  retry_failed=args.retry_failed)
        finally:
            await backend.aclose()
            if cache is not None:
                cache.close()

    gen = asyncio.run(go())
    n_q = sum(len(g) for g in gen.graphs.values())
    for pid, why in gen.failures.items():
        print(f"no questions for {pid}: {why}")
    if prompts and not n_q:
        from . import EXIT_ALL_FAILED

        # No file: an empty question file would later score every sample as "no questions".
        print(f"judgekit: no question was generated; {args.out} not written", file=sys.stderr)
        return EXIT_ALL_FAILED
    save_questions(gen.graphs.values(), args.out)
    print(f"{len(gen.graphs)} of {len(prompts)} prompts -> {n_q} questions in {args.out}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    p = Path(args.path)
    if p.suffix.lower() == ".json":
        from ..datasets.tifa import load_tifa_questions

        graphs = load_tifa_questions(p)
        print(f"{p}: {len(graphs)} prompts, {sum(len(g) for g in graphs.values())} questions, no issues")
        return 0
    import logging

    from ..datasets.dsg import load_dsg_csv

    logging.getLogger("judgekit.datasets.dsg").setLevel(logging.ERROR)  # the report below says it all
    print(load_dsg_csv(p).report())
    return 0
