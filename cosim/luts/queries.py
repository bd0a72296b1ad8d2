"""Queries on a trng LUT that later stages share: which variable holds P(switch) (the fit where present),
the MTJ voltage a TRNG cell's driver delivers, and the driver amplitude at which a cell's switching
probability hits a target (calibration)."""

from __future__ import annotations

import numpy as np

from cosim.circuit.render_trng import TRNG_T_PULSE_S
from cosim.luts.lut import Lut, LutError


def switching_probability_var(lut: Lut) -> str:
    """The LUT variable later stages read for P(switch): the fitted ``p_switch_fit`` (smooth, from
    :func:`cosim.luts.fit.add_fit`) where the LUT has one, else the raw ``p_switch`` (k/n; older LUTs)."""
    return "p_switch_fit" if "p_switch_fit" in lut.variables else "p_switch"


def amplitude_correction(lut: Lut) -> float:
    """The cell check's amplitude correction (fast sweep -> full cell; 1 without a check)."""
    return float(lut.provenance.get("cell_check", {}).get("amplitude_correction", 1.0))


def mtj_fraction(lut: Lut) -> np.ndarray:
    if "v_mtj_fraction" not in lut.variables:
        raise LutError("the trng LUT has no 'v_mtj_fraction' (made before the TRNG-cell mapping existed); "
                       "rebuild it with `vcma lut build --kind trng`")
    return lut.variables["v_mtj_fraction"][2] * amplitude_correction(lut)


def mtj_voltage(lut: Lut, v_write_V: np.ndarray | float) -> np.ndarray:
    """Effective MTJ amplitude (on the LUT's switching axis) of a TRNG cell driven at ``v_write_V``:
    the delivered fraction from the TRNG-cell run, times the cell check's amplitude correction."""
    mtj_fraction(lut)
    v = np.asarray(v_write_V, dtype=float)
    return v * lut.interp("v_mtj_fraction", v_energy_V=v) * amplitude_correction(lut)


def bisect_increasing(f, lo: np.ndarray, hi: np.ndarray, iters: int = 50) -> np.ndarray:
    """Vectorised bisection for increasing f(v) = 0 on [lo, hi] (one root per element)."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        up = f(mid) > 0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return 0.5 * (lo + hi)


def driver_range(lut: Lut, scale_min: float = 1.0, scale_max: float = 1.0) -> tuple[float, float]:
    """Driver amplitudes whose MTJ voltages (times any cell scale) stay inside the LUT."""
    ve, vs = lut.axis("v_energy_V"), lut.axis("v_write_V")
    f = mtj_fraction(lut)
    lo = max(ve[0], vs[0] / (f.min() * scale_min))
    hi = min(ve[-1], vs[-1] / (f.max() * scale_max))
    if lo >= hi:
        raise LutError("no driver amplitude keeps every cell inside the LUT's switching range; "
                       "reduce the variation or build a LUT with a wider amplitude axis")
    return lo * (1 + 1e-9), hi * (1 - 1e-9)


def calibrate_v_write(lut: Lut, t_pulse_s: float = TRNG_T_PULSE_S, target: float = 0.5) -> float:
    """The driver amplitude at which a nominal cell's switching probability equals ``target``."""
    lo, hi = driver_range(lut)
    var = switching_probability_var(lut)
    p = lambda v: lut.interp(var, v_write_V=mtj_voltage(lut, v), t_pulse_s=t_pulse_s)  # noqa: E731
    if p(lo) > target or p(hi) < target:
        raise LutError(f"P = {target} is not reached inside the LUT's amplitude range at t_pulse = {t_pulse_s:g} s")
    return float(bisect_increasing(lambda v: p(v) - target, np.array(lo), np.array(hi)))
