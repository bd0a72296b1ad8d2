"""SPICE trials per second on the default TRNG LUT grid: all local cores against one core.

Runs the same sample of grid points (fresh cache each time) with ``--jobs`` workers and with one,
in this process, and prints the median rates over repeats and their ratio. With ``--full`` it
also rebuilds the whole default TT 27 C LUT and prints its wall time (target: < 30 min here).

Run: .venv/bin/python benchmarks/bench_lut.py [--points 8] [--trials 64] [--repeats 3] [--full]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from cosim.luts.build_trng import build_trng_lut, point_seed, switching_point, trng_axes
from cosim.circuit.sweep import run_points


def rate(points: list[dict], n_jobs: int) -> float:
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        run_points(switching_point, points, cache, n_jobs=n_jobs, desc=f"{n_jobs} job(s)")
        return sum(p["trials"] for p in points) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--trials", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--full", action="store_true", help="also time a full rebuild of the default TT LUT")
    args = ap.parse_args()
    axes = trng_axes("tt", 27.0)
    grid = [(float(v), float(t)) for v in axes["v_write_V"] for t in axes["t_pulse_s"]]
    sample = grid[:: max(1, len(grid) // args.points)][: args.points]
    points = [dict(v_write_V=v, t_pulse_s=t, trials=args.trials, seed=point_seed(v, t, "tt", 27.0), corner="tt",
                   temp_C=27.0) for v, t in sample]
    one = [rate(points, 1) for _ in range(args.repeats)]
    many = [rate(points, args.jobs) for _ in range(args.repeats)]
    m1, mj = statistics.median(one), statistics.median(many)
    print(f"grid sample: {len(points)} points x {args.trials} trials")
    print(f"median trials/s: 1 core {m1:.1f}, {args.jobs} workers {mj:.1f}, ratio {mj / m1:.2f}x")
    if args.full:
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            build_trng_lut("tt", 27.0, trials=128, n_jobs=args.jobs, cache_dir=cache)
            print(f"full default TT 27 C LUT rebuild: {(time.perf_counter() - start) / 60:.1f} min")


if __name__ == "__main__":
    main()
