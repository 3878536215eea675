"""What a rubric kind (a judging method) provides to the runner.

A method turns one sample into judge calls (``plan``) and the parsed outcomes of those calls
into one result record (``combine``). The runner owns everything in between: cache, batching,
concurrency, retries of unparseable replies, and writing results as they complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..types import ChatRequest, ChatResponse, Result, Sample


@dataclass
class JudgeCall:
    """One request to the judge for one sample.

    ``parse`` turns the reply into a value (a Verdict, a winner, an answer) or raises
    ``VerdictParseError``; the runner retries the call up to ``parse_retries`` more times and
    then records the call's failure. Calls of one sample are sent together (one image's questions
    share the engine's prefix cache)."""

    key: str  # unique within the sample: a dimension name, "AB:overall", a question id, ...
    request: ChatRequest
    parse: Callable[[ChatResponse], Any]
    parse_retries: int = 2


@dataclass
class CallOutcome:
    key: str
    value: Any = None  # what ``parse`` returned; None when the call failed
    response: ChatResponse | None = None  # the last reply (raw text kept for failed parses)
    error: str | None = None  # why the call failed (transport error or parse failure)
    attempts: int = 1
    #: Where the last reply came from: ``{"from": "fresh" | "cache", "endpoint": ...}`` (set
    #: by the runner; the result records it in ``details["sources"]``).
    source: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Method(Protocol):
    kind: str

    def plan(self, sample: Sample) -> list[JudgeCall]: ...

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result: ...

    def provenance(self) -> dict[str, Any]:
        """Rubric name and hash, template hashes: copied into every result."""
        ...


def rubric_provenance(rubric, templates: Iterable[str], **extra: Any) -> dict[str, Any]:
    """What every result records about the rubric that produced it: name, version, content hash,
    and the hash of each template it renders, plus the method's own settings (``extra``)."""
    from ..prompts import template_hash

    hashes = {t: template_hash(t, rubric.base_dir) for t in sorted(set(templates))}
    return {"rubric": rubric.name, "rubric_version": rubric.version, "rubric_hash": rubric.hash(), "template_hash": hashes, **extra}
