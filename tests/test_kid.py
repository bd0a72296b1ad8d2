"""KID: hand-computed kernel sums, unbiasedness, the Gaussian closed form, bootstrap coverage; detectable differences."""

from math import comb

import numpy as np
import pytest
from scipy import stats

from diffusion.kid import kid, kid_bootstrap, polynomial_kernel
from diffusion.metrics import detectable_difference


def gaussian_mmd2(mx, cx, my, cy) -> float:
    """Population MMD^2 of two Gaussians under k = (x.y/d + 1)^3, in closed form.

    (x.y/d + 1)^3 = sum_k C(3, k) d^-k <x^(x)k, y^(x)k>, so MMD^2 = sum_k C(3, k) d^-k ||E x^(x)k - E y^(x)k||^2
    with the Gaussian moment tensors E x = mu, E xx = S + mu mu, E xxx = mu mu mu + (mu S, 3 placements).
    """
    def moments(mu, cov):
        m3 = (np.einsum("i,j,k->ijk", mu, mu, mu) + np.einsum("i,jk->ijk", mu, cov)
              + np.einsum("j,ik->ijk", mu, cov) + np.einsum("k,ij->ijk", mu, cov))
        return [mu, cov + np.outer(mu, mu), m3]

    d = len(mx)
    return float(sum(comb(3, k) * d ** -k * np.sum((a - b) ** 2)
                     for k, (a, b) in enumerate(zip(moments(mx, cx), moments(my, cy)), start=1)))


MX, CX = np.zeros(2), np.eye(2)
MY, CY = np.array([0.5, 0.0]), np.diag([1.5, 1.0])


def draw(rng, mu, cov, n):
    """n points of N(mu, cov) for a diagonal cov."""
    return mu + rng.normal(size=(n, len(mu))) * np.sqrt(np.diag(cov))


def test_kernel_and_kid_match_hand_computed_sums():
    # 1-D, k(a, b) = (ab + 1)^3. X = {1, 2}: k(1,2) = 27. Y = {0, 1, 3}: pairs 1, 1, 64 -> 22.
    # cross: x=1: 1 + 8 + 64; x=2: 1 + 27 + 343 -> 444 / 6 = 74. KID = 27 + 22 - 2 * 74 = -99.
    x, y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0], [3.0]])
    assert polynomial_kernel(x, y) == pytest.approx(np.array([[1, 8, 64], [1, 27, 343]]))
    assert kid(x, y) == pytest.approx(-99.0)
    # 2-D, k = (x.y/2 + 1)^3. X = {(1,0), (0,2)}: x.x' = 0 -> 1. Y = {(2,2), (0,0)} -> 1.
    # cross: (1,0).(2,2) = 2 -> 8; (0,2).(2,2) = 4 -> 27; with (0,0) -> 1, 1: 37 / 4. KID = 2 - 18.5.
    x, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[2.0, 2.0], [0.0, 0.0]])
    assert kid(x, y) == pytest.approx(-16.5)
    assert kid(x, x) == pytest.approx(1 + 1 - 2 * np.mean(polynomial_kernel(x, x)))


def test_closed_form_matches_a_large_sample():
    rng = np.random.default_rng(0)
    x, y = draw(rng, MX, CX, 1000), draw(rng, MY, CY, 1000)
    b = kid_bootstrap(x, y, n_boot=100, chunk=100)
    assert abs(b["kid"] - gaussian_mmd2(MX, CX, MY, CY)) < 4 * b["boot_std"]
    assert gaussian_mmd2(MX, CX, MX, CX) == 0.0


@pytest.mark.parametrize("same", [True, False])
def test_kid_is_unbiased_at_small_samples(same):
    """Mean over replications of 20-point sets equals the population MMD^2 (0 for one distribution)."""
    rng = np.random.default_rng(1)
    my, cy = (MX, CX) if same else (MY, CY)
    vals = np.array([kid(draw(rng, MX, CX, 20), draw(rng, my, cy, 20))
                     for _ in range(2000)])
    se = vals.std(ddof=1) / np.sqrt(vals.size)
    assert abs(vals.mean() - gaussian_mmd2(MX, CX, my, cy)) < 3.5 * se
    # a biased (V-statistic) estimate with the self-pairs would sit far above: k(x, x) >> k(x, x')
    assert se < 0.05 * np.mean(polynomial_kernel(rng.normal(size=(20, 2)), rng.normal(size=(20, 2))).diagonal())


def test_bootstrap_interval_covers_the_population_mmd2():
    """95 % percentile interval: coverage over 200 replications within the binomial 99 % band of 0.95."""
    true = gaussian_mmd2(MX, CX, MY, CY)
    rng = np.random.default_rng(2)
    reps, hits = 200, 0
    for r in range(reps):
        b = kid_bootstrap(draw(rng, MX, CX, 200), draw(rng, MY, CY, 200), n_boot=200,
                          seed=r)
        hits += b["low"] <= true <= b["high"]
    tol = stats.norm.ppf(0.995) * np.sqrt(0.95 * 0.05 / reps)
    assert abs(hits / reps - 0.95) <= tol, hits


def test_kid_rejects_bad_shapes():
    with pytest.raises(ValueError, match="at least 2 points"):
        kid(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same D"):
        kid(np.zeros((4, 3)), np.zeros((5, 2)))


@pytest.mark.parametrize("df", [4, 8, 30])
def test_detectable_difference_is_close_to_the_textbook_shortcut(df):
    shortcut = stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)
    assert detectable_difference(1.0, df) == pytest.approx(shortcut, rel=0.02)
    assert detectable_difference(2.5, df) == pytest.approx(2.5 * detectable_difference(1.0, df))


@pytest.mark.parametrize("k,welch", [(3, False), (6, False), (8, True)])
def test_detectable_difference_gives_80_percent_power_and_5_percent_size(k, welch):
    """Simulated t-tests of k vs k normal values: reject ~80 % at the stated difference, ~5 % at none.

    The noncentral-t solution is exact for the pooled t-test; Welch's test (what the reports use)
    estimates its df, which costs a little power with few seeds, so it is checked at 8 seeds.
    """
    rng = np.random.default_rng(k)
    sims, sigma = 4000, 2.0
    mdd = detectable_difference(sigma * np.sqrt(2 / k), 2 * k - 2)
    for shift, expected in ((mdd, 0.80), (0.0, 0.05)):
        a, b = rng.normal(shift, sigma, (sims, k)), rng.normal(0.0, sigma, (sims, k))
        rate = np.mean(stats.ttest_ind(a, b, axis=1, equal_var=not welch).pvalue < 0.05)
        tol = stats.norm.ppf(0.999) * np.sqrt(expected * (1 - expected) / sims)
        assert abs(rate - expected) <= tol + (0.015 if welch else 0.0), (shift, rate)
