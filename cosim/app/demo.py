"""The main job: device switching, the SPICE TRNG cell, and digits generated with its noise.

Writes figures, ``report.md`` and ``report.json`` to one folder. Image generation compares
noise sources, each sampled with several seeds (FID with a Student-t interval over seeds):

* ``software`` -- ``torch.randn``;
* ``ideal-trng`` -- fair independent bits through ``word:12``, charged at the SPICE cell's energy per bit;
* ``mtj`` -- the LUT-driven emulator of a 64 x 64 array at TT 27 C with the corner's cell-to-cell
  variation, one calibrated driver amplitude per column, and per-cell von Neumann whitening
  (``word:12+vn``); shipped ``write``/``read`` LUTs add array position and sense errors when present;
* ``mtj-raw`` -- the same chip with one nominal amplitude and no whitening (``word:12``);
* ``biased-0.3`` -- a variation-free array driven to P(1) = 0.3, no whitening: the strongly biased case.

The TRNG's energy-per-bit times area is set against a published CMOS TRNG (:data:`CMOS_BASELINE`).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from compact_models import mtj_card
from compact_models.render import write_atomic

from compact_models.trng_cell import TRNG_CELL

from cosim.luts.lut import LutError, shipped_lut_path
from cosim.app.scoring import (  # noqa: F401  (shared with vcma diffusion compare; re-exported)
    DEMO_SOURCES, MTJ_SOURCES, Scorer, demo_source_factories, differences_vs, load_trng_lut, optional_array_luts, welch_difference)
from cosim.circuit.render_trng import TRNG_T_PULSE_S
from cosim.noise.defaults import ARRAY_COLS, ARRAY_ROWS

WIDTHS_S = [0.2e-9, 0.4e-9, 0.6e-9, 0.8e-9, 1.0e-9, 1.2e-9]

CMOS_BASELINE = {
    "name": "Intel 45 nm all-digital TRNG (cross-coupled inverter pair resolving from metastability)",
    "energy_per_bit_J": 2.9e-12,
    "area_m2": 4004e-12,
    "throughput_bit_per_s": 2.4e9,
    "power_W": 7e-3,
    "source": ("S. K. Mathew et al., '2.4 Gbps, 7 mW All-Digital PVT-Variation Tolerant True Random Number "
               "Generator for 45 nm CMOS High-Performance Microprocessors', IEEE J. Solid-State Circuits 47(11), "
               "Nov. 2012 (abstract: 2.9 pJ/bit, 4004 um^2, 2.4 Gbps, 7 mW at 1.1 V, 50 C)"),
}
"""The CMOS TRNG the MTJ array is compared with (whole TRNG macro, incl. its calibration loop)."""

# 45 nm-class layout estimate of the 1T-1MTJ cell (stated, not extracted from a layout)
FEATURE_M = 45e-9
CONTACTED_POLY_PITCH_M = 160e-9  # Intel 45 nm contacted gate pitch
ACCESS_W_M = TRNG_CELL.w_access_m  # access NMOS of the TRNG-cell card (L = 45 nm)
SENSE_AMP_W_M = TRNG_CELL.sense_amp_widths_m  # StrongARM latch of the TRNG cell: tail 2*w_sa, 8 devices at w_sa


def _transistor_area_m2(w_m: float) -> float:
    """Footprint of one transistor: (W + 2F) wide (active plus isolation) x 2 contacted poly pitches."""
    return (w_m + 2 * FEATURE_M) * 2 * CONTACTED_POLY_PITCH_M


def trng_cell_area() -> dict:
    """Area of one 1T-1MTJ TRNG cell, and with its column sense amplifier shared by the column's rows."""
    mtj = mtj_card().area_m2
    access = _transistor_area_m2(ACCESS_W_M)
    cell = max(mtj, access)  # the MTJ pillar sits on the access transistor's drain contact
    sa = sum(_transistor_area_m2(w) for w in SENSE_AMP_W_M)
    return {"mtj_footprint_m2": mtj, "access_transistor_m2": access, "cell_m2": cell,
            "sense_amp_m2": sa, "cell_with_shared_sense_amp_m2": cell + sa / ARRAY_ROWS,
            "method": (f"MTJ footprint pi d^2/4 (d = {mtj_card().diameter_m * 1e9:.0f} nm, compact_models.mtj); "
                       f"access NMOS W = {ACCESS_W_M * 1e9:.0f} nm, footprint (W + 2F) x 2 contacted poly pitches "
                       f"(F = 45 nm, CPP = 160 nm); the MTJ sits on the drain contact, so the cell is the transistor's "
                       f"footprint. With the column's StrongARM sense amplifier (9 devices, same rule) shared by "
                       f"{ARRAY_ROWS} rows. Drivers, calibration DACs and whitening logic are not counted.")}


def energy_area_comparison(energy_per_raw_bit_J: float, raw_bits_per_fair_bit: float) -> dict:
    """Energy per bit x area of the MTJ TRNG against :data:`CMOS_BASELINE` (lower is better)."""
    area = trng_cell_area()
    cmos = CMOS_BASELINE["energy_per_bit_J"] * CMOS_BASELINE["area_m2"]
    out = {"cmos_baseline": CMOS_BASELINE, "mtj_area": area, "unit": "J m^2 per bit (energy per bit x area)",
           "cmos_energy_area_J_m2": cmos, "mtj_energy_per_raw_bit_J": energy_per_raw_bit_J,
           "raw_bits_per_fair_bit": raw_bits_per_fair_bit}
    for label, a in (("cell", area["cell_m2"]), ("cell_with_shared_sense_amp", area["cell_with_shared_sense_amp_m2"])):
        for bit, e in (("raw_bit", energy_per_raw_bit_J), ("fair_bit", energy_per_raw_bit_J * raw_bits_per_fair_bit)):
            v = e * a
            out[f"mtj_{label}_{bit}_J_m2"] = v
            out[f"advantage_{label}_{bit}"] = cmos / v if v > 0 else math.inf
    return out


