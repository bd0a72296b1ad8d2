"""Bits -> N(0, 1) transforms: exact error, behaviour with ideal bits, whitening, registry."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

import numpy as np
import pytest
import torch
from scipy.special import ndtri

from cosim.noise import transforms as tr
from cosim.noise.transforms import make_transform

# Stated tolerances of each transform against N(0, 1) for ideal bits (exact values from
# error_vs_normal; the docstring of cosim.noise.transforms explains where they come from):
# (name, |mean| max, |variance - 1| max, KS distance max)
TOLERANCES = [
    ("sum8", 1e-12, 1e-12, 0.14),
    ("sum16", 1e-12, 1e-12, 0.10),
    ("sum64", 1e-12, 1e-12, 0.05),
    ("word8", 1e-12, 6e-3, 2.0 ** -9 + 1e-12),
    ("word12", 1e-12, 6e-4, 2.0 ** -13 + 1e-12),
    ("word16", 1e-12, 3e-5, 2.0 ** -17 + 1e-12),
    ("sum:16+xor", 1e-12, 1e-12, 0.10),
    ("word:12+vn", 1e-12, 6e-4, 2.0 ** -13 + 1e-12),
]
N_SAMPLES = 100_000


def _ideal_bits(seed: int) -> Callable[[int], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return lambda n: torch.randint(0, 2, (n,), generator=g, dtype=torch.uint8)


@pytest.mark.parametrize("name, mean_tol, var_tol, ks_tol", TOLERANCES, ids=[t[0] for t in TOLERANCES])
def test_exact_error_within_stated_tolerance(name, mean_tol, var_tol, ks_tol) -> None:
    err = make_transform(name).error_vs_normal()
    assert abs(err.mean) <= mean_tol
    assert abs(err.variance - 1.0) <= var_tol
    assert err.ks_distance <= ks_tol
    assert err.tail_mass_3sigma_normal == pytest.approx(0.0026998, abs=1e-7)


@pytest.mark.parametrize("name, mean_tol, var_tol, ks_tol", TOLERANCES, ids=[t[0] for t in TOLERANCES])
def test_ideal_bits_samples_match(name, mean_tol, var_tol, ks_tol) -> None:
    """Samples from ideal bits: moments and KS within the stated tolerance plus sampling error."""
    t = make_transform(name)
    x, n_raw = t.draw(N_SAMPLES, _ideal_bits(11))
    assert x.shape == (N_SAMPLES,) and x.dtype == torch.float32
    emp = tr.empirical_error(x)
    exact = t.error_vs_normal()
    z = 5.0  # bounds at 5 sigma of the sampling error: a false failure is ~1e-6
    assert abs(emp.mean) <= mean_tol + z * math.sqrt(exact.variance / N_SAMPLES)
    assert abs(emp.variance - 1.0) <= var_tol + z * math.sqrt(2.0 / N_SAMPLES)
    # DKW: sup |F_n - F| > 2.2/sqrt(N) with probability < 2 exp(-9.7) ~ 1e-4
    assert emp.ks_distance <= ks_tol + 2.2 / math.sqrt(N_SAMPLES)
    assert abs(emp.tail_mass_3sigma - exact.tail_mass_3sigma) <= z * math.sqrt(0.003 / N_SAMPLES)
    if t.raw_bits_exact:
        assert n_raw == N_SAMPLES * t.expected_raw_bits_per_sample()
    else:  # von Neumann: about 4 raw bits per output bit, small overshoot
        assert 1.0 <= n_raw / (N_SAMPLES * t.expected_raw_bits_per_sample()) < 1.02


@pytest.mark.parametrize("k", [1, 2, 3, 8, 16, 64])
def test_sum_of_fair_bits_has_exactly_unit_variance(k) -> None:
    # Var((2S - k)/sqrt k) = 4 Var(S) / k = 4 (k/4) / k = 1; checked in exact rationals
    var = sum(Fraction(math.comb(k, s) * (2 * s - k) ** 2, 2 ** k * k) for s in range(k + 1))
    mean = sum(Fraction(math.comb(k, s) * (2 * s - k), 2 ** k) for s in range(k + 1))
    assert var == 1 and mean == 0
    err = make_transform(f"sum:{k}").error_vs_normal()
    assert err.variance == pytest.approx(1.0, abs=1e-12) and err.mean == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n", [1, 4, 8, 12])
def test_word_ks_distance_is_half_a_step(n) -> None:
    assert make_transform(f"word:{n}").error_vs_normal().ks_distance == pytest.approx(2.0 ** -(n + 1), rel=1e-9)


def test_word_tails_are_truncated() -> None:
    assert make_transform("word8").error_vs_normal().tail_mass_3sigma == 0.0  # max |x| = 2.89
    x, _ = make_transform("word8").distribution()
    assert x.max() == pytest.approx(ndtri(1 - 2.0 ** -9))


@pytest.mark.parametrize("name, bits_per_sample, raw", [
    ("sum8", 8, 8), ("sum:16", 16, 16), ("word12", 12, 12), ("word:16", 16, 16),
    ("sum:16+xor", 16, 32), ("word:12+xor", 12, 24), ("word:12+vn", 12, 48), ("sum:8+vn", 8, 32),
])
def test_bits_per_sample(name, bits_per_sample, raw) -> None:
    t = make_transform(name)
    assert t.bits_per_sample == bits_per_sample
    assert t.expected_raw_bits_per_sample() == raw
    assert t.raw_bits_exact == ("+vn" not in name)
    assert t.map_bits(torch.zeros(5 * bits_per_sample + 3, dtype=torch.uint8)).shape == (5,)


def test_mappings_by_hand() -> None:
    assert make_transform("sum:4").map_bits(torch.tensor([1, 1, 1, 1, 0, 1, 0, 0])).tolist() == [2.0, -1.0]
    x = make_transform("word:2").map_bits(torch.tensor([1, 0, 0, 0]))  # MSB first: w = 2, 0
    assert x.tolist() == pytest.approx([ndtri(2.5 / 4), ndtri(0.5 / 4)], abs=1e-6)
    x = make_transform("word:12").map_bits(torch.cat([torch.ones(12), torch.zeros(12)]).to(torch.uint8))
    assert x[0] == -x[1] and x[0] == pytest.approx(ndtri(1 - 2.0 ** -13), abs=1e-5)


def test_whitening_by_hand() -> None:
    bits = torch.tensor([0, 1, 1, 0, 0, 0, 1, 1, 1], dtype=torch.uint8)
    assert tr.von_neumann(bits).tolist() == [0, 1]
    assert tr.xor_pairs(bits).tolist() == [1, 1, 0, 0]
    assert make_transform("sum:1+vn")(bits).tolist() == [-1.0, 1.0]


def test_von_neumann_unbiases_biased_bits() -> None:
    p = 0.3
    g = torch.Generator().manual_seed(5)
    raw = (torch.rand(1_000_000, generator=g) < p).to(torch.uint8)
    out = tr.von_neumann(raw)
    m = out.numel()
    expected_len = raw.numel() // 2 * 2 * p * (1 - p)
    assert abs(m - expected_len) < 5 * math.sqrt(expected_len)
    # binomial bound: |fraction of ones - 1/2| < 4.4 sigma (two-sided 1e-5)
    assert abs(out.double().mean().item() - 0.5) < 4.4 * math.sqrt(0.25 / m)
    xored = tr.xor_pairs(raw)  # XOR only reduces the bias: P(1) = 2 p (1 - p) = 0.42
    assert xored.double().mean().item() == pytest.approx(2 * p * (1 - p), abs=4.4 * math.sqrt(0.25 / xored.numel()))


def test_biased_bits_exact_error() -> None:
    plain, vn = make_transform("word:12"), make_transform("word:12+vn")
    assert plain.error_vs_normal(p_one=0.55).mean > 0.1
    assert vn.error_vs_normal(p_one=0.55) == vn.error_vs_normal()
    assert make_transform("sum:16").error_vs_normal(p_one=0.45).mean == pytest.approx(-0.4, abs=1e-9)


def test_draw_von_neumann_stuck_source_raises() -> None:
    with pytest.raises(ValueError, match="stuck or extremely biased"):
        make_transform("word:8+vn").draw(100, lambda n: torch.ones(n, dtype=torch.uint8))


def test_draw_checks_source_length() -> None:
    with pytest.raises(RuntimeError, match="returned 3 bits, 16 were requested"):
        make_transform("sum:16").draw(1, lambda n: torch.ones(3, dtype=torch.uint8))


def test_zero_samples() -> None:
    x, n_raw = make_transform("word:12").draw(0, _ideal_bits(0))
    assert x.shape == (0,) and n_raw == 0


def test_registry() -> None:
    assert make_transform("word12") == make_transform("word:12") == make_transform(" WORD:12 ")
    assert make_transform("sum16+vn").name == "sum:16+vn"
    t = make_transform("sum:8+xor")
    assert isinstance(t, tr.SumOfBits) and t.whitening == "xor" and make_transform(t) is t
    for preset in tr.PRESETS:
        assert make_transform(preset).name == tr.PRESETS[preset]


@pytest.mark.parametrize("bad", ["gauss", "word", "word:0", "word:25", "sum:0", "sum:16+foo", "word:x", ""])
def test_unknown_transform_lists_allowed(bad) -> None:
    with pytest.raises(ValueError) as info:
        make_transform(bad)
    msg = str(info.value)
    assert ("allowed" in msg and "word12" in msg and "sum:<k>" in msg) or "must be in" in msg


@pytest.mark.parametrize("bad", [torch.tensor([0, 1, 2]), np.array([0.0, 0.5]), torch.tensor([float("nan")])])
def test_non_binary_bits_rejected(bad) -> None:
    with pytest.raises(ValueError, match="only 0 and 1"):
        make_transform("sum:1")(bad)


def test_input_types() -> None:
    ref = make_transform("word:4")(torch.tensor([1, 0, 1, 1], dtype=torch.uint8))
    for b in ([1, 0, 1, 1], np.array([1, 0, 1, 1], dtype=np.uint32), np.array([True, False, True, True]),
              torch.tensor([1.0, 0.0, 1.0, 1.0])):
        assert torch.equal(make_transform("word:4")(b), ref)


def test_empirical_error_of_software_noise() -> None:
    x = torch.randn(50_000, generator=torch.Generator().manual_seed(0))
    err = tr.empirical_error(x)
    assert abs(err.mean) < 0.03 and abs(err.variance - 1) < 0.04 and err.ks_distance < 0.01
