"""Validation of a trng LUT against fresh SPICE trials, as a statistical test that can tell.

At ``points`` random off-grid points (amplitude and width each 20-80 % of the way between grid points),
``trials`` fresh SPICE switching trials (:func:`cosim.circuit.switching.final_mz`, the LUT's own compact
model) give k_fresh of n_fresh. Each point tests H0: p_fresh = p_lut, where p_lut is what later stages
read at that point (the LUT's fit, :func:`cosim.luts.queries.switching_probability_var`, interpolated),
with a two-sided z test whose variance counts both uncertainties:

    z = (k_fresh / n_fresh - p_lut) / sqrt(p_lut (1 - p_lut) / n_fresh + se_lut^2),

se_lut the half-width of the LUT's 95 % band at the point / 1.96 (for a raw LUT without a fit: its
Clopper-Pearson bounds). Per point: the p-value, the verdict at level ``alpha``, and the smallest
difference |p_fresh - p_lut| the test detects with 80 % power at that trial count and p (at the level
alpha / points of the overall test). Overall: the number of rejections against the alpha x points
expected by chance, and the verdict from Holm's step-down correction across the points, so the
whole validation raises a false alarm with probability <= alpha.

:func:`compare_counts` is the test alone (pure, vectorised; the tests simulate the fresh draws).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from cosim.luts.lut import Lut, LutError, lut_model, lut_card_params
from cosim.luts.queries import switching_probability_var

ALPHA = 0.01
"""Default false-alarm rate of the whole validation."""
POWER = 0.8
"""The power at which the detectable difference is stated."""


def holm(p_values: np.ndarray, alpha: float) -> np.ndarray:
    """Holm's step-down rejections: family-wise error rate <= alpha for any dependence."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    reject = np.zeros(m, dtype=bool)
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] > alpha / (m - rank):
            break
        reject[i] = True
    return reject


def detectable_difference(p_lut, se_lut, n_fresh, alpha: float, power: float = POWER) -> np.ndarray:
    """Smallest |p_fresh - p_lut| the two-sided level-``alpha`` test detects with probability ``power``
    (normal approximation with a 1/(2 n) continuity correction, toward p = 0.5 where the fresh trials are
    noisiest, so it holds both ways)."""
    p, se, n = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (p_lut, se_lut, n_fresh)))
    za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
    sd0 = np.sqrt(p * (1 - p) / n + se**2)
    d = (za + zb) * sd0
    toward = np.where(p <= 0.5, 1.0, -1.0)
    for _ in range(50):
        p1 = np.clip(p + toward * d, 0.0, 1.0)
        d = za * sd0 + zb * np.sqrt(p1 * (1 - p1) / n + se**2) + 0.5 / n
    return d


