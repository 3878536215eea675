"""The exception tree. Every error judgekit raises on purpose is a ``JudgekitError``::

    JudgekitError
     ├── RubricError              a rubric file is invalid (names the file and the field)
     ├── TemplateError            a prompt template fails to render or tries to escape the sandbox
     ├── ConfigError              a usage or configuration mistake (bad option, missing model dir)
     ├── MissingDependencyError   an optional extra is not installed (names the extra)
     ├── DataError                an input file is malformed (names the file and the line)
     │    ├── GraphError          a question graph has unknown parents, repeated ids or a cycle
     │    └── InputError          a value given to a library function is malformed (also a ValueError)
     ├── BackendError             the judge could not be reached or refused the request
     ├── VerdictParseError        a reply is not a valid verdict (keeps the raw text)
     └── SampleError              one sample cannot be judged (missing image or field): recorded, not raised out

Per-sample problems (a missing image, an unparseable reply, a server that keeps failing) are not
raised out of a run: they are recorded on the sample's result with ``status="failed"``.
"""

from __future__ import annotations


class JudgekitError(Exception):
    """Base class of every error judgekit raises on purpose."""


class RubricError(JudgekitError):
    pass


class TemplateError(JudgekitError):
    pass


class ConfigError(JudgekitError):
    pass


class MissingDependencyError(JudgekitError, ImportError):
    def __init__(self, package: str, extra: str, purpose: str = ""):
        self.package, self.extra = package, extra
        what = f" for {purpose}" if purpose else ""
        super().__init__(
            f"'{package}' is needed{what} but is not installed; install it with "
            f"`pip install 'judgekit[{extra}]'`"
        )


class DataError(JudgekitError):
    pass


class InputError(DataError, ValueError):
    """A value passed to a library function is malformed: arrays of the wrong shape, mismatched
    lengths, an empty set. It is a ``ValueError`` too, as numpy-style callers expect."""


class BackendError(JudgekitError):
    pass


class VerdictParseError(JudgekitError):
    def __init__(self, reason: str, raw: str | None = None):
        self.reason, self.raw = reason, raw
        super().__init__(reason)


class GraphError(DataError):
    """A question graph is not a DAG over its own questions. ``unknown`` maps a question id to
    the parent ids that are not questions of the prompt; ``cycle`` lists the ids on a cycle."""

    def __init__(self, item_id: str, unknown: dict[int, list[int]] | None = None,
                 cycle: list[int] | None = None, duplicates: list[int] | None = None):
        self.item_id = item_id
        self.unknown = unknown or {}
        self.cycle = cycle or []
        self.duplicates = duplicates or []
        parts = []
        if self.duplicates:
            parts.append(f"repeated question ids {self.duplicates}")
        if self.unknown:
            desc = ", ".join(f"question {q} -> {ps}" for q, ps in sorted(self.unknown.items()))
            parts.append(f"unknown parent ids ({desc})")
        if self.cycle:
            parts.append("dependency cycle " + " -> ".join(str(i) for i in [*self.cycle, self.cycle[0]]))
        super().__init__(f"question graph of item {item_id!r}: " + "; ".join(parts))


class SampleError(JudgekitError):
    """Raised by a method's ``plan`` for a problem of this sample only (missing image, missing
    field): the runner records the sample as failed with this message and goes on."""
