"""Question generation with an LLM judge (text-only requests through any backend).

Two styles, each with judgekit's own templates under ``prompts/`` and pydantic-validated output:

- ``dsg``: three steps, as in Davidsonian Scene Graph: prompt -> typed atomic tuples
  (``questiongen_dsg_tuples.j2``) -> parent dependencies (``..._dependencies.j2``) -> one yes/no
  question per tuple (``..._questions.j2``). The result must be a DAG over the tuples: unknown
  parents and cycles are rejected with the offending ids, and the step is retried.
- ``tifa``: multiple-choice questions with gold answers and element types
  (``questiongen_tifa.j2``), then TIFA's filter: the LLM answers each question from the prompt
  text alone (``questiongen_tifa_check.j2``) and a question whose text-only answer is not its
  gold answer is dropped (recorded in ``graph.meta["dropped"]``).

A reply that fails validation is retried ``retries`` more times (with a different seed), then the
prompt is recorded in ``failures`` with the reason: never a crash, never a silently missing
prompt. Save the graphs with ``judgekit.questions.graph.save_questions`` (``.csv`` DSG schema,
``.json`` TIFA schema) to review and reuse them.

    >>> from judgekit.backends import make_backend                                  # doctest: +SKIP
    >>> gen = generate_questions([("p1", "two red apples on a table")], make_backend("openai:gpt-4o"), style="dsg")  # doctest: +SKIP
    >>> save_questions(gen.graphs.values(), "questions.csv")                         # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from .._sync import same_signature
from ..backends.base import Backend
from ..backends.preflight import ReadyGate
from ..errors import ConfigError, DataError, GraphError, InputError, VerdictParseError
from ..prompts import render_messages
from ..types import ChatRequest, ChatResponse
from ..verdict import explain_invalid, parse_json_object
from .graph import Question, QuestionGraph
from .scoring import map_to_choice, normalize_answer

if TYPE_CHECKING:
    from ..cache import ResponseCache

Reply = TypeVar("Reply", bound=BaseModel)
Checked = TypeVar("Checked")

# ---- validated outputs ---------------------------------------------------------------------------

TupleKind = Literal["entity", "attribute", "relation", "global", "other"]


class _Strict(BaseModel):
    model_config = {"extra": "forbid"}


class SceneTuple(_Strict):
    id: int = Field(ge=1)
    kind: TupleKind
    detail: str = Field(min_length=1)
    arguments: list[str] = Field(min_length=1)

    def text(self) -> str:
        return f"{self.kind} - {self.detail} ({', '.join(self.arguments)})"


class TuplesOut(_Strict):
    tuples: list[SceneTuple] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TuplesOut:
        ids = [t.id for t in self.tuples]
        if len(set(ids)) != len(ids):
            raise InputError(f"tuple ids repeat: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
        return self


class Dependency(_Strict):
    id: int
    parents: list[int]


class DependenciesOut(_Strict):
    dependencies: list[Dependency]


class DSGQuestion(_Strict):
    id: int
    question: str = Field(min_length=3)


class QuestionsOut(_Strict):
    questions: list[DSGQuestion]


class TIFAQuestion(_Strict):
    question: str = Field(min_length=3)
    choices: list[str] = Field(min_length=2)
    answer: str
    element_type: str
    element: str

    @field_validator("choices")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len({c.strip().lower() for c in v}) != len(v):
            raise InputError(f"choices repeat: {v}")
        return v

    @model_validator(mode="after")
    def _gold_is_a_choice(self) -> TIFAQuestion:
        if self.answer not in self.choices:
            raise InputError(f"answer {self.answer!r} is not one of the choices {self.choices}")
        return self


class TIFAOut(_Strict):
    questions: list[TIFAQuestion] = Field(min_length=1)


class CheckAnswer(_Strict):
    index: int
    answer: str


class CheckOut(_Strict):
    answers: list[CheckAnswer]


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with ``$ref``s inlined and every object closed, the form strict
    structured-output modes accept."""
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].split("/")[-1]])
            out = {k: walk(v) for k, v in node.items() if k not in ("title", "description")}
            if out.get("type") == "object":
                out["additionalProperties"] = False
                out["required"] = list(out.get("properties", {}))
            return out
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node

    return walk(raw)


