"""Target text vs the judge's transcription, as a token diff a reader can scan.

The comparison is case- and punctuation-insensitive (as the text-rendering scores are), but the
pieces keep the original spelling so the report shows what was asked and what was read.

>>> text_diff(["OPEN 24 hours"], "open 24 days", "en")
[['same', 'OPEN 24'], ['missing', 'hours'], ['extra', 'days']]
"""

from __future__ import annotations

import difflib
import unicodedata

#: The ops a diff piece can have: in both, only in the target, only in the transcription.
OPS = ("same", "missing", "extra")


def _norm(tok: str) -> str:
    t = unicodedata.normalize("NFKC", tok).lower()
    return "".join(ch for ch in t if not unicodedata.category(ch).startswith(("P", "S")))


def _tokens(text: str, language: str) -> list[str]:
    if language == "zh":
        return [ch for ch in text if not ch.isspace()]
    return text.split()


def text_diff(targets: list[str], transcription: str, language: str = "en") -> list[list[str]]:
    """``[[op, text], ...]`` with op in ``OPS``; adjacent tokens of one op are joined."""
    sep = "" if language == "zh" else " "
    want = [t for t in _tokens(" ".join(targets), language) if _norm(t)]
    have = [t for t in _tokens(transcription or "", language) if _norm(t)]
    sm = difflib.SequenceMatcher(a=[_norm(t) for t in want], b=[_norm(t) for t in have], autojunk=False)
    out: list[list[str]] = []

    def add(op: str, toks: list[str]) -> None:
        if not toks:
            return
        if out and out[-1][0] == op:
            out[-1][1] += sep + sep.join(toks)
        else:
            out.append([op, sep.join(toks)])

    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            add("same", want[i1:i2])
        else:
            add("missing", want[i1:i2])
            add("extra", have[j1:j2])
    return out
