"""``judgekit batch status|cancel``: the provider batch jobs a run submitted (``score --batch``),
as its response-cache database records them; ``status`` asks the provider for the current state
of the pending ones, ``cancel`` cancels them (their requests are then answered by the next run's
fallback)."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..backends.batch_store import TERMINAL, BatchJob, BatchStore
from ..errors import ConfigError
from ..runner import default_cache_path

if TYPE_CHECKING:  # the openai client takes seconds to import: only `batch` itself loads it
    from ..backends.batch_api import BatchApi


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="list or cancel the provider batch jobs of `score --batch` runs",
                       description="List (status) or cancel the Batch API jobs recorded in a response cache by "
                       "`judgekit score --batch`. The API key comes from $OPENAI_API_KEY.")
    p.add_argument("action", choices=["status", "cancel"])
    p.add_argument("--cache", help=f"the run's response cache file (default {default_cache_path()})")
    p.add_argument("--batch-id", action="append", help="only this batch (repeatable; default: every pending one)")
    p.set_defaults(func=run)


def _api(endpoint: str) -> BatchApi:
    from ..backends.batch_api import BatchApi
    from ..backends.openai import OpenAIBackend

    return BatchApi(OpenAIBackend("batch-admin", base_url=endpoint))


async def _act(store: BatchStore, jobs: list[BatchJob], action: str) -> None:
    apis: dict[str, BatchApi] = {}
    try:
        for job in jobs:
            if job.batch_id is None or job.downloaded or job.status in TERMINAL:
                continue
            api = apis.setdefault(job.endpoint, _api(job.endpoint))
            batch = await (api.cancel(job.batch_id) if action == "cancel" else api.retrieve(job.batch_id))
            job.status = batch.status
            store.set_status(job.batch_id, batch.status)
    finally:
        for api in apis.values():
            await api.backend.aclose()


def run(args: argparse.Namespace) -> int:
    path = args.cache or default_cache_path()
    if not Path(path).exists():  # opening it would create an empty database (and its folder)
        if args.cache:  # a mistyped path must not read as "this run had no jobs"
            raise ConfigError(f"response cache {path} does not exist (pass the --cache the `score --batch` run used)")
        print(f"no batch jobs recorded in {path}")
        return 0
    store = BatchStore(path)
    try:
        jobs = store.jobs()
        if args.batch_id:
            unknown = sorted(set(args.batch_id) - {j.batch_id for j in jobs})
            if unknown:
                raise ConfigError(f"{path} records no batch {unknown[0]!r}")
            jobs = [j for j in jobs if j.batch_id in set(args.batch_id)]
        asyncio.run(_act(store, jobs, args.action))
        if not jobs:
            print(f"no batch jobs recorded in {path}")
        for j in jobs:
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(j.created))
            state = j.status + (", replies in the cache" if j.downloaded else "")
            print(f"{j.batch_id or '(not created)'}  {state}  {j.requests} requests  {when} UTC  {j.endpoint}")
    finally:
        store.close()
    return 0
