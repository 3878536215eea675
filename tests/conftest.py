"""Shared pytest set-up. Fixtures of each area live in their own ``tests/fixtures_*.py``
module, listed here."""

import os

# No test may reach a model hub or phone home.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

pytest_plugins: list[str] = [
    "tests.fixtures_metrics",
    "tests.fixtures_spine",
    "tests.fixtures_engines",
]
