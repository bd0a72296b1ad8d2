"""Noise sources for the diffusion model: software, ideal TRNG, recorded TRNG bits; the registry.

Why: the sampler must not care where its N(0, 1) noise comes from, but the comparison
between sources needs their cost. Every source therefore has the same
``randn(shape, generator=None)`` and the same counters: ``bits_used``,
``samples_drawn``, ``energy_J`` and ``time_s``.

Structure: :class:`NoiseSource` runs the flow (shape handling, counters, float32 out)
and asks its subclass for flat samples through one hook, ``_samples``. TRNG-like
sources derive from :class:`BitNoiseSource`, which implements ``_samples`` as raw bits
-> whitening -> transform (:mod:`cosim.noise.transforms`) and charges ``energy_per_bit_J`` /
``time_per_bit_s`` for every raw bit; they fill only ``_bits(n, generator)``. ``MtjNoise``
(:mod:`cosim.noise.emulator`, LUT-driven) fills ``_bits`` and inherits the rest.

Building: :func:`make_noise_source` by name is the only way the rest of the project builds a
source; :mod:`cosim.noise.presets` registers every name (loaded on first use).

Reproducibility: sources that use randomness draw it from the ``torch.Generator``
passed to ``randn``, so equal seeds give bit-identical tensors. A recorded stream has
no seed: it is deterministic, and consecutive draws consume fresh bits.
"""

from __future__ import annotations

import importlib
import math
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from cosim.noise.nist import as_bits
from cosim.noise.transforms import DEFAULT_TRANSFORM, BitsToNormal, make_transform

__all__ = [
    "NoiseSource", "BitNoiseSource", "SoftwareNoise", "IdealTrngNoise", "RecordedNoise",
    "BitsExhaustedError", "make_noise_source", "register_noise_source", "register_noise_family",
    "available_noise_sources", "torch_device",
]


def torch_device(text: str | torch.device | None, flag: str = "device") -> torch.device:
    """A torch device string (``cpu``, ``cuda``, ``cuda:N``) checked against this machine.

    Why: a bad device should fail at once with one line naming the option, not deep inside a run with
    torch's own message. ``flag`` names the option in the message (``--device`` on the command line).
    """
    text = "cpu" if text is None else text
    try:
        dev = torch.device(text)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{flag} {text}: unknown device (use cpu, cuda or cuda:N)") from None
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise ValueError(f"{flag} {text}: unsupported device type '{dev.type}' (use cpu, cuda or cuda:N)")
    if not torch.cuda.is_available():
        raise ValueError(f"{flag} {text}: no CUDA device on this machine (torch.cuda.is_available() is False)")
    count = torch.cuda.device_count()
    if dev.index is not None and not 0 <= dev.index < count:
        raise ValueError(f"{flag} {text}: no such CUDA device; this machine has {count} (cuda:0..cuda:{count - 1})")
    return dev


class BitsExhaustedError(RuntimeError):
    """A finite bit stream (recorded TRNG output) has fewer bits left than a draw needs."""


def _numel(shape: int | Sequence[int] | torch.Size) -> tuple[tuple[int, ...], int]:
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise ValueError(f"shape must be non-negative integers, got {shape!r}")
    dims = tuple(int(d) for d in dims)
    return dims, math.prod(dims)


