"""NIST SP 800-22 rev1a statistical tests, implemented from the specification.

Why here: the TRNG's bits (SPICE runs, recorded streams, the MTJ emulator) must be
shown to be random before they are turned into diffusion noise, and a wrong p-value
silently passes a biased generator. PyPI's ``nistrng`` gives wrong p-values, so the
tests are written directly from SP 800-22 rev1a (April 2010) section 2 and checked
against its worked examples (``tests/test_nist.py``).

Implemented: frequency (2.1), block frequency (2.2), runs (2.3), longest run of ones
in a block (2.4), discrete Fourier transform (2.6), serial (2.11), approximate entropy
(2.12) and cumulative sums (2.13, forward and backward). Input is a 1-D array of 0/1
(numpy uint8/bool/int, or a string of '0'/'1'). Each test returns a
:class:`NistResult`; the decision rule is the spec's: random if every p-value >= alpha
(alpha = 0.01).

Sequence length: by default (``strict=True``) each test enforces the minimum input
size the spec recommends for it (section 2.x.7) and raises ``ValueError`` naming the
test and the requirement. ``strict=False`` only enforces what the arithmetic needs,
so the spec's 10-bit worked examples can be reproduced; p-values of such short
sequences are not meaningful.

This module deliberately imports only numpy and scipy (no torch), so it can check
bit files anywhere.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from scipy.special import erfc, gammaincc, ndtr, ndtri

from cosim.noise.nist_core import ALPHA, NistResult, as_bits, make_result, min_length, pm1, require

__all__ = [
    "ALPHA", "NistResult", "BiasReport", "as_bits",
    "frequency", "block_frequency", "runs", "longest_run_of_ones", "dft",
    "serial", "approximate_entropy", "cumulative_sums",
    "run_all", "bias_and_serial_correlation", "longest_run_class_probabilities",
]


# --------------------------------------------------------------------------- 2.1 frequency

def frequency(bits: Any, *, strict: bool = True) -> NistResult:
    """2.1 Frequency (monobit): are ones and zeros equally frequent over the whole sequence?

    s_obs = |sum(2 eps - 1)| / sqrt(n), P = erfc(s_obs / sqrt 2). Minimum n = 100.
    """
    name = "frequency"
    e = as_bits(bits, name)
    n = e.size
    min_length(n, 100, name, strict)
    s_n = int(pm1(e).sum())
    s_obs = abs(s_n) / math.sqrt(n)
    return make_result(name, (erfc(s_obs / math.sqrt(2.0)),), n, S_n=s_n, s_obs=s_obs)


# --------------------------------------------------------------------------- 2.2 block frequency

def block_frequency(bits: Any, block_size: int | None = None, *, strict: bool = True) -> NistResult:
    """2.2 Frequency within a block: is the fraction of ones ~1/2 in every M-bit block?

    chi2 = 4 M sum_i (pi_i - 1/2)^2 over N = n // M blocks, P = igamc(N/2, chi2/2).
    Spec 2.2.7: n >= 100, M >= 20, M > 0.01 n, N < 100. The default M is the smallest
    block size meeting all of these, max(20, n // 100 + 1).
    """
    name = "block_frequency"
    e = as_bits(bits, name)
    n = e.size
    min_length(n, 100, name, strict)
    m = max(20, n // 100 + 1) if block_size is None else int(block_size)
    require(1 <= m <= n, name, "1 <= block size M <= n", f"M = {m}, n = {n}")
    n_blocks = n // m
    if strict:
        require(m >= 20, name, "block size M >= 20", f"M = {m}")
        require(m > 0.01 * n, name, "block size M > 0.01 n", f"M = {m}, n = {n}")
        require(n_blocks < 100, name, "fewer than 100 blocks (N = n // M < 100)", f"N = {n_blocks}")
    blocks = e[: n_blocks * m].reshape(n_blocks, m)
    pi = blocks.sum(axis=1, dtype=np.int64) / m
    chi2 = 4.0 * m * float(np.sum((pi - 0.5) ** 2))
    return make_result(name, (gammaincc(n_blocks / 2.0, chi2 / 2.0),), n, chi2=chi2, M=m, N=n_blocks)


# --------------------------------------------------------------------------- 2.3 runs

def runs(bits: Any, *, strict: bool = True) -> NistResult:
    """2.3 Runs: is the number of runs (maximal blocks of equal bits) as expected?

    Too few runs means slow oscillation (bit-to-bit correlation), too many means fast.
    Spec prerequisite: if the frequency is off, |pi - 1/2| >= 2/sqrt(n), the test is not
    run and P = 0. Otherwise P = erfc(|V - 2 n pi (1-pi)| / (2 sqrt(2n) pi (1-pi))).
    Minimum n = 100.
    """
    name = "runs"
    e = as_bits(bits, name)
    n = e.size
    min_length(n, 100, name, strict)
    pi = float(e.sum(dtype=np.int64)) / n
    tau = 2.0 / math.sqrt(n)
    if abs(pi - 0.5) >= tau:
        return make_result(name, (0.0,), n, pi=pi, tau=tau, V_obs=float("nan"), prerequisite_failed=True)
    v_obs = 1 + int(np.count_nonzero(e[1:] != e[:-1]))
    num = abs(v_obs - 2.0 * n * pi * (1.0 - pi))
    den = 2.0 * math.sqrt(2.0 * n) * pi * (1.0 - pi)
    return make_result(name, (erfc(num / den),), n, pi=pi, tau=tau, V_obs=v_obs, prerequisite_failed=False)


# --------------------------------------------------------------------------- 2.4 longest run

# (minimum n, block length M, lowest class "<= v_lo", highest class ">= v_hi"), spec 2.4.2 / 2.4.4
_LONGEST_RUN_TABLE = ((750_000, 10_000, 10, 16), (6_272, 128, 4, 9), (128, 8, 1, 4))


@lru_cache(maxsize=None)
def longest_run_class_probabilities(block_size: int, v_lo: int, v_hi: int) -> tuple[float, ...]:
    """Exact probabilities pi_i that the longest run of ones in M fair bits falls in each class.

    Classes are ``<= v_lo, v_lo+1, ..., v_hi-1, >= v_hi``. Computed exactly (integer
    counts of M-bit strings with no run longer than r) instead of using the 4-digit values
    of spec section 3.4: the exact values are what reproduce the spec's worked example
    (chi2 = 4.882457 for M = 8), and for M = 8 and 128 they equal the values in NIST's
    reference code.
    """
    m = block_size

    def count_max_run_le(r: int) -> int:
        # strings of length L with no run of ones longer than r: f(L) = 2^L for L <= r, else
        # f(L) = sum_{i=0}^{r} f(L - 1 - i) (split at the first 0, preceded by i ones)
        f = [1 << k for k in range(r + 1)]
        for length in range(r + 1, m + 1):
            f.append(sum(f[length - r - 1: length]))
        return f[m]

    cdf = [Fraction(count_max_run_le(r), 1 << m) for r in range(v_lo, v_hi)]
    probs = [cdf[0]] + [cdf[i] - cdf[i - 1] for i in range(1, len(cdf))] + [1 - cdf[-1]]
    return tuple(float(p) for p in probs)


def _longest_runs_per_row(blocks: np.ndarray) -> np.ndarray:
    """Longest run of ones in each row of a 2-D 0/1 array, without a loop over rows or bits."""
    n_rows, m = blocks.shape
    padded = np.zeros((n_rows, m + 2), dtype=np.int8)
    padded[:, 1:-1] = blocks
    d = np.diff(padded.ravel())
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)  # runs never cross a row boundary thanks to the zero padding
    longest = np.zeros(n_rows, dtype=np.int64)
    np.maximum.at(longest, starts // (m + 2), ends - starts)
    return longest


# Class probabilities in NIST's reference implementation (sts-2.1.2): exact for M = 8 and
# 128, but for M = 10^4 the approximate values printed in spec section 3.4 (they differ
# from the exact ones in the second or third digit, e.g. 0.0882 vs 0.08663).
_NIST_LONGEST_RUN_PI = {
    8: (0.21484375, 0.3671875, 0.23046875, 0.1875),
    128: (0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847),
    10_000: (0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727),
}


def longest_run_of_ones(bits: Any, *, pi_table: str = "exact", strict: bool = True) -> NistResult:
    """2.4 Longest run of ones in a block: is the longest run in each M-bit block as expected?

    M (and the K+1 classes) follow the spec's table from n: M = 8 for n >= 128, 128 for
    n >= 6272, 10^4 for n >= 750000; N = n // M blocks. chi2 = sum (v_i - N pi_i)^2 /
    (N pi_i), P = igamc(K/2, chi2/2). Minimum n = 128 (the table has no row below),
    enforced also with ``strict=False``.

    ``pi_table="exact"`` (default) uses the exact class probabilities; ``"nist"`` uses
    the reference implementation's table, which differs only for M = 10^4 and is needed
    to reproduce NIST's published p-values for n >= 750000.
    """
    name = "longest_run_of_ones"
    e = as_bits(bits, name)
    n = e.size
    if pi_table not in ("exact", "nist"):
        raise ValueError(f"{name}: pi_table must be 'exact' or 'nist', got {pi_table!r}")
    require(n >= 128, name, "n >= 128 bits (smallest row of the M table)", f"n = {n}")
    _, m, v_lo, v_hi = next(row for row in _LONGEST_RUN_TABLE if n >= row[0])
    n_blocks = n // m
    longest = _longest_runs_per_row(e[: n_blocks * m].reshape(n_blocks, m))
    k = v_hi - v_lo
    v = np.bincount(np.clip(longest, v_lo, v_hi) - v_lo, minlength=k + 1)
    pi = np.array(longest_run_class_probabilities(m, v_lo, v_hi) if pi_table == "exact"
                  else _NIST_LONGEST_RUN_PI[m])
    expected = n_blocks * pi
    chi2 = float(np.sum((v - expected) ** 2 / expected))
    return make_result(name, (gammaincc(k / 2.0, chi2 / 2.0),), n, chi2=chi2, M=m, N=n_blocks, K=k,
                   v=tuple(int(x) for x in v))


# --------------------------------------------------------------------------- 2.6 DFT

def dft(bits: Any, *, strict: bool = True) -> NistResult:
    """2.6 Discrete Fourier transform (spectral): are there too many periodic peaks?

    Counts how many of the first n/2 DFT moduli of 2 eps - 1 lie below the 95 % threshold
    T = sqrt(ln(1/0.05) n); d = (N1 - N0) / sqrt(n 0.95 0.05 / 4) with N0 = 0.95 n / 2
    (rev1a's corrected variance), P = erfc(|d| / sqrt 2). Minimum n = 1000.

    This is the reference implementation's algorithm and reproduces NIST's published
    p-value for 10^6 bits of e (0.847187). The short examples of spec 2.6.4/2.6.8 print
    N1 values (4 of 5, 46 of 50) that no threshold consistent with T gives, so they are
    not reproduced.
    """
    name = "dft"
    e = as_bits(bits, name)
    n = e.size
    min_length(n, 1000, name, strict)
    require(n >= 2, name, "n >= 2 bits", f"n = {n}")
    modulus = np.abs(np.fft.rfft(pm1(e).astype(np.float64)))[: n // 2]
    t = math.sqrt(math.log(1.0 / 0.05) * n)
    n0 = 0.95 * n / 2.0
    n1 = int(np.count_nonzero(modulus < t))
    d = (n1 - n0) / math.sqrt(n * 0.95 * 0.05 / 4.0)
    return make_result(name, (erfc(abs(d) / math.sqrt(2.0)),), n, T=t, N0=n0, N1=n1, d=d)


# --------------------------------------------------------------------------- 2.11 / 2.12 pattern counts

def _overlapping_counts(e: np.ndarray, m: int) -> np.ndarray:
    """Counts of all 2^m overlapping m-bit patterns, the sequence extended circularly by m-1 bits.

    The loop runs over the m bit positions of a pattern, not over the sequence.
    """
    n = e.size
    if m == 0:
        return np.array([n], dtype=np.int64)
    aug = np.concatenate([e, e[: m - 1]]).astype(np.int64)
    idx = np.zeros(n, dtype=np.int64)
    for j in range(m):
        idx = (idx << 1) | aug[j: j + n]
    return np.bincount(idx, minlength=1 << m)


def _psi2(e: np.ndarray, m: int) -> float:
    """psi^2_m of the serial test, in exact integer arithmetic (psi^2_0 = psi^2_-1 = 0)."""
    if m <= 0:
        return 0.0
    n = e.size
    counts = _overlapping_counts(e, m)
    sum_sq = int(np.dot(counts, counts))
    return float(Fraction((1 << m) * sum_sq - n * n, n))


def _check_pattern_length(n: int, m: int, margin: int, test: str, strict: bool, m_min: int) -> None:
    require(m >= m_min, test, f"pattern length m >= {m_min}", f"m = {m}")
    require(m <= n, test, "pattern length m <= n", f"m = {m}, n = {n}")
    if strict:
        limit = int(math.floor(math.log2(n))) - margin
        require(m < limit, test, f"m < floor(log2 n) - {margin} = {limit}", f"m = {m}, n = {n}")


def serial(bits: Any, m: int | None = None, *, strict: bool = True) -> NistResult:
    """2.11 Serial: are all 2^m overlapping m-bit patterns equally frequent?

    del psi2 = psi2_m - psi2_{m-1}, del2 psi2 = psi2_m - 2 psi2_{m-1} + psi2_{m-2};
    P1 = igamc(2^(m-2), del/2), P2 = igamc(2^(m-3), del2/2). Spec 2.11.7:
    m < floor(log2 n) - 2; default m = min(16, floor(log2 n) - 3). m >= 2 always.
    """
    name = "serial"
    e = as_bits(bits, name)
    n = e.size
    require(n >= 1, name, "a non-empty sequence", "n = 0")
    if m is None:
        m = min(16, int(math.floor(math.log2(n))) - 3)
    _check_pattern_length(n, m, 2, name, strict, m_min=2)
    psi_m, psi_m1, psi_m2 = _psi2(e, m), _psi2(e, m - 1), _psi2(e, m - 2)
    del1 = psi_m - psi_m1
    del2 = psi_m - 2.0 * psi_m1 + psi_m2
    p1 = gammaincc(2.0 ** (m - 2), del1 / 2.0)
    p2 = gammaincc(2.0 ** (m - 3), del2 / 2.0)
    return make_result(name, (p1, p2), n, m=m, psi2_m=psi_m, psi2_m1=psi_m1, psi2_m2=psi_m2,
                   del_psi2=del1, del2_psi2=del2)


def approximate_entropy(bits: Any, m: int | None = None, *, strict: bool = True) -> NistResult:
    """2.12 Approximate entropy: do m- and (m+1)-bit overlapping patterns carry full entropy?

    phi(m) = sum_i pi_i ln pi_i over circular m-bit pattern frequencies,
    ApEn = phi(m) - phi(m+1), chi2 = 2 n (ln 2 - ApEn), P = igamc(2^(m-1), chi2/2).
    Spec 2.12.7: m < floor(log2 n) - 5; default m = min(10, floor(log2 n) - 6). m >= 1.
    """
    name = "approximate_entropy"
    e = as_bits(bits, name)
    n = e.size
    require(n >= 1, name, "a non-empty sequence", "n = 0")
    if m is None:
        m = min(10, int(math.floor(math.log2(n))) - 6)
    _check_pattern_length(n, m, 5, name, strict, m_min=1)

    def phi(mm: int) -> float:
        c = _overlapping_counts(e, mm)
        c = c[c > 0] / n
        return float(np.sum(c * np.log(c)))

    phi_m, phi_m1 = phi(m), phi(m + 1)
    apen = phi_m - phi_m1
    chi2 = 2.0 * n * (math.log(2.0) - apen)
    return make_result(name, (gammaincc(2.0 ** (m - 1), chi2 / 2.0),), n, m=m, phi_m=phi_m, phi_m1=phi_m1,
                   ApEn=apen, chi2=chi2)


# --------------------------------------------------------------------------- 2.13 cumulative sums

def _c_div(a: int, b: int) -> int:
    """Integer division truncating toward zero (C semantics), as NIST's reference code bounds the sums."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def cumulative_sums(bits: Any, reverse: bool = False, *, strict: bool = True) -> NistResult:
    """2.13 Cumulative sums: does the random walk of 2 eps - 1 stray too far from zero?

    z = max_k |S_k| (forward, or over the reversed sequence when ``reverse``), and P from
    the spec's finite sums of normal-CDF differences; the summation bounds
    (+-n/z + 1 or 3)/4 are evaluated with truncating integer division as in NIST's
    reference implementation. Minimum n = 100.
    """
    name = "cumulative_sums_" + ("backward" if reverse else "forward")
    e = as_bits(bits, name)
    n = e.size
    min_length(n, 100, name, strict)
    x = pm1(e[::-1] if reverse else e)
    z = int(np.max(np.abs(np.cumsum(x))))
    sqrt_n = math.sqrt(n)
    nz = _c_div(n, z)
    k1 = np.arange(_c_div(-nz + 1, 4), _c_div(nz - 1, 4) + 1, dtype=np.float64)
    k2 = np.arange(_c_div(-nz - 3, 4), _c_div(nz - 1, 4) + 1, dtype=np.float64)
    sum1 = np.sum(ndtr((4 * k1 + 1) * z / sqrt_n) - ndtr((4 * k1 - 1) * z / sqrt_n))
    sum2 = np.sum(ndtr((4 * k2 + 3) * z / sqrt_n) - ndtr((4 * k2 + 1) * z / sqrt_n))
    p = min(1.0, max(0.0, 1.0 - float(sum1) + float(sum2)))
    return make_result(name, (p,), n, z=z)


# --------------------------------------------------------------------------- batteries

def run_all(bits: Any) -> list[NistResult]:
    """Run every implemented test with spec-compliant default parameters (strict checks).

    Needs n >= 1000 (the DFT test's minimum); order: frequency, block frequency, runs,
    longest run, DFT, serial, approximate entropy, cumulative sums forward and backward.
    """
    e = as_bits(bits, "run_all")
    require(e.size >= 1000, "run_all", "n >= 1000 bits (the DFT test's minimum)", f"n = {e.size}")
    return [
        frequency(e), block_frequency(e), runs(e), longest_run_of_ones(e), dft(e),
        serial(e), approximate_entropy(e), cumulative_sums(e), cumulative_sums(e, reverse=True),
    ]


class BiasReport(NamedTuple):
    """Bias and lag-1 correlation of a bit stream: the two defects a VCMA-MTJ TRNG shows first.

    ``ones_ci99`` is the Wilson 99 % interval of P(1); ``serial_corr_lag1`` the Pearson
    correlation of bit i with bit i+1 (NaN for a constant stream), whose standard error
    under independence is ~1/sqrt(n). ``consistent_with_fair``: 1/2 inside the interval
    and |r| below the two-sided 99 % bound 2.576/sqrt(n-1).
    """

    n_bits: int
    ones_fraction: float
    ones_ci99: tuple[float, float]
    serial_corr_lag1: float
    serial_corr_bound99: float
    consistent_with_fair: bool


def bias_and_serial_correlation(bits: Any) -> BiasReport:
    """Fraction of ones with its Wilson 99 % interval, and the lag-1 serial correlation."""
    e = as_bits(bits, "bias_and_serial_correlation")
    n = e.size
    require(n >= 2, "bias_and_serial_correlation", "n >= 2 bits", f"n = {n}")
    z = float(ndtri(1.0 - ALPHA / 2.0))
    p_hat = float(e.sum(dtype=np.int64)) / n
    denom = 1.0 + z * z / n
    centre = (p_hat + z * z / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p_hat * (1.0 - p_hat) / n + z * z / (4.0 * n * n))
    a, b = e[:-1].astype(np.float64), e[1:].astype(np.float64)
    a -= a.mean()
    b -= b.mean()
    den = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    r = float(np.dot(a, b)) / den if den > 0 else float("nan")
    bound = z / math.sqrt(n - 1)
    lo, hi = max(0.0, centre - half), min(1.0, centre + half)
    fair = bool(lo <= 0.5 <= hi and abs(r) < bound)  # NaN r -> False
    return BiasReport(n, p_hat, (lo, hi), r, bound, fair)
