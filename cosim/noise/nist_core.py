"""The shared parts of the SP 800-22 tests (:mod:`cosim.noise.nist`): the result type, the bit-input
check and the spec's length requirements. Imports only numpy (no torch), like the tests themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

ALPHA = 0.01
"""Significance level of SP 800-22 (section 4.2.1): a p-value below it fails."""

__all__ = ["ALPHA", "NistResult", "make_result", "as_bits", "require", "min_length", "pm1"]


@dataclass(frozen=True)
class NistResult:
    """Outcome of one SP 800-22 test.

    ``p_values`` holds one p-value, or two for the serial test; ``passed`` is True when
    every p-value is >= ``alpha``. ``statistics`` holds the test statistic and the
    intermediate quantities the spec prints in its examples, for checking by hand.
    """

    name: str
    p_values: tuple[float, ...]
    passed: bool
    n_bits: int
    statistics: Mapping[str, Any] = field(default_factory=dict)
    alpha: float = ALPHA

    @property
    def p_value(self) -> float:
        """The smallest p-value (the one that decides pass/fail)."""
        return min(self.p_values)


def make_result(name: str, p_values: tuple[float, ...], n_bits: int, alpha: float = ALPHA,
            **statistics: Any) -> NistResult:
    p = tuple(float(v) for v in p_values)
    return NistResult(name=name, p_values=p, passed=all(v >= alpha for v in p), n_bits=int(n_bits),
                      statistics=statistics, alpha=alpha)


# --------------------------------------------------------------------------- input checks

def as_bits(bits: Any, test: str = "nist") -> np.ndarray:
    """Validate a bit sequence and return it as a 1-D uint8 array of 0/1.

    Accepts numpy/bool/int/float arrays (and CPU torch tensors via ``np.asarray``) whose
    values are exactly 0 or 1, or a string of '0'/'1' (whitespace ignored, as the spec
    prints its examples in groups). Anything else raises ``ValueError`` naming ``test``.
    """
    if isinstance(bits, str):
        s = "".join(bits.split())
        if s.strip("01"):
            bad = next(c for c in s if c not in "01")
            raise ValueError(f"{test}: bit string must contain only '0' and '1', found {bad!r}")
        return np.frombuffer(s.encode("ascii"), dtype=np.uint8) - np.uint8(ord("0"))
    arr = np.asarray(bits)
    if arr.ndim != 1:
        raise ValueError(f"{test}: input must be a 1-D sequence of bits, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{test}: input must be numeric 0/1 values, got dtype {arr.dtype}")
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{test}: input must contain only 0 and 1, found {arr[i]!r} at index {i}")
    return arr.astype(np.uint8)


def require(condition: bool, test: str, requirement: str, got: str) -> None:
    if not condition:
        raise ValueError(f"{test}: SP 800-22 requires {requirement}, got {got}")


def min_length(n: int, minimum: int, test: str, strict: bool) -> None:
    require(n >= 1, test, "a non-empty sequence", "n = 0")
    if strict:
        require(n >= minimum, test, f"n >= {minimum} bits (pass strict=False only to reproduce "
                 "the spec's short worked examples)", f"n = {n}")


def pm1(e: np.ndarray) -> np.ndarray:
    """Bits 0/1 -> -1/+1 (int64), the X_i = 2*eps_i - 1 of the spec."""
    return 2 * e.astype(np.int64) - 1
