"""Joining the results files of a sharded run (``judgekit score --shard i/N``) into one.

A merge that silently double-counts or drops samples would bias every number computed from it,
so each check refuses with a ``DataError`` that names what is wrong:

- a sample in two parts (or twice in one part): an overlap;
- with the manifest, a sample of the manifest in no part (missing) or a record for a sample the
  manifest does not have; without it, a shard number that no part covers;
- parts judged with a different rubric (name, version, content or template hash), rubric kind,
  decoding, or backend spec: they would not measure the same thing.

The backend's spec is compared, not its full description: parts judged by the same model through
different servers (``--base-url``) are one run. The merged records drop their ``shard`` field and
come out in manifest order (with the manifest) or shard order, so a merged run equals the unsharded
run apart from each part's ``created`` time.

    >>> merge_results(["r.part1.jsonl", "r.part2.jsonl"], manifest="m.jsonl")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DataError
from .judge_card import build_card, card_path, write_card
from .manifest import load_samples
from .results import Results, load_results
from .shards import shard_of
from .types import Result

_SHOWN = 10  # ids named in an error before "and N more"


def _names(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def run_identity(prov: dict[str, Any]) -> dict[str, Any]:
    """What two parts must share to be one run."""
    backend = prov.get("backend") or {}
    return {
        "rubric": prov.get("rubric"),
        "rubric_version": prov.get("rubric_version"),
        "rubric_hash": prov.get("rubric_hash"),
        "template_hash": prov.get("template_hash"),
        "kind": prov.get("kind"),
        "decoding": prov.get("decoding"),
        "backend": backend.get("spec") if isinstance(backend, dict) else backend,
    }


def _check_identity(parts: list[tuple[Path, Results]]) -> None:
    first: tuple[Path, dict[str, Any]] | None = None
    for path, res in parts:
        for r in res:
            ident = run_identity(r.provenance)
            if first is None:
                first = (path, ident)
                continue
            if ident != first[1]:
                diff = [k for k in ident if ident[k] != first[1][k]]
                raise DataError(
                    f"{path} (sample {r.sample_id!r}) was not judged like {first[0]}: they differ in "
                    + ", ".join(f"{k} ({first[1][k]!r} vs {ident[k]!r})" for k in diff)
                )


def _check_overlap(parts: list[tuple[Path, Results]]) -> None:
    seen: dict[str, Path] = {}
    clashes: list[str] = []
    where: dict[str, tuple[Path, Path]] = {}
    for path, res in parts:
        for r in res:
            if r.sample_id in seen:
                clashes.append(r.sample_id)
                where.setdefault(r.sample_id, (seen[r.sample_id], path))
            else:
                seen[r.sample_id] = path
    if clashes:
        a, b = where[clashes[0]]
        raise DataError(
            f"{len(clashes)} sample(s) appear in more than one part ({_names(clashes)}; "
            f"e.g. {clashes[0]!r} is in {a} and in {b}): were two parts judged with the same --shard?"
        )


def _check_shards(parts: list[tuple[Path, Results]]) -> None:
    """Without a manifest: every shard 1..N present, and each record in the shard it claims."""
    counts, covered = set(), set()
    for path, res in parts:
        for r in res:
            sh = r.provenance.get("shard")
            if not sh:
                continue
            counts.add(sh["count"])
            covered.add(sh["index"])
            if shard_of(r.sample_id, sh["count"]) != sh["index"]:
                raise DataError(f"{path}: sample {r.sample_id!r} is not in shard {sh['index']}/{sh['count']}")
    if len(counts) > 1:
        raise DataError(f"the parts were cut into different numbers of shards: {sorted(counts)}")
    if counts:
        n = counts.pop()
        absent = sorted(set(range(1, n + 1)) - covered)
        if absent:
            # An empty shard (tiny manifest) also shows up here; --data tells the two apart.
            raise DataError(f"no part covers shard(s) {', '.join(f'{i}/{n}' for i in absent)}; "
                            "add those parts, or pass the manifest (--data) to check by sample")


def merge_results(parts: Sequence[str | Path], manifest: str | Path | None = None,
                  out: str | Path | None = None) -> Results:
    """Merge the results files ``parts`` into one ``Results`` (written to ``out`` if given);
    with ``manifest``, check that every sample of it is judged exactly once and keep its order."""
    if not parts:
        raise DataError("nothing to merge: give at least one results file")
    loaded = [(Path(p), load_results(p)) for p in parts]
    _check_identity(loaded)
    _check_overlap(loaded)
    by_id: dict[str, Result] = {r.sample_id: r for _, res in loaded for r in res}
    if manifest is not None:
        order = [s.id for s in load_samples(manifest)]
        known = set(order)
        missing = [i for i in order if i not in by_id]
        if missing:
            raise DataError(f"{len(missing)} sample(s) of {manifest} are in no part: {_names(missing)}")
        extra = [i for i in by_id if i not in known]
        if extra:
            raise DataError(f"{len(extra)} record(s) are for samples not in {manifest}: {_names(extra)}")
    else:
        _check_shards(loaded)
        shard_index = {str(p): (res[0].provenance.get("shard") or {}).get("index", 0) if len(res) else 0
                       for p, res in loaded}
        ordered = sorted(loaded, key=lambda pr: shard_index[str(pr[0])])
        order = [r.sample_id for _, res in ordered for r in res]
    records = []
    for sid in order:
        r = by_id[sid]
        prov = {k: v for k, v in r.provenance.items() if k != "shard"}
        records.append(r.model_copy(update={"provenance": prov}))
    merged = Results(records, {"merged_from": [str(p) for p, _ in loaded]})
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        merged.save(out)
        # The merged file's judge card, from the merged records: who answered every part, with counts.
        write_card(card_path(out), build_card(merged.records, merged.run_info, Path(out).name))
    return merged


__all__ = ["merge_results", "run_identity"]
