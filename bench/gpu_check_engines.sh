#!/usr/bin/env bash
# GPU check of judgekit's local engines on the tiny random-weight VLM (no model hub, no
# network): transformers on CUDA vs CPU, and vLLM on CUDA vs transformers on CPU when a CUDA
# build of vLLM is installed. Prints one JSON line; exit status 1 on a mismatch.
#
#   bash bench/gpu_check_engines.sh            # uses .venv/bin/python, or PYTHON=...
#
# Needs torch with CUDA, transformers and llguidance (`pip install -e ".[hf]"`); for the vLLM
# part, `pip install vllm` (the CUDA wheel). Takes about a minute on one GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
exec timeout 480 "$PY" bench/gpu_check_engines.py
