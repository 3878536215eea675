"""``judgekit label``: a web app in which invited raters grade images (Likert 1-5, pass/fail, or
which of two is better), blind to models and files, writing the human-label file
``judgekit calibrate`` and ``judgekit leaderboard`` read.

Modules, one concept each:

- :mod:`.items`     the manifest as items, images confined to its folder, broken ones flagged
- :mod:`.pixels`    the judge's pixels: its image policy, full decode, the resized grading copy
- :mod:`.assign`    which item a rater gets next, and a pair's (counterbalanced) layout (pure functions)
- :mod:`.store`     the campaign in SQLite (WAL): raters, tokens, handles, assignments, answers, skips
- :mod:`.settings`  what a campaign asks: questions, anchors on the buttons' scale, names
- :mod:`.campaign`  the operations: identify, next task, answer, undo, skip, restore, pictures
- :mod:`.app`       the ASGI app (FastAPI) and its server (uvicorn): tokens, allowed hosts, operator page
- :mod:`.export`    the labels JSONL
- :mod:`.status`    progress and Krippendorff's alpha so far
- :mod:`.quality`   gold answers, fast answers and straight-lining

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