# --------------------------------------------------------------------------- demo


def check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _spice_part(out: Path, report: dict, trng_cycles: int, switching_trials: int, seed: int):
    """SPICE: switching probability against pulse width at 1.3 V, and the TRNG cell; plots and report entries."""
    from cosim.app.plots import plot_switching_curve, plot_trng
    from cosim.circuit.switching import switching_probability
    from cosim.circuit.trng import run_trng

    probs = [switching_probability(1.3, w, switching_trials, seed=seed, n_jobs=os.cpu_count() or 1)
             for w in WIDTHS_S]
    half = mtj_card().precession_period_s() / 2
    plot_switching_curve([w * 1e9 for w in WIDTHS_S], probs, "pulse width (ns) at 1.3 V", out / "switching.png",
                         marker=half * 1e9, marker_label="half precession period")
    report["switching_vs_width_1p3V"] = [{"t_pulse_s": w, "p": q.p, "ci95": q.ci, "n": q.n}
                                         for w, q in zip(WIDTHS_S, probs)]

    trng = run_trng(trng_cycles, seed=seed)
    plot_trng(trng.result, trng.bits, trng.cycle_time_s, out / "trng_cell.png")
    np.save(out / "trng_bits.npy", trng.bits)
    report["trng_cell"] = {"bits": "".join(map(str, trng.bits)), "p_one": trng.p_one.p, "p_one_ci95": trng.p_one.ci,
                           "energy_per_bit_J": trng.energy_per_bit_J, "time_per_bit_s": trng.cycle_time_s}
    return trng


def run_demo(out_dir: str | Path = "out/demo", n_images: int = 256, trng_cycles: int = 16,
             switching_trials: int = 32, seed: int = 1, n_seeds: int = 3, steps: int = 50,
             sources: list[str] | tuple[str, ...] = DEMO_SOURCES, lut_path: str | os.PathLike | None = None,
             ddpm_path: str | os.PathLike | None = None, classifier_path: str | os.PathLike | None = None,
             threads: int = 2, progress: bool = False) -> dict:
    """Run the whole chain; returns the report dictionary (also written as report.json / report.md).

    Inputs are checked before any simulation: counts must be positive, the checkpoints must exist and
    be of the right kind, a given ``lut_path`` must be a trng LUT. Without ``lut_path`` the shipped
    TT 27 C LUT is used; if it cannot be used the mtj sources are skipped and the report says why.
    """
    for name, value in (("n_images", n_images), ("trng_cycles", trng_cycles), ("switching_trials", switching_trials),
                        ("n_seeds", n_seeds), ("steps", steps), ("threads", threads)):
        check_count(name, value)
    unknown = [s for s in sources if s not in DEMO_SOURCES]
    if unknown or not sources:
        raise ValueError(f"unknown demo source(s) {unknown}; choose from {', '.join(DEMO_SOURCES)}")
    import torch

    torch.set_num_threads(threads)
    scorer = Scorer(ddpm_path, classifier_path, steps=steps)  # checkpoints first: fail before SPICE
    lut, lut_note = None, None
    if any(s in MTJ_SOURCES for s in sources):
        if lut_path is not None:
            lut = load_trng_lut(lut_path)
        else:
            try:
                lut = load_trng_lut()
            except LutError as err:
                lut_note = f"mtj sources skipped: the shipped TT 27 C trng LUT cannot be used ({err})"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    report: dict = {"seed": seed, "n_images": n_images, "seeds": [seed + i for i in range(n_seeds)],
                    "sampler": {"kind": "ddim", "steps": steps, "eta": 1.0},
                    "ddpm": str(scorer.ddpm_path), "classifier": str(scorer.classifier_path),
                    "classifier_heldout_accuracy": scorer.classifier_accuracy, "threads": threads}

    trng = _spice_part(out, report, trng_cycles, switching_trials, seed)
    report["spice_seconds"] = time.perf_counter() - start

    array_luts, array_notes = optional_array_luts() if lut is not None else ({}, {})
    factories = demo_source_factories(lut, seed, trng.energy_per_bit_J, trng.cycle_time_s, array_luts=array_luts)
    report["mtj_setup"] = {"lut": lut_note or str(lut_path or shipped_lut_path("trng", "tt", 27.0)),
                           "array": f"{ARRAY_ROWS} x {ARRAY_COLS}", "t_pulse_s": TRNG_T_PULSE_S, "chip_seed": seed,
                           "array_luts": array_notes}
    rows = {}
    for name in sources:
        if name not in factories:
            rows[name] = {"skipped": lut_note}
            continue
        t0 = time.perf_counter()
        rows[name] = scorer.run(factories[name], n_images, report["seeds"], out / f"digits_{name}.png",
                                f"{name} noise", progress)
        rows[name]["grid"] = f"digits_{name}.png"
        rows[name]["wall_seconds"] = time.perf_counter() - t0
    report["images"] = rows
    for metric in ("fid", "kid"):
        report[f"{metric}_difference_vs_software"] = differences_vs(rows, metric)
    if "mtj" in rows and "fid_values" in rows["mtj"]:
        m = rows["mtj"]
        report["energy_area"] = energy_area_comparison(m["energy_per_raw_bit_J"], m["raw_bits_per_fair_bit"])
    report["seconds"] = time.perf_counter() - start
    write_atomic(out / "report.json", json.dumps(report, indent=2, default=float))
    from cosim.app.demo_report import demo_markdown

    write_atomic(out / "report.md", demo_markdown(report))
    return report
