"""The Ray backend's settings, without starting Ray: the CLI flags reach ray-vllm: only, and bad
values are usage errors."""

import pytest

from judgekit.backends import make_backend
from judgekit.cli import main
from judgekit.errors import ConfigError


def test_ray_flags_do_not_apply_to_other_backends():
    with pytest.raises(ConfigError, match="--replicas does not apply to openai: backends .*ray-vllm"):
        make_backend("openai:judge", settings={"replicas": 2})
    with pytest.raises(ConfigError, match="--ray-address does not apply to vllm:"):
        make_backend("vllm:/nowhere", settings={"ray_address": "auto"})


def test_bad_replicas_is_a_usage_error():
    with pytest.raises(ConfigError, match="replicas and batch_size must be at least 1"):
        make_backend("ray-vllm:/models/x", settings={"replicas": 0})


def test_cli_refuses_replicas_with_openai(manifest_factory, tmp_path, capsys):
    m = manifest_factory(1)
    rc = main(["score", "--rubric", "viescore-t2i", "--data", str(m), "--backend", "openai:judge",
               "--base-url", "http://127.0.0.1:9/v1", "--replicas", "4", "--out", str(tmp_path / "r.jsonl")])
    assert rc == 2 and "--replicas does not apply to openai:" in capsys.readouterr().err
