"""The ``judgekit score`` flags of the Ray backend (``--replicas``, ``--tensor-parallel``,
``--ray-address``), kept out of score.py so the flags of one backend live in one place. They go to
``make_backend`` as common settings: a backend that does not take them refuses them there."""

from __future__ import annotations

import argparse
from typing import Any

SCALE_SETTINGS = ("replicas", "tensor_parallel", "ray_address")


def add_scale_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("ray-vllm: backend")
    g.add_argument("--replicas", type=int, help="vLLM engines (Ray actors) judging in parallel (default 1)")
    g.add_argument("--tensor-parallel", type=int, help="GPUs per replica (default: 1 where the Ray cluster has GPUs, else 0)")
    g.add_argument("--ray-address", help="Ray cluster to join (`auto`: the running one; default: a local one)")


def scale_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k, None) for k in SCALE_SETTINGS}
