"""Adaptive trials for the switching table: spend SPICE trials where the fitted probability is uncertain.

Round 0 runs ``first_trials`` at every grid point (with the seeds a uniform build uses, so a build
without a target is the uniform design, point for point). After each round the table is fitted
(:func:`cosim.luts.fit.add_fit`) and every point whose 95 % band is wider than ``2 x target`` gets more
trials: the binomial variance falls as 1/n, so a point at half-width ``h`` after ``n`` trials needs about
``n (h / target)^2`` (aiming 10 % below the target); a round adds at most as many as the point has (the estimate is redone on the new
fit), in whole batches, up to ``max_trials`` per point. Points near P = 0 or 1 and far from the
transition are pinned down by the fit with few trials; the transition and its steep flanks take the rest.

The report compares the trials spent with the uniform design that gives every point as many trials as
the hardest point needed (the design a uniform build would have to choose to reach the same worst-point
half-width), and lists every point left above the target with the reason.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from cosim.luts.fit import add_fit
from cosim.luts.lut import Lut

BATCH = 32
"""Trials are added in whole transients of this many cells (cosim.circuit.switching.DEFAULT_BATCH)."""
MAX_ROUNDS = 12
AIM = 0.9
"""Rounds aim a little below the target, so the last few points do not creep up to it one batch at a time."""
DEFAULT_HALFWIDTH = 0.03
DEFAULT_MAX_TRIALS = 2048

Draw = Callable[[list[tuple[int, int, int, int]]], list[dict]]
"""``draw([(i, j, trials, round), ...])`` -> one ``{"k", "n", "late", "never"}`` per request (SPICE or a test)."""


def switching_table(vs: np.ndarray, ts: np.ndarray, k: np.ndarray, n: np.ndarray, provenance: dict,
                    late: np.ndarray | None = None) -> Lut:
    """A trng switching table from counts: raw proportion, Clopper-Pearson bounds, trials, and the
    trials decided after the first read (``late_trials``, when given)."""
    from cosim.circuit.stats import Proportion

    ci = np.array([Proportion(int(a), int(b)).ci for a, b in zip(k.ravel(), n.ravel())]).reshape(*k.shape, 2)
    grid = ("v_write_V", "t_pulse_s")
    return Lut("trng", {"v_write_V": ("V", vs), "t_pulse_s": ("s", ts)}, {
        "p_switch": ("1", grid, k / n),
        "p_switch_ci_low": ("1", grid, ci[..., 0]),
        "p_switch_ci_high": ("1", grid, ci[..., 1]),
        "trials": ("1", grid, n.astype(float)),
        **({} if late is None else {"late_trials": ("1", grid, late.astype(float))}),
    }, provenance)


def fit_halfwidth(lut: Lut) -> np.ndarray:
    """Half-width of the fitted 95 % band at every grid point."""
    fitted = add_fit(lut)
    return 0.5 * (fitted.variables["p_switch_fit_high"][2] - fitted.variables["p_switch_fit_low"][2])


def adaptive_counts(vs: np.ndarray, ts: np.ndarray, first_trials: int, draw: Draw, target: float | None,
                    max_trials: int = DEFAULT_MAX_TRIALS) -> tuple[dict[str, np.ndarray], dict]:
    """Counts ``k, n, late, never`` over the grid and the design report (module docstring).
    ``target`` None: one uniform round of ``first_trials``."""
    if target is not None and not 0 < target < 0.5:
        raise ValueError(f"the CI half-width target must be in (0, 0.5), got {target}")
    shape = (len(vs), len(ts))
    counts = {name: np.zeros(shape) for name in ("k", "n", "late", "never")}
    add = np.full(shape, int(first_trials))
    rounds: list[int] = []
    hw = np.full(shape, np.nan)
    for r in range(MAX_ROUNDS):
        todo = [(i, j, int(add[i, j]), r) for i, j in np.ndindex(shape) if add[i, j] > 0]
        for (i, j, _, _), res in zip(todo, draw(todo)):
            for name in counts:
                counts[name][i, j] += res[name]
        rounds.append(int(sum(x[2] for x in todo)))
        if target is None:
            break
        hw = fit_halfwidth(switching_table(vs, ts, counts["k"], counts["n"], {}))
        n = counts["n"]
        need = (hw > target) & (n < max_trials)
        if not need.any() or r == MAX_ROUNDS - 1:
            break
        want = np.ceil(n * (hw / (AIM * target)) ** 2 - n)
        add = np.where(need, np.clip(np.ceil(want / BATCH) * BATCH, BATCH, np.minimum(n, max_trials - n)), 0)
    return counts, _report(vs, ts, counts["n"], hw, target, max_trials, rounds)


def _report(vs, ts, n, hw, target, max_trials, rounds) -> dict:
    total, uniform = int(n.sum()), int(n.max() * n.size)
    above = [] if target is None else [
        {"v_write_V": float(vs[i]), "t_pulse_s": float(ts[j]), "halfwidth": float(hw[i, j]), "trials": int(n[i, j]),
         "reason": "trial cap reached" if n[i, j] >= max_trials else f"round limit ({MAX_ROUNDS}) reached"}
        for i, j in zip(*np.nonzero(hw > target))]
    return {"target_halfwidth": target, "max_trials_per_point": max_trials, "trials_per_round": rounds,
            "trials_total": total, "worst_halfwidth": float(np.nanmax(hw)) if target is not None else None,
            "uniform_equivalent_trials": uniform, "saved_fraction": 1 - total / uniform,
            "uniform_design": "every point given the trials of the hardest point", "points_above_target": above}
