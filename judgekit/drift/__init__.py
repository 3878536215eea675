"""``judgekit drift``: has the judge changed since an earlier run? Judge a stratified sample of
that run's ok records again, with the same rubric and backend and bypassing the cache, and
compare (``compare.py``): exact agreement, the mean shift per dimension with a paired bootstrap
CI, Spearman, the pairwise flip rate, and the served model ids then and now.

The fresh answers are stored in the cache under the backend's identity plus a ``recheck`` label
of their own, so they never replace the answers a later ``judgekit score`` replays.

A dimension has drifted when its mean shift is beyond ``max_shift`` (default: 5% of the
rubric's scale range) *and* its 95% CI excludes 0; agreement has dropped when a dimension's exact
agreement (or the pairwise winner agreement) is below ``min_agreement`` (default 0.8; on
continuous scales such as probabilities only when given, since exact equality of two
probabilities says little).

    >>> import judgekit as jk                                                   # doctest: +SKIP
    >>> report = jk.drift_check("results.jsonl", sample=100, seed=0)            # doctest: +SKIP
    >>> report["verdict"], report["dimensions"][0]["mean_shift"]                # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError, RubricError
from ..judge_card import build_card
from ..manifest import load_samples
from ..results import load_results
from ..rubric import Rubric, load_rubric
from ..runner import score_async
from .compare import dimension_figures, pairwise_figures, score_pairs
from .sampling import samples_of, stratified_sample

DEFAULT_MIN_AGREEMENT = 0.8
#: The default largest tolerated mean shift, as a share of the rubric's scale range.
DEFAULT_SHIFT_SHARE = 0.05

__all__ = ["drift_check", "drift_check_async"]


#: Method options a run records in its provenance and a drift check reuses unless given again.
_REUSED_OPTIONS = ("questions", "rule", "variant", "answer_mode")


def _rubric_for(earlier: dict[str, Any], rubric: str | Path | Rubric | None) -> Rubric:
    name = rubric if rubric is not None else earlier.get("rubric")
    if not name:
        raise DataError("the earlier results record no rubric: pass --rubric")
    try:
        r = load_rubric(name)
    except RubricError as exc:
        if rubric is not None:
            raise
        raise RubricError(f"{exc}; the earlier run's rubric {name!r} is not a built-in one: pass --rubric PATH") from None
    if earlier.get("rubric_hash") and r.hash() != earlier["rubric_hash"]:
        raise ConfigError(f"rubric {r.name!r} has hash {r.hash()}, the earlier run used {earlier['rubric_hash']}: a drift "
                          "check judges with the same rubric; pass --rubric PATH to the file that run used")
    return r


def _backend_for(earlier: dict[str, Any], backend: str | None, base_url: str | list[str] | None) -> tuple[str, Any]:
    desc = earlier.get("backend") or {}
    spec = backend or desc.get("spec")
    if not spec:
        raise DataError("the earlier results record no backend: pass --backend")
    if base_url is None and spec == desc.get("spec"):
        base_url = desc.get("base_urls") or desc.get("base_url")
    return spec, base_url


async def drift_check_async(
    against: str | Path,
    *,
    rubric: str | Path | Rubric | None = None,
    backend: str | None = None,
    base_url: str | list[str] | None = None,
    data: str | Path | None = None,
    sample: int = 100,
    seed: int = 0,
    max_shift: float | None = None,
    min_agreement: float | None = None,
    cache: str | Path | bool | None = True,
    concurrency: int = 16,
    method_options: dict[str, Any] | None = None,
    results_out: str | Path | None = None,
    n_boot: int = 2000,
    progress: bool | None = False,
) -> dict[str, Any]:
    """Judge a sample of ``against``'s ok records again and compare; returns the drift report
    (``verdict`` is ``"drift"`` or ``"no drift"``, ``reasons`` says which figure crossed which
    threshold). ``results_out`` keeps the fresh records (and their judge card)."""
    then_all = load_results(against)
    if not len(then_all):
        raise DataError(f"{against}: no records")
    prov = then_all[0].provenance or {}
    r = _rubric_for(prov, rubric)
    spec, url = _backend_for(prov, backend, base_url)
    picked = stratified_sample(then_all, sample, seed)
    manifest = {s.id: s for s in load_samples(data)} if data is not None else None
    samples = samples_of(picked, manifest)
    # The earlier run's own method options (question file, rule, variant) and scoring mode.
    options = {k: prov[k] for k in _REUSED_OPTIONS if prov.get(k) not in (None, "replay")}
    options.update(method_options or {})
    answers = "text" if prov.get("scoring_mode") == "text" else "logprob"
    label = f"drift {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {uuid.uuid4().hex[:8]}"
    now = await score_async(r, samples, spec, base_url=url, cache=cache, out=results_out, concurrency=concurrency,
                            method_options=options, recheck=label, progress=progress, answers=answers)
    shift_limit = max_shift if max_shift is not None else DEFAULT_SHIFT_SHARE * (r.scale.max - r.scale.min)
    agree_limit = min_agreement if min_agreement is not None else DEFAULT_MIN_AGREEMENT
    check_agreement = min_agreement is not None or r.scale.integer or r.kind == "pairwise"
    dims = []
    reasons = []
    for dim, pairs in sorted(score_pairs(picked, now).items()):
        f = {"dimension": dim, **dimension_figures(pairs, n_boot=n_boot, seed=seed)}
        dims.append(f)
        lo, hi = f["ci_low"], f["ci_high"]
        excludes_zero = lo is not None and hi is not None and (lo > 0 or hi < 0)
        if abs(f["mean_shift"]) > shift_limit and excludes_zero:
            reasons.append(f"{dim}: mean shift {f['mean_shift']:+.3f} (95% CI {lo:+.3f} to {hi:+.3f}) is beyond "
                           f"±{shift_limit:g} and its CI excludes 0")
        if check_agreement and r.kind != "pairwise" and f["exact_agreement"] < agree_limit:
            reasons.append(f"{dim}: exact agreement {f['exact_agreement']:.3f} is below {agree_limit:g}")
    pair = pairwise_figures(picked, now)
    if pair is not None and pair["winner_agreement"] < agree_limit:
        reasons.append(f"pairwise: winner agreement {pair['winner_agreement']:.3f} is below {agree_limit:g} "
                       f"(flip rate {pair['flip_rate']:.3f})")
    compared = max((f["n"] for f in dims), default=pair["pairs"] if pair else 0)
    if not compared:
        first = next((x.error for x in now.failures), None)
        raise DataError(f"drift: none of the {len(picked)} re-judged samples could be compared"
                        + (f" (first failure: {first})" if first else ""))
    served_then = build_card(picked)["served_models"]
    served_now = build_card(now.records)["served_models"]
    return {
        "verdict": "drift" if reasons else "no drift",
        "reasons": reasons,
        "against": str(against),
        "rubric": {"name": r.name, "hash": r.hash()},
        "backend": spec,
        "sampled": len(picked),
        "compared": compared,
        "failed_now": len(now.failures),
        "seed": seed,
        "thresholds": {"max_shift": shift_limit, "min_agreement": agree_limit if check_agreement else None},
        "dimensions": dims,
        "pairwise": pair,
        "served_models": {"then": served_then, "now": served_now,
                          "changed": sorted(served_then) != sorted(served_now)},
        "sample_ids": [x.sample_id for x in picked],
        "recheck_label": label,
    }


def drift_check(against: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Synchronous ``drift_check_async`` (works inside a running event loop too)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(drift_check_async(against, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, drift_check_async(against, **kwargs)).result()
