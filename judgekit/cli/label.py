"""``judgekit label``: serve the labelling app, print a campaign's progress, or restore items.

    judgekit label --data manifest.jsonl --mode likert --rubric aesthetics-simple --raters 3 --out labels.jsonl \\
        --invite alice --invite bob
    judgekit label --status --out labels.jsonl
    judgekit label --restore all --out labels.jsonl
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import sys
from pathlib import Path

from ..errors import ConfigError, DataError

WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "label",
        help="a web app in which people grade images (Likert, pass/fail, pairwise); writes human labels",
        description="Serve a labelling page for the items of a manifest. Each item goes to --raters distinct raters, "
        "balanced; answers are kept in SQLite (a killed server loses none) and written to --out as the human-label "
        "JSONL that `judgekit calibrate --human` and `judgekit leaderboard` read. Raters are invited with personal "
        "links (--invite, --raters-file). With --status, print progress and Krippendorff's alpha so far. "
        "See docs/label.md.",
    )
    p.add_argument("--data", metavar="MANIFEST", help="manifest JSONL (pointwise: image, prompt, model; "
                   "pairwise: image_a, image_b, model_a, model_b, as `judgekit pairs` writes)")
    p.add_argument("--mode", choices=["likert", "binary", "pairwise"], help="what raters answer: 1-5, pass/fail, or A/B/tie")
    p.add_argument("--rubric", metavar="R", help="rubric (built-in name or YAML): one question per dimension, "
                   "its criteria as instructions, its 1-5 scale anchors as button labels")
    p.add_argument("--raters", type=int, default=3, metavar="K", help="distinct raters per item (default 3)")
    p.add_argument("--out", metavar="LABELS.jsonl", help="the labels file (rewritten after every answer)")
    p.add_argument("--db", metavar="PATH", help="the campaign database (default: --out with suffix .sqlite)")
    p.add_argument("--invite", action="append", default=[], metavar="NAME",
                   help="invite a rater (repeatable): prints their personal link; only invited raters get in")
    p.add_argument("--raters-file", metavar="FILE", help="invite the raters named in FILE, one name a line")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only); another needs invited raters")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="a Host name the app answers besides localhost (repeatable): the name raters use, "
                   "e.g. the public name of a TLS reverse proxy")
    p.add_argument("--public-url", metavar="URL", help="the address raters open (e.g. https://label.example.org), "
                   "used in the printed links (default http://HOST:PORT)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--seed", type=int, default=0, help="seed of item orders and pair layouts (default 0)")
    p.add_argument("--overlap", type=int, default=0, metavar="N",
                   help="the first N items go to every rater, before the others (agreement early)")
    p.add_argument("--gold", metavar="FILE", help="items with known answers (JSONL: id and score/label/winner): "
                   "every rater gets them first; the operator sees each rater's agreement with them")
    p.add_argument("--min-seconds", type=float, default=2.0, metavar="S",
                   help="answers faster than this are listed for the operator (default 2)")
    p.add_argument("--status", action="store_true", help="print progress and agreement so far, then exit")
    p.add_argument("--restore", metavar="ITEM|all", action="append",
                   help="put an item the server withdrew (could not decode) back into the campaign, then exit")
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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def invited_names(args) -> list[str]:
    names = list(args.invite)
    if args.raters_file:
        try:
            text = Path(args.raters_file).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"--raters-file {args.raters_file}: cannot read it ({exc.strerror or exc})") from None
        names += [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if not names:
            raise ConfigError(f"--raters-file {args.raters_file}: no names in it (one name a line)")
    return names


def run(args: argparse.Namespace) -> int:
    if args.status:
        return _status(args)
    if args.restore:
        return _restore(args)
    missing = [f"--{n}" for n in ("data", "mode", "out") if not getattr(args, n)]
    if missing:
        raise ConfigError(f"judgekit label needs {', '.join(missing)} (or --status)")
    if args.raters < 1:
        raise ConfigError("--raters must be at least 1")
    if args.overlap < 0:
        raise ConfigError("--overlap must be >= 0")
    import judgekit as jk

    from ..label.app import Access, _fastapi, serve
    from ..label.campaign import Campaign
    from ..label.export import Exporter
    from ..label.items import load_label_items
    from ..label.quality import load_gold
    from ..label.settings import Settings
    from ..label.store import LabelStore, ServerLock

    _fastapi()  # a missing extra fails here, before anything is written
    names = invited_names(args)
    loopback = is_loopback(args.host)
    if args.host in WILDCARD_HOSTS and not args.allowed_host:
        raise ConfigError(f"--host {args.host or '(all)'} listens on every interface: name the host raters use with "
                          "--allowed-host NAME (the Host header is checked against it)")
    rubric = jk.load_rubric(args.rubric) if args.rubric else None
    settings = Settings.from_rubric(args.mode, rubric, k=args.raters, seed=args.seed, overlap=args.overlap,
                                    min_seconds=args.min_seconds)
    if args.gold:
        settings.gold = load_gold(args.gold, args.mode, [q.dimension for q in settings.questions])
    items = load_label_items(args.data, args.mode)
    _check_port(args.host, args.port)
    db = _db_path(args)
    lock = ServerLock(db).acquire()  # one server per campaign: two would hand out the same slots twice
    try:
        campaign = Campaign(items, LabelStore(db), settings, args.data)
        store = campaign.store
        for n in names:
            campaign.invite(n)
        invite_only = bool(names) or bool(store.meta().get("invite_only"))
        if names:
            store.set_meta("invite_only", True)  # sticky: once raters are invited, nobody joins by name
        if not loopback and not invite_only:
            raise ConfigError(f"--host {args.host} serves beyond this machine: invite the raters with --invite NAME or "
                              "--raters-file FILE (their personal links are the only way in)")
        exporter = Exporter(campaign, args.out)
        n_bad = len(campaign.problems)
        print(f"judgekit label: {args.mode} labels for {len(items)} items"
              + (f" ({n_bad} cannot be labelled: see --status)" if n_bad else "")
              + f", {args.raters} raters per item, {len(settings.questions)} question(s) per item"
              + (f", the first {args.overlap} to every rater" if args.overlap else "")
              + (f", {len(settings.gold)} gold items" if settings.gold else ""), flush=True)
        if rubric is not None and args.mode == "likert" and (rubric.scale.min, rubric.scale.max) != (1, 5):
            print(f"  note: rubric {rubric.name} scores {rubric.scale.min:g}-{rubric.scale.max:g}; people answer 1-5 "
                  "(its anchors are shown on 1-5; calibrate maps the judge's range onto theirs)", flush=True)
        print(f"  answers are stored in {db}; labels are written to {args.out}", flush=True)
        shown_host = args.host if args.host not in WILDCARD_HOSTS else args.allowed_host[0]
        if ":" in shown_host and not shown_host.startswith("["):
            shown_host = f"[{shown_host}]"
        base = (args.public_url or f"http://{shown_host}:{args.port}").rstrip("/")
        op = campaign.operator_token()
        links = list(store.tokens().items())  # every invited rater, this time's and earlier ones
        allowed = list(args.allowed_host)
        if not loopback and args.host not in WILDCARD_HOSTS:
            allowed.append(args.host)

        def ready():
            if invite_only:
                print("  personal links (send each rater their own; every request is checked against it):", flush=True)
                for r, t in links:
                    print(f"    {r}: {base}/?token={t}", flush=True)
            else:
                print(f"  open {base}/ and type a name (this machine only; invite raters with --invite for more)",
                      flush=True)
            print(f"  operator (progress, agreement, checks): {base}/?token={op}", flush=True)
            print("  Ctrl+C stops; raters can come back later", flush=True)

        serve(campaign, exporter, args.port, on_ready=ready, host=args.host,
              access=Access(allowed_hosts=allowed, open_join=not invite_only))
        print(f"judgekit label: stopped; {args.out} holds {campaign.store.count_answers()} answers", flush=True)
    finally:
        lock.release()
    return 0


def _check_port(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be 1-65535, not {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        # as uvicorn binds: a port with connections of a killed server still in TIME_WAIT is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == 99 or "assign" in str(exc):  # EADDRNOTAVAIL: not an address of this machine
                raise ConfigError(f"--host {host} is not an address of this machine") from None
            raise ConfigError(f"port {port} on {host} is in use: pick another with --port") from None


def _restore(args) -> int:
    from ..label.store import LabelStore

    db = _db_path(args)
    if not db.is_file():
        raise ConfigError(f"{db}: no labelling database (start `judgekit label` first, or pass --db)")
    store = LabelStore(db)
    try:
        withdrawn = store.problems()
        wanted = None if "all" in args.restore else list(args.restore)
        unknown = [i for i in wanted or [] if i not in withdrawn]
        if unknown:
            raise DataError(f"not withdrawn, so nothing to restore: {', '.join(map(repr, unknown))}"
                            + (f" (withdrawn: {', '.join(sorted(withdrawn)[:10])})" if withdrawn else " (none is)"))
        done = store.restore(wanted)
    finally:
        store.close()
    print(f"judgekit label: restored {len(done)} item(s)" + (": " + ", ".join(done) if done else "")
          + "; a running server offers them again (an item still broken is withdrawn again when next shown)")
    return 0


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
    status = campaign_status(store, items, n_boot=args.bootstrap, gold=meta.get("gold") or None,
                             min_seconds=float(meta.get("min_seconds", args.min_seconds)))
    store.close()
    if args.json:
        json.dump(status, sys.stdout, indent=2)
        print()
    else:
        print(format_status(status))
    return 0
