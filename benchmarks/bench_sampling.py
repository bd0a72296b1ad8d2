"""Sampling wall time with ``mtj`` noise against software noise, in the same process.

Generates N digits (DDIM, eta = 1) with the shipped DDPM, alternately with software noise
(``torch.randn``) and with the emulated 64 x 64 VCMA-MTJ array at TT 27 C (cell-to-cell variation,
per-column calibration, per-cell von Neumann whitening, ``word:12+vn``), and prints the medians
over repeats, the ratio mtj / software (target <= 1.10) and images per second. The emulator is built
once (a chip is calibrated once); each repeat uses a fresh noise source.

Run: .venv/bin/python benchmarks/bench_sampling.py [--images 128] [--steps 50] [--repeats 3] [--threads 2]
     [--lut PATH]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from cosim.app.demo import ARRAY_COLS, ARRAY_ROWS, load_trng_lut
from cosim.noise.sources import make_noise_source
from diffusion.train import DEFAULT_DDPM_PATH, load_ddpm, sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=128)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lut", help="trng LUT (default: shipped TT 27 C)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    loaded = load_ddpm(DEFAULT_DDPM_PATH)[:2]
    emulator = make_noise_source("mtj", lut=load_trng_lut(args.lut), rows=ARRAY_ROWS, cols=ARRAY_COLS,
                                 calibration="column", chip_seed=1).emulator
    makers = {"software": lambda: make_noise_source("software"),
              "mtj": lambda: make_noise_source("mtj", emulator=emulator, transform="word:12+vn")}
    sample(loaded, 4, make_noise_source("software"), seed=0, steps=2, eta=1.0, progress=False)  # warm-up
    times: dict[str, list[float]] = {k: [] for k in makers}
    for rep in range(args.repeats):
        for name, make in makers.items():  # interleaved, so machine load drifts hit both alike
            start = time.perf_counter()
            sample(loaded, args.images, make(), seed=rep, sampler="ddim", steps=args.steps, eta=1.0, progress=False)
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.images} images, DDIM {args.steps} steps eta 1, {args.repeats} repeats, {args.threads} thread(s)")
    for name in makers:
        print(f"{name:9s} median {med[name]:.2f} s ({', '.join(f'{t:.2f}' for t in times[name])}), "
              f"{args.images / med[name]:.1f} images/s")
    ratio = med["mtj"] / med["software"]
    print(f"ratio mtj / software: {ratio:.3f} (target <= 1.10: {'met' if ratio <= 1.10 else 'NOT met'})")


if __name__ == "__main__":
    main()
