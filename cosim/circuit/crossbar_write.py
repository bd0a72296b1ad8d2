"""Crossbar (1T-1MTJ array) write: delivered voltages, switching, half-select disturb, write error rate.

Every number comes from ngspice runs of the write netlists rendered by
:func:`cosim.circuit.render_crossbar.render_crossbar_write` (and ``render_crossbar_mc_write`` for Monte
Carlo). Stochastic quantities come from batched stochastic LLG trials at the MTJ voltages the array
simulation delivers, with seeds recorded; Monte Carlo draws per cell as in :mod:`cosim.circuit.crossbar`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from compact_models.crossbar import HALF_SELECT_FRACTION, CrossbarCard, check_scheme

from cosim.circuit.crossbar import (LIB_DIR, check_inputs, crossbar_params, mtj_draw, render_tmp, vth_draw,
                                   write_netlist)
from cosim.circuit.deck import cmos_card_for
from cosim.circuit.render_crossbar import render_crossbar_mc_write
from cosim.circuit.spice import run_netlist
from cosim.circuit.stats import Proportion
from cosim.circuit.switching import SWEEP_DT_THERMAL_S, final_mz


@dataclass
class WriteResult:
    """Voltages per cell [row, col] during one write at ``sel``, energy and latency (SI units)."""

    rows: int
    cols: int
    corner: str
    temp_C: float
    scheme: str
    sel: tuple[int, int]
    v_stack_V: np.ndarray   # BL - SL at the cell, mean over the pulse plateau
    v_mtj_V: np.ndarray     # across the MTJ, mean over the plateau
    v_peak_V: np.ndarray    # peak across the MTJ during the operation (cells sharing the row/column; NaN elsewhere)
    energy_J: float
    latency_s: float
    mz_sel: float           # final m_z of the selected cell (in-array stochastic LLG; < 0 switched)
    runtime_s: float
    card: CrossbarCard = field(repr=False, default_factory=CrossbarCard)

    @property
    def fraction_promised(self) -> float:
        return HALF_SELECT_FRACTION[self.scheme]

    def row_sharing(self) -> list[tuple[int, int]]:
        r0, c0 = self.sel
        return [(r0, c) for c in range(self.cols) if c != c0]

    def col_sharing(self) -> list[tuple[int, int]]:
        r0, c0 = self.sel
        return [(r, c0) for r in range(self.rows) if r != r0]


def crossbar_write(rows: int = 16, cols: int = 16, scheme: str = "v2", sel=None, corner: str = "tt",
                   temp_C: float = 27.0, params: dict | None = None, seed: int = 1, backend: str = "shared",
                   model_lib=None, model_corner=None, model: str | None = None) -> WriteResult:
    """One write at ``sel`` (default the far corner): delivered voltages at every cell, energy, latency."""
    check_inputs(rows, cols, corner, model_lib, model_corner)
    check_scheme(scheme)
    card, deck_params = crossbar_params(params)
    sel = (rows - 1, cols - 1) if sel is None else (int(sel[0]), int(sel[1]))
    path = write_netlist(rows, cols, scheme, sel)
    start = time.perf_counter()
    res = run_netlist(path, deck_params, seed=seed, corner=corner, temp_C=temp_C, backend=backend,
                      model_lib=model_lib, model_corner=model_corner, model=model)
    runtime = time.perf_counter() - start
    m = res.measures
    grid = lambda key: np.array([[m.get(f"{key}_{r}_{c}", np.nan) for c in range(cols)] for r in range(rows)])  # noqa: E731
    vb, vm, vs = grid("vb"), grid("vm"), grid("vs")
    return WriteResult(rows, cols, corner, temp_C, scheme, sel, vb - vs, vb - vm, grid("vpk"),
                       m["e_write"], m.get("lat_write", float("nan")), m.get(f"mz_{sel[0]}_{sel[1]}", float("nan")),
                       runtime, card)


def write_probabilities(w: WriteResult, n_trials: int = 64, seed: int = 1, n_jobs: int = 1,
                        backend: str = "shared", model: str | None = None) -> dict[str, Proportion]:
    """Switching probability at the selected cell and half-select disturb, from stochastic trials.

    Each is a batch of cells (starting in P) under an ideal pulse of width xb_twrite whose amplitude is
    the plateau MTJ voltage the array delivered: at the selected cell, and the largest among cells
    sharing its row or its column. Seeds ``seed``, ``seed + 1000``, ``seed + 2000`` (+ batch index).
    """
    t = w.card.t_write_s
    row_v = max((w.v_mtj_V[p] for p in w.row_sharing()), default=0.0)
    col_v = max((w.v_mtj_V[p] for p in w.col_sharing()), default=0.0)
    out = {}
    for name, v, s in (("switch(selected)", w.v_mtj_V[w.sel], seed), ("disturb(row-sharing)", row_v, seed + 1000),
                       ("disturb(column-sharing)", col_v, seed + 2000)):
        if v <= 0.05:  # no VCMA drive at all: deterministic, no trial needed, but keep the CI honest
            mz = final_mz(max(v, 0.0), t, n_trials, seed=s, corner=w.corner, temp_C=w.temp_C, n_jobs=n_jobs,
                          backend=backend, model=model)
        else:
            mz = final_mz(v, t, n_trials, seed=s, corner=w.corner, temp_C=w.temp_C, n_jobs=n_jobs, backend=backend,
                          model=model)
        out[name] = Proportion(int(np.sum(mz < 0)), len(mz))
    return out


# Monte Carlo --------------------------------------------------------------------------------------

def series_resistance(card: CrossbarCard, rows: int, cols: int, sel, temp_C: float = 27.0) -> float:
    """DC series resistance from the write rail to ground through the drivers and wires to ``sel``."""
    r, c = sel
    scale = 1 + card.tcr_per_K * (temp_C - 27.0)
    return 2 * card.r_drv_ohm + scale * ((r + 1) * card.r_bl_ohm + (c + 2) * card.r_sl_ohm)


def monte_carlo_write(rows: int = 16, cols: int = 16, trials: int = 32, seed: int = 1, corner: str = "tt",
                      temp_C: float = 27.0, sel=None, params: dict | None = None, backend: str = "shared",
                      n_jobs: int = 1, batch: int = 32, model_lib=None, model_corner=None,
                      model: str | None = None) -> Proportion:
    """Write error rate (cell not switched P -> AP) with per-cell draws of xi, K_i, RA, TMR0 and V_th.

    Each trial is the selected cell's stack (drivers and wires to ``sel`` at DC, MTJ, access NMOS)
    under the write pulse, with the stochastic LLG (thermal step SWEEP_DT_THERMAL_S); batch ``i``
    runs with ngspice seed ``seed + i`` and draws from ``default_rng([seed, i])``.
    """
    check_inputs(rows, cols, corner, model_lib, model_corner)
    card, deck_params = crossbar_params(params)
    sel = (rows - 1, cols - 1) if sel is None else sel
    r_series = series_resistance(card, rows, cols, sel, temp_C)
    sizes = [min(batch, trials - s) for s in range(0, trials, batch)]
    args = [(i, n, seed, corner, temp_C, r_series, deck_params, backend, model_lib, model_corner, model)
            for i, n in enumerate(sizes)]
    if n_jobs > 1 and len(sizes) > 1:
        from joblib import Parallel, delayed
        parts = Parallel(n_jobs=min(n_jobs, 2), backend="loky")(delayed(_mc_write_batch)(*a) for a in args)
    else:
        parts = [_mc_write_batch(*a) for a in args]
    mz = np.concatenate(parts)
    return Proportion(int(np.sum(mz >= 0)), len(mz))


def _mc_write_batch(i, n, seed, corner, temp_C, r_series, params, backend, model_lib, model_corner, model):
    rng = np.random.default_rng([seed, i])
    sigma = cmos_card_for(params).sigma_vth_V
    mtj = {k: mtj_draw(rng, corner, temp_C, params) for k in range(n)}
    mos = {k: vth_draw(rng, sigma) for k in range(n)}
    path = render_tmp(render_crossbar_mc_write(n, LIB_DIR, mtj, mos))
    try:
        res = run_netlist(path, {**params, "r_series": r_series, "mtj_dt_th": SWEEP_DT_THERMAL_S}, seed=seed + i,
                          corner=corner, temp_C=temp_C, backend=backend, model_lib=model_lib,
                          model_corner=model_corner, model=model)
    finally:
        path.unlink()
    return np.array([res.measures[f"mz_{k}"] for k in range(n)])


__all__ = ["WriteResult", "crossbar_write", "write_probabilities", "monte_carlo_write", "series_resistance"]
