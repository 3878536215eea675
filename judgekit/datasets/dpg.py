"""DPG-Bench prompt files: one ``<item_id>.txt`` per prompt in a folder. Its question file
(``dpg_bench.csv``) uses the DSG schema: load it with ``datasets.dsg.load_dpg_csv``.

Note: DPG-Bench's own script skips the first data row of its CSV (``if i == 0: continue``
after ``read_csv`` already consumed the header), so its first item loses question 1.
judgekit keeps every row.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError


def load_dpg_prompts(folder: str | Path) -> dict[str, str]:
    """``{item_id: prompt}``, ordered by numeric id when the names are numbers."""
    d = Path(folder)
    if not d.is_dir():
        raise DataError(f"DPG-Bench prompt folder {d} does not exist")
    files = sorted(d.glob("*.txt"), key=lambda p: (0, int(p.stem)) if p.stem.isdigit() else (1, p.stem))
    if not files:
        raise DataError(f"{d}: no .txt prompt files")
    out = {}
    for f in files:
        text = f.read_text(encoding="utf-8").strip()
        if not text:
            raise DataError(f"{f}: empty prompt file")
        out[f.stem] = text
    return out
