"""``replay:PATH``: a backend that answers questions from a recorded answer file.

Published VQA answers (DSG's ``vqa_answers_release/*.csv``) can be re-scored under any rule and
compared with human ratings without running a model. The answer file is keyed by
``(item_id, t2i_model, question_id)``.

How a request names its answer: question methods put ``{"item_id", "model", "question_id"}`` in
``ChatRequest.meta`` (which is part of the cache fingerprint); this backend looks the answer up
there. The runner tells methods that this backend replays (``replays_answers = True``), so they
read no image. A request without that meta, or whose key has no recorded answer, comes back as a
per-request error (never a silent "no").

>>> be = ReplayBackend("calibration/dsg_tifa160/mplug_dsg_tifa160.csv")  # doctest: +SKIP
>>> be.samples()[0].id                                                     # doctest: +SKIP
'tifa160_0__mini-dalle'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..datasets.answers import RecordedAnswers, load_answers
from ..errors import ConfigError
from ..types import ChatRequest, ChatResponse, Sample


def find_replay_key(request: ChatRequest) -> tuple[str, str | None, int] | None:
    """(item_id, model, question_id) from the request's meta, or None."""
    m = request.meta or {}
    if "item_id" not in m or "question_id" not in m:
        return None
    return str(m["item_id"]), m.get("model"), int(m["question_id"])


def sample_id_for(item_id: str, model: str) -> str:
    return f"{item_id}__{model}"


class ReplayBackend:
    """Answers from a recorded answer CSV. Options: ``split`` (keep one ``dsg_prompt_split``),
    ``models`` (a list, or a comma-separated string of ``t2i_model`` names)."""

    max_batch_size = 4096
    #: Answers come from recorded files keyed by ``ChatRequest.meta``: methods need read no image.
    replays_answers = True

    def __init__(self, path: str, split: str | None = None, models: list[str] | str | None = None, **unknown: Any):
        if unknown:
            raise ConfigError(f"replay backend: unknown options {sorted(unknown)}; known: split, models")
        if isinstance(models, str):
            models = [m.strip() for m in models.split(",") if m.strip()]
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"replay backend: answer file {p} does not exist")
        self.path = str(p)
        self.spec = f"replay:{p.resolve()}"
        self.answers: RecordedAnswers = load_answers(p, split=split, models=models)
        if not len(self.answers):
            raise ConfigError(f"replay backend: {p} holds no answers" + (f" for split {split!r}" if split else ""))
        self._split, self._models = split, models
        self._sha256 = hashlib.sha256(p.read_bytes()).hexdigest()[:16]

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        return [self._answer(r) for r in requests]

    def _answer(self, request: ChatRequest) -> ChatResponse:
        key = find_replay_key(request)
        if key is None:
            return ChatResponse(error="replay backend: the request names no recorded answer (its meta has no "
                                      "item_id/question_id); only question rubrics (kind: questions) can be replayed")
        item, model, qid = key
        text = self.answers.get(item, model or "", qid)
        if text is None:
            return ChatResponse(error=f"no recorded answer for item {item!r}, model {model!r}, question {qid} "
                                      f"in {self.path}")
        return ChatResponse(text=text, raw={"replay": {"item_id": item, "model": model, "question_id": qid}})

    def samples(self) -> list[Sample]:
        """The (item, text-to-image model) pairs in the file, as samples (for runs without --data)."""
        return [
            Sample(id=sample_id_for(item, model), prompt_id=item, model=model, prompt=self.answers.prompts.get(item))
            for item, model in self.answers.pairs()
        ]

    async def aclose(self) -> None:
        return None

    def cache_identity(self) -> dict[str, Any]:
        # The answers are the file's content: an edited or replaced file is another judge.
        return {"spec": self.spec, "endpoint": self.spec.removeprefix("replay:"), "sha256": self._sha256,
                "split": self._split, "models": self._models}

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "kind": "replay", "answers": len(self.answers), "split": self._split,
                "models": self._models}
