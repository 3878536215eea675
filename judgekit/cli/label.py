"""``judgekit label``: serve the labelling app, or print a campaign's progress.

    judgekit label --data manifest.jsonl --mode likert --rubric aesthetics-simple --raters 3 --out labels.jsonl
    judgekit label --status --out labels.jsonl
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path

from ..errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "label",
        help="a local web app in which people grade images (Likert, pass/fail, pairwise); writes human labels",
        description="Serve a labelling page on 127.0.0.1 for the items of a manifest. Each item goes to --raters "
        "distinct raters, balanced; answers are kept in SQLite (a killed server loses none) and written to --out "
        "as the human-label JSONL that `judgekit calibrate --human` and `judgekit leaderboard` read. "
        "With --status, print progress and Krippendorff's alpha so far. See docs/label.md.",
    )
    p.add_argument("--data", metavar="MANIFEST", help="manifest JSONL (pointwise: image, prompt, model; "
                   "pairwise: image_a, image_b, model_a, model_b, as `judgekit pairs` writes)")
    p.add_argument("--mode", choices=["likert", "binary", "pairwise"], help="what raters answer: 1-5, pass/fail, or A/B/tie")
    p.add_argument("--rubric", metavar="R", help="rubric (built-in name or YAML): one question per dimension, "
                   "its criteria as instructions, its 1-5 scale anchors as button labels")
    p.add_argument("--raters", type=int, default=3, metavar="K", help="distinct raters per item (default 3)")
    p.add_argument("--out", metavar="LABELS.jsonl", help="the labels file (rewritten after every answer)")
    p.add_argument("--db", metavar="PATH", help="the campaign database (default: --out with suffix .sqlite)")
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    p.add_argument("--seed", type=int, default=0, help="seed of item orders and pair layouts (default 0)")
    p.add_argument("--status", action="store_true", help="print progress and agreement so far, then exit")
    p.add_argument("--json", action="store_true", help="with --status: print the status as JSON")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="with --status: bootstrap draws for the CI")
    p.set_defaults(func=run)


def _db_path(args) -> Path:
    if args.db:
        return Path(args.db)
    if not args.out:
        raise ConfigError("give --out LABELS.jsonl (or --db PATH)")
    out = Path(args.out)
    db = out.with_suffix(".sqlite")
    if db == out:
        raise ConfigError(f"--out {out} looks like a database; name the labels file .jsonl or pass --db")
    return db


def run(args: argparse.Namespace) -> int:
    if args.status:
        return _status(args)
    missing = [f"--{n}" for n in ("data", "mode", "out") if not getattr(args, n)]
    if missing:
        raise ConfigError(f"judgekit label needs {', '.join(missing)} (or --status)")
    if args.raters < 1:
        raise ConfigError("--raters must be at least 1")
    import judgekit as jk

    from ..label.app import _fastapi, serve
    from ..label.campaign import Campaign, Settings
    from ..label.export import Exporter
    from ..label.items import load_label_items
    from ..label.store import LabelStore

    _fastapi()  # a missing extra fails here, before anything is written
    rubric = jk.load_rubric(args.rubric) if args.rubric else None
    settings = Settings.from_rubric(args.mode, rubric, k=args.raters, seed=args.seed)
    items = load_label_items(args.data, args.mode)
    _check_port(args.port)
    db = _db_path(args)
    campaign = Campaign(items, LabelStore(db), settings, args.data)
    exporter = Exporter(campaign, args.out)
    n_bad = len(campaign.problems)
    print(f"judgekit label: {args.mode} labels for {len(items)} items"
          + (f" ({n_bad} cannot be labelled, shown as error cards)" if n_bad else "")
          + f", {args.raters} raters per item, {len(settings.questions)} question(s) per item", flush=True)
    if rubric is not None and args.mode == "likert" and (rubric.scale.min, rubric.scale.max) != (1, 5):
        print(f"  note: rubric {rubric.name} scores {rubric.scale.min:g}-{rubric.scale.max:g}; people answer 1-5 "
              "(calibrate maps the judge's range onto theirs)", flush=True)
    print(f"  answers are stored in {db}; labels are written to {args.out}", flush=True)

    def ready():
        print(f"  open http://127.0.0.1:{args.port}/ (Ctrl+C stops; raters can come back later)", flush=True)

    serve(campaign, exporter, args.port, on_ready=ready)
    print(f"judgekit label: stopped; {args.out} holds {campaign.store.count_answers()} answers", flush=True)
    return 0


def _check_port(port: int) -> None:
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be 1-65535, not {port}")
    with socket.socket() as s:
        # as uvicorn binds: a port with connections of a killed server still in TIME_WAIT is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise ConfigError(f"port {port} on 127.0.0.1 is in use: pick another with --port") from None


def _status(args) -> int:
    from ..label.items import load_label_items
    from ..label.status import campaign_status, format_status
    from ..label.store import LabelStore

    store = LabelStore(_db_path(args), readonly=True)
    meta = store.meta()
    if not meta:
        raise ConfigError(f"{store.path}: not a judgekit label database")
    manifest = args.data or meta.get("manifest")
    items = load_label_items(manifest, meta["mode"]) if manifest and Path(manifest).is_file() else None
    status = campaign_status(store, items, n_boot=args.bootstrap)
    store.close()
    if args.json:
        json.dump(status, sys.stdout, indent=2)
        print()
    else:
        print(format_status(status))
    return 0
