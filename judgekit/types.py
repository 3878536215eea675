"""Values that cross module boundaries: samples in, chat requests to a backend, responses back,
and one result record per sample out."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from .memory_images import InMemoryImage, to_in_memory

# --- inputs -------------------------------------------------------------------------------------

#: Sample fields that hold images: a file path (resolved relative to the manifest) or an image in
#: memory (PIL, numpy, torch, encoded bytes; see ``memory_images``).
IMAGE_FIELDS = ("image", "image_a", "image_b", "source_image", "reference", "reference_image", "mask", "subject_image",
                "control_image")

#: What an image field holds once its sample is built: a path, or the image's encoded bytes.
ImageSource = str | InMemoryImage


class Sample(BaseModel):
    """One item to judge. Pointwise samples carry ``image`` and ``model``; pairwise samples
    ``image_a``/``image_b`` and ``model_a``/``model_b``; editing samples ``source_image`` and
    ``instruction``; editing benchmarks add an optional ground-truth ``reference_image``, an edit
    ``mask`` (white = the region to edit), a ``subject_image`` (subject-driven editing's and
    generation's token subject), a ``control_image`` (control-guided generation's guidance), and
    the meta keys ``task_type`` and ``instruction_language``. Unknown manifest keys land in
    ``meta`` and travel through to the results.

    Every image field takes a path or an image in memory (``PIL.Image``, numpy HxWx3 array,
    torch CxHxW/HxWxC tensor, encoded bytes), converted once here to ``InMemoryImage``."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    id: str
    prompt: str | None = None
    prompt_id: str | None = None
    image: ImageSource | None = None
    model: str | None = None
    seed: int | None = None
    image_a: ImageSource | None = None
    image_b: ImageSource | None = None
    model_a: str | None = None
    model_b: str | None = None
    source_image: ImageSource | None = None
    instruction: str | None = None
    reference: ImageSource | None = None
    # Editing benchmarks (issue 12). Their text keys (task_type, instruction_language) stay in
    # ``meta`` so that every method carries them to the results unchanged (see the properties).
    reference_image: ImageSource | None = None  # a ground-truth edit, for reference-based metrics
    mask: ImageSource | None = None  # white where the edit should happen
    subject_image: ImageSource | None = None  # the token subject(s) of subject-driven editing and generation
    control_image: ImageSource | None = None  # the guidance (edges, pose, depth) of control-guided generation
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator(*IMAGE_FIELDS, mode="before")
    @classmethod
    def _image_source(cls, value: Any) -> Any:
        if value is None or isinstance(value, str | InMemoryImage):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        return to_in_memory(value)  # a bad array raises SampleError (not a ValueError: pydantic lets it through)

    @field_serializer(*IMAGE_FIELDS, when_used="json")
    def _image_json(self, value: ImageSource | None) -> Any:
        return value.reference() if isinstance(value, InMemoryImage) else value

    def in_memory_images(self) -> dict[str, InMemoryImage]:
        """The sample's images given in memory, by SHA-256."""
        return {v.sha256: v for f in IMAGE_FIELDS if isinstance(v := getattr(self, f), InMemoryImage)}

    @property
    def task_type(self) -> str | None:
        """An editing benchmark's task category (``meta["task_type"]``: background_change, ...)."""
        return self.meta.get("task_type")

    @property
    def instruction_language(self) -> str | None:
        """The instruction's language (``meta["instruction_language"]``: en, zh)."""
        return self.meta.get("instruction_language")

    @property
    def group(self) -> str:
        """The unit a bootstrap resamples: the prompt, so several images of one prompt move
        together."""
        return self.prompt_id or self.prompt or self.id


