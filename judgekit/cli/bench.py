"""``judgekit bench list | run | report``: published benchmarks with their official protocol."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from ..backends import make_backend
from ..errors import ConfigError
from ..runner import default_cache_path
from . import EXIT_ALL_FAILED
from .options import parse_key_values


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run a published benchmark with its official aggregation",
                       description="Published text-to-image and editing benchmarks, run the way their maintainers "
                       "run them, with bootstrap CIs and a protocol card saying where judgekit differs.")
    bs = p.add_subparsers(dest="bench_command", metavar="ACTION")
    ls = bs.add_parser("list", help="every benchmark: task, official judge, what judgekit reproduces")
    ls.add_argument("--verbose", "-v", action="store_true", help="print each benchmark's full protocol card")
    ls.set_defaults(func=run_list)
    r = bs.add_parser("run", help="judge a benchmark's images and print its headline",
                      description="Build the manifest from the benchmark's own files, judge it (cached: rerun the "
                      "same command to resume), aggregate it the official way and print the headline.")
    r.add_argument("name", help="benchmark name (see `judgekit bench list`)")
    r.add_argument("--data", required=True, help="the benchmark's own data file (see its card)")
    r.add_argument("--images", help="the generated images, in the layout the benchmark's evaluator takes")
    r.add_argument("--method", help="scoring method, where the benchmark has several (GenEval 2)")
    r.add_argument("--backend", required=True, help="openai:MODEL | vllm:MODEL | hf:MODEL | replay:PATH")
    r.add_argument("--base-url", help="OpenAI-compatible server URL (default $OPENAI_BASE_URL)")
    r.add_argument("--out", required=True, help="run folder (bench.json, manifest.jsonl, results.jsonl, report.json)")
    r.add_argument("--protocol-dir", help="a checkout of the benchmark's repository: use its official judge prompt")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="benchmark option (see its card), repeatable")
    r.add_argument("--concurrency", type=int, default=16, help="requests in flight for HTTP backends (default 16)")
    r.add_argument("--cache", help=f"response cache file (default {default_cache_path()})")
    r.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    r.add_argument("--engine-arg", action="append", metavar="KEY=VALUE", help="backend/engine option, repeatable")
    r.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of prompts (default 1000)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=run_bench)
    imp = bs.add_parser("import", help="a run folder from a benchmark's published per-sample judge outputs",
                        description="Read the official judge's published per-sample outputs (TIIF-Bench's eval-results "
                        "folder of one model; GEdit-Bench's folder of <model>_<task>_gpt_score.csv files) into a run "
                        "folder, aggregated the official way.")
    imp.add_argument("name", help="benchmark name")
    imp.add_argument("source", help="the published outputs (TIIF-Bench: eval-results/.../<judge>/<model>; "
                     "GEdit-Bench: the folder of <model>_<task>_gpt_score.csv files; KRIS-Bench: results/<model> "
                     "of a run of its official scripts)")
    imp.add_argument("--set", action="append", metavar="KEY=VALUE", help="import option (GEdit-Bench: language, model)")
    imp.add_argument("--out", required=True, help="run folder to write")
    imp.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of prompts (default 1000)")
    imp.set_defaults(func=run_import)
    rep = bs.add_parser("report", help="the headline table of a run folder, recomputed from its results")
    rep.add_argument("folder", help="a `bench run --out` folder")
    rep.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of prompts (default 1000)")
    rep.set_defaults(func=run_report)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_list(args: argparse.Namespace) -> int:
    from ..benchmarks import cards

    for card in cards():
        if args.verbose:
            print("\n".join(card.lines()))
            print()
        else:
            print(card.summary_line())
    return 0


async def _run(args: argparse.Namespace):
    from ..benchmarks import BenchRequest, run_benchmark_async

    req = BenchRequest(data=Path(args.data), images=Path(args.images) if args.images else None, work_dir=Path(args.out),
                       method=args.method, protocol_dir=Path(args.protocol_dir) if args.protocol_dir else None,
                       options=parse_key_values(args.set, "--set"))
    backend = make_backend(args.backend, settings={"base_url": args.base_url, "concurrency": args.concurrency},
                           **parse_key_values(args.engine_arg, "--engine-arg"))
    try:
        return await run_benchmark_async(args.name, req, backend, cache=False if args.no_cache else (args.cache or True),
                                         concurrency=args.concurrency, progress=None if not args.no_progress else False,
                                         n_boot=args.bootstrap, backend_name=args.backend)
    finally:
        await backend.aclose()


def run_bench(args: argparse.Namespace) -> int:
    if args.bootstrap < 1:
        raise ConfigError("--bootstrap must be at least 1")
    report = asyncio.run(_run(args))
    print(report.text())
    print(f"\nrun folder: {args.out} (`judgekit bench report {args.out}` prints this again)")
    return EXIT_ALL_FAILED if report.n_samples == 0 else 0


def run_report(args: argparse.Namespace) -> int:
    from ..benchmarks import report_from_dir

    report = report_from_dir(args.folder, n_boot=args.bootstrap)
    print(report.text())
    return EXIT_ALL_FAILED if report.n_samples == 0 else 0


def run_import(args: argparse.Namespace) -> int:
    from ..benchmarks import import_outputs

    report = import_outputs(args.name, args.source, args.out, n_boot=args.bootstrap,
                            options=parse_key_values(args.set, "--set"))
    print(report.text())
    return EXIT_ALL_FAILED if report.n_samples == 0 else 0
