"""Question-based prompt adherence (TIFA, DSG, DPG-Bench, GenEval-style checks).

A sample's prompt is looked up in a question file (DSG-schema CSV or TIFA JSON, option
``questions``) by ``prompt_id`` (the file's ``item_id``), else by exact prompt text. Every
question of the prompt becomes one judge call; all calls of one image are planned together and
share the same image part, so an engine batching them reuses the image prefix. The answers are
scored by the rubric's rule (``options.rule``: ``dsg``, ``dpg``, ``tifa``, ``mean``, ``all``;
see ``judgekit.questions.scoring``), and every question's answer, score and gating stay in
``details["questions"]``.

Answer modes (``options.answer_mode``):

- ``choice`` (default): the judge reasons, then picks one of the question's choices; the JSON
  schema constrains the answer to those choices.
- ``prob``: one token; the answer is yes when P(yes) >= P(no) at the first answer position
  (case/space variants summed), and P(yes) is kept per question. Multiple-choice (TIFA)
  questions fall back to ``choice``.
- ``text``: a free-form reply, mapped to the nearest choice.

With a backend that replays recorded answers (``replay:``; the runner passes ``replay=True``) no
image is read: each request's ``meta`` names (item, model, question) and the reply is the
recorded answer text (see ``judgekit.backends.replay``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from ..datasets.questions import load_questions
from ..errors import ConfigError, SampleError, VerdictParseError
from ..images import load_image_part
from ..prompts import render_messages
from ..questions.graph import YES_NO, Question, QuestionGraph
from ..questions.scoring import OnMissing, score_graph
from ..rubric import Rubric
from ..types import ChatRequest, ChatResponse, Message, Result, Sample, TextPart
from ..verdict import parse_json_object
from ._common import MethodOptions, parse_options
from .base import CallOutcome, JudgeCall, rubric_provenance
from .vqascore import answer_probabilities, probability_request

ANSWER_MODES = ("choice", "prob", "text")


def answer_schema(choices: tuple[str, ...]) -> dict[str, Any]:
    """``{"reasoning": str, "answer": one of choices}``, reasoning first."""
    return {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string", "description": "what in the image settles the question"},
            "answer": {"type": "string", "enum": list(choices)},
        },
        "required": ["reasoning", "answer"],
        "additionalProperties": False,
    }


def parse_choice(text: str, choices: tuple[str, ...]) -> dict[str, Any]:
    """A constrained-choice reply -> ``{"answer", "reasoning"}``; an answer outside the
    choices is a parse failure (retried by the runner), never mapped silently."""
    try:
        obj = parse_json_object(text)
        if not isinstance(obj.get("answer"), str):
            raise VerdictParseError("reply lacks a string 'answer'")
        wanted = {c.strip().lower(): c for c in choices}
        ans = obj["answer"].strip().lower().rstrip(".")
        if ans not in wanted:
            raise VerdictParseError(f"answer {obj['answer']!r} is not one of {list(choices)}")
        return {"answer": wanted[ans], "reasoning": str(obj.get("reasoning", ""))}
    except VerdictParseError as exc:
        raise VerdictParseError(exc.reason, text) from None


class QuestionOptions(MethodOptions):
    rule: Literal["dsg", "dpg", "tifa", "mean", "all"] = "dsg"
    answer_mode: Literal["choice", "prob", "text"] = "choice"
    on_missing: OnMissing = "fail"
    top_logprobs: int = 20
    show_prompt: bool = False
    questions: str | None = None  # the question file (--questions)
    prob_template: str = "question_prob.j2"
    # --answers text: a judge without logprobs answers prob-mode questions by its text (as
    # answer_mode choice), and the records say scoring_mode: text.
    answers: Literal["logprob", "text"] = "logprob"


class QuestionMethod:
    kind = "questions"
    #: What its question templates are given (the sample's inputs are not passed through).
    template_variables = frozenset({"question", "choices", "prompt", "image"})

    def __init__(self, rubric: Rubric, parse_retries: int = 2, replay: bool = False, **options: Any):
        self.rubric = rubric
        opts = parse_options(QuestionOptions, rubric, options)
        self.rule, self.answer_mode, self.on_missing = opts.rule, opts.answer_mode, opts.on_missing
        if opts.answers == "text" and self.answer_mode == "prob":
            self.answer_mode = "choice"
        # A backend that answers from recorded files (replay:) reads each question's key from
        # the request's meta and needs no image; retrying a recorded answer would only repeat it.
        self.replay = bool(replay)
        self.parse_retries = 0 if self.replay else parse_retries
        self.top_logprobs, self.show_prompt = opts.top_logprobs, opts.show_prompt
        qpath = opts.questions
        self.prob_template = opts.prob_template
        if not qpath:
            raise ConfigError(f"rubric {rubric.name!r} needs a question file: pass --questions PATH "
                              "(a DSG-schema CSV or a TIFA JSON), or set options.questions")
        self.questions_path = str(qpath)
        self.graphs: dict[str, QuestionGraph] = load_questions(qpath)
        self._by_prompt = {g.prompt: g for g in self.graphs.values()}
        self.template = rubric.template if rubric.template != "pointwise.j2" else "question.j2"
        self._provenance = rubric_provenance(rubric, (self.template, self.prob_template), rule=self.rule,
                                             answer_mode="replay" if self.replay else self.answer_mode,
                                             questions=self.questions_path)

    def provenance(self) -> dict[str, Any]:
        return self._provenance

    @property
    def needs_logprobs(self) -> bool:
        """Probability answers: the runner checks once that the judge returns top logprobs."""
        return self.answer_mode == "prob" and not self.replay

    def graph_for(self, sample: Sample) -> QuestionGraph:
        if sample.prompt_id is not None and sample.prompt_id in self.graphs:
            return self.graphs[sample.prompt_id]
        if sample.prompt and sample.prompt in self._by_prompt:
            return self._by_prompt[sample.prompt]
        raise SampleError(f"sample {sample.id!r}: no questions for prompt_id {sample.prompt_id!r} "
                          f"(nor for its prompt text) in {Path(self.questions_path).name}")

    # -- planning --------------------------------------------------------------------------------

    def plan(self, sample: Sample) -> list[JudgeCall]:
        graph = self.graph_for(sample)
        if self.replay:
            return [self._replay_call(sample, graph, q) for q in graph.questions]
        if not sample.image:
            raise SampleError(f"sample {sample.id!r} has no 'image' to ask questions about")
        image = load_image_part(sample.image, "image")  # one part for all questions: shared prefix
        return [self._call(sample, graph, q, image) for q in graph.questions]

    def _replay_call(self, sample: Sample, graph: QuestionGraph, q: Question) -> JudgeCall:
        req = ChatRequest((Message("user", (TextPart(q.text),)),), None, max_tokens=16,
                          meta={"item_id": graph.item_id, "model": sample.model, "question_id": q.id})

        def parse(resp: ChatResponse) -> dict[str, Any]:
            return {"answer": resp.text}

        return JudgeCall(f"q{q.id}", req, parse, 0)

    def _call(self, sample: Sample, graph: QuestionGraph, q: Question, image) -> JudgeCall:
        variables = {"question": q.text, "choices": list(q.choices), "prompt": graph.prompt if self.show_prompt else ""}
        yes_no = tuple(c.lower() for c in q.choices) == YES_NO
        if self.answer_mode == "prob" and yes_no:
            msgs = render_messages(self.prob_template, variables, {"image": image}, self.rubric.base_dir)

            def parse_prob(resp: ChatResponse) -> dict[str, Any]:
                p_yes, p_no = answer_probabilities(resp.logprobs)
                return {"answer": "yes" if p_yes >= p_no else "no", "p_yes": p_yes, "p_no": p_no}

            return JudgeCall(f"q{q.id}", probability_request(msgs, self.top_logprobs), parse_prob, 0)
        msgs = render_messages(self.template, variables, {"image": image}, self.rubric.base_dir)
        if self.answer_mode == "text":
            req = ChatRequest(msgs, None, max_tokens=64)
            return JudgeCall(f"q{q.id}", req, lambda resp: {"answer": resp.text}, self.parse_retries)
        req = ChatRequest(msgs, answer_schema(q.choices), "answer", max_tokens=self.rubric.max_tokens)
        return JudgeCall(f"q{q.id}", req, lambda resp: parse_choice(resp.text, q.choices), self.parse_retries)

    # -- combining -------------------------------------------------------------------------------

    def combine(self, sample: Sample, outcomes: dict[str, CallOutcome]) -> Result:
        graph = self.graph_for(sample)
        answers: dict[int, str | None] = {}
        extra: dict[int, dict[str, Any]] = {}
        errors: dict[int, str] = {}
        for q in graph.questions:
            o = outcomes.get(f"q{q.id}")
            if o is None or not o.ok:
                answers[q.id] = None
                errors[q.id] = "not asked" if o is None else (o.error or "call failed")
                continue
            answers[q.id] = o.value["answer"]
            extra[q.id] = {k: v for k, v in o.value.items() if k != "answer"}
        gs = score_graph(self.rule, graph, answers, on_missing=self.on_missing)
        for row in gs.questions:
            row.update(extra.get(row["id"], {}))
            if row["id"] in errors:
                row["error"] = errors[row["id"]]
        details = {**gs.to_details(), "item_id": graph.item_id}
        base: dict[str, Any] = dict(prompt_id=sample.prompt_id or graph.item_id,
                                    scoring_mode="logprob" if self.answer_mode == "prob" else "text")
        if gs.score is None:
            first = next(iter(errors.values()), gs.error)
            err = gs.error if not errors else f"{gs.error}; first: {first}"
            return Result.for_sample(sample, self.rubric.name, **base, status="failed", scores={self.rule: None},
                                     error=err, details=details)
        return Result.for_sample(sample, self.rubric.name, **base, status="ok", scores={self.rule: gs.score},
                                 overall=gs.score, details=details)
