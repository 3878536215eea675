"""``judgekit cache info | clear``: what the response cache holds, and emptying it.

    judgekit cache info  [--cache PATH]
    judgekit cache clear [--cache PATH] [--backend SPEC]

The cache is the file ``judgekit score`` and ``judgekit questions generate`` read and write
(default ``$JUDGEKIT_CACHE``, else ``$XDG_CACHE_HOME/judgekit/responses.sqlite``). ``clear``
asks nothing: it prints what it removed. Clearing costs only time: the next run asks the judge
again.
"""

from __future__ import annotations

import argparse
import time

from ..cache import cache_info, clear_cache
from ..runner import default_cache_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache", help="show or clear the response cache", description=__doc__.split("\n\n")[0])
    cs = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    i = cs.add_parser("info", help="entries, size on disk and entries per backend")
    i.set_defaults(func=run_info)
    c = cs.add_parser("clear", help="delete the cached replies (all, or one backend's) and print what went")
    c.add_argument("--backend", metavar="SPEC", help="only this backend's replies (as `cache info` lists them)")
    c.set_defaults(func=run_clear)
    for q in (i, c):
        q.add_argument("--cache", metavar="PATH", help=f"the cache file (default {default_cache_path()})")


def _size(size: int) -> str:
    n = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t)) if t else "-"


def run_info(args: argparse.Namespace) -> int:
    info = cache_info(args.cache or default_cache_path())
    if not info["exists"]:
        print(f"{info['path']}: no cache yet (0 entries)")
        return 0
    print(f"{info['path']}: {info['entries']} entries, {_size(info['bytes'])} on disk")
    if info["entries"]:
        print(f"oldest {_when(info['oldest'])}, newest {_when(info['newest'])}")
        width = max(len(b) for b in info["backends"])
        for backend, n in sorted(info["backends"].items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {backend.ljust(width)}  {n}")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    res = clear_cache(args.cache or default_cache_path(), backend=args.backend)
    if not res["exists"]:
        print(f"{res['path']}: no cache; nothing removed")
        return 0
    which = f" of {args.backend}" if args.backend else ""
    print(f"{res['path']}: removed {res['removed']} entries{which} ({_size(res['freed'])} freed)")
    if args.backend and not res["removed"] and res["backends"]:
        print(f"no entries for {args.backend}; the cache holds: {', '.join(sorted(res['backends']))}")
    return 0
