"""Fitted trng tables and the validation test, on synthetic binomial truths with known answers (no SPICE)."""

import numpy as np
import pytest
from scipy.stats import norm

from cosim.luts.fit import FIT_VARS, add_fit, clopper_pearson, fit_width, rises
from cosim.luts.lut import Lut, LutError
from cosim.luts.queries import calibrate_v_write, switching_probability_var
from cosim.luts.validate_trng import (compare_counts, detectable_difference, held_out_points, holm,
                                      lut_uncertainty, validate_trng_lut)

V = np.round(np.linspace(0.55, 1.16, 21), 4)
T = np.array([0.45e-9, 0.55e-9, 0.65e-9])
V50, SIGMA = np.array([0.90, 0.84, 0.78]), np.array([0.09, 0.06, 0.04])
N = 128


def truth(v, t):
    """A known probit P(v) per width (midpoint and spread interpolated in t)."""
    return norm.cdf((v - np.interp(t, T, V50)) / np.interp(t, T, SIGMA))


def synthetic_lut(rng, widths=T, n=N, p=None):
    vv, tt = np.meshgrid(V, widths, indexing="ij")
    p_true = truth(vv, tt) if p is None else p
    k = rng.binomial(n, p_true).astype(float)
    grid = ("v_write_V", "t_pulse_s")
    ve = np.array([0.5, 1.2])
    return Lut("trng", {"v_write_V": ("V", V), "t_pulse_s": ("s", np.asarray(widths, dtype=float)),
                        "v_energy_V": ("V", ve)},
               {"p_switch": ("1", grid, k / n), "trials": ("1", grid, np.full_like(k, n)),
                "energy_per_bit_J": ("J", ("v_energy_V",), ve * 1e-14),
                "v_mtj_fraction": ("1", ("v_energy_V",), np.ones(2))},
               {"corner": "tt", "temp_C": 27.0, "cycle_time_s": 10e-9})


def test_fit_band_covers_the_truth_at_95_percent_of_grid_points():
    rng = np.random.default_rng(2024)
    widths = T[[0, 2]]
    p_true = truth(*np.meshgrid(V, widths, indexing="ij"))
    covered = []
    for _ in range(200):
        lut = add_fit(synthetic_lut(rng, widths))
        lo, hi = lut.variables["p_switch_fit_low"][2], lut.variables["p_switch_fit_high"][2]
        covered.append((lo <= p_true) & (p_true <= hi))
    coverage = np.mean(covered)
    assert coverage >= 0.93, coverage
    assert np.mean(covered, axis=0).min() >= 0.85  # no blind spot: every grid point near nominal


def test_fit_variables_report_and_round_trip(tmp_path):
    raw = synthetic_lut(np.random.default_rng(1))
    lut = add_fit(raw)
    for name in FIT_VARS:
        unit, axes, arr = lut.variables[name]
        assert unit == "1" and axes == raw.variables["p_switch"][1] and np.all((arr >= 0) & (arr <= 1))
    p, lo, hi = (lut.variables[name][2] for name in FIT_VARS)
    assert np.all(lo <= p + 1e-12) and np.all(p <= hi + 1e-12)
    assert np.abs(p - truth(*np.meshgrid(V, T, indexing="ij"))).max() < 0.1
    assert np.array_equal(lut.variables["p_switch"][2], raw.variables["p_switch"][2])  # raw counts kept
    assert "fit" not in raw.provenance and "p_switch_fit" not in raw.variables  # a new LUT
    widths = lut.provenance["fit"]["widths"]
    assert [w["t_pulse_s"] for w in widths] == list(T)
    for w in widths:
        assert w["method"] == "glm" and w["link"] in ("probit", "logit") and w["degree"] in (1, 2, 3)
        assert w["dof"] == len(V) - w["degree"] - 1 and w["gof_p"] > 0.01 and w["deviance"] >= 0
    back = Lut.load(lut.save(tmp_path / "fit.lut.npz"), check_model=False)
    assert back.provenance["fit"] == lut.provenance["fit"]
    assert np.array_equal(add_fit(back).variables["p_switch_fit"][2], p)  # refitting replaces, same answer


