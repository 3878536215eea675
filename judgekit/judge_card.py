"""The judge card: which judge actually answered a run, so a judgekit number can be reported.

An API judge asked for ``gpt-4o`` answers as whatever snapshot the provider serves that day;
the number a run produced is only reproducible with that served id, the rubric and template
hashes, the sampling parameters and the judgekit version. Three levels record it:

- per call, in ``details["sources"][call]``: ``from`` (fresh / cache), ``endpoint``,
  ``served_model`` (the reply's ``model`` field), ``system_fingerprint`` and ``usage``;
  a cached answer keeps the identity it was answered with;
- per record, the extra field ``judge``: the requested model, endpoint host, engine and its
  version (local engines), the sampling parameters sent, and the served ids of its calls;
- per run, the card (``build_card``): everything above aggregated with counts, written as
  ``<results stem>.card.json`` beside the results file (``card_path``) and printed by
  ``judgekit results info``.

Everything here reads plain dicts and result records, so a card can be rebuilt from a results
file alone (a file written before cards existed gives a card with unknown served ids).

>>> card_path("runs/results.jsonl").name
'results.card.json'
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sized
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import DataError
from .types import ChatResponse, Result

#: Bumped when a field of the card changes meaning.
CARD_VERSION = 2  # 2: usage per served model (charged / cached, with cost when priced)
#: The served id of an answer that carries none (a cache entry written before judgekit recorded
#: it, a replayed file): counted under this name, never guessed.
UNKNOWN = "(unknown)"


def card_path(results: str | Path) -> Path:
    """Where the card of a results file lives: ``results.jsonl`` -> ``results.card.json``."""
    p = Path(results)
    stem = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.stem
    return p.with_name(f"{stem}.card.json")


def endpoint_host(endpoint: str | None) -> str | None:
    """``http://10.0.0.5:8000/v1`` -> ``10.0.0.5:8000``; an in-process engine's description is
    kept as it is; several servers (``url | url``) give their hosts joined the same way."""
    if not endpoint:
        return None
    parts = [e.strip() for e in str(endpoint).split(" | ")]
    hosts = [urlsplit(e).netloc or e if "://" in e else e for e in parts]
    return " | ".join(hosts)


def run_judge(description: Mapping[str, Any], identity: Mapping[str, Any]) -> dict[str, Any]:
    """The judge of a run as far as the backend knows it before answering: from its
    ``describe()`` and cache identity. ``engine`` / ``engine_version`` are set for local
    engines (vLLM, transformers), which describe themselves with them."""
    engine = description.get("engine")
    version = None
    if engine:
        version = next((str(v) for k, v in description.items() if k.endswith("_version") and v), None)
    return {
        "spec": description.get("spec") or identity.get("spec"),
        "requested_model": description.get("model") or identity.get("model"),
        # Where requests go: the backend's URL(s) when it has them (an HTTP backend's cache
        # identity names no URL), else the identity's endpoint (a model directory, a file).
        "endpoint_host": endpoint_host(" | ".join(description["base_urls"]) if description.get("base_urls")
                                       else description.get("base_url") or identity.get("endpoint")),
        "engine": engine,
        "engine_version": version,
    }


def served_identity(resp: ChatResponse) -> dict[str, Any]:
    """What a reply says about who answered (``served_model``, ``system_fingerprint``)."""
    return {k: v for k, v in (resp.served or {}).items() if v is not None}


class JudgeWitness:
    """What a run learns about its judge as the replies come in: it adds the served identity
    and token usage to each call's source, tells an alias once on stderr, and names why a reply
    is refused under ``--pin-model``."""

    def __init__(self, judge: Mapping[str, Any], pin_model: str | None = None):
        self.judge, self.pin_model = judge, pin_model
        self._alias_told = False

    def served_model(self, resp: ChatResponse, fresh: bool) -> str | None:
        """The id of the model that answered ``resp`` (None when the reply names none): the
        reply's ``model`` field, or for a fresh answer of an in-process engine the model it
        loaded. The run's usage is counted and priced under it (usage/ledger.py)."""
        sid = served_identity(resp).get("served_model")
        if sid is None and fresh and self.judge.get("engine"):
            # An in-process engine serves exactly the model it loaded (its version is in `judge`).
            sid = self.judge.get("requested_model")
        return None if sid is None else str(sid)

    def identified(self, resp: ChatResponse, source: Mapping[str, Any]) -> dict[str, Any]:
        """``source`` plus who answered (served id, fingerprint) and the reply's token usage."""
        served = served_identity(resp)
        sid = self.served_model(resp, source.get("from") == "fresh")
        if sid is not None:
            served["served_model"] = sid
        out = {**source, **served}
        if resp.usage:
            out["usage"] = dict(resp.usage)
        sid, requested = served.get("served_model"), self.judge.get("requested_model")
        if sid and requested and sid != requested and not self._alias_told:
            self._alias_told = True
            print(f"judgekit: note: {alias_line(str(requested), [sid])}", file=sys.stderr)
        return out

    def record(self, sampling: Iterable[Mapping[str, Any]], sources: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """The ``judge`` field of one record (``record_judge`` with this run's judge and pin)."""
        return record_judge(self.judge, sampling, sources, self.pin_model)

    def refusal(self, source: Mapping[str, Any]) -> str | None:
        """Why a reply is refused under --pin-model (None when it is accepted)."""
        if self.pin_model is None or source.get("served_model") == self.pin_model:
            return None
        where = " (a cached answer)" if source.get("from") == "cache" else ""
        sid = source.get("served_model") or "an unrecorded model"
        return f"served by {sid}{where}, not by the pinned model {self.pin_model} (--pin-model)"


def record_judge(judge: Mapping[str, Any], sampling: Iterable[Mapping[str, Any]],
                 sources: Mapping[str, Mapping[str, Any]], pinned: str | None = None) -> dict[str, Any]:
    """The ``judge`` field of one record: the run's judge, the distinct sampling parameters its
    calls were sent with, and the served ids of its calls with counts."""
    distinct: list[dict[str, Any]] = []
    for s in sampling:
        if dict(s) not in distinct:
            distinct.append(dict(s))
    served = Counter(str(src.get("served_model") or UNKNOWN) for src in sources.values())
    out = {**judge, "sampling": distinct, "served_models": dict(sorted(served.items()))}
    hosts = sorted({str(endpoint_host(src["endpoint"])) for src in sources.values() if src.get("endpoint")})
    if hosts:  # the servers that really answered this record's calls
        out["endpoint_host"] = " | ".join(hosts)
    if pinned:
        out["pinned_model"] = pinned
    return out


_COUNTS = ("requests", "batch_requests", "prompt_tokens", "cached_tokens", "completion_tokens")


def _book() -> dict[str, Any]:
    return {**dict.fromkeys(_COUNTS, 0), "cost_usd": 0.0}


def _book_add(book: dict[str, Any], part: Mapping[str, Any]) -> None:
    for k in _COUNTS:
        book[k] += int(part.get(k) or 0)
    cost = part.get("cost_usd")
    # A cost unknown anywhere (no price table, a model missing from it) is unknown in the sum.
    book["cost_usd"] = None if cost is None or book["cost_usd"] is None else book["cost_usd"] + float(cost)


def record_usage(r: Result) -> tuple[dict[str, dict[str, Mapping[str, Any]]], bool]:
    """One record's usage per served model, ``{served id: {"charged": ..., "cached": ...}}``,
    and whether it was priced. Read from ``details["usage"]["served_models"]`` (what the runner
    counted, every attempt and repeat); a record written before that existed falls back to the
    usage of its calls' sources (the last attempt of each call), unpriced."""
    details = r.details or {}
    usage = details.get("usage") or {}
    if isinstance(usage.get("served_models"), dict):
        return usage["served_models"], "cost_usd" in usage
    out: dict[str, dict[str, Mapping[str, Any]]] = {}
    for src in (details.get("sources") or {}).values():
        if not src.get("usage"):
            continue
        u = src["usage"]
        part = {**u, "requests": 1, "batch_requests": int(bool(u.get("batch"))), "cost_usd": None}
        books = out.setdefault(str(src.get("served_model") or UNKNOWN), {})
        name = "cached" if src.get("from") == "cache" else "charged"
        merged = dict(books.get(name) or {**_book(), "cost_usd": None})
        _book_add(merged, part)
        books[name] = merged
    return out, False


def card_usage(records: Iterable[Result]) -> dict[str, Any]:
    """The usage of a set of records per served model: ``charged`` (answered in the run that
    wrote them) and ``cached`` (replayed; its cost is the cost when first answered), each with
    requests, tokens and ``cost_usd`` (None when not priced). The same shape and figures as the
    run's ``run_info["usage"]["models"]`` when every sample the run judged is in the records."""
    models: dict[str, dict[str, dict[str, Any]]] = {}
    priced = False
    unpriced = False
    for r in records:
        per, was_priced = record_usage(r)
        if not per:
            continue
        priced |= was_priced
        unpriced |= not was_priced
        for sid, books in per.items():
            row = models.setdefault(sid, {"charged": _book(), "cached": _book()})
            for name in ("charged", "cached"):
                if books.get(name):
                    _book_add(row[name], books[name])
    for row in models.values():
        for book in row.values():
            if not priced or unpriced:
                book["cost_usd"] = None
            elif book["cost_usd"] is not None:
                book["cost_usd"] = round(book["cost_usd"], 8)
    rows = dict(sorted(models.items()))
    return {
        "priced": priced and not unpriced,
        "prompt_tokens": sum(b["prompt_tokens"] for row in rows.values() for b in row.values()),
        "completion_tokens": sum(b["completion_tokens"] for row in rows.values() for b in row.values()),
        "models": rows,
    }


def build_card(records: Iterable[Result], run_info: Mapping[str, Any] | None = None,
               results_file: str | None = None) -> dict[str, Any]:
    """The card of a run, from its records (and the runner's ``run_info`` when at hand)."""

    recs = records if isinstance(records, Sized) else list(records)  # spooled records stream from disk
    served: dict[str, dict[str, int]] = {}
    fingerprints: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    sampling: list[dict[str, Any]] = []
    sampling_n: list[int] = []
    rubrics: dict[str, dict[str, Any]] = {}
    requested: Counter[str] = Counter()
    engines: Counter[tuple[str, str]] = Counter()
    specs: Counter[str] = Counter()
    pinned: set[str] = set()
    repeats: Counter[int] = Counter()
    versions: Counter[str] = Counter()
    for r in recs:
        prov = r.provenance or {}
        extra = r.model_extra or {}
        judge = extra.get("judge") or {}
        if prov.get("rubric_hash"):
            rubrics.setdefault(prov["rubric_hash"], {"name": prov.get("rubric", r.rubric), "version": prov.get("rubric_version"),
                                                     "hash": prov["rubric_hash"], "templates": prov.get("template_hash") or {}})
        if prov.get("judgekit_version"):
            versions[prov["judgekit_version"]] += 1
        spec = (prov.get("backend") or {}).get("spec") or judge.get("spec")
        if spec:
            specs[spec] += 1
        if judge.get("requested_model"):
            requested[str(judge["requested_model"])] += 1
        if judge.get("engine"):
            engines[(str(judge["engine"]), str(judge.get("engine_version")))] += 1
        if judge.get("pinned_model"):
            pinned.add(judge["pinned_model"])
        if extra.get("scoring_mode"):
            modes[str(extra["scoring_mode"])] += 1
        if (prov.get("repeats") or 1) > 1:
            repeats[int(prov["repeats"])] += 1
        for s in judge.get("sampling") or []:
            if s in sampling:
                sampling_n[sampling.index(s)] += 1
            else:
                sampling.append(s)
                sampling_n.append(1)
        for src in ((r.details or {}).get("sources") or {}).values():
            sid = str(src.get("served_model") or UNKNOWN)
            row = served.setdefault(sid, {"calls": 0, "fresh": 0, "cache": 0})
            row["calls"] += 1
            origin = "cache" if src.get("from") == "cache" else "fresh"
            row[origin] += 1
            if src.get("system_fingerprint"):
                fingerprints[str(src["system_fingerprint"])] += 1
            if src.get("endpoint"):
                hosts[str(endpoint_host(src["endpoint"]))] += 1
    req = sorted(requested)
    known = sorted(s for s in served if s != UNKNOWN)
    alias = None
    if req and any(s not in req for s in known):
        alias = {"requested": req[0] if len(req) == 1 else req, "served": known,
                 "note": alias_line(req[0] if len(req) == 1 else ", ".join(req), known)}
    card: dict[str, Any] = {
        "card_version": CARD_VERSION,
        "results": results_file,
        "judgekit_version": sorted(versions)[0] if len(versions) == 1 else dict(versions),
        "records": len(recs),
        "failed": sum(r.status == "failed" for r in recs),
        "backend": sorted(specs)[0] if len(specs) == 1 else dict(specs),
        "requested_model": req[0] if len(req) == 1 else (req or None),
        "served_models": dict(sorted(served.items())),
        "system_fingerprints": dict(sorted(fingerprints.items())),
        "endpoint_hosts": dict(sorted(hosts.items())),
        "engine": [{"engine": e, "version": None if v == "None" else v, "records": n} for (e, v), n in sorted(engines.items())],
        "alias": alias,
        "pinned_model": sorted(pinned)[0] if len(pinned) == 1 else (sorted(pinned) or None),
        "rubrics": sorted(rubrics.values(), key=lambda x: (x["name"] or "", x["hash"])),
        "sampling": [{**s, "records": n} for s, n in zip(sampling, sampling_n)],
        # Per served model, from the records' own accounting (details["usage"]): the one
        # source of the card's, the summary's and the report's usage figures.
        "usage": card_usage(recs),
    }
    if modes:
        card["scoring_modes"] = dict(sorted(modes.items()))
    if repeats:
        card["repeats"] = {str(k): n for k, n in sorted(repeats.items())}
    if run_info and run_info.get("cache"):
        card["cache"] = dict(run_info["cache"])
    if run_info and (run_info.get("usage") or {}).get("prices"):
        card["usage"]["prices"] = run_info["usage"]["prices"]  # the price table's file
    return card


def usage_lines(usage: Mapping[str, Any]) -> list[str]:
    """One line per served model and book (charged / cached) of a card's ``usage``."""
    lines = []
    for sid, row in (usage.get("models") or {}).items():
        for name, label in (("charged", "answered in the run"), ("cached", "from cache")):
            b = row.get(name) or {}
            if not b.get("requests"):
                continue
            line = (f"usage {sid}, {label}: {b['requests']} requests, {b['prompt_tokens']} prompt tokens "
                    f"({b['cached_tokens']} cached), {b['completion_tokens']} completion tokens")
            if usage.get("priced"):
                usd = "unknown (no price for this model)" if b["cost_usd"] is None else f"${b['cost_usd']:.4f}"
                line += f"; cost {usd}" if name == "charged" else f"; cost when first answered {usd}"
            lines.append(line)
    return lines


def alias_line(requested: str, served: list[str]) -> str:
    """The one line that says a requested id is an alias."""
    return (f"the requested model {requested!r} is an alias: the server answered as {', '.join(served)}; "
            f"pass --pin-model {served[0]} to refuse any other")


def mixed_note(records: Iterable[Result]) -> str | None:
    """One summary line when the answers of a run come from more than one served model (a
    server that switched snapshots, or cached answers of one model beside fresh ones of
    another): the counts per served model, fresh and cached; None when they all agree."""
    served = build_card(records)["served_models"]
    if len(served) < 2:
        return None
    parts = [f"{sid}: {row['calls']} calls ({row['fresh']} fresh, {row['cache']} cached)" for sid, row in served.items()]
    return f"note: the answers come from {len(served)} served models: " + "; ".join(parts)


def write_card(path: str | Path, card: Mapping[str, Any]) -> Path:
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return p


def read_card(path: str | Path) -> dict[str, Any]:
    """A card file, or the card of a results file (read beside it, or rebuilt from its records
    when the run wrote none)."""
    from .io import read_json

    p = Path(path)
    if p.name.endswith(".card.json"):
        card = read_json(p, "judge card")
        if not isinstance(card, dict) or "card_version" not in card:
            raise DataError(f"{p}: not a judgekit judge card (no card_version)")
        return card
    beside = card_path(p)
    if beside.is_file():
        return read_card(beside)
    from .io import read_jsonl_models

    records = read_jsonl_models(p, Result, "results file", "judgekit result record")
    card = build_card(records, results_file=p.name)
    card["rebuilt"] = f"no {beside.name} beside {p.name}: rebuilt from its records"
    return card


def _words(value: Any) -> str:
    """A card field in words: ``a (3), b (1)`` for counts of several, ``none`` for none, never a repr."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k} ({n})" for k, n in value.items()) or "none"
    return (", ".join(map(str, value)) or "none") if isinstance(value, list) else "none" if value is None else str(value)


def format_card(card: Mapping[str, Any]) -> str:
    """The card as lines of text (``judgekit results info``)."""
    lines = [f"judge card (judgekit {_words(card.get('judgekit_version'))}, card v{card.get('card_version')})"]
    if card.get("rebuilt"):
        lines.append(f"  {card['rebuilt']}")
    lines.append(f"  results: {card.get('results')}  records: {card.get('records')}  failed: {card.get('failed')}")
    lines.append(f"  backend: {_words(card.get('backend'))}  requested model: {_words(card.get('requested_model'))}")
    for e in card.get("engine") or []:
        lines.append(f"  engine: {e['engine']} {e['version'] or '(version unknown)'}")
    lines.append("  served models (calls: fresh / cached):")
    for sid, row in (card.get("served_models") or {}).items():
        lines.append(f"    {sid}: {row['calls']} ({row['fresh']} / {row['cache']})")
    if card.get("system_fingerprints"):
        lines.append("  system fingerprints: " + ", ".join(f"{k} ({n})" for k, n in card["system_fingerprints"].items()))
    if card.get("endpoint_hosts"):
        lines.append("  endpoints: " + ", ".join(f"{k} ({n})" for k, n in card["endpoint_hosts"].items()))
    if card.get("alias"):
        lines.append(f"  alias: {card['alias']['note']}")
    if card.get("pinned_model"):
        lines.append(f"  pinned model: {card['pinned_model']}")
    for rb in card.get("rubrics") or []:
        tmpl = ", ".join(f"{t} {h[:12]}" for t, h in (rb.get("templates") or {}).items())
        lines.append(f"  rubric: {rb['name']} v{rb.get('version')} hash {str(rb['hash'])[:12]}; templates: {tmpl}")
    for s in card.get("sampling") or []:
        lines.append("  sampling: " + ", ".join(f"{k}={v}" for k, v in s.items() if k != "records") + f" ({s['records']} records)")
    u = card.get("usage") or {}
    lines.append(f"  tokens: {u.get('prompt_tokens', 0)} prompt + {u.get('completion_tokens', 0)} completion")
    lines.extend("  " + line for line in usage_lines(u))
    if card.get("scoring_modes"):
        lines.append("  scoring modes: " + ", ".join(f"{k} ({n})" for k, n in card["scoring_modes"].items()))
    if card.get("repeats"):
        lines.append("  repeats per call: " + ", ".join(f"K={k} ({n} records)" for k, n in card["repeats"].items()))
    return "\n".join(lines)
