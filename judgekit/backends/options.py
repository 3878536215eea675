"""One error for an option a backend does not take (``--engine-arg KEY=VALUE``, ``make_backend``
keywords): it names the option, a close match when there is one, and what the backend accepts,
so a typo or a misplaced setting is a usage error (exit 2), never a traceback or a silent no-op."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ..errors import ConfigError

#: Options people pass expecting to change decoding: judgekit fixes decoding per request
#: (greedy, seed 0; the methods set max_tokens) so that a verdict reproduces and caches.
DECODING = frozenset({"temperature", "top_p", "top_k", "seed", "max_tokens", "n", "presence_penalty",
                      "frequency_penalty"})


def refuse_unknown(spec: str, unknown: Iterable[str], accepted: Iterable[str], accepts: str | None = None) -> None:
    """Raise ``ConfigError`` when ``unknown`` is not empty. ``accepts`` replaces the list of
    accepted names in the message when that list is too long to print (vLLM's)."""
    names = sorted(unknown)
    if not names:
        return
    pool = sorted(set(accepted))
    parts = []
    for name in names:
        close = difflib.get_close_matches(name, pool, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    what = "option" if len(names) == 1 else "options"
    text = f"{spec}: unknown {what} {', '.join(parts)}; {spec.partition(':')[0]}: accepts {accepts or ', '.join(pool)}"
    if DECODING.intersection(names):
        text += ("; decoding is not a backend option: judgekit judges greedily (temperature 0, seed 0) "
                 "so that verdicts reproduce")
    raise ConfigError(text)
