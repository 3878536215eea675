"""GenEval's metadata (``evaluation_metadata.jsonl``) turned into questions a VLM can answer.

GenEval checks each image with an object detector; a VLM-based variant asks the same structured
checks as yes/no questions, organised as a DSG-style graph so that a count, a color or a position
is only credited when the object is there:

- presence, one per included class:           "Is there a bench?"               (root)
- count, when more than one is asked for:      "Are there exactly two clocks?"   (parent: presence)
- color:                                       "Is the bus green?"               (parent: presence)
- relative position (``["right of", 0]``):     "Is the dog right of the teddy bear?" (parents: both)

GenEval credits an image only when every check passes (the ``all`` rule); its overall score is
the unweighted mean over its six tags of the per-tag accuracy. The tag travels in each graph's
``meta["tag"]``.

>>> g = geneval_graph({"tag": "counting", "include": [{"class": "clock", "count": 2}], "prompt": "a photo of two clocks"}, "7")
>>> [q.text for q in g.questions]
['Are there clocks?', 'Are there exactly two clocks?']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..questions.graph import Question, QuestionGraph

_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
_IRREGULAR = {"person": "people", "mouse": "mice", "sheep": "sheep", "skis": "skis", "scissors": "scissors",
              "knife": "knives", "broccoli": "broccoli", "skateboard": "skateboards"}


def plural(noun: str) -> str:
    """English plural of a COCO class name (last word inflected): ``wine glass`` -> ``wine glasses``."""
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR:
        p = _IRREGULAR[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        p = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        p = last[:-1] + "ies"
    else:
        p = last + "s"
    return f"{head} {p}" if head else p


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def geneval_graph(rec: dict[str, Any], item_id: str) -> QuestionGraph:
    """The question graph of one GenEval metadata record."""
    include = rec.get("include")
    if not isinstance(include, list) or not include:
        raise DataError(f"GenEval record {item_id}: 'include' must be a non-empty list")
    questions: list[Question] = []
    presence: list[int] = []
    for obj in include:
        cls, n = obj["class"], int(obj.get("count", 1))
        qid = len(questions) + 1
        text = f"Is there {_article(cls)}?" if n == 1 else f"Are there {plural(cls)}?"
        questions.append(Question(qid, text, category="object", category_detailed="presence", keywords=cls))
        presence.append(qid)
    for i, obj in enumerate(include):
        cls, n, parent = obj["class"], int(obj.get("count", 1)), presence[i]
        if n > 1:
            questions.append(Question(len(questions) + 1, f"Are there exactly {_NUMBERS.get(n, str(n))} {plural(cls)}?",
                                      parents=(parent,), category="count", category_detailed="count", keywords=cls))
        if obj.get("color"):
            subject = f"the {cls}" if n == 1 else f"the {plural(cls)}"
            verb = "Is" if n == 1 else "Are"
            questions.append(Question(len(questions) + 1, f"{verb} {subject} {obj['color']}?", parents=(parent,),
                                      category="color", category_detailed="color", keywords=f"{cls}, {obj['color']}"))
        if obj.get("position"):
            rel, j = obj["position"]
            if not 0 <= int(j) < len(include):
                raise DataError(f"GenEval record {item_id}: position refers to object {j}, which is not included")
            other = include[int(j)]["class"]
            questions.append(Question(len(questions) + 1, f"Is the {cls} {rel} the {other}?",
                                      parents=(parent, presence[int(j)]), category="position",
                                      category_detailed=rel, keywords=f"{cls}, {other}"))
    return QuestionGraph(item_id, rec["prompt"], questions, meta={"tag": rec.get("tag", "")})


def load_geneval(path: str | Path) -> dict[str, QuestionGraph]:
    """One graph per metadata line; the item id is the 0-based line index, zero-padded to 5
    digits as GenEval names its output folders (``00042``)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"GenEval metadata file {p} does not exist")
    out: dict[str, QuestionGraph] = {}
    with p.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{p} line {i + 1}: not valid JSON ({exc.msg})") from None
            item = f"{i:05d}"
            try:
                out[item] = geneval_graph(rec, item)
            except (KeyError, TypeError, ValueError) as exc:
                raise DataError(f"{p} line {i + 1}: malformed GenEval record ({exc!r})") from None
    return out
