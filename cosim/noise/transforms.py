"""Bits -> standard normal samples: the documented, selectable transforms of the noise model.

Why: a diffusion model wants N(0, 1) noise but a TRNG gives bits. How the bits become
Gaussian is part of the noise model (docs/design.md, "cosim.noise"), so
each transform states its cost in bits per sample and reports its own error against
N(0, 1), computed exactly from its discrete output distribution.

Transforms (names for :func:`make_transform`):

* ``sum:k`` -- centred, scaled sum of k bits, (2 S - k) / sqrt(k) with S ~ Binomial(k, 1/2).
  Mean 0 and variance exactly 1 for fair bits; the shape is Gaussian only by the CLT
  (KS distance ~0.4/sqrt(k)), so it is cheap to build in hardware but coarse.
* ``word:n`` -- an n-bit word (MSB first) -> u = (w + 0.5) / 2^n -> x = Phi^-1(u).
  KS distance exactly 2^-(n+1); the tails are cut at |x| <= Phi^-1(1 - 2^-(n+1))
  (2.89 for n = 8, 3.67 for n = 12, 4.17 for n = 16), variance slightly below 1.

Optional whitening of the raw bit stream (suffix ``+xor`` or ``+vn``):

* ``xor`` -- XOR of adjacent pairs (2 raw bits -> 1). Bias p - 1/2 = b becomes -2 b^2.
* ``vn`` -- von Neumann: pairs 01 -> 0, 10 -> 1, 00 and 11 dropped. Output is exactly
  unbiased for independent bits of any bias, but the number of output bits is random
  (on average p (1 - p) per raw bit, i.e. 4 raw bits per output bit when fair).

Torch tensors in and out; bits are uint8 0/1 tensors; samples are float32.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from typing import Any, Callable, NamedTuple

import numpy as np
import torch
from scipy.special import ndtr, ndtri
from scipy.stats import binom, kstest

from cosim.noise.defaults import DEFAULT_TRANSFORM

__all__ = [
    "TransformError", "BitsToNormal", "SumOfBits", "UniformWords", "xor_pairs", "von_neumann",
    "as_bit_tensor", "make_transform", "available_transforms", "empirical_error",
    "PRESETS", "WHITENINGS", "DEFAULT_TRANSFORM", "NORMAL_TAIL_MASS_3SIGMA",
]

NORMAL_TAIL_MASS_3SIGMA = float(2.0 * ndtr(-3.0))
"""P(|X| > 3) for X ~ N(0, 1) = 2 Phi(-3) = 0.0026998."""

WHITENINGS = ("none", "xor", "vn")

PRESETS = {
    "sum8": "sum:8", "sum16": "sum:16", "sum32": "sum:32", "sum64": "sum:64",
    "word8": "word:8", "word12": "word:12", "word16": "word:16", "word20": "word:20", "word24": "word:24",
}
"""Named presets; any ``sum:k`` / ``word:n`` with optional ``+xor`` / ``+vn`` is accepted too."""

_MAX_SUM_BITS = 4096
_MAX_WORD_BITS = 24  # float32 output cannot resolve finer words; the exact error needs 2^n atoms


class TransformError(NamedTuple):
    """Deviation of a transform's output from N(0, 1).

    ``tail_mass_3sigma`` is P(|X| > 3) of the output, to compare with
    ``tail_mass_3sigma_normal`` = 2 Phi(-3); ``ks_distance`` is sup_x |F(x) - Phi(x)|.
    """

    mean: float
    variance: float
    tail_mass_3sigma: float
    tail_mass_3sigma_normal: float
    ks_distance: float


# --------------------------------------------------------------------------- bit handling

def as_bit_tensor(bits: Any, what: str = "bits") -> torch.Tensor:
    """Validate bits (torch tensor, numpy array or sequence of 0/1) -> flat uint8 tensor.

    Non-binary values raise ``ValueError`` naming ``what``. Multi-dimensional input is
    flattened in C order.
    """
    if isinstance(bits, torch.Tensor):
        t = bits
    else:
        arr = np.asarray(bits)
        if arr.dtype.kind == "u" and arr.dtype != np.uint8:
            arr = arr.astype(np.int64)  # torch has few ops for uint16/32/64
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{what}: expected 0/1 values, got dtype {arr.dtype}")
        t = torch.as_tensor(arr)
    t = t.reshape(-1)
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    if t.is_complex() or not (t.dtype.is_floating_point or t.dtype in _INT_DTYPES):
        raise ValueError(f"{what}: expected 0/1 values, got dtype {t.dtype}")
    bad = (t != 0) & (t != 1)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0])
        raise ValueError(f"{what}: expected only 0 and 1, found {t[i].item()!r} at index {i}")
    return t.to(torch.uint8)


_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def xor_pairs(bits: Any) -> torch.Tensor:
    """XOR of adjacent pairs (b0^b1, b2^b3, ...): halves the stream, squares the bias.

    A trailing odd bit is dropped.
    """
    b = as_bit_tensor(bits, "xor_pairs")
    pairs = b[: b.numel() // 2 * 2].view(-1, 2)
    return torch.bitwise_xor(pairs[:, 0], pairs[:, 1])


def von_neumann(bits: Any) -> torch.Tensor:
    """Von Neumann extractor: pairs 01 -> 0, 10 -> 1, 00/11 dropped.

    Exactly unbiased output for independent, identically biased input; the output length
    is random (expected n p (1 - p) for n input bits). A trailing odd bit is dropped.
    """
    b = as_bit_tensor(bits, "von_neumann")
    pairs = b[: b.numel() // 2 * 2].view(-1, 2)
    return pairs[:, 0][pairs[:, 0] != pairs[:, 1]]


_WHITEN: dict[str, Callable[[Any], torch.Tensor]] = {
    "none": lambda b: as_bit_tensor(b, "whitening"), "xor": xor_pairs, "vn": von_neumann}


# --------------------------------------------------------------------------- transforms

class BitsToNormal(ABC):
    """A bits -> N(0, 1) mapping plus optional whitening of the raw stream.

    Subclasses give ``bits_per_sample`` (whitened bits per output sample), the vectorised
    mapping ``_map`` from a (samples, bits_per_sample) uint8 tensor, and the exact output
    distribution for i.i.d. bits with P(1) = p (``_atoms``).
    """

    kind: str = ""

    def __init__(self, size: int, whitening: str = "none") -> None:
        if whitening not in WHITENINGS:
            raise ValueError(f"unknown whitening {whitening!r}; allowed: {', '.join(WHITENINGS)}")
        self.size = int(size)
        self.whitening = whitening

    @property
    def bits_per_sample(self) -> int:
        """Bits the mapping consumes per sample (after whitening)."""
        return self.size

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.size}" + ("" if self.whitening == "none" else f"+{self.whitening}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BitsToNormal) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def raw_bits_exact(self) -> bool:
        """False for von Neumann whitening, whose raw-bit cost per sample is random."""
        return self.whitening != "vn"

    def expected_raw_bits_per_sample(self, p_one: float = 0.5) -> float:
        """Raw bits per sample: exact without / with XOR whitening, expected with von Neumann."""
        if self.whitening == "none":
            return float(self.bits_per_sample)
        if self.whitening == "xor":
            return 2.0 * self.bits_per_sample
        _check_p(p_one)
        yield_per_raw_bit = p_one * (1.0 - p_one)
        return self.bits_per_sample / yield_per_raw_bit if yield_per_raw_bit > 0 else math.inf

    def whiten(self, raw_bits: Any) -> torch.Tensor:
        """Apply this transform's whitening to a raw bit stream (uint8 tensor out)."""
        return _WHITEN[self.whitening](raw_bits)

    def map_bits(self, bits: Any) -> torch.Tensor:
        """Whitened bits -> float32 samples, one per ``bits_per_sample`` bits (leftover dropped)."""
        b = as_bit_tensor(bits, self.name)
        n = b.numel() // self.bits_per_sample
        return self._map(b[: n * self.bits_per_sample].view(n, self.bits_per_sample))

    def __call__(self, raw_bits: Any) -> torch.Tensor:
        """Raw bits -> whitening -> float32 samples."""
        return self.map_bits(self.whiten(raw_bits))

    def draw(self, n_samples: int, bit_source: Callable[[int], torch.Tensor]) -> tuple[torch.Tensor, int]:
        """Pull raw bits from ``bit_source(n)`` until ``n_samples`` samples can be made.

        Returns (samples, raw bits drawn). Without von Neumann the raw count is exact.
        With it, raw bits are requested in chunks sized from the observed yield (about
        4 sigma plus 16 bits more than expected, so one chunk nearly always suffices);
        whitened bits left over after the last sample are discarded but still counted as
        drawn, so each call is self-contained and seeded calls are reproducible. A
        stream that yields almost nothing (a stuck cell) raises ``ValueError``.
        """
        need = n_samples * self.bits_per_sample
        if self.whitening != "vn":
            n_raw = need * (2 if self.whitening == "xor" else 1)
            raw = _checked(bit_source(n_raw), n_raw, self.name) if n_raw else torch.zeros(0, dtype=torch.uint8)
            return self(raw), n_raw
        chunks, have, n_raw = [], 0, 0
        while have < need:
            if n_raw >= 4096 and have * 1024 < n_raw:  # yield < 1/1024, i.e. P(1) outside ~[0.001, 0.999]
                raise ValueError(f"{self.name}: von Neumann whitening got {have} bits from {n_raw} raw bits "
                                 f"(needs {need}); the raw stream is stuck or extremely biased")
            rate = have / n_raw if have else (0.25 if n_raw == 0 else 1.0 / 1024.0)  # output per raw bit
            short = need - have  # ask for ~4 sigma more than the expected yield needs
            request = int(math.ceil((short + 4.0 * math.sqrt(short) + 16.0) / rate))
            request += request % 2
            chunks.append(self.whiten(_checked(bit_source(request), request, self.name)))
            have += chunks[-1].numel()
            n_raw += request
        bits = torch.cat(chunks)[:need] if chunks else torch.zeros(0, dtype=torch.uint8)
        return self.map_bits(bits), n_raw

    def sample_fair(self, n_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n_samples`` outputs for i.i.d. fair (whitened) bits, drawn without materialising bits.

        Exactly the distribution of :meth:`map_bits` on fair bits; a fast path for sources whose
        whitened stream is provably fair (per-cell von Neumann on independent cells).
        """
        return self._fair(n_samples, generator)

    @abstractmethod
    def _fair(self, n: int, generator: torch.Generator | None) -> torch.Tensor: ...

    # -- exact error ------------------------------------------------------------------

    def distribution(self, p_one: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
        """Exact output distribution (sorted atoms, probabilities) for i.i.d. raw bits with P(1) = p_one.

        Whitening is accounted for: XOR turns p into 2 p (1 - p), von Neumann into 1/2.
        """
        _check_p(p_one)
        p = {"none": p_one, "xor": 2.0 * p_one * (1.0 - p_one), "vn": 0.5}[self.whitening]
        return self._atoms(p)

    def error_vs_normal(self, p_one: float = 0.5) -> TransformError:
        """Mean, variance, P(|X| > 3) and KS distance of the exact output vs N(0, 1)."""
        x, w = self.distribution(p_one)
        mean = float(np.dot(w, x))
        var = float(np.dot(w, (x - mean) ** 2))
        tail = float(w[np.abs(x) > 3.0].sum())
        cdf_right = np.cumsum(w)
        cdf_left = cdf_right - w
        phi = ndtr(x)
        ks = float(max(np.max(np.abs(cdf_right - phi)), np.max(np.abs(cdf_left - phi))))
        return TransformError(mean, var, tail, NORMAL_TAIL_MASS_3SIGMA, ks)

    @abstractmethod
    def _map(self, bits2d: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def _atoms(self, p: float) -> tuple[np.ndarray, np.ndarray]:
        """Output atoms in increasing order and their probabilities for bits with P(1) = p."""


class SumOfBits(BitsToNormal):
    """(2 S - k) / sqrt(k), S = sum of k bits: a Binomial(k, 1/2) centred and scaled to variance 1.

    Cheap (a counter in hardware) but only Gaussian by the CLT; atoms spaced 2/sqrt(k).
    """

    kind = "sum"

    def __init__(self, k: int, whitening: str = "none") -> None:
        if not 1 <= int(k) <= _MAX_SUM_BITS:
            raise ValueError(f"sum transform: k must be in 1..{_MAX_SUM_BITS}, got {k}")
        super().__init__(k, whitening)

    def _map(self, bits2d: torch.Tensor) -> torch.Tensor:
        s = bits2d.sum(dim=1, dtype=torch.int64)
        return ((2 * s - self.size).to(torch.float64) / math.sqrt(self.size)).to(torch.float32)

    def _fair(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        s = torch.binomial(torch.full((n,), float(self.size)), torch.full((n,), 0.5), generator=generator)
        return ((2 * s - self.size) / math.sqrt(self.size)).to(torch.float32)

    def _atoms(self, p: float) -> tuple[np.ndarray, np.ndarray]:
        s = np.arange(self.size + 1)
        return (2.0 * s - self.size) / math.sqrt(self.size), binom.pmf(s, self.size, p)


class UniformWords(BitsToNormal):
    """n-bit word w (MSB first) -> Phi^-1((w + 0.5) / 2^n): inverse-CDF sampling on a 2^n grid.

    The half-step offset keeps u inside (0, 1) and makes the mapping symmetric (mean 0).
    """

    kind = "word"

    def __init__(self, n_bits: int, whitening: str = "none") -> None:
        if not 1 <= int(n_bits) <= _MAX_WORD_BITS:
            raise ValueError(f"word transform: n must be in 1..{_MAX_WORD_BITS}, got {n_bits}")
        super().__init__(n_bits, whitening)
        self._table: torch.Tensor | None = None  # Phi^-1 of every word, built on first fair draw

    def _weights(self, device: torch.device) -> torch.Tensor:
        return 2 ** torch.arange(self.size - 1, -1, -1, dtype=torch.int64, device=device)

    def _map(self, bits2d: torch.Tensor) -> torch.Tensor:
        w = (bits2d.to(torch.int64) * self._weights(bits2d.device)).sum(dim=1)
        u = (w.to(torch.float64) + 0.5) / float(2 ** self.size)
        return torch.special.ndtri(u).to(torch.float32)

    def _fair(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        if self._table is None:
            w = torch.arange(2 ** self.size, dtype=torch.float64)
            self._table = torch.special.ndtri((w + 0.5) / float(2 ** self.size)).to(torch.float32)
        return self._table[torch.randint(0, 2 ** self.size, (n,), generator=generator)]

    def _atoms(self, p: float) -> tuple[np.ndarray, np.ndarray]:
        w = np.arange(2 ** self.size, dtype=np.int64)
        values = ndtri((w + 0.5) / 2.0 ** self.size)  # increasing in w
        if p == 0.5:
            return values, np.full(w.size, 2.0 ** -self.size)
        ones = _popcount(w)
        return values, np.exp(ones * _log(p) + (self.size - ones) * _log(1.0 - p))


def _popcount(w: np.ndarray) -> np.ndarray:
    """Number of ones in each word (np.bitwise_count needs numpy >= 2; pyproject allows 1.26)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(w).astype(np.int64)
    ones = np.zeros_like(w)
    for j in range(int(w.max()).bit_length() if w.size else 0):  # loop over bit positions, not words
        ones += (w >> j) & 1
    return ones


def _checked(raw: torch.Tensor, n: int, name: str) -> torch.Tensor:
    if raw.numel() != n:
        raise RuntimeError(f"{name}: bit source returned {raw.numel()} bits, {n} were requested")
    return raw


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"bit probability P(1) must be in [0, 1], got {p}")


