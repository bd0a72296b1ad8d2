"""Read and write LUTs from the crossbar netlists (``crossbar_read.cir``, ``crossbar_write.cir``).

Both kinds span the axes ``row`` and ``col`` (unit "1"): array position indices of the simulated
array (16 x 16 by default); the emulator reads them on normalised position, so the axes always run
from 0 to ``rows - 1`` and ``cols - 1``.

``read`` (one corner and temperature):

* ``i_read_P_A``, ``i_read_AP_A``, ``margin_V`` (the smaller of the P and AP margins at the sense
  amplifier input), ``signal_V`` (read window), ``latency_s``: the nominal array (no variation), two
  transients that read every row of an all-P and an all-AP array;
* ``i_read_P_std_A``, ``i_read_AP_std_A``, ``margin_std_V``: spread over ``trials`` Monte Carlo
  arrays (per-cell xi, K_i, RA, TMR0 and V_th of the access, reference and sense-amplifier
  transistors, :func:`cosim.circuit.crossbar.monte_carlo_read`);
* ``sense_errors`` / ``sense_trials`` per position (both states of every Monte Carlo array), the raw
  rate and its 95 % Clopper-Pearson bounds ``sense_error_ci_low/high`` (0 errors in N decisions:
  rate 0, upper bound 1 - 0.025^(1/N) ~ 3.7/N);
* ``sense_error_rate``: the per-position rate the emulator uses, a binomial (logistic) maximum-
  likelihood fit ``logit p = a + b row`` to those counts (the raw rates of a few arrays are too
  noisy to map position; see :func:`fit_error_map` for why not the column); exactly 0 where the
  Monte Carlo saw no error at all.

Errors cluster: one array's sense-amplifier offset is shared by every row of its column, so the
whole-array rate's interval (provenance ``sense_error_pooled``) is the hull of the Clopper-Pearson
interval and a t interval over the per-array error fractions (the arrays are independent).

Write LUTs: :mod:`cosim.luts.build_write`.
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

import numpy as np
from scipy import optimize, special, stats

from compact_models.card_file import SHIPPED, ProcessCards
from compact_models.crossbar import check_size

from cosim.circuit.deck import mtj_card_for, resolve_model
from cosim.luts.lut import (Lut, LutError, card_params, card_point, card_provenance, lut_card_params, lut_model,
                             model_sha256)
from cosim.luts.build_trng import tool_versions, point_seed
from cosim.circuit.stats import Proportion
from cosim.circuit.sweep import run_points

READ_TRIALS = 4
"""Default Monte Carlo arrays per read LUT (each is two transients of the whole array)."""
WRITE_TRIALS = 32
"""Default stochastic trials per position for the selected cell and for the half-select disturb."""
WRITE_GRID = 5
"""Selected positions per axis of the write LUT (linspace over the array, ends included)."""
WRITE_DT_THERMAL_S = 20e-12
"""Thermal step (and so the largest time step) of the array write transients: they give voltages only
(switching comes from separate trials at SWEEP_DT_THERMAL_S). Against 5 ps, 16 x 16 TT 27 C at (0, 0):
v_cell 0.3 mV and energy 2 % apart, 3x faster."""


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def position_axes(rows: int, cols: int, n: int | None = None) -> dict[str, tuple[str, np.ndarray]]:
    """Row and column index axes: every index, or ``n`` per axis spread over it (ends included)."""
    check_size(rows, cols)
    if rows < 2 or cols < 2:
        raise LutError(f"a read/write LUT needs an array of at least 2 x 2, got {rows} x {cols}")

    def pick(size: int) -> np.ndarray:
        if n is None or n >= size:
            return np.arange(size, dtype=float)
        return np.unique(np.round(np.linspace(0, size - 1, max(n, 2))))

    return {"row": ("1", pick(rows)), "col": ("1", pick(cols))}


# Read ---------------------------------------------------------------------------------------------

def read_nominal_point(rows: int, cols: int, corner: str, temp_C: float, model: str = "behavioural",
                       params: dict | None = None) -> dict:
    """The nominal array read (all P, all AP): per-position quantities as nested lists (``params``: process-card
    fields, :func:`xb_params`)."""
    from cosim.circuit.crossbar import crossbar_read

    r = crossbar_read(rows, cols, corner, temp_C, params=params, model=model)
    lat = np.nanmax(r.latency_s, axis=0)
    return {"i_read_A": r.i_read_A.tolist(), "margin_V": r.margin_V.tolist(), "signal_V": r.signal_V.tolist(),
            "correct": r.correct.tolist(), "latency_s": np.where(np.isfinite(lat), lat, -1.0).tolist(),
            "energy_per_read_J": r.energy_per_read_J, "energy_per_bit_J": r.energy_per_bit_J,
            "latency_max_s": r.latency_max_s, "t_read_s": r.t_read_s, "runtime_s": r.runtime_s}


def read_mc_point(rows: int, cols: int, seed: int, trial: int, corner: str, temp_C: float,
                  model: str = "behavioural", params: dict | None = None) -> dict:
    """One Monte Carlo array (draws from ``default_rng([seed, trial])``): currents, margins, decisions."""
    from cosim.circuit.crossbar import mc_read_trial

    r = mc_read_trial(rows, cols, seed, trial, corner, temp_C, "latch", params, "shared", None, None, model)
    return {"i_read_A": r.i_read_A.tolist(), "margin_min_V": r.margin_min_V.tolist(), "correct": r.correct.tolist()}


def xb_params(parts: dict[str, dict[str, float]]) -> dict[str, float]:
    """The ``params`` of a crossbar run from :func:`cosim.luts.lut.card_params` parts: MTJ, CMOS and crossbar fields."""
    return {**parts["deck"], **parts["crossbar"]}


def fit_error_map(errors: np.ndarray, trials: np.ndarray, rows_ax: np.ndarray, cols_ax: np.ndarray,
                  terms: tuple[str, ...] = ("row",)) -> tuple:
    """Binomial maximum-likelihood fit of ``logit p = a + b row [+ c col]`` (positions normalised to 0..1).

    The default fits the row (bit-line distance) only: errors cluster by column (one array's
    sense-amplifier offset hits every row of its column) and columns are exchangeable, so a column
    trend from a few arrays would be spurious. Returns the fitted map and the coefficients
    ``[a, b, c]`` (c = 0 when not fitted); an all-zero map when no error was seen (the MLE is 0).
    """
    errors, trials = np.asarray(errors, float), np.asarray(trials, float)
    if errors.sum() == 0:
        return np.zeros_like(errors), [float("-inf"), 0.0, 0.0]
    r = (rows_ax[:, None] - rows_ax[0]) / (rows_ax[-1] - rows_ax[0]) * np.ones((1, len(cols_ax)))
    c = (cols_ax[None, :] - cols_ax[0]) / (cols_ax[-1] - cols_ax[0]) * np.ones((len(rows_ax), 1))
    X = np.stack([np.ones(r.size), r.ravel(), c.ravel() if "col" in terms else np.zeros(r.size)], axis=1)
    if "row" not in terms:
        X[:, 1] = 0.0
    k, n = errors.ravel(), trials.ravel()

    def nll(beta):
        eta = X @ beta
        return float(np.sum(n * np.logaddexp(0, eta) - k * eta))

    def grad(beta):
        return X.T @ (n * special.expit(X @ beta) - k)

    beta0 = np.array([special.logit(np.clip(k.sum() / n.sum(), 1e-9, 1 - 1e-9)), 0.0, 0.0])
    res = optimize.minimize(nll, beta0, jac=grad, method="BFGS")
    beta = [float(b) if np.any(X[:, i]) else 0.0 for i, b in enumerate(res.x)]
    return special.expit(X @ np.array(beta)).reshape(errors.shape), beta


def pooled_interval(k: int, n: int, per_array: list[float], level: float) -> tuple[float, float]:
    """Hull of the Clopper-Pearson interval of k/n and the t interval of the per-array fractions."""
    lo, hi = Proportion(int(k), int(n), level).ci
    a = np.asarray(per_array, float)
    if len(a) > 1 and a.std(ddof=1) > 0:
        half = stats.t.ppf(0.5 + level / 2, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a))
        lo, hi = min(lo, max(0.0, a.mean() - half)), max(hi, min(1.0, a.mean() + half))
    return float(lo), float(hi)


def build_read_lut(corner: str = "tt", temp_C: float = 27.0, trials: int = READ_TRIALS, n_jobs: int = 2,
                   scheduler: str | None = None, cache_dir: str | Path | None = None, rows: int = 16,
                   cols: int = 16, model: str | None = None, cards: ProcessCards | None = None) -> Lut:
    """Per-position read currents, margins and sense error rates of an R x C array (``trials`` MC arrays), for
    the process ``cards`` (default: the shipped cards)."""
    if trials < 2:
        raise ValueError(f"trials (Monte Carlo arrays) must be >= 2 for a spread, got {trials}")
    model = resolve_model(model)
    cards = SHIPPED if cards is None else cards
    parts = card_params(cards)
    card, extra = mtj_card_for(corner, temp_C, parts["deck"]), card_point(xb_params(parts))
    axes = position_axes(rows, cols)
    start = time.perf_counter()
    seed = point_seed("read-mc", rows, cols, corner, temp_C)
    nominal = run_points(read_nominal_point, [dict(rows=rows, cols=cols, corner=corner, temp_C=temp_C, model=model,
                                                   **extra)],
                         cache_dir, 1, scheduler, desc=f"read LUT {corner} {temp_C:g}C nominal")[0]
    mc = run_points(read_mc_point, [dict(rows=rows, cols=cols, seed=seed, trial=t, corner=corner, temp_C=temp_C, model=model,
                                         **extra)
                                    for t in range(trials)], cache_dir, n_jobs, scheduler,
                    desc=f"read LUT {corner} {temp_C:g}C Monte Carlo")
    i_nom = np.array(nominal["i_read_A"])
    i_mc = np.array([m["i_read_A"] for m in mc])               # [trial, state, row, col]
    correct = np.array([m["correct"] for m in mc], dtype=bool)  # [trial, state, row, col]
    errors = (~correct).sum(axis=(0, 1)).astype(float)
    n = np.full(errors.shape, 2.0 * trials)
    ci = np.array([Proportion(int(a), int(b)).ci for a, b in zip(errors.ravel(), n.ravel())]).reshape(*errors.shape, 2)
    fitted, beta = fit_error_map(errors, n, axes["row"][1], axes["col"][1])
    per_array = [float((~c).mean()) for c in correct]
    k_all, n_all = int(errors.sum()), int(n.sum())
    lat = np.array(nominal["latency_s"])
    grid = ("row", "col")
    variables = {
        "i_read_P_A": ("A", grid, i_nom[0]),
        "i_read_AP_A": ("A", grid, i_nom[1]),
        "i_read_P_std_A": ("A", grid, i_mc[:, 0].std(axis=0, ddof=1)),
        "i_read_AP_std_A": ("A", grid, i_mc[:, 1].std(axis=0, ddof=1)),
        "margin_V": ("V", grid, np.array(nominal["margin_V"]).min(axis=0)),
        "margin_std_V": ("V", grid, np.array([m["margin_min_V"] for m in mc]).std(axis=0, ddof=1)),
        "signal_V": ("V", grid, np.array(nominal["signal_V"])),
        "sense_error_rate": ("1", grid, fitted),
        "sense_error_rate_raw": ("1", grid, errors / n),
        "sense_error_ci_low": ("1", grid, ci[..., 0]),
        "sense_error_ci_high": ("1", grid, ci[..., 1]),
        "sense_errors": ("1", grid, errors),
        "sense_trials": ("1", grid, n),
    }
    if np.all(lat > 0):
        variables["latency_s"] = ("s", grid, lat)
    return Lut("read", dict(axes), variables, {
        "corner": corner, "temp_C": temp_C, "model_card": card.as_dict(), "mtj_model": model,
        "model_sha256": model_sha256(model),
        **card_provenance(cards), "crossbar_card": cards.crossbar.as_dict(), "array": [rows, cols], "sense_amp": "latch",
        "netlists": ["crossbar_read.cir (nominal: all-P and all-AP arrays, every row read)",
                     "crossbar_read.cir with per-cell draws (Monte Carlo arrays)"],
        "trials_per_point": trials, "mc_arrays": trials, "mc_seed": seed,
        "seeds": "mc_seed = point_seed('read-mc', rows, cols, corner, temp_C); array t draws from "
                 "numpy default_rng([mc_seed, t])",
        "ci": "95 % Clopper-Pearson per position (P and AP decisions of every array)",
        "sense_error_fit": {"model": "logit p = a + b*row_norm (+ c*col_norm, not fitted: errors cluster by column), binomial MLE", "coef": beta},
        "sense_error_pooled": {"errors": k_all, "decisions": n_all, "rate": k_all / n_all,
                               "ci95": list(pooled_interval(k_all, n_all, per_array, 0.95)),
                               "per_array": per_array},
        "nominal_all_correct": bool(np.all(nominal["correct"])),
        "energy_per_read_J": nominal["energy_per_read_J"], "energy_per_bit_J": nominal["energy_per_bit_J"],
        "latency_max_s": nominal["latency_max_s"], "t_read_s": nominal["t_read_s"],
        "build_s": round(time.perf_counter() - start, 1),
        "versions": tool_versions(), "date": utc_now(), "command": " ".join(sys.argv),
    })


def validate_read_lut(lut: Lut, n_points: int = 8, trials: int = 4, seed: int = 12345, n_jobs: int = 2,
                      level: float = 0.99, rtol: float = 0.01) -> list[dict]:
    """Fresh SPICE against the read LUT.

    * currents: ``n_points`` random positions, read again in a netlist rendered to read only their rows
      (a different deck), against the LUT within ``rtol``;
    * sense error rate: ``trials`` fresh Monte Carlo arrays drawn with another seed; the LUT's mean rate
      must lie inside the ``level`` interval of the fresh pooled rate (:func:`pooled_interval`).
    """
    from cosim.circuit.crossbar import crossbar_read, monte_carlo_read

    if lut.kind != "read":
        raise LutError(f"validate_read_lut needs a 'read' LUT, got a '{lut.kind}' LUT")
    corner, temp_C = lut.provenance["corner"], lut.provenance["temp_C"]
    rows, cols = (int(x) for x in lut.provenance["array"])
    params = xb_params(lut_card_params(lut)) or None  # the LUT's own process cards
    rng = np.random.default_rng(seed)
    pos = [(int(rng.integers(rows)), int(rng.integers(cols))) for _ in range(n_points)]
    fresh = crossbar_read(rows, cols, corner, temp_C, params=params, read_rows=sorted({r for r, _ in pos}),
                          model=lut_model(lut))
    out = []
    for r, c in pos:
        for s, name in ((0, "i_read_P_A"), (1, "i_read_AP_A")):
            v_lut = float(lut.interp(name, row=r, col=c))
            v_sp = float(fresh.i_read_A[s, r, c])
            out.append({"check": name, "position": f"({r},{c})", "lut": v_lut, "spice": v_sp,
                        "bound": f"rtol {rtol:g}", "inside": bool(abs(v_lut - v_sp) <= rtol * abs(v_sp))})
    mc_seed = point_seed("read-validate", seed, corner, temp_C)
    mc = monte_carlo_read(rows, cols, trials, mc_seed, corner, temp_C, params=params, n_jobs=n_jobs,
                          model=lut_model(lut))
    per_array = [float((~r.correct).mean()) for r in mc.results]
    q = mc.sense_error_rate
    lo, hi = pooled_interval(q.k, q.n, per_array, level)
    p_lut = float(lut.variables["sense_error_rate"][2].mean())
    out.append({"check": "sense_error_rate (array mean)", "position": "all", "lut": p_lut, "spice": q.p,
                "bound": f"[{lo:.4f}, {hi:.4f}] ({q.k}/{q.n}, {trials} arrays)", "inside": bool(lo <= p_lut <= hi)})
    return out


def build_crossbar_lut(kind: str, corner: str, temp_C: float, trials: int | None, n_jobs: int,
                       scheduler: str | None, cache_dir, rows: int = 16, cols: int = 16, model: str | None = None,
                       cards: ProcessCards | None = None) -> Lut:
    """The CLI's entry: ``read`` or ``write`` with that kind's default trials."""
    if kind == "read":
        return build_read_lut(corner, temp_C, trials or READ_TRIALS, n_jobs, scheduler, cache_dir, rows, cols, model,
                              cards)
    if kind == "write":
        from cosim.luts.build_write import build_write_lut

        return build_write_lut(corner, temp_C, trials or WRITE_TRIALS, n_jobs, scheduler, cache_dir, rows, cols,
                               model=model, cards=cards)
    raise LutError(f"not a crossbar LUT kind: {kind!r}")
