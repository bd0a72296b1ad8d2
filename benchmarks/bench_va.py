"""The compiled Verilog-A model against the behavioural one, both through the toolkit, in one process.

* switching trials/s: ``final_mz`` on the switching deck (32 cells per transient, 1.3 V / 0.5 ns pulse),
  at the sweeps' thermal step (5 ps, what LUT builds use) and at the card's 1 ps;
* TRNG-cell bits/s: ``run_trng`` (16 cycles of the 10 ns cell) at 5 ps and at 1 ps.

Each case runs ``--repeats`` times, the two models interleaved so a noisy neighbour hits both alike;
prints medians of wall time and the ratio behavioural / VA. One ngspice thread (the toolkit's default).

    .venv/bin/python benchmarks/bench_va.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

from cosim.circuit.switching import final_mz
from cosim.circuit.trng import run_trng

MODELS = ("behavioural", "va")


def _median_s(job, repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {m: [] for m in MODELS}
    for i in range(repeats):
        for model in MODELS:
            start = time.perf_counter()
            job(model, i)
            times[model].append(time.perf_counter() - start)
    return {m: statistics.median(v) for m, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="the 5 ps cases only")
    args = ap.parse_args()
    for model in MODELS:  # warm-up: compile the module, load the shared library
        final_mz(1.3, 0.5e-9, 1, model=model)
    steps = (5e-12,) if args.quick else (5e-12, 1e-12)
    trials, cycles = 64, 16
    for dt in steps:
        med = _median_s(lambda m, i: final_mz(1.3, 0.5e-9, trials, seed=1 + 100 * i, dt_thermal_s=dt, model=m),
                        args.repeats)
        rates = {m: trials / s for m, s in med.items()}
        print(f"switching, thermal step {dt * 1e12:g} ps: " + ", ".join(f"{m} {r:.1f} trials/s" for m, r in rates.items())
              + f"; ratio va/behavioural {rates['va'] / rates['behavioural']:.2f}x")
    for dt in steps:
        med = _median_s(lambda m, i: run_trng(cycles, seed=1 + i, params={"dt_thermal_s": dt}, model=m), args.repeats)
        rates = {m: cycles / s for m, s in med.items()}
        print(f"TRNG cell, thermal step {dt * 1e12:g} ps: " + ", ".join(f"{m} {r:.2f} bits/s" for m, r in rates.items())
              + f"; ratio va/behavioural {rates['va'] / rates['behavioural']:.2f}x")


if __name__ == "__main__":
    main()
