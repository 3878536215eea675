"""``replay:PATH``: a backend that answers questions from a recorded answer file.

Published VQA answers (DSG's ``vqa_answers_release/*.csv``) can be re-scored under any rule and
compared with human ratings without running a model. The answer file is keyed by
``(item_id, t2i_model, question_id)``.

How a request names its answer: a replay backend cannot see which sample or question a chat
request belongs to (a ``ChatRequest`` carries only messages), so question methods built with
``replay=True`` put one *replay key line* in the request's text::

    judgekit-replay-key: {"item_id": "tifa160_0", "model": "sd2dot1", "question_id": 3}

``judgekit score --backend replay:...`` sets ``replay=True`` for the method; from Python pass
``method_options={"replay": True}``. The key line is only ever added in replay mode, so prompts
sent to real judges never carry it. A request without a key, or a key with no recorded answer,
comes back as a per-request error (never a silent "no").

>>> be = ReplayBackend("calibration/dsg_tifa160/mplug_dsg_tifa160.csv")  # doctest: +SKIP
>>> be.samples()[0].id                                                     # doctest: +SKIP
'tifa160_0__mini-dalle'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..datasets.answers import RecordedAnswers, load_answers
from ..errors import ConfigError
from ..types import ChatRequest, ChatResponse, Sample

REPLAY_KEY_PREFIX = "judgekit-replay-key:"
_KEY_LINE = re.compile(r"^" + re.escape(REPLAY_KEY_PREFIX) + r"\s*(\{.*\})\s*$", re.MULTILINE)


def replay_key_line(item_id: str, model: str | None, question_id: int) -> str:
    """The text line that tells a replay backend which recorded answer a request asks for."""
    return REPLAY_KEY_PREFIX + " " + json.dumps({"item_id": item_id, "model": model, "question_id": int(question_id)})


def find_replay_key(request: ChatRequest) -> tuple[str, str | None, int] | None:
    for m in request.messages:
        found = _KEY_LINE.search(m.text)
        if found:
            d = json.loads(found.group(1))
            return str(d["item_id"]), d.get("model"), int(d["question_id"])
    return None


def sample_id_for(item_id: str, model: str) -> str:
    return f"{item_id}__{model}"


class ReplayBackend:
    """Answers from a recorded answer CSV. Options: ``split`` (keep one ``dsg_prompt_split``),
    ``models`` (a list, or a comma-separated string of ``t2i_model`` names)."""

    max_batch_size = 4096
    supports_logprobs = False

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

    async def generate(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        return [self._answer(r) for r in requests]

    def _answer(self, request: ChatRequest) -> ChatResponse:
        key = find_replay_key(request)
        if key is None:
            return ChatResponse(error="replay backend: the request carries no replay key; build the question method "
                                      "with replay=True (method_options={'replay': True})")
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

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "kind": "replay", "answers": len(self.answers), "split": self._split,
                "models": self._models}
