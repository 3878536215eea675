"""What one benchmark module provides to ``bench run`` / ``bench report``.

Every module ``judgekit/benchmarks/<name>.py`` defines ``CARD`` (its ``ProtocolCard``). A
runnable one also defines:

- ``prepare(request: BenchRequest) -> Prepared``: the manifest, built from the benchmark's own
  files (``--data``) and its evaluator's image layout (``--images``), and the rubric it is
  judged with;
- ``unit(results: list[Result]) -> Unit``: one prompt's successful results reduced to what the
  aggregation needs;
- ``aggregate(units: list[Unit]) -> dict[str, float]``: the official aggregation, on the
  benchmark's own scale, headline first;
- ``official_text(estimates: dict[str, float]) -> str``: the headline as the official evaluator
  prints it.

A benchmark whose maintainers publish their official judge's per-sample outputs also defines
``import_outputs(source: Path, options: dict) -> ImportedOutputs`` (``bench import``): the
published outputs as results, and notes on what was counted differently from the official script.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..rubric import Rubric
from ..types import Result, Sample
from .card import PromptChoice

#: ``import_outputs``' answer: the results and notes printed under the headline.
ImportedOutputs = tuple[list[Result], list[str]]


def check_import_options(options: dict[str, Any], known: tuple[str, ...]) -> None:
    """An unknown ``bench import --set`` key is an error before anything is read."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(f"--set {unknown[0]}: not an import option of this benchmark; accepted: {', '.join(known) or 'none'}")


@dataclass
class BenchRequest:
    data: Path
    images: Path | None
    work_dir: Path  # the run's --out folder: derived files (DPG-Bench's crops) go under it
    method: str | None = None
    protocol_dir: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)  # --set KEY=VALUE

    def option(self, name: str, default: Any, kinds: tuple[type, ...] = (str,)) -> Any:
        value = self.options.get(name, default)
        if not isinstance(value, kinds):
            raise ConfigError(f"--set {name}: expected {' or '.join(k.__name__ for k in kinds)}, got {value!r}")
        return value

    def check_options(self, known: tuple[str, ...]) -> None:
        unknown = sorted(set(self.options) - set(known))
        if unknown:
            raise ConfigError(f"--set {unknown[0]}: not an option of this benchmark; accepted: {', '.join(known) or 'none'}")


@dataclass
class Prepared:
    rubric: Rubric
    samples: list[Sample]
    prompt: PromptChoice
    method: str = ""  # the scoring method used (GenEval 2's --method), "" where there is one
    method_options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # printed under the headline: where this run differs
    extra_quirks: dict[str, int] = field(default_factory=dict)  # benchmark-specific counts (rewritten prompts)
    #: A protocol in two stages (T2I-CompBench's description, then its question with that
    #: description in context): judges these samples first, then what this builds from their results.
    follow_up: Callable[[list[Result]], Prepared] | None = None


class OwnWordedMethod:
    """What a benchmark's judging method with several named prompts shares: judgekit's own
    wording (``own_prompts``) for each, replaced by the official text the rubric carries when
    ``--protocol-dir`` gave it (``rubric.options["prompts"]``), and the rubric's identity as
    provenance."""

    own_prompts: dict[str, str] = {}

    def __init__(self, rubric: Rubric, parse_retries: int = 2, replay: bool = False, **options: Any):
        self.rubric = rubric
        self.prompts: dict[str, str] = {**self.own_prompts, **dict(rubric.options.get("prompts") or {})}
        self.parse_retries = parse_retries

    def provenance(self) -> dict[str, Any]:
        return {"rubric": self.rubric.name, "rubric_version": self.rubric.version, "rubric_hash": self.rubric.hash()}
