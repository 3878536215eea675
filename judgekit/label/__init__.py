"""``judgekit label``: a local web app in which people grade images (Likert 1-5, pass/fail, or
which of two is better), writing the human-label file ``judgekit calibrate`` and
``judgekit leaderboard`` read.

Modules, one concept each:

- :mod:`.items`     the manifest as items, images confined to its folder, broken ones flagged
- :mod:`.assign`    which item a rater gets next, and a pair's layout (pure functions)
- :mod:`.store`     the campaign in SQLite (WAL): raters, assignments, answers
- :mod:`.campaign`  the operations: join, next task, answer, undo, skip
- :mod:`.app`       the ASGI app (FastAPI) and its server (uvicorn, 127.0.0.1 only)
- :mod:`.export`    the labels JSONL
- :mod:`.status`    progress and Krippendorff's alpha so far

FastAPI and uvicorn come with ``pip install 'judgekit[label]'`` and are imported only when the
app starts. See docs/label.md.
"""

from .campaign import Campaign, RatingQuestion, Settings
from .export import export, label_records
from .items import Item, load_label_items
from .status import campaign_status, format_status, nominal_alpha
from .store import LabelStore

__all__ = [
    "Campaign", "RatingQuestion", "Settings", "export", "label_records", "Item", "load_label_items",
    "campaign_status", "format_status", "nominal_alpha", "LabelStore",
]
