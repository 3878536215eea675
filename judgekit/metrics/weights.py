"""Finding and verifying local weight files. Nothing here downloads: a missing file is an
immediate error saying which file to put where."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError, DataError


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_sha256(path: str | Path, expected: str | None) -> None:
    """Raise ``DataError`` naming the file if its SHA-256 does not match ``expected``.
    ``expected`` may be a full digest or a prefix (torch hub file names carry an 8-hex prefix)."""
    if not expected:
        return
    got = sha256_file(path)
    if not got.startswith(expected.lower()):
        raise DataError(
            f"{path}: SHA-256 is {got}, expected {expected}: the file is corrupt, truncated or a "
            "different model; replace it (or pass the expected hash of your own weights explicitly)"
        )


def hub_checkpoint_dir() -> Path:
    """torch hub's checkpoint cache (``$TORCH_HOME/hub/checkpoints``, default ``~/.cache/torch``),
    computed without importing torch."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(torch_home) / "hub" / "checkpoints"


def find_weights(
    given: str | Path | None,
    filenames: Sequence[str],
    *,
    env: str,
    what: str,
    url: str,
) -> Path:
    """Resolve a weights file: ``given`` (a file, or a folder holding one of ``filenames``), else
    ``$env``, else the torch hub cache. Missing -> ``ConfigError`` that says what to put where."""
    candidates: list[Path] = []
    if given:
        g = Path(given).expanduser()
        if g.is_file():
            return g
        if g.is_dir():
            candidates += [g / f for f in filenames]
        else:
            raise ConfigError(
                f"{g}: {what} weights file not found. Download {url} on a machine with internet "
                f"access and pass its path (or put it in {hub_checkpoint_dir()})"
            )
    elif os.environ.get(env):
        e = Path(os.environ[env]).expanduser()
        if e.is_file():
            return e
        raise ConfigError(f"{e} (from ${env}): {what} weights file not found")
    else:
        candidates += [hub_checkpoint_dir() / f for f in filenames]
    for c in candidates:
        if c.is_file():
            return c
    raise ConfigError(
        f"{what} weights not found (looked for {', '.join(str(c) for c in candidates)}). "
        f"judgekit never downloads: fetch {url} and either put it at {hub_checkpoint_dir() / filenames[0]}, "
        f"set ${env}, or pass --weights PATH"
    )
