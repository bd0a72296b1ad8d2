"""One-call quality report for a DDPM checkpoint and a noise source.

Samples ``n`` images, then reports FID on classifier features against the
held-out digits (with a bootstrap interval), the real-data floor at the same
sample size, and how recognisable the digits are. This is what
``diffusion/checkpoints/README.md`` quotes, and what a hardware-noise run should
be compared against (same n, sampler, steps and seed).

``python -m diffusion.evaluate --n 1000 --sampler ddim --steps 100``
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from .classifier import DEFAULT_CLASSIFIER_PATH, extract_features, load_classifier, recognisability
from .data import load_mnist
from .metrics import bootstrap_fid_ci, fid_from_features
from .train import DEFAULT_DDPM_PATH, load_ddpm, sample


def evaluate(
    ddpm: str | os.PathLike = DEFAULT_DDPM_PATH,
    classifier: str | os.PathLike = DEFAULT_CLASSIFIER_PATH,
    n: int = 1000,
    noise_source=None,
    seed: int = 0,
    sampler: str = "ddim",
    steps: int | None = 100,
    eta: float = 0.0,
    batch_size: int = 250,
    n_boot: int = 200,
    grid_path: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """Sample and score; returns a JSON-ready dict (images are not included)."""
    model, schedule, ck = load_ddpm(ddpm)
    clf, clf_ck = load_classifier(classifier)
    if clf_ck["split_seed"] != ck["split_seed"]:
        raise ValueError(f"classifier {classifier} used split seed {clf_ck['split_seed']}, DDPM {ddpm} used "
                         f"{ck['split_seed']}: the held-out digits would differ")
    data = load_mnist(ck["split_seed"], ck["n_heldout"])
    t0 = time.perf_counter()
    images = sample((model, schedule), n, noise_source, seed, sampler, steps if sampler == "ddim" else None, eta,
                    batch_size, progress)
    t_sample = time.perf_counter() - t0
    f_gen = extract_features(clf, images)
    f_held = extract_features(clf, data.x_heldout)
    g = torch.Generator().manual_seed(seed)
    m = min(n, len(data.x_heldout))
    f_train = extract_features(clf, data.x_train[torch.randperm(len(data.x_train), generator=g)[:m]])
    f_held_m = f_held[torch.randperm(len(f_held), generator=g)[:m].numpy()]
    if n_boot:
        ci = bootstrap_fid_ci(f_gen, f_held, n_boot=n_boot, seed=seed)
    else:
        ci = {"fid": fid_from_features(f_gen, f_held)}
    if grid_path:
        from .grid import save_grid

        save_grid(images[:100], grid_path, nrow=10,
                  title=f"{sampler} {'' if sampler == 'ddpm' else f'{steps} steps eta={eta:g} '}seed {seed}")
    return {
        "ddpm": str(ddpm), "classifier": str(classifier), "step": ck["step"],
        "noise_source": type(noise_source).__name__ if noise_source is not None else "torch.randn",
        "n": n, "seed": seed, "sampler": sampler, "steps": schedule.T if sampler == "ddpm" else steps, "eta": eta,
        "sampling_time_s": t_sample,
        "fid_vs_heldout": ci["fid"], "fid_ci": {k: ci[k] for k in ("low", "high", "level", "bias", "boot_std") if k in ci},
        "floor_heldout_vs_train": fid_from_features(f_held_m, f_train), "floor_n": m,
        "classifier_heldout_accuracy": clf_ck["heldout_accuracy"],
        "recognisability": recognisability(clf, images),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m diffusion.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("--ddpm", default=str(DEFAULT_DDPM_PATH))
    p.add_argument("--classifier", default=str(DEFAULT_CLASSIFIER_PATH))
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sampler", choices=["ddpm", "ddim"], default="ddim")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--eta", type=float, default=0.0)
    p.add_argument("--boot", type=int, default=200)
    p.add_argument("--grid", default=None, help="write a 10x10 PNG grid of the first 100 samples here")
    p.add_argument("--json", default=None, help="also write the report here")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    rep = evaluate(a.ddpm, a.classifier, a.n, None, a.seed, a.sampler, a.steps, a.eta, n_boot=a.boot,
                   grid_path=a.grid)
    text = json.dumps(rep, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
