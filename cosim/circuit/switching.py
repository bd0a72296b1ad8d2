"""Switching probability of the VCMA-MTJ from batched SPICE trials.

One transient carries a batch of independent cells (each draws its own thermal field),
batches run in parallel worker processes, so SPICE statistics cost one ngspice start
per batch instead of per trial.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from compact_models.limits import check_count, check_drive_voltage, check_pulse_width
from compact_models.render import NETLIST_DIR

from cosim.circuit.render_switching import render_switching
from cosim.circuit.spice import run_netlist
from cosim.circuit.stats import Proportion

DEFAULT_BATCH = 32
SWEEP_DT_THERMAL_S = 5e-12
"""Thermal-field sample interval for statistics sweeps (the card default is 1 ps). The precession
period is >= 0.25 ns, so 5 ps still resolves it 50-fold; benchmarks/bench_switching.py checks that
switching probabilities agree with 1 ps single-trial runs within their binomial confidence bounds."""
SWEEP_T_SETTLE_S = 2e-9
"""Time after the pulse before m_z is read. With alpha = 0.01 a cell rings on a wide orbit after the pulse;
measured over 12 ns (64 trials each at P = 0.48 and 0.75): the sign of m_z averaged over [1.5, 2] ns agrees
with the settled one in 98-100 % of trials, over [0.5, 1] ns in only 94-97 %."""


@functools.lru_cache(maxsize=None)
def switching_netlist(n_trials: int) -> Path:
    """A switching-trial netlist with ``n_trials`` cells, written once per process to a temp dir."""
    folder = Path(tempfile.mkdtemp(prefix="vcma_switching_"))
    path = folder / f"mtj_switching_{n_trials}.cir"
    path.write_text(render_switching(n_trials, lib=str(NETLIST_DIR / "vcma_mtj_va.lib")))
    return path


def _batch_final_mz(n: int, params: dict, seed: int, corner: str, temp_C: float, backend: str,
                    model: str | None) -> np.ndarray:
    result = run_netlist(switching_netlist(n), params, seed=seed, corner=corner, temp_C=temp_C, backend=backend,
                         model=model)
    return np.array([result.measures[f"mz_{k}"] for k in range(n)])


def final_mz(v_write: float, t_pulse: float, n_trials: int = 32, seed: int = 1, corner: str = "tt",
             temp_C: float = 27.0, params: dict | None = None, t_settle: float = SWEEP_T_SETTLE_S,
             batch: int = DEFAULT_BATCH, n_jobs: int = 1, backend: str = "shared",
             dt_thermal_s: float = SWEEP_DT_THERMAL_S, model: str | None = None) -> np.ndarray:
    """Final m_z of ``n_trials`` cells that start in P and see one write pulse.

    Batch ``i`` runs with ngspice seed ``seed + i``, so results depend only on (seed, batch).
    ``t_settle`` is the time after the pulse before m_z is read (averaged over its last 0.5 ns).
    ``dt_thermal_s`` is the thermal-field sample interval (see ``SWEEP_DT_THERMAL_S``).
    ``model``: the VCMA_MTJ form (see :func:`cosim.circuit.deck.resolve_model`).
    """
    check_count(n_trials, "n_trials")
    check_drive_voltage(v_write, "v_write")
    check_pulse_width(t_pulse, "t_pulse")
    if not (t_pulse > 0 and t_settle >= 0.5e-9):
        raise ValueError(f"need t_pulse > 0 and t_settle >= 0.5 ns, got t_pulse={t_pulse}, t_settle={t_settle}")
    run_params = {"v_write": v_write, "t_pulse": t_pulse, "t_settle": t_settle, "dt_thermal_s": dt_thermal_s,
                  **(params or {})}
    sizes = [min(batch, n_trials - start) for start in range(0, n_trials, batch)]
    jobs = (delayed(_batch_final_mz)(n, run_params, seed + i, corner, temp_C, backend, model) for i, n in enumerate(sizes))
    if n_jobs == 1:
        parts = [fn(*args, **kw) for fn, args, kw in jobs]
    else:
        parts = Parallel(n_jobs=n_jobs, backend="loky")(jobs)
    return np.concatenate(parts)


def switching_probability(v_write: float, t_pulse: float, n_trials: int = 32, level: float = 0.95,
                          **kwargs) -> Proportion:
    """P(P -> AP) for one write pulse, with an exact binomial confidence interval."""
    mz = final_mz(v_write, t_pulse, n_trials, **kwargs)
    return Proportion(int(np.sum(mz < 0)), len(mz), level)
