"""The noun chunks of a T2I-CompBench++ attribute prompt, split the way its MLLM evaluator splits
them, from a spaCy pipeline the user keeps on disk.

``MLLM_eval/ShareGPT4V-CoT_eval/Share_eval.py`` (``split_prompt``) runs ``en_core_web_sm`` on the
prompt and asks one question per ``doc.noun_chunks`` span. For each chunk it takes, scanning the
chunk's tokens from the last one back, the first NOUN or PROPN token's *lemma* as the noun, and
as the attribute the chunk text with ``" " + noun`` removed and then every ``"the "``, ``"a "``
and ``"an "`` removed (plain substring replacement, anywhere in the text). These string rules are
kept exactly, because they decide what the judge is asked:

- a plural noun's lemma is not in the text, so ``"two brown dogs"`` gives noun ``dog`` and
  attribute ``two browns``;
- a chunk with no NOUN/PROPN token (a pronoun, ``it``) keeps the noun and attribute of the
  chunk before it (the loop variables are not reset); in the first chunk the script stops with
  an error, so judgekit fails that prompt's images instead, with the reason.

judgekit does not depend on spaCy: ``load_pipeline`` imports it (the ``compbench`` extra) and
loads the pipeline from a local folder, never from the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError, MissingDependencyError

#: What the official run used (its requirements.txt): the chunks depend on the parser's version.
OFFICIAL_PIPELINE = ("en_core_web_sm", "3.5.0")
OFFICIAL_SPACY = "3.5.3"

HOW_TO_GET = (
    "download en_core_web_sm-<version>-py3-none-any.whl for your spaCy version from "
    "https://github.com/explosion/spacy-models/releases (the official run used en_core_web_sm "
    f"{OFFICIAL_PIPELINE[1]} with spaCy {OFFICIAL_SPACY}), unzip it (a wheel is a zip file) and pass "
    "--set spacy_model=<unzipped>/en_core_web_sm/en_core_web_sm-<version> (the folder holding config.cfg)"
)


@dataclass(frozen=True)
class NounChunk:
    text: str  # the chunk as it stands in the prompt
    noun: str  # its noun's lemma
    attribute: str  # the rest, after Share_eval.py's string rules
    borrowed: bool = False  # no noun of its own: noun and attribute are the previous chunk's

    def to_json(self) -> dict[str, Any]:
        return {"chunk": self.text, "noun": self.noun, "attribute": self.attribute, "borrowed": self.borrowed}


def _pipeline_dir(path: Path) -> Path | None:
    """``path`` itself when it holds a pipeline (config.cfg), else its one child that does (the
    unzipped package folder ``en_core_web_sm/`` holds ``en_core_web_sm-<version>/``)."""
    if (path / "config.cfg").is_file():
        return path
    inner = [p for p in sorted(path.iterdir()) if (p / "config.cfg").is_file()] if path.is_dir() else []
    return inner[0] if len(inner) == 1 else None


def load_pipeline(location: str) -> Any:
    """The spaCy pipeline at ``location`` (a folder); a clear error when spaCy is missing or the
    folder is not a pipeline."""
    try:
        import spacy
    except ImportError:
        raise MissingDependencyError("spacy", "compbench", "T2I-CompBench++'s colour, shape and texture noun chunks") from None
    if not location:
        raise ConfigError("T2I-CompBench++ color, shape and texture ask one question per noun chunk, found by spaCy's "
                          f"en_core_web_sm, which judgekit does not ship: {HOW_TO_GET}")
    found = _pipeline_dir(Path(location).expanduser())
    if found is None:
        raise ConfigError(f"--set spacy_model={location}: no spaCy pipeline there (no config.cfg): {HOW_TO_GET}")
    try:
        return spacy.load(found)
    except Exception as exc:  # spaCy's own errors (unknown factory, version, missing files): one line
        raise ConfigError(f"--set spacy_model={location}: spaCy could not load the pipeline in {found}: "
                          f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def pipeline_name(nlp: Any) -> str:
    meta = getattr(nlp, "meta", {}) or {}
    return f"{meta.get('lang', '?')}_{meta.get('name', '?')} {meta.get('version', '?')}"


def split_prompt(nlp: Any, prompt: str) -> list[NounChunk]:
    """The prompt's noun chunks with Share_eval.py's noun and attribute for each.

    Raises ``DataError`` for a first chunk without a noun (where the official script stops);
    ``ConfigError`` when the pipeline cannot find noun chunks at all (no dependency parser)."""
    doc = nlp(prompt)
    try:
        spans = list(doc.noun_chunks)
    except (ValueError, NotImplementedError) as exc:  # E029: no dependency parse; E894: a language without them
        raise ConfigError(f"the spaCy pipeline {pipeline_name(nlp)} finds no noun chunks ({str(exc).splitlines()[0]}): "
                          "it must be an English pipeline with a dependency parser, as en_core_web_sm") from None
    out: list[NounChunk] = []
    noun = attribute = None
    for span in spans:
        text = span.text
        borrowed = True
        for token in reversed(list(span)):
            if token.pos_ in ("NOUN", "PROPN"):
                if not token.lemma_:  # with no lemma, the rule below would delete every space
                    raise ConfigError(f"the spaCy pipeline {pipeline_name(nlp)} sets no lemmas: use en_core_web_sm")
                noun = token.lemma_
                attribute = text.replace(f" {noun}", "").replace("the ", "").replace("a ", "").replace("an ", "")
                borrowed = False
                break
        if noun is None or attribute is None:
            raise DataError(f"the first noun chunk {text!r} of {prompt!r} has no noun (Share_eval.py stops with an error here)")
        out.append(NounChunk(text, noun, attribute, borrowed))
    return out
