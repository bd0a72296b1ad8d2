"""CPU time of the 32-cell switching deck: behavioural VCMA_MTJ (B-sources) vs the Verilog-A/OSDI model.

Runs netlists/mtj_switching.cir (32 cells, ~4 ns, 1 ps steps, thermal noise on) as shipped and with
its include swapped to netlists/vcma_mtj_va.lib, each ``repeats`` times in ``ngspice -b`` with one
OpenMP thread, and prints the median child CPU time (user + system, from getrusage) and the ratio.

    python benchmarks/bench_va.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compact_models.osdi import compile_model  # noqa: E402

NETLISTS = ROOT / "netlists"
DECK = NETLISTS / "mtj_switching.cir"


def _deck(lib: str) -> str:
    text = DECK.read_text().replace(".include vcma_mtj.lib", f".include {NETLISTS / lib}")
    assert f"{NETLISTS / lib}" in text, "mtj_switching.cir no longer includes vcma_mtj.lib"
    # pre_set runs before parsing, so the single thread holds for the whole run of either model.
    return text.replace("\n", "\n.control\npre_set num_threads=1\n.endc\n", 1)


def _cpu_of_run(deck: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # cwd = netlists/: the VA library's relative pre_osdi path resolves against it.
    proc = subprocess.run(["ngspice", "-b", str(deck)], capture_output=True, text=True, cwd=NETLISTS)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or "mz_31" not in proc.stdout or "rror" in proc.stdout + proc.stderr:
        raise SystemExit(f"ngspice failed on {deck}:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if shutil.which("ngspice") is None:
        raise SystemExit("ngspice not found on PATH")
    compile_model()
    times: dict[str, list[float]] = {"behavioural": [], "verilog-a": []}
    with tempfile.TemporaryDirectory() as tmp:
        decks = {"behavioural": Path(tmp) / "sw_b.cir", "verilog-a": Path(tmp) / "sw_va.cir"}
        decks["behavioural"].write_text(_deck("vcma_mtj.lib"))
        decks["verilog-a"].write_text(_deck("vcma_mtj_va.lib"))
        for _ in range(args.repeats):  # interleaved, so a noisy neighbour hits both alike
            for name, deck in decks.items():
                times[name].append(_cpu_of_run(deck))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:12s} CPU s: median {med[k]:.3f}  runs {', '.join(f'{x:.3f}' for x in v)}")
    print(f"ratio behavioural / verilog-a: {med['behavioural'] / med['verilog-a']:.2f}x")


if __name__ == "__main__":
    main()
