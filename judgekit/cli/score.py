"""``judgekit score``: run a rubric over a manifest and write results."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ..backends import make_backend
from ..backends.pool import format_endpoint_counts, read_base_urls
from ..errors import ConfigError, DataError
from ..images import DEFAULT_MAX_IMAGE_PIXELS
from ..manifest import load_samples, refuse_overwriting_input
from ..rubric import load_rubric
from ..runner import default_cache_path, score_async
from ..tables import check_data_source, parse_columns, table_kind
from . import EXIT_ALL_FAILED
from .cost_options import CostPlan, add_cost_arguments
from .options import parse_key_values
from .scale_options import add_scale_arguments, scale_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="judge the samples of a manifest with a rubric",
        description="Judge every sample of a JSONL manifest with a rubric and write one result per sample. "
        "Completed judge calls are cached: rerunning an interrupted command resumes it.",
    )
    p.add_argument("--rubric", required=True, help="built-in rubric name (see `judgekit rubrics list`) or a YAML file")
    p.add_argument("--data", help="JSONL manifest of samples, a Parquet file or folder of shards, or a Hugging Face "
                   "save_to_disk folder (optional with replay: backends that list their samples)")
    p.add_argument("--columns", metavar="FIELD=COLUMN,...", help="Parquet/Arrow columns of the sample fields, e.g. "
                   "image=edited_image,source_image=input_image,prompt=instruction (default: the usual names)")
    p.add_argument(
        "--backend",
        help="openai:MODEL | vllm:MODEL | hf:MODEL | ray-vllm:MODEL | replay:PATH (default: the embedded vLLM judge)",
    )
    p.add_argument("--base-url", action="append", help="OpenAI-compatible server URL (default $OPENAI_BASE_URL); key from "
                   "$OPENAI_API_KEY. Repeat it for several servers of one model: requests go to the least busy one")
    p.add_argument("--base-urls", metavar="FILE", help="a file of server URLs, one a line (with or instead of --base-url)")
    p.add_argument("--out", default="results.jsonl", help="results file (JSONL; default results.jsonl)")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight for HTTP backends (default 16)")
    p.add_argument("--cache", help=f"response cache file (default {default_cache_path()})")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    p.add_argument("--max-samples", type=int, help="judge only the first N samples")
    p.add_argument("--parse-retries", type=int, default=2, help="extra calls for a reply that is not a valid verdict")
    p.add_argument("--retry-failed", action="store_true",
                   help="ask the judge again for calls whose cached reply was not a valid verdict (after fixing the "
                        "server or rubric); valid cached replies are kept. Without it the cache replays them as they were")
    p.add_argument(
        "--response-format",
        choices=["json_schema", "json_object", "none"],
        help="how the OpenAI backend asks for JSON (json_object for servers without json_schema)",
    )
    p.add_argument("--max-image-pixels", type=int, default=DEFAULT_MAX_IMAGE_PIXELS, metavar="N",
                   help=f"downscale images with more pixels than N before sending them to the judge (default {DEFAULT_MAX_IMAGE_PIXELS}"
                        ", 4096 x 4096; 0: never); each result records its resize")
    p.add_argument("--engine-arg", action="append", metavar="KEY=VALUE", help="backend/engine option, repeatable")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="rubric-kind option, repeatable")
    p.add_argument("--questions", help="question file for question-based rubrics (DSG CSV or TIFA JSON)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--repeats", type=int, default=1, metavar="K", help="judge each call K times (seeds 0..K-1) and "
                   "report the judge's repeat agreement (pointwise rubrics; default 1)")
    p.add_argument("--aggregate", choices=["mean", "median", "majority"], default="mean",
                   help="how K repeats make the sample's score (default mean)")
    p.add_argument("--answers", choices=["logprob", "text"], default="logprob",
                   help="vqascore / probability answers: logprob (default; the judge must return top_logprobs, checked "
                   "once) or text (yes/no read from the reply, scores 0/1, records say scoring_mode: text)")
    p.add_argument("--pin-model", metavar="ID", help="fail (per sample) every reply whose served model id (the reply's "
                   "`model`) is not ID, so a silently upgraded judge cannot mix into the run (docs/reproducibility.md)")
    add_scale_arguments(p)
    add_cost_arguments(p)
    p.add_argument("--shard", metavar="I/N", help="judge only shard I of N (by sample id hash); join parts with `judgekit merge`")
    p.set_defaults(func=run)


def _backend_spec(args: argparse.Namespace) -> str:
    if args.backend:
        return args.backend
    from ..backends.vllm import resolve_default_backend

    return resolve_default_backend()


async def _run(args: argparse.Namespace, plan: CostPlan):
    rubric = load_rubric(args.rubric)
    spec = _backend_spec(args)
    opts = parse_key_values(args.engine_arg, "--engine-arg")
    settings = {"base_url": read_base_urls(args.base_url, args.base_urls), "concurrency": args.concurrency, "response_format": args.response_format,
                **scale_settings(args)}
    method_options = parse_key_values(args.option, "--option")
    if args.questions:
        method_options["questions"] = args.questions
    backend = make_backend(spec, settings=settings, **opts)
    try:
        if args.data and table_kind(args.data) is not None:
            samples = args.data  # a table streams: rows are read as they are judged
        elif args.data:
            samples = load_samples(args.data)
        elif hasattr(backend, "samples"):
            samples = list(backend.samples())
        else:
            raise ConfigError(f"--data is required with backend {spec!r}")
        if not samples:  # "0 samples" with exit 0 would pass for a finished run
            raise DataError(f"{args.data or spec}: no samples to judge")
        cache = False if args.no_cache else (args.cache or True)
        plan.total = len(samples) if args.max_samples is None else min(len(samples), args.max_samples)
        if plan.mode == "import_batch":
            plan.import_outputs(backend, args.cache or default_cache_path())
        plan.run_ledger = plan.ledger(backend)
        kwargs = dict(
            cache=cache,
            max_samples=args.max_samples,
            progress=None if not args.no_progress else False,
            parse_retries=args.parse_retries,
            concurrency=args.concurrency,
            method_options=method_options,
            shard=args.shard,
            columns=parse_columns(args.columns),
            retry_failed=args.retry_failed,
            max_image_pixels=args.max_image_pixels or None,
            pin_model=args.pin_model,
            repeats=args.repeats,
            aggregate=args.aggregate,
            answers=args.answers,
        )
        if plan.mode == "batch":  # provider batch jobs, then the same run from the cache
            return await plan.score_batch(args.cache or default_cache_path(), rubric=rubric, samples=samples,
                                          backend=backend, **kwargs)
        return await score_async(rubric, samples, backend, out=args.out if plan.writes_results else None,
                                 ledger=plan.run_ledger, **kwargs)
    finally:
        await backend.aclose()


def run(args: argparse.Namespace) -> int:
    if args.max_samples is not None and args.max_samples < 1:
        raise ConfigError("--max-samples must be at least 1")
    if args.max_image_pixels < 0:
        raise ConfigError(f"--max-image-pixels must be 0 (no limit) or more, got {args.max_image_pixels}")
    if args.parse_retries < 0:
        raise ConfigError(f"--parse-retries must be 0 or more (extra calls for an invalid reply), got {args.parse_retries}")
    if args.data:
        check_data_source(args.data)  # a missing file, or a Hub name (never downloaded), stops here
    if args.data:  # before any backend starts
        refuse_overwriting_input(args.data, args.out)
    plan = CostPlan(args)
    results = asyncio.run(_run(args, plan))
    assert plan.run_ledger is not None  # built by _run
    if not plan.writes_results:
        return plan.report(results, plan.run_ledger)
    if len(results):  # no record (a budget or an import that completed none): no header-only table
        print(results.summary())
    failed = len(results.failures)
    cache = results.run_info.get("cache", {})
    print(
        f"\n{len(results)} samples, {failed} failed; results in {args.out}"
        f" (cache: {cache.get('hits', 0)} hits, {cache.get('misses', 0)} misses)"
    )
    for line in format_endpoint_counts(results.run_info):
        print(line)
    if ray_info := results.run_info.get("ray"):  # ray-vllm: engines start once per replica (+ restarts)
        print(f"ray-vllm: {ray_info['engines_started']} engines started for {ray_info['replicas']} replicas, "
              f"{ray_info['batches']} batches ({ray_info['batches_retried']} sent again)")
    from ..judge_card import card_path

    print(f"judge card: {card_path(args.out)} (`judgekit results info {args.out}`)")
    stopped = plan.report(results, plan.run_ledger)
    if stopped:
        return stopped
    if failed:
        first = results.failures[0]
        print(f"first failure: {first.sample_id}: {first.error}", file=sys.stderr)
        if failed == len(results):
            print(f"judgekit: no sample succeeded ({failed} of {failed} failed)", file=sys.stderr)
            return EXIT_ALL_FAILED
    return 0
