"""Which earlier records a drift check judges again: a sample of the ok records, stratified by
model (by model pair for pairwise results), the same whatever the order of the file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ..errors import DataError
from ..types import Result, Sample


def stratum(r: Result) -> str:
    extra = r.model_extra or {}
    if extra.get("model_a") or extra.get("model_b"):
        return f"{extra.get('model_a')} vs {extra.get('model_b')}"
    return r.model or "(none)"


def stratified_sample(records: Iterable[Result], n: int, seed: int = 0) -> list[Result]:
    """``n`` ok records (all of them when there are fewer), each stratum (model) given its
    proportional share by the largest-remainder rule, drawn without replacement. Records are
    sorted by sample id first, so the draw depends on the records and the seed, never on the
    order of the file."""
    if n < 1:
        raise DataError(f"--sample must be at least 1, got {n}")
    strata: dict[str, list[Result]] = {}
    for r in records:
        if r.status == "ok":
            strata.setdefault(stratum(r), []).append(r)
    if not strata:
        raise DataError("the earlier results have no ok record to judge again")
    for recs in strata.values():
        recs.sort(key=lambda r: r.sample_id)
    total = sum(len(v) for v in strata.values())
    keys = sorted(strata)
    if n >= total:
        return [r for k in keys for r in strata[k]]
    quota = {k: n * len(strata[k]) / total for k in keys}
    alloc = {k: int(q) for k, q in quota.items()}
    for k in sorted(keys, key=lambda k: (-(quota[k] - alloc[k]), k))[: n - sum(alloc.values())]:
        alloc[k] += 1
    rng = np.random.default_rng(seed)
    picked: list[Result] = []
    for k in keys:
        rows = sorted(rng.choice(len(strata[k]), size=alloc[k], replace=False).tolist())
        picked += [strata[k][i] for i in rows]
    return picked


def samples_of(records: Iterable[Result], manifest: Mapping[str, Sample] | None = None) -> list[Sample]:
    """The samples behind ``records``: from the manifest by id when one is given, else rebuilt
    from what each record kept (its ids, model, meta and ``inputs``: prompt and image paths)."""
    out = []
    for r in records:
        if manifest is not None:
            if r.sample_id not in manifest:
                raise DataError(f"sample {r.sample_id!r} of the earlier results is not in the manifest given with --data")
            out.append(manifest[r.sample_id])
            continue
        extra = r.model_extra or {}
        inputs = extra.get("inputs")
        if not inputs:
            raise DataError(f"record {r.sample_id!r} keeps no inputs (written by an older judgekit): pass the "
                            "manifest with --data")
        fields = {"id": r.sample_id, "prompt_id": r.prompt_id, "model": r.model, "seed": r.seed, "meta": r.meta, **inputs}
        for k in ("model_a", "model_b"):
            if extra.get(k):
                fields[k] = extra[k]
        out.append(Sample(**fields))
    return out
