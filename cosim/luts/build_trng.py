"""Build, show and validate lookup tables from SPICE.

The ``trng`` LUT holds, for one corner and temperature:

* the switching probability of one write pulse, P(P -> AP), over the amplitude *across the MTJ*
  (axis ``v_write_V``, ideal pulse, ``mtj_switching.cir``) and pulse width, with trial counts and
  95 % Clopper-Pearson bounds;
* from full TRNG-cell runs (``trng_cell.cir``, driver, access transistor, sense amplifier), over
  the cell's driver amplitude (its own, coarser axis ``v_energy_V``): the supply energy per bit
  and the fraction of the driver amplitude that reaches the MTJ during the write pulse
  (``v_mtj_fraction``), which maps a cell's driver setting onto the switching axis;
* a cell check (provenance ``cell_check``): a longer TRNG-cell run at the driver amplitude the LUT
  predicts for P(1) = 0.5, giving the cell's own P(1) with its confidence interval and the lag-1
  serial correlation of its bits (the emulator uses the correlation only where SPICE shows one).
"""

from __future__ import annotations

import datetime
import platform
import sys
import zlib
from importlib import metadata
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from compact_models.card_file import SHIPPED, ProcessCards

from cosim.luts.lut import (Lut, LutError, card_params, card_point, card_provenance, lut_card_params, lut_cards,
                            lut_model, model_sha256, trng_cell_sha256)
from cosim.circuit.stats import Proportion
from cosim.circuit.sweep import run_points
from cosim.circuit.switching import (SETTLE_MARGIN_KT, SETTLE_WAITS_S, SWEEP_DT_THERMAL_S, SWEEP_T_SETTLE_S,
                                     switching_outcomes)
from cosim.luts.adaptive import DEFAULT_MAX_TRIALS, adaptive_counts, switching_table
from cosim.luts.fit import add_fit
from cosim.circuit.trng import run_trng
from cosim.circuit.deck import mtj_card_for, resolve_model

ENERGY_CYCLES = 4
ENERGY_POINTS = 3
"""The cell energy is smooth in amplitude: full TRNG-cell runs at 3 amplitudes (axis v_energy_V)."""
CHECK_RUNS, CHECK_CYCLES = 16, 16
"""The cell check: 16 seeded TRNG-cell runs of 16 cycles (256 bits) at the predicted P(1) = 0.5 driver
(long transients slow ngspice down more than proportionally, so many short runs)."""
CELL_PARAMS = {"dt_thermal_s": SWEEP_DT_THERMAL_S}
"""TRNG-cell statistics runs use the sweep's thermal step, so the cell and the LUT differ only in the circuit
(5x faster than the card's 1 ps; the shipped netlist keeps 1 ps)."""


def trng_axes(corner: str, temp_C: float, params: dict | None = None) -> dict[str, np.ndarray]:
    """The grid: amplitudes 0.45-0.95 of the card's cancel voltage (2.5 % steps, 30 mV on tt; low enough
    that a varied cell at the FF or hot corner stays on the grid), 0.40-0.70 ns in 25 ps steps
    (switching turns on sharply with width near 0.45 ns, so the width axis must be fine)."""
    vc = mtj_card_for(corner, temp_C, params).v_cancel()
    return {"v_write_V": np.round(np.linspace(0.45, 0.95, 21) * vc, 4),
            "t_pulse_s": np.round(np.linspace(0.4e-9, 0.7e-9, 13), 13)}


def point_seed(*values) -> int:
    """A reproducible ngspice seed per grid point (CRC32 of its coordinates)."""
    return 1 + zlib.crc32(repr(tuple(round(float(v), 15) if not isinstance(v, str) else v for v in values)).encode()) % (2**30)


def switching_point(v_write_V: float, t_pulse_s: float, trials: int, seed: int, corner: str, temp_C: float,
                    model: str = "behavioural", params: dict | None = None) -> dict:
    """Switched / total trials, and how many were decided after the old 2 ns read (``late``) or never."""
    out = switching_outcomes(v_write_V, t_pulse_s, trials, seed=seed, corner=corner, temp_C=temp_C, model=model,
                             params=params)
    return {"k": int(np.sum(out.mz < 0)), "n": int(len(out.mz)), "late": out.late, "never": out.never}


def mtj_fraction(run, v_write_V: float) -> float:
    """Time-averaged V(MTJ) / v_write over the write-pulse plateaus of a TRNG-cell run."""
    t, pulse = run.result["time"], run.result["v(pw)"]
    v_mtj = run.result["v(bl)"] - run.result["v(mid)"]
    w = np.gradient(t) * (pulse > 0.99)
    return float(np.sum(w * v_mtj) / np.sum(w) / v_write_V)


def cell_point(v_write_V: float, seed: int, corner: str, temp_C: float, cycles: int = ENERGY_CYCLES,
               model: str = "behavioural", params: dict | None = None) -> dict:
    run = run_trng(cycles, v_write=v_write_V, seed=seed, corner=corner, temp_C=temp_C,
                   params={**(params or {}), **CELL_PARAMS}, model=model)
    return {"energy_per_bit_J": run.energy_per_bit_J, "cycle_time_s": run.cycle_time_s,
            "v_mtj_fraction": mtj_fraction(run, v_write_V)}


