"""Trials the adaptive design spends against a uniform design for the same worst-point CI half-width.

A synthetic binomial truth shaped like the TT 27 C switching table (probit in amplitude, the transition
moving with width, 21 x 13 grid) stands in for SPICE, so the comparison is exact and fast: the uniform
design is searched over trials per point (multiples of 32) for the smallest that brings every point's
fitted 95 % band half-width under the target; the adaptive design (cosim.luts.adaptive) starts at
64 per point. Medians over ``--repeats`` seeds. The SPICE rebuild time of one corner is in each
shipped LUT's provenance (``design``) and in the README.

    .venv/bin/python benchmarks/bench_adaptive.py [--target 0.03] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from scipy.stats import norm

from cosim.luts.adaptive import BATCH, adaptive_counts, fit_halfwidth, switching_table

VS = np.linspace(0.55, 1.15, 21)
TS = np.linspace(0.4e-9, 0.7e-9, 13)


def truth(v, t):
    return norm.cdf((v - (0.86 - 0.25e9 * (t - 0.4e-9))) / 0.03)


def draw_from(rng):
    return lambda reqs: [{"k": int(rng.binomial(n, truth(VS[i], TS[j]))), "n": n, "late": 0, "never": 0}
                         for i, j, n, _ in reqs]


def uniform_trials(target: float, seed: int) -> int:
    """Smallest uniform trials per point (multiple of BATCH) whose worst fitted half-width is <= target."""
    n = BATCH
    while True:
        rng = np.random.default_rng(seed)
        k = rng.binomial(n, truth(VS[:, None], TS[None, :])).astype(float)
        if np.nanmax(fit_halfwidth(switching_table(VS, TS, k, np.full(k.shape, float(n)), {}))) <= target:
            return n * k.size
        n += BATCH


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=0.03)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    adaptive, uniform = [], []
    for seed in range(args.repeats):
        counts, report = adaptive_counts(VS, TS, 64, draw_from(np.random.default_rng(seed)), args.target)
        adaptive.append(report["trials_total"])
        uniform.append(uniform_trials(args.target, 1000 + seed))
        print(f"seed {seed}: adaptive {adaptive[-1]} trials (worst half-width {report['worst_halfwidth']:.4f}, "
              f"{len(report['points_above_target'])} points above), uniform {uniform[-1]}")
    a, u = statistics.median(adaptive), statistics.median(uniform)
    print(f"median trials: adaptive {a:.0f}, uniform {u:.0f}; adaptive / uniform {a / u:.2f} ({1 - a / u:.0%} saved)")


if __name__ == "__main__":
    main()
