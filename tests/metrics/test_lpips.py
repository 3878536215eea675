"""LPIPS against the ``lpips`` package with the same random backbone (no pretrained weights)."""

from __future__ import annotations

import pytest

from judgekit.errors import ConfigError, DataError

torch = pytest.importorskip("torch")
lpips_pkg = pytest.importorskip("lpips")
import judgekit.metrics as jm  # noqa: E402


def _reference(net: str, backbone_state: dict):
    ref = lpips_pkg.LPIPS(net=net, pnet_rand=True, verbose=False)
    feats = {k[len("features.") :]: v for k, v in backbone_state.items() if k.startswith("features.")}
    for i in range(1, 6):
        s = getattr(ref.net, f"slice{i}")
        names = {n for n, _ in s.named_children()}
        s.load_state_dict({k: v for k, v in feats.items() if k.split(".")[0] in names})
    return ref.eval()


def test_alexnet_matches_lpips_package(random_alexnet):
    ref = _reference("alex", torch.load(random_alexnet, weights_only=True))
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 64, 64, generator=g) * 2 - 1
    y = torch.rand(3, 3, 64, 64, generator=g) * 2 - 1
    with torch.no_grad():
        expected = ref(x, y).flatten()
    got = jm.lpips(x, y, weights=random_alexnet, device="cpu")
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    # [0, 1] inputs with normalize=True are the same thing
    torch.testing.assert_close(jm.lpips((x + 1) / 2, (y + 1) / 2, weights=random_alexnet, device="cpu",
                                        normalize=True), got, rtol=1e-5, atol=1e-6)  # fmt: skip
    assert float(jm.lpips(x[:1], x[:1], weights=random_alexnet, device="cpu")) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.slow
def test_vgg_matches_lpips_package(tmp_path):
    import torchvision

    torch.manual_seed(1)
    sd = torchvision.models.vgg16(weights=None).state_dict()
    torch.save(sd, tmp_path / "vgg.pth")
    ref = _reference("vgg", sd)
    x, y = torch.rand(2, 3, 48, 48) * 2 - 1, torch.rand(2, 3, 48, 48) * 2 - 1
    with torch.no_grad():
        expected = ref(x, y).flatten()
    torch.testing.assert_close(jm.lpips(x, y, net="vgg", weights=tmp_path / "vgg.pth", device="cpu"), expected,
                               rtol=1e-5, atol=1e-6)  # fmt: skip


def test_out_of_range_inputs_and_bad_files(random_alexnet, tmp_path, monkeypatch):
    x = torch.rand(1, 3, 32, 32) * 255
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        jm.lpips(x, x, weights=random_alexnet, device="cpu")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("JUDGEKIT_LPIPS_ALEX", raising=False)
    with pytest.raises(ConfigError, match="alexnet-owt-7be5be79.pth"):
        jm.LPIPS(device="cpu")
    bad = tmp_path / "alexnet-owt-7be5be79.pth"  # the standard name carries a hash prefix: checked
    torch.save({}, bad)
    with pytest.raises(DataError, match=r"alexnet-owt-7be5be79\.pth: SHA-256"):
        jm.LPIPS(weights=bad, device="cpu")
    other = tmp_path / "mine.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, other)
    with pytest.raises(DataError, match=r"mine\.pth: not a torchvision alexnet"):
        jm.LPIPS(weights=other, device="cpu")