# ---- the calls -------------------------------------------------------------------------------------


@dataclass
class Generation:
    """What ``generate_questions`` returns."""

    graphs: dict[str, QuestionGraph] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # prompt id -> why no graph


class _Asker:
    """Sends one text-only request, validates the reply, retries with a new seed."""

    def __init__(self, backend: Backend, retries: int, max_tokens: int, cache: ResponseCache | None = None,
                 retry_failed: bool = False):
        self.backend, self.retries, self.max_tokens, self.cache = backend, retries, max_tokens, cache
        #: Ask again when a cached reply does not validate (``--retry-failed``), instead of replaying it.
        self.retry_failed = retry_failed
        self.gate = ReadyGate(backend)  # the backend's pre-flight check, on the first cache miss

    @overload
    async def ask(self, template: str, variables: dict[str, Any], model: type[Reply]) -> Reply: ...

    @overload
    async def ask(
        self, template: str, variables: dict[str, Any], model: type[Reply], check: Callable[[Reply], Checked]
    ) -> Checked: ...

    async def ask(
        self, template: str, variables: dict[str, Any], model: type[Reply],
        check: Callable[[Reply], Any] | None = None,
    ) -> Any:
        """The validated reply, or what ``check`` makes of it (it raises to ask again)."""
        msgs = render_messages(template, variables)
        reason = ""

        def validated(resp: ChatResponse) -> Any:
            value = model.model_validate(parse_json_object(resp.text))
            return check(value) if check else value

        def valid(resp: ChatResponse) -> bool:
            try:
                validated(resp)
            except (VerdictParseError, ValidationError, GraphError, DataError):
                return False
            return True

        for attempt in range(self.retries + 1):
            req = ChatRequest(msgs, _schema(model), model.__name__.lower(), max_tokens=self.max_tokens, seed=attempt)
            resp = None
            key = None
            if self.cache is not None:
                from ..cache import backend_identity, request_key

                key = request_key(backend_identity(self.backend), req, attempt)
                resp = self.cache.get(key, valid if self.retry_failed else None)
            if resp is None:
                await self.gate.wait()
                resp = (await self.backend.generate([req]))[0]
                if resp.error is not None:
                    raise VerdictParseError(f"{template}: backend error: {resp.error}")
                if key is not None and self.cache is not None:
                    self.cache.put(key, backend_identity(self.backend), resp)
            try:
                return validated(resp)
            except VerdictParseError as exc:
                reason = explain_invalid(resp, exc.reason, self.max_tokens)
            except ValidationError as exc:
                first = exc.errors()[0]
                reason = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
            except (GraphError, DataError) as exc:
                reason = str(exc)
        raise VerdictParseError(f"{template}: invalid reply after {self.retries + 1} attempts: {reason}")


def build_dsg_graph(item_id: str, prompt: str, tuples: TuplesOut, deps: DependenciesOut,
                    questions: QuestionsOut) -> QuestionGraph:
    """Assemble the three steps into a validated graph (``GraphError`` names bad ids)."""
    ids = [t.id for t in tuples.tuples]
    dep = {d.id: [p for p in d.parents if p != 0] for d in deps.dependencies}
    qs = {q.id: q.question for q in questions.questions}
    for name, got in (("dependencies", dep), ("questions", qs)):
        missing, extra = sorted(set(ids) - set(got)), sorted(set(got) - set(ids))
        if missing or extra:
            raise DataError(f"{name} do not match the tuples: missing ids {missing}, unknown ids {extra}")
    return QuestionGraph(item_id, prompt, [
        Question(t.id, qs[t.id], parents=tuple(dict.fromkeys(dep[t.id])), category=t.kind, category_detailed=t.detail,
                 tuple=t.text(), keywords=", ".join(t.arguments[:2] if t.kind != "global" else t.arguments))
        for t in tuples.tuples
    ])


