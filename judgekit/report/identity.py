"""Who judged: the judge's identity as the results record it, one entry per distinct judge.

Read from each record's ``provenance``: the backend (spec, model, endpoint), the decoding
settings (temperature, seed), the rubric's name, version and content hash, and each template's
hash. Fields a newer judgekit may add (what the server reported serving, e.g. ``served_model``,
or a ``judge`` block) are shown when present and never required.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..types import Result

#: Keys of a backend description or a provenance that name what actually answered.
_SERVED = ("served_model", "server_model", "model_served", "system_fingerprint")


def _short(h: Any) -> str | None:
    return str(h)[:12] if h else None


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def judge_identity(prov: dict[str, Any]) -> dict[str, Any]:
    """The identity of one record's judge as plain data (missing fields are left out)."""
    be: dict[str, Any] = _dict(prov.get("backend"))
    dec: dict[str, Any] = _dict(prov.get("decoding"))
    judge: dict[str, Any] = _dict(prov.get("judge"))
    out: dict[str, Any] = {
        "rubric": prov.get("rubric"), "rubric_version": prov.get("rubric_version"),
        "rubric_hash": _short(prov.get("rubric_hash")),
        "templates": {str(k): _short(v) for k, v in (prov.get("template_hash") or {}).items()}
        if isinstance(prov.get("template_hash"), dict) else {},
        "backend": be.get("spec") or judge.get("spec"), "model": be.get("model") or judge.get("model"),
        "endpoint": be.get("base_url") or be.get("endpoint") or judge.get("endpoint"),
        "temperature": dec.get("temperature"), "seed": dec.get("seed"),
        "judgekit": prov.get("judgekit_version"),
    }
    sources: tuple[dict[str, Any], ...] = (judge, be, prov)
    for src in sources:
        for k in _SERVED:
            if src.get(k) and "served" not in out:
                out["served"] = str(src[k])
    return {k: v for k, v in out.items() if v not in (None, {}, "")}


_BACKEND_KEYS = ("backend", "model", "endpoint", "temperature", "seed", "served", "judgekit")


def answered_by(r: Result) -> dict[str, set[str]]:
    """What answered this record's calls, from its judge card fields (judge_card.py): the served
    model ids and system fingerprints of ``details["sources"]`` (empty for older records)."""
    calls = [s for s in ((r.details or {}).get("sources") or {}).values() if isinstance(s, dict)]
    return {"served": {str(s["served_model"]) for s in calls if s.get("served_model")},
            "fingerprint": {str(s["system_fingerprint"]) for s in calls if s.get("system_fingerprint")}}


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} ({n} records)" for k, n in sorted(counts.items()))


def judge_identities(files: Sequence[tuple[str, list[Result]]]) -> list[dict[str, Any]]:
    """Distinct judges (backend, model, endpoint, decoding, what was served) over all files, each
    with the rubrics it applied: name, version, hashes, the files and the number of records."""
    judges: dict[str, dict[str, Any]] = {}
    for name, recs in files:
        for r in recs:
            ident = judge_identity(r.provenance or {})
            if not ident:
                continue
            head = {k: ident[k] for k in _BACKEND_KEYS if k in ident}
            fresh: dict[str, Any] = {**head, "rubrics": {}}
            judge = judges.setdefault(repr(sorted(head.items())), fresh)
            rub: dict[str, Any] = {k: ident[k] for k in ("rubric", "rubric_version", "rubric_hash", "templates") if k in ident}
            blank: dict[str, Any] = {**rub, "files": [], "n": 0}
            entry = judge["rubrics"].setdefault(repr(sorted((k, repr(v)) for k, v in rub.items())), blank)
            entry["n"] += 1
            if name not in entry["files"]:
                entry["files"].append(name)
            # What really answered, counted per record: a server that switched snapshots mid-run
            # shows both ids on its one line, each with its records.
            for field, ids in answered_by(r).items():
                tally = judge.setdefault(f"_{field}", {})
                for x in ids:
                    tally[x] = tally.get(x, 0) + 1
    out = []
    for j in judges.values():
        served, prints = j.pop("_served", {}), j.pop("_fingerprint", {})
        if served and "served" not in j:
            j["served"] = _counted(served)
        if prints:
            j["fingerprint"] = _counted(prints)
        out.append({**j, "rubrics": list(j["rubrics"].values())})
    return out