def cell_bits_point(v_write_V: float, cycles: int, seed: int, corner: str, temp_C: float,
                    t_pulse_s: float | None = None, model: str = "behavioural", params: dict | None = None) -> dict:
    run = run_trng(cycles, v_write=v_write_V, t_pulse=t_pulse_s, seed=seed, corner=corner, temp_C=temp_C,
                   params={**(params or {}), **CELL_PARAMS}, model=model)
    return {"bits": run.bits.tolist()}


def lag1_correlation(runs: list[np.ndarray]) -> dict:
    """Pooled lag-1 correlation of bit runs, with a 95 % interval (Fisher z, normal approximation)."""
    a = np.concatenate([r[:-1] for r in runs]).astype(float)
    b = np.concatenate([r[1:] for r in runs]).astype(float)
    n = len(a)
    r = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0
    half = 1.96 / np.sqrt(max(n - 3, 1))
    return {"lag1": r, "ci95": [float(np.tanh(np.arctanh(np.clip(r, -0.999, 0.999)) + s * half)) for s in (-1, 1)],
            "pairs": n}


def tool_versions() -> dict:
    from cosim.circuit.spice import ngspice_version

    out = {"ngspice": ngspice_version(), "python": platform.python_version()}
    for pkg in ("vcma-cosim", "numpy", "PySpice"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def build_trng_lut(corner: str = "tt", temp_C: float = 27.0, trials: int = 128, n_jobs: int = 2,
                   scheduler: str | None = None, cache_dir: str | Path | None = None,
                   axes: dict[str, np.ndarray] | None = None, energy_cycles: int = ENERGY_CYCLES,
                   check_runs: int = CHECK_RUNS, check_cycles: int = CHECK_CYCLES, model: str | None = None,
                   ci_halfwidth: float | None = None, max_trials: int = DEFAULT_MAX_TRIALS,
                   cards: ProcessCards | None = None) -> Lut:
    """Sweep the switching probability and cell energy for one corner and temperature (``model``: the
    VCMA_MTJ form, see :func:`cosim.circuit.deck.resolve_model`). ``trials`` per point in the first
    round; with ``ci_halfwidth`` more rounds add trials until every point's fitted 95 % band is that
    narrow (:mod:`cosim.luts.adaptive`). The table carries its fit (:mod:`cosim.luts.fit`). ``cards``: the
    process cards (a card file; None: the shipped cards), stored whole in the provenance."""
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    model = resolve_model(model)
    cards = SHIPPED if cards is None else cards
    deck = card_params(cards)["deck"]
    card = mtj_card_for(corner, temp_C, deck)  # validates corner and temperature
    axes = axes or trng_axes(corner, temp_C, deck)
    vs, ts = axes["v_write_V"], axes["t_pulse_s"]

    def draw(requests):
        points = [dict(v_write_V=float(vs[i]), t_pulse_s=float(ts[j]), trials=n,
                       seed=point_seed(vs[i], ts[j], corner, temp_C, *(("round", r) if r else ())), corner=corner,
                       temp_C=temp_C, model=model, **card_point(deck)) for i, j, n, r in requests]
        rnd = f" round {requests[0][3] + 1}" if requests and requests[0][3] else ""
        return run_points(switching_point, points, cache_dir, n_jobs, scheduler,
                          desc=f"trng LUT {corner} {temp_C:g}C{rnd}")

    counts, design = adaptive_counts(vs, ts, trials, draw, ci_halfwidth, max_trials)
    n = counts["n"]
    lut = switching_table(vs, ts, counts["k"], n, {
        "corner": corner, "temp_C": temp_C, "model_card": card.as_dict(), "mtj_model": model,
        "model_sha256": model_sha256(model), "netlists": ["mtj_switching.cir (cells under an ideal pulse)", "trng_cell.cir (energy)"],
        "dt_thermal_s": SWEEP_DT_THERMAL_S, "t_settle_s": SWEEP_T_SETTLE_S, "trials_per_point": trials,
        "readout": {"rule": f"decided once the energy is {SETTLE_MARGIN_KT:g} kT below the saddle between the wells; "
                            f"waits {[w * 1e9 for w in SETTLE_WAITS_S]} ns after the pulse",
                    "late_share": float(counts["late"].sum() / n.sum()), "never_settled": int(counts["never"].sum())},
        "design": design, "ci": "95 % Clopper-Pearson", **card_provenance(cards),
        "seeds": "point_seed(v, t, corner, temp_C) = 1 + crc32(repr(coords)) mod 2^30 (round r > 0: coords + "
                 "('round', r)); batch i uses seed + i",
        "versions": tool_versions(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }, late=counts["late"])
    return add_cell_parts(add_fit(lut), energy_cycles, check_runs, check_cycles, n_jobs, scheduler, cache_dir)


def add_cell_parts(lut: Lut, energy_cycles: int = ENERGY_CYCLES, check_runs: int = CHECK_RUNS,
                   check_cycles: int = CHECK_CYCLES, n_jobs: int = 2, scheduler: str | None = None,
                   cache_dir: str | Path | None = None) -> Lut:
    """(Re)compute what a trng LUT takes from the full TRNG cell: energy per bit and driver-to-MTJ share
    over ``v_energy_V``, cycle time, and the cell check. The switching table is device physics and does
    not depend on the cell, so after a change to ``trng_cell.cir`` (sense amplifier, reset, timing)
    this is all that must be rerun (``vcma lut cell``)."""
    corner, temp_C, model = lut.provenance["corner"], lut.provenance["temp_C"], lut_model(lut)
    parts = lut_card_params(lut)
    extra = card_point({**parts["deck"], **parts["cell"]})
    vs = lut.axis("v_write_V")
    v_energy = vs[:: max(1, (len(vs) - 1) // (ENERGY_POINTS - 1))]  # both ends and the middle
    energy_pts = [dict(v_write_V=float(v), seed=point_seed(v, "energy", corner, temp_C), corner=corner, temp_C=temp_C,
                       model=model, **extra, **({} if energy_cycles == ENERGY_CYCLES else {"cycles": energy_cycles})) for v in v_energy]
    energy = run_points(cell_point, energy_pts, cache_dir, n_jobs, scheduler, desc="TRNG cell energy")
    lut = Lut("trng", {**lut.axes, "v_energy_V": ("V", v_energy)}, {
        **lut.variables,
        "energy_per_bit_J": ("J", ("v_energy_V",), np.array([e["energy_per_bit_J"] for e in energy])),
        "v_mtj_fraction": ("1", ("v_energy_V",), np.array([e["v_mtj_fraction"] for e in energy])),
    }, {**{k: v for k, v in lut.provenance.items() if k != "cell_check"},
        "cycle_time_s": energy[0]["cycle_time_s"], "energy_cycles_per_point": energy_cycles,
        "trng_cell_sha256": trng_cell_sha256()})
    if check_runs > 0:
        lut.provenance["cell_check"] = cell_check(lut, check_runs, check_cycles, n_jobs, scheduler, cache_dir)
    return lut


def cell_check(lut: Lut, runs: int, cycles: int, n_jobs: int = 2, scheduler: str | None = None,
               cache_dir: str | Path | None = None, t_pulse_s: float | None = None) -> dict:
    """Full TRNG-cell runs at the driver amplitude the LUT predicts for P(1) = 0.5: the cell's own
    P(1) against that prediction, the lag-1 correlation of its bits, and the amplitude correction
    that maps the LUT onto the cell.

    Why a correction: the LUT's cells see an ideal pulse from thermal equilibrium; the full cell's
    MTJ sees the driver through the access transistor (its voltage share shifts as m precesses) after
    a reset, and is read by a sense amplifier; ``amplitude_correction`` k is fitted so that LUT
    P(k * v_mtj) equals the cell's P(1) at the check amplitude (one parameter from the check's bits;
    the emulator fidelity test checks it at held-out operating points).
    """
    from cosim.luts.queries import calibrate_v_write, mtj_voltage, switching_probability_var

    corner, temp_C = lut.provenance["corner"], lut.provenance["temp_C"]
    t_pulse_s = lut_cards(lut).trng_cell.t_pulse_s if t_pulse_s is None else t_pulse_s
    parts = lut_card_params(lut)
    v = round(calibrate_v_write(lut, t_pulse_s), 4)
    pts = [dict(v_write_V=v, cycles=cycles, seed=point_seed(v, "check", i, corner, temp_C), corner=corner,
                temp_C=temp_C, model=lut_model(lut), **card_point({**parts["deck"], **parts["cell"]})) for i in range(runs)]
    bits = [np.array(r["bits"]) for r in run_points(cell_bits_point, pts, cache_dir, n_jobs, scheduler,
                                                      desc="TRNG cell check")]
    p = Proportion(int(sum(b.sum() for b in bits)), sum(len(b) for b in bits), 0.99)
    v_mtj = float(mtj_voltage(lut, v))
    vs = lut.axis("v_write_V")
    p_lut = lambda x: float(lut.interp(switching_probability_var(lut), v_write_V=x, t_pulse_s=t_pulse_s))  # noqa: E731
    k = 1.0
    if 0 < p.p < 1 and p_lut(vs[0]) < p.p < p_lut(vs[-1]):
        k = brentq(lambda x: p_lut(x) - p.p, vs[0], vs[-1], xtol=1e-6) / v_mtj
    return {"v_write_V": v, "t_pulse_s": t_pulse_s, "p_lut": 0.5, "p_cell": p.p, "p_cell_ci99": list(p.ci),
            "bits": int(p.n), "serial_correlation": lag1_correlation(bits), "amplitude_correction": k}


def check_kind(kind: str) -> None:
    if kind not in ("trng", "read", "write"):
        raise LutError(f"unknown LUT kind '{kind}'; available: ['trng', 'read', 'write']")
