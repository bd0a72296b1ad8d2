"""SP 800-22 tests against the spec's worked examples (section 2.x.4 / 2.x.8) and appendix B.

The 100-bit examples use the first 100 bits of the binary expansion of pi (the spec
prints them; they are recomputed here with Machin's formula), the 128-bit longest-run
example is printed in 2.4.8, and the long examples use the first 10^6 bits of the binary
expansion of e *including* its integer part "10" (the spec's data.e), recomputed exactly
with integer arithmetic.
"""

from __future__ import annotations

import math
import subprocess
import sys
from functools import lru_cache

import numpy as np
import pytest

from cosim.noise import nist

PI_100 = ("11001001000011111101101010100010001000010110100011"
          "00001000110100110001001100011001100010100010111000")
LONGEST_RUN_128 = ("11001100000101010110110001001100111000000000001001"
                   "00110101010001000100111101011010000000110101111100"
                   "1100111001101101100010110010")


def _int_to_bits(x: int, n_bits: int) -> np.ndarray:
    """The n_bits most significant binary digits of a positive integer, as uint8 0/1."""
    x >>= max(0, x.bit_length() - n_bits)
    raw = np.frombuffer(x.to_bytes((x.bit_length() + 7) // 8, "big"), dtype=np.uint8)
    bits = np.unpackbits(raw)
    return bits[bits.size - x.bit_length():][:n_bits]


@lru_cache(maxsize=None)
def pi_bits(n_bits: int) -> np.ndarray:
    """Leading binary digits of pi (11.0010...), Machin's formula in fixed point."""
    guard = 32
    one = 1 << (n_bits + guard)

    def arctan_inv(x: int) -> int:
        total = term = one // x
        k, sign = 1, -1
        while term:
            term //= x * x
            total += sign * (term // (2 * k + 1))
            sign, k = -sign, k + 1
        return total

    return _int_to_bits(16 * arctan_inv(5) - 4 * arctan_inv(239), n_bits)


@lru_cache(maxsize=None)
def e_bits(n_bits: int) -> np.ndarray:
    """Leading binary digits of e (10.1011...), sum 1/k! by binary splitting, exact integers."""
    def pq(a: int, b: int) -> tuple[int, int]:
        if b - a == 1:
            return 1, b
        mid = (a + b) // 2
        p1, q1 = pq(a, mid)
        p2, q2 = pq(mid, b)
        return p1 * q2 + p2, q1 * q2

    terms, log2_fact = 1, 0.0
    while log2_fact < n_bits + 64:  # truncation error 1/N! far below the last bit kept
        terms += 1
        log2_fact += math.log2(terms)
    p, q = pq(0, terms)
    return _int_to_bits(((p + q) << (n_bits + 8)) // q, n_bits)


@pytest.fixture(scope="module")
def e_million() -> np.ndarray:
    return e_bits(1_000_000)


def test_reference_sequences() -> None:
    assert "".join(map(str, pi_bits(100))) == PI_100
    assert "".join(map(str, e_bits(16))) == "1010110111111000"  # e = 10.10110111111000...b
    assert len(LONGEST_RUN_128) == 128


def _close(p: float, printed: str) -> bool:
    """p agrees with a printed p-value to the printed number of decimals."""
    decimals = len(printed.split(".")[1])
    return abs(p - float(printed)) <= 0.5 * 10.0 ** -decimals + 1e-12


# (test, kwargs, bits, printed p-values); strict=False for the spec's short sequences
WORKED_EXAMPLES = [
    ("frequency", {}, "1011010101", ("0.527089",)),
    ("frequency", {}, PI_100, ("0.109599",)),
    ("block_frequency", {"block_size": 3}, "0110011010", ("0.801252",)),
    ("block_frequency", {"block_size": 10}, PI_100, ("0.706438",)),
    ("runs", {}, "1001101011", ("0.147232",)),
    ("runs", {}, PI_100, ("0.500798",)),
    ("longest_run_of_ones", {}, LONGEST_RUN_128, ("0.180609",)),
    ("serial", {"m": 3}, "0011011101", ("0.808792", "0.670320")),
    ("approximate_entropy", {"m": 3}, "0100110101", ("0.261961",)),
    ("approximate_entropy", {"m": 2}, PI_100, ("0.235301",)),
    ("cumulative_sums", {}, PI_100, ("0.219194",)),
    ("cumulative_sums", {"reverse": True}, PI_100, ("0.114866",)),
]


@pytest.mark.parametrize("test, kwargs, bits, printed", WORKED_EXAMPLES,
                         ids=[f"{w[0]}-{len(w[2])}-{i}" for i, w in enumerate(WORKED_EXAMPLES)])
def test_worked_examples(test, kwargs, bits, printed) -> None:
    result = getattr(nist, test)(bits, strict=False, **kwargs)
    assert len(result.p_values) == len(printed)
    for p, want in zip(result.p_values, printed):
        assert _close(p, want), f"{test}: p = {p:.7f}, spec prints {want}"


def test_worked_example_statistics() -> None:
    """Intermediate values the spec prints, so a right p-value cannot come from a wrong path."""
    assert nist.frequency(PI_100, strict=False).statistics["S_n"] == -16
    assert nist.runs(PI_100, strict=False).statistics["V_obs"] == 52
    lr = nist.longest_run_of_ones(LONGEST_RUN_128, strict=False)
    assert lr.statistics["v"] == (4, 9, 3, 0)
    assert lr.statistics["chi2"] == pytest.approx(4.882457, abs=5e-7)
    s = nist.serial("0011011101", m=3, strict=False).statistics
    assert (s["psi2_m"], s["psi2_m1"], s["psi2_m2"]) == pytest.approx((2.8, 1.2, 0.4))
    assert nist.approximate_entropy(PI_100, m=2, strict=False).statistics["ApEn"] == pytest.approx(
        0.665393, abs=5e-7)
    assert nist.cumulative_sums(PI_100, strict=False).statistics["z"] == 16
    assert nist.cumulative_sums(PI_100, reverse=True, strict=False).statistics["z"] == 19


def test_cusum_short_example() -> None:
    # The spec prints 0.4116588; its own formula (bounds as in NIST's code, normal CDF to
    # double precision, checked with mpmath at 30 digits) gives 0.41165862: the printed
    # 7th digit is off by 2e-7, so this example is checked to 6 decimals.
    p = nist.cumulative_sums("1011010111", strict=False).p_value
    assert p == pytest.approx(0.4116586, abs=1e-7)
    assert _close(p, "0.411659")


def test_e_million_bits(e_million) -> None:
    """Serial example 2.11.8 (m = 2) and NIST's appendix B results for 10^6 bits of e."""
    e = e_million
    checks = [
        (nist.serial(e, m=2), ("0.843764", "0.561915")),
        (nist.frequency(e), ("0.953749",)),
        (nist.block_frequency(e, block_size=128, strict=False), ("0.211072",)),  # N = 7812 >= 100
        (nist.runs(e), ("0.561917",)),
        (nist.longest_run_of_ones(e, pi_table="nist"), ("0.718945",)),
        (nist.dft(e), ("0.847187",)),
        (nist.approximate_entropy(e, m=10), ("0.700073",)),
        (nist.serial(e, m=16), ("0.766182", "0.462921")),
        (nist.cumulative_sums(e), ("0.669886",)),
        (nist.cumulative_sums(e, reverse=True), ("0.724265",)),
    ]
    for result, printed in checks:
        for p, want in zip(result.p_values, printed, strict=True):
            assert _close(p, want), f"{result.name}: p = {p:.7f}, NIST prints {want}"
    # exact class probabilities move the M = 10^4 longest-run p-value only slightly
    exact = nist.longest_run_of_ones(e).p_value
    assert exact == pytest.approx(0.718945, abs=2e-3) and exact != pytest.approx(0.718945, abs=1e-5)


def test_longest_run_probabilities_exact() -> None:
    assert nist.longest_run_class_probabilities(8, 1, 4) == (55 / 256, 94 / 256, 59 / 256, 48 / 256)
    ref = (0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847)
    assert nist.longest_run_class_probabilities(128, 4, 9) == pytest.approx(ref, abs=1e-9)
    assert sum(nist.longest_run_class_probabilities(10_000, 10, 16)) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def fair_million() -> np.ndarray:
    return np.random.default_rng(20240601).integers(0, 2, size=1_000_000, dtype=np.uint8)


def test_fair_bits_pass_everything(fair_million) -> None:
    results = nist.run_all(fair_million)
    assert [r.name for r in results] == [
        "frequency", "block_frequency", "runs", "longest_run_of_ones", "dft", "serial",
        "approximate_entropy", "cumulative_sums_forward", "cumulative_sums_backward"]
    failed = [(r.name, r.p_values) for r in results if not r.passed]
    assert not failed
    report = nist.bias_and_serial_correlation(fair_million)
    assert report.consistent_with_fair
    assert report.ones_ci99[0] < 0.5 < report.ones_ci99[1]
    assert abs(report.serial_corr_lag1) < report.serial_corr_bound99


def test_biased_bits_fail_frequency() -> None:
    bits = (np.random.default_rng(7).random(1_000_000) < 0.45).astype(np.uint8)
    result = nist.frequency(bits)
    assert not result.passed and result.p_value < 1e-100
    report = nist.bias_and_serial_correlation(bits)
    assert report.ones_ci99[1] < 0.5 and not report.consistent_with_fair


def test_correlated_bits_detected() -> None:
    rng = np.random.default_rng(3)
    flips = rng.random(100_000) < 0.4  # each bit repeats the previous one with probability 0.6
    bits = (np.cumsum(flips) % 2).astype(np.uint8)
    report = nist.bias_and_serial_correlation(bits)
    assert report.serial_corr_lag1 == pytest.approx(0.2, abs=0.02)
    assert not report.consistent_with_fair
    assert not nist.runs(bits).passed


def test_wilson_interval_known_value() -> None:
    # 30 ones in 100 bits, z = 2.575829 (mpmath, 20 digits): centre (0.3 + z^2/200) /
    # (1 + z^2/100) = 0.3124441, half width z / (1 + z^2/100) * sqrt(0.21/100 + z^2/40000) = 0.1149835
    report = nist.bias_and_serial_correlation(np.array([1] * 30 + [0] * 70))
    assert report.ones_fraction == 0.3
    assert report.ones_ci99 == pytest.approx((0.1974607, 0.4274276), abs=1e-7)


def test_input_types_agree() -> None:
    bits = np.random.default_rng(1).integers(0, 2, size=2000)
    ref = nist.frequency(bits).p_value
    for variant in (bits.astype(bool), bits.astype(np.uint8), bits.astype(float), list(bits),
                    "".join(map(str, bits))):
        assert nist.frequency(variant).p_value == ref


@pytest.mark.parametrize("bad, needle", [
    (np.array([0, 1, 2, 1] * 50), "only 0 and 1"),
    (np.array([0.0, 1.0, 0.5] * 50), "only 0 and 1"),
    (np.array([0.0, np.nan] * 100), "only 0 and 1"),
    (np.zeros((10, 20), dtype=np.uint8), "1-D"),
    ("0101x", "only '0' and '1'"),
    (np.array(["0", "1"] * 100), "numeric"),
])
def test_non_binary_input_rejected(bad, needle) -> None:
    with pytest.raises(ValueError, match=needle) as info:
        nist.runs(bad)
    assert str(info.value).startswith("runs:")


@pytest.mark.parametrize("call, needle", [
    (lambda b: nist.frequency(b[:99]), r"frequency: .*n >= 100"),
    (lambda b: nist.block_frequency(b[:99]), r"block_frequency: .*n >= 100"),
    (lambda b: nist.block_frequency(b[:1000], block_size=10), r"block_frequency: .*M >= 20"),
    (lambda b: nist.block_frequency(b[:100_000], block_size=128), r"block_frequency: .*0.01 n"),
    (lambda b: nist.runs(b[:50]), r"runs: .*n >= 100"),
    (lambda b: nist.longest_run_of_ones(b[:127], strict=False), r"longest_run_of_ones: .*n >= 128"),
    (lambda b: nist.dft(b[:999]), r"dft: .*n >= 1000"),
    (lambda b: nist.serial(b[:1024], m=8), r"serial: .*m < floor\(log2 n\) - 2 = 8"),
    (lambda b: nist.serial(b[:1024], m=1, strict=False), r"serial: .*m >= 2"),
    (lambda b: nist.approximate_entropy(b[:1024], m=5), r"approximate_entropy: .*floor\(log2 n\) - 5"),
    (lambda b: nist.cumulative_sums(b[:10]), r"cumulative_sums_forward: .*n >= 100"),
    (lambda b: nist.frequency(b[:0], strict=False), r"frequency: .*non-empty"),
    (lambda b: nist.run_all(b[:999]), r"run_all: .*n >= 1000"),
])
def test_too_short_or_bad_parameters_rejected(call, needle) -> None:
    bits = np.random.default_rng(2).integers(0, 2, size=100_000, dtype=np.uint8)
    with pytest.raises(ValueError, match=needle):
        call(bits)


def test_runs_prerequisite() -> None:
    bits = np.array([1] * 75 + [0] * 25, dtype=np.uint8)  # |pi - 1/2| = 0.25 >= 2/sqrt(100)
    result = nist.runs(bits)
    assert result.p_value == 0.0 and not result.passed and result.statistics["prerequisite_failed"]


def test_import_does_not_pull_torch() -> None:
    code = "import sys, cosim.noise.nist; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
