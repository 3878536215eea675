"""Result records -> the plain rows the report page renders, one per sample, per rubric kind.

Every row has the same core (id, rubric, kind, model, prompt, status, overall, per-dimension
scores and reasoning, error, raw replies, images) plus ``x``: what that kind adds, read from the
record's ``details`` exactly as the method wrote it:

- pointwise: nothing more (editing samples are pointwise ones with a ``source_image``);
- pairwise: both orders' verdicts per dimension, mapped back to models, the merged winner and
  the consistency flag;
- questions: every question with its parents, answer, raw and gated score, and who zeroed it;
- vqascore: P(yes), P(no), the normalized P(yes) and the answer token;
- text-rendering: targets, transcription and their token diff.

Keys are short because a 10,000-sample report carries 10,000 of these rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..seed_summary import record_seed
from ..types import IMAGE_FIELDS, Result, Sample
from .textdiff import text_diff
from .thumbs import ImageTable

#: Image roles in the order the page lays them out, with their captions.
_ROLES = {"source_image": "source", "image": "image", "image_a": "A", "image_b": "B", "reference": "reference"}


def kind_of(r: Result) -> str:
    return str((r.provenance or {}).get("kind") or "pointwise")


def _inputs(r: Result, sample: Sample | None) -> dict[str, str]:
    """What was judged: as recorded in the result (``inputs``), with the manifest's values on
    top when one is given (results written before ``inputs`` existed, or images that moved)."""
    # An image judged from memory is recorded by its hash (no file to show) unless
    # ``Results.save(save_images=...)`` wrote it out: only paths are kept.
    got = {k: v for k, v in ((r.model_extra or {}).get("inputs") or {}).items() if isinstance(v, str)}
    if sample is not None:
        for k in ("prompt", "instruction", *IMAGE_FIELDS):
            v = getattr(sample, k)
            if isinstance(v, str):
                got[k] = v
    return got


def _raw_replies(details: Mapping[str, Any]) -> dict[str, str]:
    raw = details.get("raw_replies")
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items() if v is not None}
    one = details.get("raw_reply")
    return {"reply": str(one)} if one is not None else {}


def _pairwise(r: Result, extra: dict[str, Any]) -> dict[str, Any]:
    ma, mb = extra.get("model_a"), extra.get("model_b")
    to_model = {"AB": {"A": ma, "B": mb, "tie": "tie"}, "BA": {"A": mb, "B": ma, "tie": "tie"}}
    merged = extra.get("winners") or {}

    def name(w):
        return {"model_a": ma, "model_b": mb}.get(w, w)

    dims = []
    for dim, v in ((r.details or {}).get("verdicts") or {}).items():
        row: dict[str, Any] = {"n": dim, "w": name(merged.get(dim)), "c": v.get("consistent")}
        for order in ("AB", "BA"):
            if order in v:
                label = v[order].get("winner")
                row[order] = {"w": label, "m": to_model[order].get(label), "r": v[order].get("reasoning", "")}
        dims.append(row)
    return {"ma": ma, "mb": mb, "w": name(extra.get("winner")), "merge": (r.details or {}).get("merge"), "dims": dims}


def _questions(details: Mapping[str, Any]) -> dict[str, Any]:
    qs = []
    for q in details.get("questions") or []:
        row = {"id": q.get("id"), "q": q.get("question"), "cat": q.get("category"), "par": q.get("parents") or [],
               "a": q.get("answer"), "raw": q.get("raw"), "s": q.get("score"), "g": q.get("gated_by") or []}
        for src, dst in (("error", "err"), ("p_yes", "py"), ("reasoning", "why")):
            if q.get(src) is not None:
                row[dst] = q[src]
        qs.append(row)
    return {"rule": details.get("rule"), "qs": qs, "missing": details.get("missing") or [],
            "skipped": details.get("skipped") or []}


def _vqascore(r: Result) -> dict[str, Any]:
    d = r.details or {}
    return {"p_yes": r.scores.get("p_yes"), "p_norm": r.scores.get("p_yes_normalized"), "p_no": d.get("p_no"),
            "tok": d.get("answer_token")}


def _text_rendering(r: Result) -> dict[str, Any]:
    d = r.details or {}
    targets = [str(t) for t in (r.meta or {}).get("targets") or []]
    tr = d.get("transcription")
    lang = d.get("language") or (r.meta or {}).get("language") or "en"
    out: dict[str, Any] = {"targets": targets, "tr": tr, "lang": lang, "matched": d.get("matched"), "total": d.get("total")}
    if tr is not None:
        out["diff"] = text_diff(targets, tr, lang)
    return out


def _extra(kind: str, r: Result, extra: dict[str, Any]) -> dict[str, Any] | None:
    if kind == "pairwise":
        return _pairwise(r, extra)
    if kind == "questions":
        return _questions(r.details or {})
    if kind == "vqascore":
        return _vqascore(r)
    if kind == "text-rendering":
        return _text_rendering(r)
    return None


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?[\w.~-]*[/\\][^\s:,;()]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def failure_kind(error: str | None) -> str:
    """An error message with what varies from sample to sample (paths, quoted values, numbers)
    blanked, so the overview can count failures by reason: "image … does not exist"."""
    text = (error or "no reason recorded").strip().splitlines()[0] if (error or "").strip() else "no reason recorded"
    text = _QUOTED.sub("…", text)
    text = _PATHLIKE.sub("…", text)
    text = _NUMBER.sub("N", text)
    return " ".join(text.split())[:160]


def to_row(r: Result, file_index: int, images: ImageTable, sample: Sample | None = None) -> dict[str, Any]:
    """One page row for one result record (see the module docstring for the layout)."""
    kind = kind_of(r)
    extra = r.model_extra or {}
    inputs = _inputs(r, sample)
    if kind == "pairwise":
        models = [m for m in (extra.get("model_a"), extra.get("model_b")) if m]
        model_label = " vs ".join(models) if models else "(pair)"
    else:
        models = [r.model] if r.model else []
        model_label = r.model or "(none)"
    ims = []
    for field, role in _ROLES.items():
        if inputs.get(field):
            caption = {"A": f"A: {extra.get('model_a') or 'image_a'}", "B": f"B: {extra.get('model_b') or 'image_b'}",
                       "image": "edited" if inputs.get("source_image") else (r.model or "image")}.get(role, role)
            ims.append([role, caption, images.add(inputs[field])])
    row: dict[str, Any] = {
        "id": r.sample_id, "f": file_index, "r": r.rubric, "k": kind, "m": model_label, "ms": models,
        "pid": r.prompt_id, "p": inputs.get("prompt") or "", "st": r.status, "o": _num(r.overall),
        "sc": {str(k): _num(v) for k, v in (r.scores or {}).items()},
        "rs": {str(k): str(v) for k, v in (r.reasoning or {}).items()},
        "im": ims,
    }
    if inputs.get("instruction"):
        row["ins"] = inputs["instruction"]
    if r.error:
        row["e"] = r.error
    if r.status == "failed":
        row["fk"] = failure_kind(r.error)
    seed = record_seed(r)
    if seed is not None:
        row["sd"] = seed
    raw = _raw_replies(r.details or {})
    if raw:
        row["raw"] = raw
    x = _extra(kind, r, extra)
    if x is not None:
        row["x"] = x
    return row


def build_rows(files: Iterable[tuple[int, Iterable[Result]]], samples: Mapping[str, Sample] | None = None,
               ) -> tuple[list[dict[str, Any]], ImageTable]:
    """Rows of every record of every file, each with a unique ``u`` (the deep-link id: the
    sample id, suffixed when two files hold the same one), and the images they refer to."""
    images = ImageTable()
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    samples = samples or {}
    for fi, records in files:
        for r in records:
            row = to_row(r, fi, images, samples.get(r.sample_id))
            uid = r.sample_id
            if uid in seen:
                seen[uid] += 1
                uid = f"{uid}~{seen[r.sample_id]}"
            seen.setdefault(uid, 0)
            row["u"] = uid
            rows.append(row)
    return rows, images
