"""``judgekit rubrics list | show NAME | validate PATH | render NAME --data manifest.jsonl``."""

from __future__ import annotations

import argparse
import json
import sys

from ..manifest import load_samples
from ..methods import make_method
from ..rubric import builtin_rubrics, load_rubric
from ..types import ImagePart


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rubrics", help="list, show, validate and render rubrics")
    rsub = p.add_subparsers(dest="rubrics_command", metavar="ACTION", required=True)
    rsub.add_parser("list", help="the built-in rubrics").set_defaults(func=_list)
    s = rsub.add_parser("show", help="print a rubric file")
    s.add_argument("name")
    s.set_defaults(func=_show)
    v = rsub.add_parser("validate", help="check a rubric file; errors name the field")
    v.add_argument("path")
    v.set_defaults(func=_validate)
    r = rsub.add_parser("render", help="print the exact messages that would be sent (images as placeholders)")
    r.add_argument("name")
    r.add_argument("--data", required=True, help="JSONL manifest")
    r.add_argument("--limit", type=int, default=1, help="how many samples to render (default 1)")
    r.add_argument("--option", action="append", metavar="KEY=VALUE", help="rubric-kind option, repeatable")
    r.add_argument("--questions", help="question file for question-based rubrics")
    r.set_defaults(func=_render)


def _list(args: argparse.Namespace) -> int:
    import shutil
    import textwrap

    rows = []
    for name in builtin_rubrics():
        r = load_rubric(name)
        # The description's first paragraph, whole: wrapped at word boundaries, never cut.
        rows.append((name, r.kind, r.version, " ".join(r.description.strip().split("\n\n")[0].split())))
    w = max([4, *(len(r[0]) for r in rows)])
    k = max([4, *(len(r[1]) for r in rows)])
    indent = w + k + 13
    width = max(40, shutil.get_terminal_size((100, 24)).columns - indent - 1)
    print(f"{'name'.ljust(w)}  {'kind'.ljust(k)}  version  description")
    for name, kind, version, desc in rows:
        lines = textwrap.wrap(desc, width, break_long_words=False, break_on_hyphens=False) or [""]
        print(f"{name.ljust(w)}  {kind.ljust(k)}  {version.ljust(7)}  {lines[0]}")
        for more in lines[1:]:
            print(" " * indent + more)
    return 0


def _show(args: argparse.Namespace) -> int:
    r = load_rubric(args.name)
    print(f"# {r.source}  (hash {r.hash()})")
    print(r._text.rstrip())
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ..rubric_check import check_rubric

    check = check_rubric(args.path)
    if not check.ok:
        for problem in check.problems:  # every problem of the file at once, one line each
            print(f"judgekit: error: {problem}", file=sys.stderr)
        print(f"{args.path}: {len(check.problems)} problem(s)", file=sys.stderr)
        return 2
    r = check.rubric
    assert r is not None  # no problems: the rubric parsed
    dims = ", ".join(d.name for d in r.dimensions) or "(none)"
    print(f"{args.path}: valid {r.kind} rubric {r.name!r} v{r.version}; dimensions: {dims}; hash {r.hash()}")
    return 0


def _render(args: argparse.Namespace) -> int:
    from .options import parse_key_values

    r = load_rubric(args.name)
    opts = parse_key_values(args.option, "--option")
    if args.questions:
        opts["questions"] = args.questions
    method = make_method(r, **opts)
    for sample in load_samples(args.data)[: args.limit]:
        for call in method.plan(sample):
            print(f"=== sample {sample.id} / call {call.key}")
            for m in call.request.messages:
                print(f"--- {m.role}")
                for part in m.content:
                    if isinstance(part, ImagePart):
                        print(f"[image {part.label}: {part.media_type}, {len(part.data)} bytes, sha256 {part.sha256[:12]}]")
                    else:
                        print(part.text)
            if call.request.json_schema is not None:
                print(f"--- response schema ({call.request.schema_name})")
                print(json.dumps(call.request.json_schema, indent=2))
            d = call.request.decoding()
            print(f"--- decoding: {json.dumps(d)}")
    return 0