# --------------------------------------------------------------------------- registry

_SPEC_RE = re.compile(r"^(sum|word):?(\d+)(?:\+(none|xor|vn))?$")
_KINDS = {"sum": SumOfBits, "word": UniformWords}


def available_transforms() -> list[str]:
    """Preset names, and the general forms the parser accepts."""
    return [*PRESETS, "sum:<k>[+xor|+vn]", "word:<n>[+xor|+vn]"]


def make_transform(spec: str | BitsToNormal) -> BitsToNormal:
    """Build a transform from a name: a preset (``"word12"``) or ``"sum:16"``, ``"word:12+vn"``.

    A :class:`BitsToNormal` is returned unchanged. Unknown names raise ``ValueError``
    listing the allowed ones.
    """
    if isinstance(spec, BitsToNormal):
        return spec
    if not isinstance(spec, str):
        raise ValueError(f"transform must be a name or a BitsToNormal, got {type(spec).__name__}")
    text = spec.strip().lower()
    base, _, whitening = text.partition("+")
    text = PRESETS.get(base, base) + (f"+{whitening}" if whitening else "")
    match = _SPEC_RE.match(text)
    if match is None:
        raise ValueError(f"unknown transform {spec!r}; allowed: {', '.join(available_transforms())}")
    kind, size, whitening = match.groups()
    return _KINDS[kind](int(size), whitening or "none")


def empirical_error(samples: Any) -> TransformError:
    """The same error measures as :meth:`BitsToNormal.error_vs_normal`, from samples.

    For checking noise made from real (SPICE, recorded, emulated) bits; KS distance
    from ``scipy.stats.kstest`` against N(0, 1).
    """
    x = (samples.detach().cpu().double().numpy() if isinstance(samples, torch.Tensor)
         else np.asarray(samples, dtype=np.float64)).ravel()
    if x.size < 2:
        raise ValueError(f"empirical_error: need at least 2 samples, got {x.size}")
    return TransformError(float(x.mean()), float(x.var(ddof=1)), float(np.mean(np.abs(x) > 3.0)),
                          NORMAL_TAIL_MASS_3SIGMA, float(kstest(x, "norm").statistic))
