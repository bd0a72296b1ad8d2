"""Write LUTs from the crossbar write netlist (``crossbar_write.cir``); axes as for read LUTs
(:mod:`cosim.luts.build_crossbar`).

``write`` (one corner, temperature and scheme, the card's drive ``xb_vwrite``): one array transient
per selected position on a sub-grid (5 x 5 including the corners by default; the IR drop is
close to bilinear in row and column, ``vcma lut validate`` checks positions between the nodes):

* ``v_cell_V`` (plateau voltage across the selected MTJ), ``v_cell_fraction`` (``v_cell_V`` over the
  drive), ``v_half_row_V`` / ``v_half_col_V`` (largest MTJ voltage among cells sharing the
  selected row / column), ``energy_write_J``, ``latency_write_s``;
* ``p_switch`` of the selected cell and ``p_half_select_disturb`` (a cell starting in P under the
  larger of the two half-select voltages: an upper bound for every half-selected cell of that
  write), each from batched stochastic LLG trials under an ideal pulse of width ``xb_twrite`` with
  ``*_trials`` and 95 % Clopper-Pearson bounds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from compact_models.card_file import SHIPPED, ProcessCards
from compact_models.crossbar import HALF_SELECT_FRACTION, check_scheme

from cosim.circuit.deck import mtj_card_for, resolve_model
from cosim.circuit.stats import Proportion
from cosim.circuit.sweep import run_points
from cosim.circuit.switching import SWEEP_DT_THERMAL_S, final_mz
from cosim.luts.build_crossbar import WRITE_DT_THERMAL_S, WRITE_GRID, WRITE_TRIALS, position_axes, utc_now, xb_params
from cosim.luts.build_trng import point_seed, tool_versions
from cosim.luts.lut import (Lut, LutError, card_params, card_point, card_provenance, lut_card_params, lut_model,
                             model_sha256)


def write_position_point(rows: int, cols: int, row: int, col: int, scheme: str, corner: str, temp_C: float,
                         seed: int, model: str = "behavioural", params: dict | None = None) -> dict:
    """One array write at (row, col): delivered MTJ voltages, energy, latency (thermal step WRITE_DT_THERMAL_S;
    ``params``: process-card fields, :func:`cosim.luts.build_crossbar.xb_params`)."""
    from cosim.circuit.crossbar_write import crossbar_write

    w = crossbar_write(rows, cols, scheme, (row, col), corner, temp_C, params={**(params or {}), "mtj_dt_th": WRITE_DT_THERMAL_S},
                       seed=seed, model=model)
    v_row = max((float(w.v_mtj_V[p]) for p in w.row_sharing()), default=0.0)
    v_col = max((float(w.v_mtj_V[p]) for p in w.col_sharing()), default=0.0)
    return {"v_cell_V": float(w.v_mtj_V[w.sel]), "v_stack_V": float(w.v_stack_V[w.sel]), "v_half_row_V": v_row,
            "v_half_col_V": v_col, "energy_J": float(w.energy_J), "latency_s": float(w.latency_s),
            "v_drive_V": w.card.v_write_V, "t_write_s": w.card.t_write_s, "runtime_s": w.runtime_s}


def pulse_trials_point(v_V: float, t_pulse_s: float, trials: int, seed: int, corner: str, temp_C: float,
                       model: str = "behavioural", params: dict | None = None) -> dict:
    """``trials`` cells starting in P under an ideal pulse: how many switched (``params``: MTJ and CMOS card fields)."""
    mz = final_mz(max(float(v_V), 0.0), t_pulse_s, trials, seed=seed, corner=corner, temp_C=temp_C, params=params,
                  model=model)
    return {"k": int(np.sum(mz < 0)), "n": int(len(mz))}


def build_write_lut(corner: str = "tt", temp_C: float = 27.0, trials: int = WRITE_TRIALS, n_jobs: int = 2,
                    scheduler: str | None = None, cache_dir: str | Path | None = None, rows: int = 16,
                    cols: int = 16, scheme: str = "v2", grid: int = WRITE_GRID, model: str | None = None,
                    cards: ProcessCards | None = None) -> Lut:
    """Delivered voltages, switching and half-select disturb per selected position (a ``grid`` x ``grid`` sub-grid),
    for the process ``cards`` (default: the shipped cards)."""
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    model = resolve_model(model)
    check_scheme(scheme)
    cards = SHIPPED if cards is None else cards
    parts = card_params(cards)
    card, xb = mtj_card_for(corner, temp_C, parts["deck"]), cards.crossbar
    array_extra, trial_extra = card_point(xb_params(parts)), card_point(parts["deck"])
    axes = position_axes(rows, cols, grid)
    r_ax, c_ax = axes["row"][1], axes["col"][1]
    start = time.perf_counter()
    sel = [(int(r), int(c)) for r in r_ax for c in c_ax]
    pts = [dict(rows=rows, cols=cols, row=r, col=c, scheme=scheme, corner=corner, temp_C=temp_C,
                seed=point_seed("write", r, c, scheme, corner, temp_C), model=model, **array_extra) for r, c in sel]
    res = run_points(write_position_point, pts, cache_dir, n_jobs, scheduler,
                     desc=f"write LUT {corner} {temp_C:g}C array")
    t_w = res[0]["t_write_s"]
    sw_pts, dist_pts = [], []
    for (r, c), w in zip(sel, res):
        sw_pts.append(dict(v_V=round(w["v_cell_V"], 6), t_pulse_s=t_w, trials=trials, corner=corner, temp_C=temp_C,
                           seed=point_seed("switch", r, c, scheme, corner, temp_C), model=model, **trial_extra))
        dist_pts.append(dict(v_V=round(max(w["v_half_row_V"], w["v_half_col_V"]), 6), t_pulse_s=t_w, trials=trials,
                             corner=corner, temp_C=temp_C, seed=point_seed("disturb", r, c, scheme, corner, temp_C),
                             model=model, **trial_extra))
    probs = run_points(pulse_trials_point, sw_pts + dist_pts, cache_dir, n_jobs, scheduler,
                       desc=f"write LUT {corner} {temp_C:g}C trials")
    shape = (len(r_ax), len(c_ax))
    get = lambda key: np.array([w[key] for w in res], dtype=float).reshape(shape)  # noqa: E731
    g = ("row", "col")
    variables = {
        "v_cell_V": ("V", g, get("v_cell_V")),
        "v_cell_fraction": ("1", g, get("v_cell_V") / xb.v_write_V),
        "v_stack_V": ("V", g, get("v_stack_V")),
        "v_half_row_V": ("V", g, get("v_half_row_V")),
        "v_half_col_V": ("V", g, get("v_half_col_V")),
        "energy_write_J": ("J", g, get("energy_J")),
    }
    lat = get("latency_s")
    if np.all(np.isfinite(lat)):
        variables["latency_write_s"] = ("s", g, lat)
    pooled = {}
    for name, part in (("p_switch", probs[:len(sel)]), ("p_half_select_disturb", probs[len(sel):])):
        k = np.array([p["k"] for p in part], dtype=float).reshape(shape)
        n = np.array([p["n"] for p in part], dtype=float).reshape(shape)
        ci = np.array([Proportion(int(a), int(b)).ci for a, b in zip(k.ravel(), n.ravel())]).reshape(*shape, 2)
        variables.update({name: ("1", g, k / n), f"{name}_ci_low": ("1", g, ci[..., 0]),
                          f"{name}_ci_high": ("1", g, ci[..., 1]), f"{name}_trials": ("1", g, n)})
        tot = Proportion(int(k.sum()), int(n.sum()))
        pooled[name] = {"k": tot.k, "n": tot.n, "p": tot.p, "ci95": list(tot.ci)}
    return Lut("write", dict(axes), variables, {
        "corner": corner, "temp_C": temp_C, "model_card": card.as_dict(), "mtj_model": model,
        "model_sha256": model_sha256(model),
        **card_provenance(cards), "crossbar_card": xb.as_dict(), "array": [rows, cols], "scheme": scheme,
        "half_select_fraction": HALF_SELECT_FRACTION[scheme], "v_drive_V": xb.v_write_V, "t_write_s": t_w,
        "selected_positions": f"{len(r_ax)} x {len(c_ax)} sub-grid of the {rows} x {cols} array (rows "
                              f"{r_ax.astype(int).tolist()}, cols {c_ax.astype(int).tolist()}); one array "
                              f"transient per selected position",
        "netlists": [f"crossbar_write.cir (one write per selected position, thermal step {WRITE_DT_THERMAL_S:g} s)",
                     "mtj_switching.cir (switching and disturb trials under an ideal pulse)"],
        "dt_thermal_s": SWEEP_DT_THERMAL_S, "dt_thermal_array_s": WRITE_DT_THERMAL_S, "trials_per_point": trials,
        "disturb": "cells starting in P under max(v_half_row_V, v_half_col_V): an upper bound for every "
                   "half-selected cell of that write",
        "ci": "95 % Clopper-Pearson", "pooled": pooled,
        "seeds": "point_seed(kind, row, col, scheme, corner, temp_C) with kind write/switch/disturb; "
                 "batch i uses seed + i",
        "build_s": round(time.perf_counter() - start, 1),
        "versions": tool_versions(), "date": utc_now(), "command": " ".join(sys.argv),
    })


def validate_write_lut(lut: Lut, n_points: int = 4, trials: int = 64, seed: int = 12345, n_jobs: int = 2,
                       level: float = 0.99, v_tol_V: float = 0.005) -> list[dict]:
    """Fresh array writes at ``n_points`` positions off the LUT's sub-grid against its interpolation.

    ``v_cell_V`` must agree within ``v_tol_V``; the LUT's (interpolated) switching and disturb
    probabilities, each from its own ``*_trials``, must not differ from ``trials`` fresh trials at the
    freshly delivered voltages (another seed) by Fisher's exact test at level ``1 - level``: both counts are
    samples, so the LUT's own sampling error counts too (at 32 trials it is +-0.08 at P = 0.3).
    """
    if lut.kind != "write":
        raise LutError(f"validate_write_lut needs a 'write' LUT, got a '{lut.kind}' LUT")
    corner, temp_C, scheme = lut.provenance["corner"], lut.provenance["temp_C"], lut.provenance["scheme"]
    rows, cols = (int(x) for x in lut.provenance["array"])
    r_ax, c_ax = lut.axis("row"), lut.axis("col")
    off = [(r, c) for r in range(rows) for c in range(cols) if r not in r_ax or c not in c_ax]
    if not off:
        raise LutError("the write LUT covers every position; nothing off its grid to validate")
    parts = lut_card_params(lut)  # the LUT's own process cards
    array_extra, trial_extra = card_point(xb_params(parts)), card_point(parts["deck"])
    rng = np.random.default_rng(seed)
    picks = [off[i] for i in rng.choice(len(off), size=min(n_points, len(off)), replace=False)]
    pts = [dict(rows=rows, cols=cols, row=r, col=c, scheme=scheme, corner=corner, temp_C=temp_C,
                seed=point_seed("write-validate", r, c, seed), model=lut_model(lut), **array_extra) for r, c in picks]
    fresh = run_points(write_position_point, pts, None, n_jobs, None, desc="write validate array")
    t_w = lut.provenance["t_write_s"]
    tr_pts = []
    for (r, c), w in zip(picks, fresh):
        tr_pts.append(dict(v_V=w["v_cell_V"], t_pulse_s=t_w, trials=trials, corner=corner, temp_C=temp_C,
                           seed=point_seed("switch-validate", r, c, seed), model=lut_model(lut), **trial_extra))
        tr_pts.append(dict(v_V=max(w["v_half_row_V"], w["v_half_col_V"]), t_pulse_s=t_w, trials=trials,
                           corner=corner, temp_C=temp_C, seed=point_seed("disturb-validate", r, c, seed),
                           model=lut_model(lut), **trial_extra))
    tr = run_points(pulse_trials_point, tr_pts, None, n_jobs, None, desc="write validate trials")
    out = []
    for i, ((r, c), w) in enumerate(zip(picks, fresh)):
        v_lut = float(lut.interp("v_cell_V", row=r, col=c))
        out.append({"check": "v_cell_V", "position": f"({r},{c})", "lut": v_lut, "spice": w["v_cell_V"],
                    "bound": f"+-{v_tol_V:g} V", "inside": bool(abs(v_lut - w["v_cell_V"]) <= v_tol_V)})
        for name, q in (("p_switch", tr[2 * i]), ("p_half_select_disturb", tr[2 * i + 1])):
            p_lut, n_lut = float(lut.interp(name, row=r, col=c)), float(lut.interp(f"{name}_trials", row=r, col=c))
            p_value = same_proportion_p(p_lut, n_lut, q["k"], q["n"])
            out.append({"check": name, "position": f"({r},{c})", "lut": p_lut, "spice": q["k"] / q["n"],
                        "bound": f"Fisher p = {p_value:.2g} ({q['k']}/{q['n']} vs ~{p_lut * n_lut:.0f}/{n_lut:.0f})",
                        "inside": bool(p_value > 1 - level)})
    return out


def same_proportion_p(p_lut: float, n_lut: float, k: int, n: int) -> float:
    """Two-sided Fisher exact p-value of k of n fresh trials against the LUT's p_lut of n_lut trials."""
    from scipy.stats import fisher_exact

    m = max(int(round(n_lut)), 1)
    k_lut = int(round(p_lut * m))
    return float(fisher_exact([[k, n - k], [k_lut, m - k_lut]])[1])