def compare_counts(p_lut, se_lut, k_fresh, n_fresh, alpha: float = ALPHA) -> dict:
    """The per-point test of H0: p_fresh = p_lut (arrays broadcast): ``z``, two-sided ``p_value``,
    ``reject`` (each at level alpha), Holm's ``reject_holm`` across the points (family-wise level alpha),
    ``detectable`` (80 % power at level alpha / points), and the overall ``passed``."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    p, se, k, n = np.broadcast_arrays(*(np.atleast_1d(np.asarray(a, dtype=float))
                                        for a in (p_lut, se_lut, k_fresh, n_fresh)))
    if np.any(n < 1):
        raise ValueError("every point needs >= 1 fresh trial")
    if np.any((k < 0) | (k > n)) or np.any((p < 0) | (p > 1)) or np.any(se < 0):
        raise ValueError("need 0 <= k_fresh <= n_fresh, 0 <= p_lut <= 1 and se_lut >= 0")
    diff = k / n - p
    sd = np.sqrt(p * (1 - p) / n + se**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, diff / sd, np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    p_value = 2 * norm.sf(np.abs(z))
    reject_holm = holm(p_value, alpha)
    m = len(p_value)
    return {"z": z, "p_value": p_value, "reject": p_value <= alpha, "reject_holm": reject_holm,
            "detectable": detectable_difference(p, se, n, alpha / m), "expected_false_alarms": alpha * m,
            "passed": not reject_holm.any()}


def lut_uncertainty(lut: Lut, v_write_V, t_pulse_s) -> tuple[np.ndarray, np.ndarray]:
    """p_lut and se_lut at points: the variable later stages read, and half its 95 % band / 1.96."""
    var = switching_probability_var(lut)
    low, high = ("p_switch_fit_low", "p_switch_fit_high") if var == "p_switch_fit" else ("p_switch_ci_low",
                                                                                         "p_switch_ci_high")
    p = lut.interp(var, v_write_V=v_write_V, t_pulse_s=t_pulse_s)
    if low in lut.variables and high in lut.variables:
        half = (lut.interp(high, v_write_V=v_write_V, t_pulse_s=t_pulse_s)
                - lut.interp(low, v_write_V=v_write_V, t_pulse_s=t_pulse_s)) / 2
        se = np.maximum(half, 0.0) / norm.ppf(0.975)
    else:
        se = np.zeros_like(p)
    return p, se


def held_out_points(lut: Lut, points: int, seed: int) -> list[tuple[float, float]]:
    """``points`` random off-grid points, each 20-80 % of the way between neighbouring grid values."""
    rng = np.random.default_rng(seed)
    vs, ts = lut.axis("v_write_V"), lut.axis("t_pulse_s")
    out = []
    for _ in range(points):
        i, j = rng.integers(0, len(vs) - 1), rng.integers(0, len(ts) - 1)
        out.append((float(vs[i] + rng.uniform(0.2, 0.8) * (vs[i + 1] - vs[i])),
                    float(ts[j] + rng.uniform(0.2, 0.8) * (ts[j + 1] - ts[j]))))
    return out


def validate_trng_lut(lut: Lut, n_points: int = 8, trials: int = 128, seed: int = 12345, n_jobs: int = 2,
                      alpha: float = ALPHA) -> dict:
    """Fresh SPICE trials at ``n_points`` random off-grid points against the LUT (see the module doc).
    Returns ``rows`` (per point: v_write_V, t_pulse_s, p_lut, se_lut, k, n, p_spice, z, p_value,
    reject, reject_holm, detectable) and the overall ``alpha``, ``expected_false_alarms``,
    ``rejections``, ``rejections_holm``, ``detectable_median``, ``passed``, ``p_var``."""
    from tqdm.auto import tqdm

    from cosim.circuit.sweep import PROGRESS
    from cosim.circuit.switching import final_mz
    from cosim.luts.build_trng import point_seed

    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 1:
        raise ValueError(f"validation needs >= 1 point, got {n_points!r}")
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"validation needs >= 1 fresh trial per point, got {trials!r}")
    if lut.kind != "trng":
        raise LutError(f"validate_trng_lut needs a 'trng' LUT, got a '{lut.kind}' LUT")
    corner, temp_C = lut.provenance["corner"], lut.provenance["temp_C"]
    pts = held_out_points(lut, int(n_points), seed)
    k = np.empty(len(pts))
    for i, (v, t) in enumerate(tqdm(pts, desc="validate (SPICE)", unit="pt", disable=not PROGRESS.get())):
        mz = final_mz(v, t, int(trials), seed=point_seed(v, t, "validate", seed), corner=corner, temp_C=temp_C,
                      n_jobs=n_jobs, model=lut_model(lut), params=lut_card_params(lut)["deck"] or None)
        k[i] = int(np.sum(mz < 0))
    v, t = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    p_lut, se_lut = lut_uncertainty(lut, v, t)
    res = compare_counts(p_lut, se_lut, k, trials, alpha)
    rows = [{"v_write_V": float(v[i]), "t_pulse_s": float(t[i]), "p_lut": float(p_lut[i]), "se_lut": float(se_lut[i]),
             "k": int(k[i]), "n": int(trials), "p_spice": float(k[i] / trials), "z": float(res["z"][i]),
             "p_value": float(res["p_value"][i]), "reject": bool(res["reject"][i]),
             "reject_holm": bool(res["reject_holm"][i]), "detectable": float(res["detectable"][i])}
            for i in range(len(pts))]
    return {"rows": rows, "alpha": alpha, "p_var": switching_probability_var(lut),
            "expected_false_alarms": res["expected_false_alarms"], "rejections": int(res["reject"].sum()),
            "rejections_holm": int(res["reject_holm"].sum()),
            "detectable_median": float(np.median(res["detectable"])), "passed": bool(res["passed"])}