# --- backend protocol values ---------------------------------------------------------------------


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    """Encoded image bytes (PNG or JPEG) exactly as they are sent to the judge."""

    data: bytes
    media_type: str = "image/png"
    label: str = ""  # the input's name (e.g. "image_a"); shown by `rubrics render`
    #: ((width, height) of the file, (width, height) sent) when the image was downscaled to the
    #: judge's pixel budget (``judgekit.images.max_image_pixels``); the result records it.
    resized: tuple[tuple[int, int], tuple[int, int]] | None = None
    #: The file or URI the bytes were read from, when they were (``load_image_part``): lets a backend
    #: whose workers see the same filesystem send the path instead of the bytes (ray_vllm.py).
    #: Not part of the request's fingerprint: the bytes are.
    source: str | None = field(default=None, compare=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: tuple[TextPart | ImagePart, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[Message, ...]
    json_schema: dict[str, Any] | None = None
    schema_name: str = "verdict"
    max_tokens: int = 1024
    temperature: float = 0.0
    seed: int | None = 0
    logprobs: bool = False
    top_logprobs: int | None = None
    # What the request is about, for backends that answer from records rather than from the
    # content (replay: reads item_id, model, question_id). Part of the fingerprint, so two
    # requests for different recorded answers never share a cache entry.
    meta: dict[str, Any] | None = None

    def decoding(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
        }

    def fingerprint(self) -> dict[str, Any]:
        """A JSON-able description of everything that determines the reply, images by hash."""
        msgs = [
            {
                "role": m.role,
                "content": [
                    {"text": p.text} if isinstance(p, TextPart) else {"image": p.sha256, "type": p.media_type}
                    for p in m.content
                ],
            }
            for m in self.messages
        ]
        fp = {"messages": msgs, "schema": self.json_schema, **self.decoding()}
        if self.meta:
            fp["meta"] = self.meta
        return fp


@dataclass
class TokenLogprob:
    token: str
    logprob: float
    top: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class ChatResponse:
    """What a backend returns for one request. A request that failed for good (after the
    backend's own retries) comes back with ``error`` set instead of raising, so one bad call
    never takes a batch down."""

    text: str = ""
    logprobs: list[TokenLogprob] | None = None
    usage: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    raw: dict[str, Any] | None = None
    error: str | None = None
    #: Who answered, as the reply says (``served_model``: the reply's ``model`` field,
    #: ``system_fingerprint``): kept with a cached answer, so a replayed answer keeps the
    #: identity it was answered with (judge_card.py).
    served: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {
            "text": self.text,
            "logprobs": None
            if self.logprobs is None
            else [[t.token, t.logprob, [list(x) for x in t.top]] for t in self.logprobs],
            "usage": self.usage,
            "latency_s": self.latency_s,
            # Why the reply ended (cut off at max_tokens, a refusal): a replayed reply explains
            # a failed parse the way the fresh one did.
            **({"raw": kept} if (kept := {k: v for k, v in (self.raw or {}).items()
                                          if k in ("finish_reason", "refusal") and v is not None}) else {}),
        }
        if self.served:  # absent when unknown: entries written before identity was recorded read the same
            out["served"] = dict(self.served)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ChatResponse:
        lps = d.get("logprobs")
        return cls(
            text=d.get("text", ""),
            logprobs=None
            if lps is None
            else [TokenLogprob(t, lp, [(a, b) for a, b in top]) for t, lp, top in lps],
            usage=d.get("usage") or {},
            latency_s=d.get("latency_s", 0.0),
            raw=d.get("raw"),
            served=dict(d.get("served") or {}),
        )


# --- outputs ------------------------------------------------------------------------------------


class Verdict(BaseModel):
    """A parsed, validated judgment of one dimension."""

    reasoning: str
    score: float


class Result(BaseModel):
    """One record of a results file (one line of JSONL per sample)."""

    model_config = ConfigDict(extra="allow")

    sample_id: str
    prompt_id: str | None = None
    model: str | None = None
    seed: int | None = None  # the manifest's seed: per-seed analysis needs no re-join
    rubric: str
    status: Literal["ok", "failed"]
    scores: dict[str, float | None] = Field(default_factory=dict)
    overall: float | None = None
    reasoning: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
    # Method-specific detail: raw pairwise verdicts in both orders, per-question answers, ...
    details: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def for_sample(cls, sample: Sample, rubric_name: str, **fields: Any) -> Result:
        """The record of ``sample``: the sample's identifying fields (id, prompt_id, model, seed,
        meta) carried over, then ``fields`` (status, scores, ...; a field given here wins, e.g.
        ``model=None`` for a pair). Every method builds its records here, so a field added to
        samples reaches every kind's results."""
        base: dict[str, Any] = {"sample_id": sample.id, "prompt_id": sample.prompt_id, "model": sample.model,
                                "seed": sample.seed, "meta": sample.meta}
        return cls(**{**base, "rubric": rubric_name, **fields})
