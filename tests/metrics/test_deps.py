"""``import judgekit`` never needs torch; a missing torch is a MissingDependencyError naming the
``metrics`` extra."""

from __future__ import annotations

import subprocess
import sys

import pytest

from judgekit.errors import MissingDependencyError


def test_import_judgekit_does_not_import_torch():
    code = "import sys, judgekit, judgekit.metrics as m; m.frechet_distance; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_torch_names_the_extra(monkeypatch):
    import judgekit.metrics as jm

    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(MissingDependencyError, match=r"judgekit\[metrics\]") as exc:
        jm.psnr([[0.0]], [[1.0]], data_range=1.0)
    assert exc.value.package == "torch" and exc.value.extra == "metrics"
