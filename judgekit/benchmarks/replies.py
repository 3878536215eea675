"""One judge call per sample whose reply is free text in a benchmark's own format (``Score: 1``,
``Consistency: 2``), read by that benchmark's parser.

The rubric's options carry the prompt: ``system`` (optional) and ``template``, whose
``{Field}`` placeholders are filled from ``sample.meta["fields"]`` by plain replacement (no
``str.format``, so an official prompt with braces in it stays intact). ``images`` names the
sample's image fields in the order they are sent, after the text (``layout: text_first``) or
before it (``images_first``); ``meta["turns"]`` (``[[role, text], ...]``) puts an earlier exchange
before the question. ``parser`` names a function of ``PARSERS``: it returns the
reply's scores or raises ``VerdictParseError`` (the runner retries, then fails the sample).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError, SampleError, VerdictParseError
from ..images import load_image_part
from ..kinds import register_kind
from ..methods.base import CallOutcome, JudgeCall
from ..rubric import Rubric
from ..types import ChatRequest, ImagePart, Message, Result, Sample, TextPart

#: ``(reply text, the sample's fields) -> scores``; the fields let a parser check a reply against
#: the item (TIIF-Bench: one answer per question, compared with the expected ones).
Parser = Callable[[str, dict[str, Any]], dict[str, float]]
PARSERS: dict[str, Parser] = {}


def reply_parser(name: str) -> Callable[[Parser], Parser]:
    def register(fn: Parser) -> Parser:
        PARSERS[name] = fn
        return fn

    return register


def fill(template: str, fields: dict[str, Any]) -> str:
    out = template
    for k, v in fields.items():
        out = out.replace("{" + k + "}", str(v))
    return out


class ReplyMethod:
    kind = "bench-reply"

    def __init__(self, rubric: Rubric, parse_retries: int = 2, replay: bool = False, **options: Any):
        self.rubric = rubric
        opts = {**rubric.options, **options}
        self.template = str(opts.get("template", ""))
        self.system = opts.get("system")
        self.images = list(opts.get("images", ["image"]))
        self.layout = str(opts.get("layout", "text_first"))
        self.parser_name = str(opts.get("parser", ""))
        self.temperature = float(opts.get("temperature", 0.0))
        if self.parser_name not in PARSERS:
            raise ConfigError(f"reply parser {self.parser_name!r} is not one of {sorted(PARSERS)}")
        self.parse_retries = parse_retries

    def provenance(self) -> dict[str, Any]:
        return {"rubric": self.rubric.name, "rubric_version": self.rubric.version, "rubric_hash": self.rubric.hash(),
                "parser": self.parser_name}

    def plan(self, sample: Sample) -> list[JudgeCall]:
        if sample.meta.get("blocked"):  # e.g. its first-stage call failed: fail it with that reason
            raise SampleError(str(sample.meta["blocked"]))
        parts: list[ImagePart] = []
        for name in self.images:
            path = getattr(sample, name, None)
            if not path:
                raise SampleError(f"sample {sample.id!r} has no {name!r}")
            parts.append(load_image_part(path, name))
        text = TextPart(fill(self.template, sample.meta.get("fields", {})))
        msgs: list[Message] = [Message("system", (TextPart(str(self.system)),))] if self.system else []
        turns = sample.meta.get("turns") or []
        if turns:
            # An earlier exchange (T2I-CompBench's description turn): the images go with its first
            # user turn, the judge's own earlier reply follows as the assistant, then this question.
            for k, (role, said) in enumerate(turns):
                said_part: list[TextPart | ImagePart] = [TextPart(str(said))]
                images: list[TextPart | ImagePart] = list(parts) if k == 0 else []
                body = tuple(images + said_part if self.layout != "text_first" else said_part + images)
                msgs.append(Message(role, body))
            msgs.append(Message("user", (text,)))
        else:
            content: tuple[TextPart | ImagePart, ...] = (text, *parts) if self.layout == "text_first" else (*parts, text)
            msgs.append(Message("user", content))
        req = ChatRequest(tuple(msgs), None, max_tokens=self.rubric.max_tokens, temperature=self.temperature)
        parse = PARSERS[self.parser_name]

        fields = sample.meta.get("fields", {})

        def read(resp: Any) -> dict[str, float]:
            try:
                return parse(resp.text, fields)
            except VerdictParseError as exc:
                raise VerdictParseError(exc.reason, resp.text) from None

        return [JudgeCall("reply", req, read, self.parse_retries)]

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        o = outcomes["reply"]
        if not o.ok:
            return Result.for_sample(sample, self.rubric.name, status="failed", error=o.error,
                                     details={"raw_reply": o.response.text if o.response else None})
        scores = dict(o.value)
        return Result.for_sample(sample, self.rubric.name, status="ok", scores=scores,
                                 overall=scores.get("overall", next(iter(scores.values()))),
                                 details={"reply": o.response.text if o.response else ""})


register_kind("bench-reply", ReplyMethod)