def test_degenerate_and_separated_widths_fall_back_to_a_monotone_answer():
    n = np.full(len(V), 64.0)
    for k, why in ((np.zeros(len(V)), "every count is 0"), (n.copy(), "every count is n"),
                   (np.where(V > 0.85, 64.0, 0.0), "separated")):
        p, lo, hi, report = fit_width(V, k, n)
        assert report["method"] == "fallback" and why in report["note"]
        assert np.all(np.diff(p) >= 0) and np.all(np.diff(lo) >= 0) and np.all(np.diff(hi) >= 0)
        assert np.all((0 <= lo) & (lo <= p) & (p <= hi) & (hi <= 1))
        assert np.array_equal(p, k / n)
    # a LUT with such a width still fits the others
    rng = np.random.default_rng(3)
    vv, tt = np.meshgrid(V, T, indexing="ij")
    p_true = truth(vv, tt)
    p_true[:, 0] = 0.0
    lut = add_fit(synthetic_lut(rng, p=p_true))
    assert [w["method"] for w in lut.provenance["fit"]["widths"]] == ["fallback", "glm", "glm"]
    with pytest.raises(LutError, match="needs the LUT variable 'trials'"):
        add_fit(Lut("trng", dict(lut.axes), {"p_switch": lut.variables["p_switch"]}, {}))


def test_saturated_points_get_their_own_clopper_pearson_band():
    """A steep cubic-looking width: where counts are all 0 or n the band is the point's exact CP interval
    (0 of 256 -> [0, 0.0143]), not the link's tail (too narrow) nor an edge blow-up (too wide)."""
    v = np.linspace(0.55, 1.15, 21)
    n = np.full(21, 256)
    k = np.round(n * norm.cdf((v - 0.85) / 0.05)).astype(int)
    p, lo, hi, report = fit_width(v, k, n)
    assert report["method"] == "glm"
    cp_lo, cp_hi = clopper_pearson(k, n)
    sat = (k == 0) | (k == n)
    assert sat.sum() >= 6 and not sat.all()
    assert np.allclose(lo[sat], np.minimum(cp_lo[sat], p[sat])) and np.allclose(hi[sat], np.maximum(cp_hi[sat], p[sat]))
    assert np.all(hi[k == 0] <= 0.0144) and np.all(lo[k == n] >= 0.985)
    assert np.all((lo <= p) & (p <= hi))


def test_only_rising_models_are_fitted():
    x = np.linspace(-1, 1, 21)
    assert rises({"coef": np.array([0.0, 2.0, 0.0, 0.5])}, x)
    assert not rises({"coef": np.array([0.0, 1.0, 0.0, -2.0])}, x)  # turns over near the ends
    # Counts that fall at one end: the only fits left rise, so the band is not bent by a turning cubic.
    v = np.linspace(0.55, 1.15, 21)
    n = np.full(21, 128)
    k = np.round(n * norm.cdf((v - 0.85) / 0.08)).astype(int)
    k[-1] -= 3
    _, _, _, report = fit_width(v, k, n)
    coef = np.asarray(report["coef"])
    assert rises({"coef": coef}, (v - report["x_center_V"]) / report["x_scale_V"])


def test_later_stages_read_the_fit_and_old_luts_keep_working():
    from cosim.noise.emulator import TrngArrayEmulator

    raw = synthetic_lut(np.random.default_rng(4))
    lut = add_fit(raw)
    assert switching_probability_var(raw) == "p_switch" and switching_probability_var(lut) == "p_switch_fit"
    t = 0.55e-9
    v_fit, v_raw = calibrate_v_write(lut, t), calibrate_v_write(raw, t)
    assert float(lut.interp("p_switch_fit", v_write_V=v_fit, t_pulse_s=t)) == pytest.approx(0.5, abs=1e-6)
    assert v_fit == pytest.approx(0.84, abs=0.02) and v_raw == pytest.approx(0.84, abs=0.03)
    emu = TrngArrayEmulator(lut, 4, 4, t_pulse_s=t, variation=0, calibration="nominal")
    assert emu.p_var == "p_switch_fit" and np.allclose(emu.p_switch, 0.5, atol=1e-6)
    assert TrngArrayEmulator(raw, 4, 4, t_pulse_s=t, variation=0).p_var == "p_switch"


# Validation ------------------------------------------------------------------------------------------------------

