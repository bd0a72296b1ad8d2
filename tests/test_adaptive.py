"""Adaptive trials against a synthetic binomial truth (no SPICE): every point reaches the target with
fewer trials than the uniform design the hardest point dictates; a build without a target is uniform."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from cosim.luts.adaptive import BATCH, adaptive_counts

VS = np.linspace(0.6, 1.0, 21)
TS = np.linspace(0.4e-9, 0.7e-9, 7)


def truth(v, t):
    """A probit switching surface whose transition moves with width, like the TT table."""
    return norm.cdf((v - (0.86 - 0.25e9 * (t - 0.4e-9))) / 0.03)


def binomial_draw(seed: int):
    rng = np.random.default_rng(seed)

    def draw(requests):
        return [{"k": int(rng.binomial(n, truth(VS[i], TS[j]))), "n": n, "late": 0, "never": 0}
                for i, j, n, _ in requests]
    return draw


def test_without_a_target_every_point_gets_the_first_round_only():
    counts, report = adaptive_counts(VS, TS, 64, binomial_draw(1), None)
    assert np.all(counts["n"] == 64) and report["trials_per_round"] == [64 * VS.size * TS.size]
    assert report["saved_fraction"] == 0


def test_adaptive_design_reaches_the_target_everywhere_with_fewer_trials():
    counts, report = adaptive_counts(VS, TS, BATCH, binomial_draw(2), 0.03)
    assert report["worst_halfwidth"] <= 0.03 and not report["points_above_target"]
    n = counts["n"]
    assert n.max() > 4 * n.min()  # trials went to the transition, not everywhere
    assert report["trials_total"] < 0.6 * report["uniform_equivalent_trials"]
    assert np.all(n % BATCH == 0)


def test_a_point_held_by_the_trial_cap_is_reported_with_its_reason():
    counts, report = adaptive_counts(VS, TS, BATCH, binomial_draw(3), 0.005, max_trials=64)
    assert counts["n"].max() <= 64 and report["points_above_target"]
    assert {p["reason"] for p in report["points_above_target"]} == {"trial cap reached"}


def test_a_target_outside_zero_to_half_is_refused():
    with pytest.raises(ValueError, match=r"half-width target must be in \(0, 0.5\)"):
        adaptive_counts(VS, TS, 32, binomial_draw(4), 0.0)
