"""Prompt lists for question generation: JSON lines, a text file with one prompt a line, or a
folder of ``<id>.txt`` files (DPG-Bench)."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..io import iter_jsonl


def read_prompts(path: str | Path) -> list[tuple[str, str]]:
    """``[(prompt_id, prompt)]`` from a JSONL file, a .txt file (one per line) or a folder."""
    p = Path(path)
    if p.is_dir():
        from .dpg import load_dpg_prompts

        return list(load_dpg_prompts(p).items())
    if not p.is_file():
        raise DataError(f"prompt file {p} does not exist")
    if p.suffix == ".txt":
        return [(str(i), line.strip()) for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    out = []
    for where, rec in iter_jsonl(p, "prompt file"):
        pid = rec.get("prompt_id", rec.get("id"))
        if pid is None or not rec.get("prompt"):
            raise DataError(f"{where}: expected a JSON object with prompt_id (or id) and prompt")
        out.append((str(pid), rec["prompt"]))
    # Several samples of one prompt share it: generate once per prompt id.
    return list(dict(out).items())
