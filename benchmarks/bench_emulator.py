"""Emulated TRNG noise against torch.randn, and emulated bits against the SPICE TRNG cell.

In one process, on the shipped TT 27 C trng LUT and a 64 x 64 array (column calibration, cell
variation): standard normal samples per second of the ``mtj`` source for each transform against
``torch.randn`` of the same shape (medians of repeats, ratio), and raw emulated bits per second
against the bits per second of a SPICE TRNG-cell transient (``trng_cell.cir``, one run).

Run: .venv/bin/python benchmarks/bench_emulator.py [--samples 1000000] [--repeats 5] [--spice-cycles 16]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from cosim.luts.lut import Lut, shipped_lut_path
from cosim.noise.sources import make_noise_source
from cosim.circuit.trng import run_trng


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--spice-cycles", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    emu = make_noise_source("mtj", lut=Lut.load(shipped_lut_path("trng"), kind="trng"), rows=64, cols=64).emulator
    gen = torch.Generator().manual_seed(0)
    shape = (args.samples // 784, 1, 28, 28)
    t_randn = median_seconds(lambda: torch.randn(shape, generator=gen), args.repeats)
    n = shape[0] * 784
    print(f"torch.randn {shape}: {n / t_randn:.3g} samples/s ({args.threads} thread(s))")
    for transform in ("word:12", "word:12+vn", "sum:16", "word:12+xor"):
        src = make_noise_source("mtj", emulator=emu, transform=transform)
        t = median_seconds(lambda: src.randn(shape, generator=gen), args.repeats)
        print(f"mtj {transform:12s}: {n / t:.3g} samples/s, ratio to torch.randn {t_randn / t:.3f}x "
              f"({src.bits_per_sample:.0f} raw bits/sample)")
    cycles = max(1, 10_000_000 // (64 * 64))
    t_bits = median_seconds(lambda: emu.cycles(cycles, gen), args.repeats)
    emu_rate = cycles * 64 * 64 / t_bits
    start = time.perf_counter()
    run_trng(args.spice_cycles, seed=1)
    spice_rate = args.spice_cycles / (time.perf_counter() - start)
    print(f"emulated bits/s {emu_rate:.3g}; SPICE TRNG cell bits/s {spice_rate:.3g} (one transient of "
          f"{args.spice_cycles} cycles); ratio {emu_rate / spice_rate:.3g}x")


if __name__ == "__main__":
    main()