class NoiseSource(ABC):
    """Base class: ``randn`` -> ``_samples(n, generator)`` hook -> float32 tensor of ``shape``.

    Counters accumulate over calls until :meth:`reset_counters`. ``device`` (set by :meth:`to`, CPU by
    default) is where ``randn`` delivers its tensors; random numbers are drawn on the generator's device,
    so a CPU generator gives the same noise whatever the device.
    """

    name = "base"

    def __init__(self) -> None:
        self.device = torch.device("cpu")
        self.reset_counters()

    def to(self, device: str | torch.device) -> "NoiseSource":
        """Deliver samples on ``device`` from now on (checked: :func:`torch_device`); returns self."""
        self.device = torch_device(device)
        return self

    def reset_counters(self) -> None:
        """Zero ``bits_used``, ``samples_drawn``, ``energy_J`` and ``time_s``."""
        self.bits_used = 0
        self.samples_drawn = 0
        self.energy_J = 0.0
        self.time_s = 0.0

    @property
    def bits_per_sample(self) -> float:
        """Raw bits per sample (expected value where it is random, e.g. von Neumann); 0 for software."""
        return 0.0

    def randn(self, shape: int | Sequence[int] | torch.Size, generator: torch.Generator | None = None,
              *, device: torch.device | str | None = None) -> torch.Tensor:
        """Standard normal noise of ``shape`` as float32, drawn with ``generator`` where the source is random.

        Samples are produced flat and reshaped in C order, so a given seed yields the same
        values whatever the shape. ``device`` moves the result (generation is on the
        generator's device, CPU by default); without it the result goes to the source's ``device``.
        """
        dims, n = _numel(shape)
        flat = self._samples(n, generator)
        if flat.shape != (n,):
            raise RuntimeError(f"{type(self).__name__}._samples returned shape {tuple(flat.shape)}, expected ({n},)")
        self.samples_drawn += n
        return flat.to(torch.float32).reshape(dims).to(self.device if device is None else device)

    @abstractmethod
    def _samples(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """Return n N(0, 1) samples as a 1-D tensor and update bit/energy/time counters."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SoftwareNoise(NoiseSource):
    """torch.randn: the pseudo-random reference, free of bits, energy and time in this accounting."""

    name = "software"

    def _samples(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        device = generator.device if generator is not None else None
        return torch.randn(n, generator=generator, dtype=torch.float32, device=device)


class BitNoiseSource(NoiseSource):
    """TRNG-like source: raw bits from ``_bits`` -> whitening -> transform, costed per raw bit.

    ``transform`` is a :class:`~cosim.noise.transforms.BitsToNormal` or its name (``"word:12"``,
    ``"sum:16+vn"``, ...). ``energy_per_bit_J`` and ``time_per_bit_s`` come from SPICE
    (one TRNG cycle); time is the serial sum over bits (divide by the array's parallelism
    for wall time).
    """

    def __init__(self, transform: str | BitsToNormal = DEFAULT_TRANSFORM, *, energy_per_bit_J: float = 0.0,
                 time_per_bit_s: float = 0.0) -> None:
        for label, value in (("energy_per_bit_J", energy_per_bit_J), ("time_per_bit_s", time_per_bit_s)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{type(self).__name__}: {label} must be a finite number >= 0, got {value!r}")
        self.transform = make_transform(transform)
        self.energy_per_bit_J = float(energy_per_bit_J)
        self.time_per_bit_s = float(time_per_bit_s)
        super().__init__()

    @property
    def bits_per_sample(self) -> float:
        return self.transform.expected_raw_bits_per_sample()

    def _samples(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        samples, n_raw = self.transform.draw(n, lambda m: self._checked_bits(m, generator))
        self._account(n_raw)
        return samples

    def _checked_bits(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        bits = self._bits(n, generator)
        if bits.dtype != torch.uint8 or bits.shape != (n,):
            raise RuntimeError(f"{type(self).__name__}._bits must return a uint8 tensor of shape ({n},), "
                               f"got {bits.dtype} {tuple(bits.shape)}")
        return bits

    def _account(self, n_raw_bits: int) -> None:
        """Charge raw bits to the counters; override where cost per bit varies (e.g. per cell)."""
        self.bits_used += n_raw_bits
        self.energy_J += n_raw_bits * self.energy_per_bit_J
        self.time_s += n_raw_bits * self.time_per_bit_s

    @abstractmethod
    def _bits(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """Return exactly n raw bits as a 1-D uint8 tensor of 0/1 (the hook TRNG models fill)."""

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(transform={self.transform.name!r}, "
                f"energy_per_bit_J={self.energy_per_bit_J:g}, time_per_bit_s={self.time_per_bit_s:g})")


class IdealTrngNoise(BitNoiseSource):
    """Perfect fair, independent bits (torch.Generator) through the chosen transform.

    Isolates the transform's error from the hardware's: any difference from software
    noise here is the transform's, not the TRNG's.
    """

    name = "ideal-trng"

    def _bits(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        device = generator.device if generator is not None else None
        return torch.randint(0, 2, (n,), generator=generator, dtype=torch.uint8, device=device)


class RecordedNoise(BitNoiseSource):
    """Bits read from a file (e.g. written by the SPICE TRNG run) or given as an array, consumed in order.

    ``path_or_bits``: a ``.npy`` file (any shape, read in C order) or a text file of 0/1
    (separated by whitespace/commas or not at all), or an array/tensor of 0/1.
    ``offset_bits`` skips the first bits. The generator passed to ``randn`` is ignored:
    the stream is deterministic, a fresh source gives identical noise, and each draw
    consumes new bits. Missing file -> ``FileNotFoundError``; non-binary content ->
    ``ValueError``; too few bits left -> :class:`BitsExhaustedError`, and the failed
    draw consumes nothing.
    """

    name = "recorded"

    def __init__(self, path_or_bits: str | os.PathLike | np.ndarray | torch.Tensor | Sequence[int],
                 transform: str | BitsToNormal = DEFAULT_TRANSFORM, *, offset_bits: int = 0,
                 energy_per_bit_J: float = 0.0, time_per_bit_s: float = 0.0) -> None:
        super().__init__(transform, energy_per_bit_J=energy_per_bit_J, time_per_bit_s=time_per_bit_s)
        if isinstance(path_or_bits, (str, os.PathLike)):
            self.source = str(path_or_bits)
            bits = _load_bit_file(Path(path_or_bits))
        else:
            self.source = f"<array of {np.size(path_or_bits)} bits>"
            raw = path_or_bits.detach().cpu().numpy() if isinstance(path_or_bits, torch.Tensor) else path_or_bits
            bits = as_bits(np.asarray(raw).ravel(), f"RecordedNoise({self.source})")
        self._stream = torch.from_numpy(np.ascontiguousarray(bits, dtype=np.uint8))
        if not 0 <= offset_bits <= self._stream.numel():
            raise ValueError(f"RecordedNoise: offset_bits must be in 0..{self._stream.numel()}, got {offset_bits}")
        self.offset_bits = int(offset_bits)
        self.position_bits = self.offset_bits

    @property
    def total_bits(self) -> int:
        return int(self._stream.numel())

    @property
    def remaining_bits(self) -> int:
        return self.total_bits - self.position_bits

    def rewind(self) -> None:
        """Go back to ``offset_bits`` (counters are not touched)."""
        self.position_bits = self.offset_bits

    def _samples(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        start = self.position_bits
        try:
            return super()._samples(n, generator)
        except BaseException:
            self.position_bits = start  # a failed draw consumes nothing (von Neumann may ask in chunks)
            raise

    def _bits(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        if n > self.remaining_bits:
            raise BitsExhaustedError(
                f"RecordedNoise({self.source}): {n} bits requested but only {self.remaining_bits} of "
                f"{self.total_bits} remain (position {self.position_bits}); record more bits, rewind(), "
                f"or draw fewer samples ({self.transform.name} needs ~{self.bits_per_sample:g} bits/sample)")
        out = self._stream[self.position_bits: self.position_bits + n]
        self.position_bits += n
        return out

    def __repr__(self) -> str:
        return (f"RecordedNoise({self.source!r}, transform={self.transform.name!r}, "
                f"position_bits={self.position_bits}, total_bits={self.total_bits})")


def _load_bit_file(path: Path) -> np.ndarray:
    """Read 0/1 bits from .npy or text; errors name the file."""
    if not path.is_file():
        raise FileNotFoundError(f"RecordedNoise: bit file not found: {path}")
    what = f"RecordedNoise({path})"
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{what}: not a plain numeric .npy array ({exc})") from exc
        return as_bits(np.asarray(arr).ravel(), what)
    text = path.read_text(encoding="ascii", errors="replace")
    compact = "".join(text.replace(",", " ").split())
    bad = compact.strip("01")
    if bad:
        pos = compact.index(bad[0])
        raise ValueError(f"{what}: text bit files may hold only 0 and 1 (with whitespace or commas), "
                         f"found {bad[0]!r} at bit {pos}")
    return as_bits(compact, what)


# --------------------------------------------------------------------------- registry

_REGISTRY: dict[str, Callable[..., NoiseSource]] = {}
_FAMILIES: dict[str, Callable[..., NoiseSource]] = {}
_PRESETS_MODULE = "cosim.noise.presets"


def _load_presets() -> None:
    """Register the named presets (:mod:`cosim.noise.presets`) on first use; importing it registers them."""
    importlib.import_module(_PRESETS_MODULE)


def register_noise_source(name: str, factory: Callable[..., NoiseSource], *, replace: bool = False) -> None:
    """Add a source under ``name`` (e.g. ``"mtj"``); re-registering needs ``replace=True``."""
    if (name in _REGISTRY or name.partition("-")[0] in _FAMILIES) and not replace:
        raise ValueError(f"noise source {name!r} is already registered")
    _REGISTRY[name] = factory


def register_noise_family(prefix: str, factory: Callable[..., NoiseSource], *, replace: bool = False) -> None:
    """Add sources named ``<prefix>-<parameter>`` (e.g. ``biased-0.3``): ``factory(parameter_text, **kwargs)``."""
    if prefix in _FAMILIES and not replace:
        raise ValueError(f"noise source family {prefix!r}-<...> is already registered")
    _FAMILIES[prefix] = factory


def available_noise_sources() -> list[str]:
    """Registered names; a family is listed as ``<prefix>-<p>``."""
    _load_presets()
    return sorted([*_REGISTRY, *(f"{prefix}-<p>" for prefix in _FAMILIES)])


def make_noise_source(name: str, device: str | torch.device | None = None, **kwargs: Any) -> NoiseSource:
    """Build a registered source by name, passing keyword arguments to its factory.

    E.g. ``make_noise_source("ideal-trng", transform="word:12", energy_per_bit_J=1e-13)``,
    ``make_noise_source("recorded", path_or_bits="bits.npy", transform="sum:16")`` or
    ``make_noise_source("biased-0.3", lut=lut)``. The names and their arguments are listed in
    :mod:`cosim.noise.presets`. Unknown names raise ``ValueError`` listing the registered ones.
    ``device`` (``cpu``, ``cuda``, ``cuda:N``) is where the source delivers its samples (:meth:`NoiseSource.to`).
    """
    _load_presets()
    if device is not None:
        torch_device(device)  # a bad device fails before anything is built
    if name in _REGISTRY:
        return _placed(_REGISTRY[name](**kwargs), device)
    prefix, sep, parameter = name.partition("-")
    if sep and parameter and prefix in _FAMILIES:
        return _placed(_FAMILIES[prefix](parameter, **kwargs), device)
    raise ValueError(f"unknown noise source {name!r}; available: {', '.join(available_noise_sources())}")


def _placed(source: NoiseSource, device: str | torch.device | None) -> NoiseSource:
    """``source`` moved to ``device``; left where it was built (e.g. on a given emulator's device) without one."""
    return source if device is None else source.to(device)
