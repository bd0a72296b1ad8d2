"""Crossbar read run time: a 64 x 64 array against 16 x 16, same read sequence.

Both sizes run here, in this process, through cosim.circuit.crossbar.crossbar_read (two transients each:
all P, all AP), reading three rows each (first, middle, last: nearest, middle and farthest from the
sense amplifiers; ``--all-rows`` reads every row, which costs about rows/3 times more). Prints
wall times and the ratio 64x64 / 16x16 (cell count alone would give 16).

Run: .venv/bin/python benchmarks/bench_crossbar.py [--rows 64] [--cols 64] [--all-rows]
"""

from __future__ import annotations

import argparse
import time

from cosim.circuit.crossbar import crossbar_read


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--cols", type=int, default=64)
    ap.add_argument("--all-rows", action="store_true")
    ap.add_argument("--model", choices=["va", "behavioural"], default=None, help="VCMA-MTJ model (default: va)")
    args = ap.parse_args()
    times = {}
    for rows, cols in ((16, 16), (args.rows, args.cols)):
        start = time.perf_counter()
        read_rows = None if args.all_rows else sorted({0, rows // 2, rows - 1})
        r = crossbar_read(rows, cols, read_rows=read_rows, model=args.model)
        times[(rows, cols)] = time.perf_counter() - start
        import numpy as np

        ok = ~np.isnan(r.v_sa_V[0])
        worst = float(np.nanmin(r.margin_min_V))
        print(f"{rows} x {cols} read: {times[(rows, cols)]:.1f} s wall (SPICE {r.runtime_s:.1f} s), "
              f"all correct {bool(r.correct[:, ok].all())}, worst margin {worst * 1e3:.2f} mV, "
              f"window {np.nanmin(r.signal_V[ok]) * 1e3:.2f}-{np.nanmax(r.signal_V[ok]) * 1e3:.2f} mV, "
              f"energy/row read {r.energy_per_read_J * 1e15:.1f} fJ")
    ratio = times[(args.rows, args.cols)] / times[(16, 16)]
    print(f"ratio {args.rows}x{args.cols} / 16x16 run time: {ratio:.1f}")


if __name__ == "__main__":
    main()