async def _dsg(asker: _Asker, item_id: str, prompt: str) -> QuestionGraph:
    tuples = await asker.ask("questiongen_dsg_tuples.j2", {"prompt": prompt}, TuplesOut)
    tvars = {"prompt": prompt, "tuples": [t.model_dump() for t in tuples.tuples]}

    def check_deps(d: DependenciesOut) -> DependenciesOut:
        # Validate the graph now, so a cyclic or dangling reply is retried at this step.
        build_dsg_graph(item_id, prompt, tuples, d,
                        QuestionsOut(questions=[DSGQuestion(id=t.id, question="placeholder") for t in tuples.tuples]))
        return d

    deps = await asker.ask("questiongen_dsg_dependencies.j2", tvars, DependenciesOut, check_deps)

    def check_questions(q: QuestionsOut) -> QuestionGraph:
        return build_dsg_graph(item_id, prompt, tuples, deps, q)

    return await asker.ask("questiongen_dsg_questions.j2", tvars, QuestionsOut, check_questions)


async def _tifa(asker: _Asker, item_id: str, prompt: str, filter_unanswerable: bool) -> QuestionGraph:
    out = await asker.ask("questiongen_tifa.j2", {"prompt": prompt}, TIFAOut)
    kept: list[TIFAQuestion] = list(out.questions)
    dropped: list[TIFAQuestion] = []
    if filter_unanswerable:
        qvars = {"prompt": prompt, "questions": [q.model_dump() for q in out.questions]}

        def check(c: CheckOut) -> CheckOut:
            idx = sorted(a.index for a in c.answers)
            if idx != list(range(1, len(out.questions) + 1)):
                raise DataError(f"expected one answer per question 1..{len(out.questions)}, got indices {idx}")
            return c

        answers = {a.index: a.answer for a in (await asker.ask("questiongen_tifa_check.j2", qvars, CheckOut, check)).answers}
        kept, dropped = [], []
        for i, q in enumerate(out.questions, 1):
            text_only = answers[i]
            chosen = None if normalize_answer(text_only) == "unknown" else map_to_choice(text_only, q.choices)
            (kept if chosen == q.answer else dropped).append(q)
    if not kept:
        raise VerdictParseError("every generated question failed the text-only answerability check")
    graph = QuestionGraph(item_id, prompt, [
        Question(i, q.question, choices=tuple(q.choices), answer=q.answer, category=q.element_type, keywords=q.element)
        for i, q in enumerate(kept, 1)
    ])
    graph.meta["dropped"] = [q.model_dump() for q in dropped]
    return graph


async def generate_questions_async(
    prompts: Sequence[tuple[str, str]], backend: Backend, style: Literal["dsg", "tifa"] = "dsg", *,
    retries: int = 2, max_tokens: int = 2048, concurrency: int = 8, filter_unanswerable: bool = True,
    cache: ResponseCache | None = None, retry_failed: bool = False,
) -> Generation:
    """Generate question graphs for ``[(item_id, prompt), ...]``; see the module docstring.
    ``retry_failed``: ask again where a cached reply did not validate (valid ones are reused)."""
    if style not in ("dsg", "tifa"):
        raise ConfigError(f"question style must be 'dsg' or 'tifa', not {style!r}")
    if retries < 0:  # -1 would make no call at all and fail every prompt with no reason
        raise ConfigError(f"retries must be 0 or more (extra calls for an invalid reply), got {retries}")
    asker = _Asker(backend, retries, max_tokens, cache, retry_failed)
    sem = asyncio.Semaphore(concurrency)
    gen = Generation()

    async def one(item_id: str, prompt: str) -> None:
        async with sem:
            try:
                if style == "dsg":
                    gen.graphs[item_id] = await _dsg(asker, item_id, prompt)
                else:
                    gen.graphs[item_id] = await _tifa(asker, item_id, prompt, filter_unanswerable)
            except VerdictParseError as exc:
                gen.failures[item_id] = exc.reason

    await asyncio.gather(*(one(i, p) for i, p in prompts))
    gen.graphs = {i: gen.graphs[i] for i, _ in prompts if i in gen.graphs}  # input order
    return gen


@same_signature(generate_questions_async)
def generate_questions(*args: Any, **kwargs: Any) -> Generation:
    """Synchronous ``generate_questions_async`` (also inside a running event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(generate_questions_async(*args, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, generate_questions_async(*args, **kwargs)).result()
