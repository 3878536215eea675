"""The exception tree. Every error judgekit raises on purpose is a ``JudgekitError``::

    JudgekitError
     ├── RubricError              a rubric file is invalid (names the file and the field)
     ├── TemplateError            a prompt template fails to render or tries to escape the sandbox
     ├── ConfigError              a usage or configuration mistake (bad option, missing model dir)
     ├── MissingDependencyError   an optional extra is not installed (names the extra)
     ├── DataError                an input file is malformed (names the file and the line)
     ├── BackendError             the judge could not be reached or refused the request
     │    └── BackendHTTPError    an HTTP status from an OpenAI-compatible server
     └── VerdictParseError        a reply is not a valid verdict (keeps the raw text)

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


class BackendError(JudgekitError):
    pass


class BackendHTTPError(BackendError):
    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(f"HTTP {status}: {message}")


class VerdictParseError(JudgekitError):
    def __init__(self, reason: str, raw: str | None = None):
        self.reason, self.raw = reason, raw
        super().__init__(reason)
