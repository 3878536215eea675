"""A prepared check for a machine with a CUDA GPU (none was at hand when the metrics were
written): do the CUDA paths give the CPU numbers, and how fast are they?

    python3 bench/gpu_check_metrics.py            # about 2-4 minutes on one H100
    python3 bench/gpu_check_metrics.py --device cpu --small   # a dry run of the script itself

Nothing is downloaded: every network has seeded random weights built here (FID/KID Inception,
LPIPS AlexNet, a tiny CLIP). It prints one line per check (PASS/FAIL with the largest difference)
and then the throughput of our FID pipeline against torchmetrics' FID update on the GPU
(``bench/bench_fid_throughput.py``) and the 2048-d Fréchet timing on this machine's CPU.

Needs, besides torch/torchvision: torch-fidelity, torchmetrics, lpips, scikit-image,
transformers, and judgekit's own requirements (pydantic, jinja2, pyyaml, openai, tenacity ...).
Missing ones are listed first with the exact ``pip download`` line to carry them as wheels.
Exit status: 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NEEDED = {
    "torch": "torch", "torchvision": "torchvision", "torch_fidelity": "torch-fidelity==0.4.0",
    "torchmetrics": "torchmetrics", "lpips": "lpips==0.1.4", "skimage": "scikit-image",
    "transformers": "transformers", "pydantic": "pydantic", "jinja2": "jinja2", "yaml": "pyyaml",
    "openai": "openai", "tenacity": "tenacity",
}  # fmt: skip

results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str) -> None:
    results.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name:48s} {detail}", flush=True)


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda", help="the device compared with the CPU (default cuda)")
    ap.add_argument("--small", action="store_true", help="tiny sizes, to check the script itself quickly")
    args = ap.parse_args()
    dev, small = args.device, args.small
    missing = [pkg for mod, pkg in NEEDED.items() if importlib.util.find_spec(mod) is None]
    if missing:
        print("missing packages: " + " ".join(missing))
        print("carry them as wheels (see the device README): python3 -m pip download --no-deps "
              "--only-binary=:all: --python-version 3.12 -d .whl " + " ".join(missing))  # fmt: skip
        return 1
    import torch

    if dev.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device visible; nothing to check")
        return 1
    name = torch.cuda.get_device_name() if dev.startswith("cuda") else dev
    print(f"{name}  torch {torch.__version__}  CUDA {torch.version.cuda}", flush=True)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

    import judgekit.metrics as jm
    from tests.fixtures_metrics import build_tiny_clip, random_images, write_random_inception_weights

    tmp = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    t0 = time.perf_counter()
    weights = tmp / "inception.pth"
    sha = write_random_inception_weights(weights, seed=0)
    imgs = (
        torch.from_numpy(random_images(16, 40, 48, seed=1) if small else random_images(16, 96, 128, seed=1))
        .permute(0, 3, 1, 2)
        .contiguous()
    )

    # 1. Inception features, both resize modes, and FID / KID from them
    for mode in ("tf-legacy", "clean"):
        cpu = jm.InceptionExtractor(weights, sha256=sha, device="cpu", mode=mode)(imgs)
        gpu = jm.InceptionExtractor(weights, sha256=sha, device=dev, mode=mode)(imgs.to(dev)).cpu()
        rel = ((gpu - cpu).abs().max() / cpu.abs().max()).item()
        check(f"inception features cuda vs cpu ({mode})", rel < 1e-3, f"max rel diff {rel:.2e}")
    real = (
        torch.from_numpy(random_images(6 if small else 48, 64, 64, seed=2)).permute(0, 3, 1, 2).contiguous()
    )
    fake = (
        torch.from_numpy(random_images(5 if small else 40, 64, 64, seed=3)).permute(0, 3, 1, 2).contiguous()
    )
    import warnings

    warnings.simplefilter("ignore")
    f = {d: jm.fid(real, fake, weights=weights, sha256=sha, device=d).value for d in ("cpu", dev)}
    rel = abs(f[dev] - f["cpu"]) / abs(f["cpu"])
    check("FID cuda vs cpu", rel < 1e-3, f"cpu {f['cpu']:.8g} cuda {f[dev]:.8g} rel {rel:.1e}")
    k = {d: jm.kid(real, fake, weights=weights, sha256=sha, device=d, subsets=10, subset_size=4 if small else 32).mean
         for d in ("cpu", dev)}  # fmt: skip
    rel = abs(k[dev] - k["cpu"]) / abs(k["cpu"])
    check("KID cuda vs cpu", rel < 1e-3, f"cpu {k['cpu']:.8g} cuda {k[dev]:.8g} rel {rel:.1e}")
    # the worker route on the GPU (decode in workers, resize on the device) gives the same FID
    from tests.fixtures_metrics import write_png

    for i, a in enumerate(real.permute(0, 2, 3, 1).numpy()):
        write_png(tmp / "real" / f"{i:03d}.png", a)
    for i, a in enumerate(fake.permute(0, 2, 3, 1).numpy()):
        write_png(tmp / "fake" / f"{i:03d}.png", a)
    ff = jm.fid(tmp / "real", tmp / "fake", weights=weights, sha256=sha, device=dev, num_workers=4).value
    rel = abs(ff - f[dev]) / abs(f[dev])
    check("FID cuda from files (4 workers) vs tensors", rel < 1e-6, f"{ff:.10g} vs {f[dev]:.10g}")

    # 2. SSIM / PSNR (float64 on both)
    a, b = imgs[:8], imgs[8:]
    for name, fn in (("ssim", jm.ssim), ("psnr", jm.psnr)):
        c = fn(a, b, data_range=255)
        g = fn(a.to(dev), b.to(dev), data_range=255).cpu()
        d = (g - c).abs().max().item()
        check(f"{name} cuda vs cpu", d < 1e-9, f"max abs diff {d:.1e}")

    # 3. LPIPS with a random AlexNet
    import torchvision

    torch.manual_seed(0)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), tmp / "alexnet.pth")
    x, y = imgs[:8].float() / 127.5 - 1, imgs[8:].float() / 127.5 - 1
    c = jm.lpips(x, y, weights=tmp / "alexnet.pth", device="cpu")
    g = jm.lpips(x.to(dev), y.to(dev), weights=tmp / "alexnet.pth", device=dev).cpu()
    d = (g - c).abs().max().item()
    check("lpips cuda vs cpu", d < 1e-4, f"max abs diff {d:.1e}")

    # 4. CLIP score with a tiny random CLIP
    clip_dir = build_tiny_clip(tmp / "clip")
    texts = ["a photo of a cat", "the cat " * 30] * 4
    c = jm.CLIPScorer(clip_dir, device="cpu").score(list(imgs[:8].permute(0, 2, 3, 1).numpy()), texts)
    g = jm.CLIPScorer(clip_dir, device=dev).score(list(imgs[:8].permute(0, 2, 3, 1).numpy()), texts)
    d = (g - c).abs().max().item()
    check("clip score cuda vs cpu", d < 1e-4, f"max abs diff {d:.1e}")
    print(f"checks took {time.perf_counter() - t0:.0f} s", flush=True)

    # 5. the pytest checks marked gpu
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider",
                          *map(str, sorted((ROOT / "tests" / "metrics").glob("test_*.py")))], cwd=ROOT)  # fmt: skip
    check("pytest -m gpu tests/metrics/", rc == 0, f"exit {rc}")

    # 6. throughput on the GPU, and the Fréchet distance on this machine's CPU
    tp = (
        ["--n", "4", "--size", "32", "--batch", "2", "--repeats", "1"]
        if small
        else ["--n", "1024", "--size", "256", "--batch", "128"]
    )
    bench = ROOT / "bench"
    subprocess.call([sys.executable, str(bench / "bench_fid_throughput.py"), "--device", dev, *tp], cwd=ROOT)
    fr = ["--dim", "64", "--n", "128", "--repeats", "1"] if small else ["--repeats", "2"]
    subprocess.call([sys.executable, str(bench / "bench_fid_frechet.py"), *fr], cwd=ROOT)
    failed = [r for r in results if not r[1]]
    print(f"{len(results) - len(failed)}/{len(results)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