def test_compare_counts_false_alarm_rate_is_alpha_within_binomial_error():
    rng = np.random.default_rng(5)
    alpha, m, se = 0.01, 40_000, 0.02
    p_true = rng.uniform(0.05, 0.95, m)
    p_lut = np.clip(p_true + se * rng.standard_normal(m), 0, 1)  # the LUT's estimate, off by its own error
    res = compare_counts(p_lut, se, rng.binomial(N, p_true), N, alpha)
    tol = 3 * np.sqrt(alpha * (1 - alpha) / m)
    assert abs(res["reject"].mean() - alpha) <= tol, res["reject"].mean()
    assert res["expected_false_alarms"] == pytest.approx(alpha * m)


def test_whole_validation_false_alarm_rate_on_a_fitted_synthetic_lut():
    """Fit a LUT from a known truth, draw fresh counts from the same truth at held-out points: the Holm
    verdict fails at most alpha of the time (within binomial error)."""
    rng = np.random.default_rng(6)
    alpha, reps, points = 0.05, 300, 8
    fails = per_point = 0
    for rep in range(reps):
        if rep % 3 == 0:  # a fresh LUT every 3 validations (the fits are the slow part)
            lut = add_fit(synthetic_lut(rng))
        pts = np.array(held_out_points(lut, points, seed=rep))
        p_lut, se_lut = lut_uncertainty(lut, pts[:, 0], pts[:, 1])
        res = compare_counts(p_lut, se_lut, rng.binomial(N, truth(pts[:, 0], pts[:, 1])), N, alpha)
        fails += not res["passed"]
        per_point += res["reject"].sum()
    assert fails / reps <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / reps), fails / reps
    assert per_point / (reps * points) <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / (reps * points))


@pytest.mark.parametrize("p0, se", [(0.1, 0.0), (0.3, 0.02), (0.5, 0.0), (0.8, 0.02)])
def test_detectable_difference_is_detected_with_80_percent_power(p0, se):
    rng = np.random.default_rng(7)
    alpha, reps = 0.01, 4000
    d = float(detectable_difference(p0, se, N, alpha))
    assert 0 < d < 0.3
    p_lut = np.clip(p0 + se * rng.standard_normal(reps), 0, 1)
    k = rng.binomial(N, p0 + (d if p0 <= 0.5 else -d), reps)
    power = np.mean(compare_counts(p_lut, se, k, N, alpha)["p_value"] <= alpha)
    assert power >= 0.8 - 3 * np.sqrt(0.16 / reps), power


def test_a_shifted_curve_fails_validation():
    """Fresh trials from the truth shifted by each point's stated detectable difference: Holm fails it."""
    rng = np.random.default_rng(8)
    alpha, reps, points, fails = 0.01, 200, 8, 0
    detectable = []
    for rep in range(reps):
        if rep % 4 == 0:
            lut = add_fit(synthetic_lut(rng))
        pts = np.array(held_out_points(lut, points, seed=rep))
        p_lut, se_lut = lut_uncertainty(lut, pts[:, 0], pts[:, 1])
        d = detectable_difference(p_lut, se_lut, N, alpha / points)
        p_fresh = np.clip(truth(pts[:, 0], pts[:, 1]) + np.where(p_lut <= 0.5, d, -d), 0, 1)
        res = compare_counts(p_lut, se_lut, rng.binomial(N, p_fresh), N, alpha)
        assert np.allclose(res["detectable"], d)
        detectable.append(np.median(d))
        fails += not res["passed"]
    assert fails / reps >= 0.8, fails / reps
    assert 0.05 < np.median(detectable) < 0.25


def test_holm_and_refusals():
    assert list(holm(np.array([0.001, 0.04, 0.03]), 0.05)) == [True, False, False]
    assert list(holm(np.array([0.001, 0.02, 0.024]), 0.05)) == [True, True, True]
    with pytest.raises(ValueError, match=">= 1 fresh trial"):
        compare_counts(0.5, 0.01, 0, 0)
    with pytest.raises(ValueError, match="alpha"):
        compare_counts(0.5, 0.01, 3, 10, alpha=0)
    with pytest.raises(ValueError, match="0 <= k_fresh <= n_fresh"):
        compare_counts(0.5, 0.01, 11, 10)
    assert compare_counts(0.0, 0.0, 0, 10)["passed"] and not compare_counts(0.0, 0.0, 1, 10)["passed"]
    lut = add_fit(synthetic_lut(np.random.default_rng(9)))
    with pytest.raises(ValueError, match=">= 1 point"):
        validate_trng_lut(lut, n_points=0)
    with pytest.raises(ValueError, match=">= 1 fresh trial"):
        validate_trng_lut(lut, n_points=4, trials=0)
