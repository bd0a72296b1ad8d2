"""Stochastic switching trials per second: the Python path against naive one-process-per-trial ngspice.

Baseline (what a user without the toolkit does): for each trial, write the shipped switching
netlist with one cell and its own seed, and run ``ngspice -b`` on it (card defaults: 1 ps
thermal-field step, 3 ns settle). Python path: ``cosim.circuit.switching`` with 32 cells per transient,
joblib workers on every core, one ngspice shared library per worker, a 5 ps thermal-field step
and a 2 ns settle (SWEEP_T_SETTLE_S). Both run here, in this process, at the same operating points; rates are
medians over repeats, and the switching probabilities of the two paths are compared with
Fisher's exact test (agreement: p > 0.01) and shown with their 95 % Clopper-Pearson intervals.

Run: .venv/bin/python benchmarks/bench_switching.py [--naive-trials 48] [--fast-trials 256]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from scipy.stats import fisher_exact

from compact_models.render import NETLIST_DIR
from cosim.circuit.render_switching import render_switching
from cosim.circuit.stats import Proportion
from cosim.circuit.switching import switching_probability

POINTS = [(0.8, 0.5e-9), (1.3, 0.4e-9)]  # (V, FWHM): one on the amplitude flank, one on the width flank


def naive_trials(v_write: float, t_pulse: float, n: int, first_seed: int) -> tuple[Proportion, float]:
    switched = 0
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for seed in range(first_seed, first_seed + n):
            text = render_switching(1, lib=str(NETLIST_DIR / "vcma_mtj.lib"))
            text = re.sub(r"\.param v_write=\S+ t_pulse=\S+", f".param v_write={v_write} t_pulse={t_pulse}", text)
            text = text.replace(".options seed=1", f".options seed={seed}")
            path = Path(tmp) / "trial.cir"
            path.write_text(text)
            out = subprocess.run(["ngspice", "-b", str(path)], capture_output=True, text=True, check=True).stdout
            switched += float(re.search(r"^mz_0\s*=\s*(\S+)", out, re.M).group(1)) < 0
        elapsed = time.perf_counter() - start
    return Proportion(switched, n), n / elapsed


def fast_trials(v_write: float, t_pulse: float, n: int, seed: int) -> tuple[Proportion, float]:
    start = time.perf_counter()
    q = switching_probability(v_write, t_pulse, n, seed=seed, n_jobs=os.cpu_count() or 1)
    return q, n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--naive-trials", type=int, default=48)
    ap.add_argument("--fast-trials", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}   naive trials/point: {args.naive_trials}   fast trials/point: {args.fast_trials}")
    naive_rates, fast_rates = [], []
    for v, t in POINTS:
        naive_p = fast_p = None
        for r in range(args.repeats):
            q_n, rate_n = naive_trials(v, t, args.naive_trials, 1000 * r + 1)
            q_f, rate_f = fast_trials(v, t, args.fast_trials, 1000 * r + 1)
            naive_rates.append(rate_n)
            fast_rates.append(rate_f)
            naive_p = q_n if naive_p is None else Proportion(naive_p.k + q_n.k, naive_p.n + q_n.n)
            fast_p = q_f if fast_p is None else Proportion(fast_p.k + q_f.k, fast_p.n + q_f.n)
            print(f"  V={v} V t={t * 1e9:.2f} ns repeat {r}: naive {rate_n:6.2f} trials/s, python {rate_f:6.2f} trials/s")
        table = [[naive_p.k, naive_p.n - naive_p.k], [fast_p.k, fast_p.n - fast_p.k]]
        p_value = fisher_exact(table).pvalue
        verdict = "agree" if p_value > 0.01 else "DIFFER"
        print(f"V={v} V, t_pulse={t * 1e9:.2f} ns: P naive {naive_p}  P python {fast_p}  Fisher p={p_value:.3f} ({verdict})")
    naive_med, fast_med = statistics.median(naive_rates), statistics.median(fast_rates)
    print(f"median trials/s: naive {naive_med:.2f}, python path {fast_med:.2f}, ratio {fast_med / naive_med:.1f}x")


if __name__ == "__main__":
    main()
