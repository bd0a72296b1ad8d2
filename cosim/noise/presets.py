"""The named noise sources: every source the CLI, the demo, the sensitivity study and the benchmarks use.

Why: one place says which sources exist and what each is built from, and
:func:`cosim.noise.sources.make_noise_source` is the only way to build one. Importing this module
registers the presets; ``make_noise_source`` and ``available_noise_sources`` import it on first use.

Names and arguments (all keyword arguments of ``make_noise_source(name, **kwargs)``):

* ``software`` -- :class:`~cosim.noise.sources.SoftwareNoise` (``torch.randn``); no arguments.
* ``ideal-trng`` -- :class:`~cosim.noise.sources.IdealTrngNoise`: ``transform`` (default ``word:12``),
  ``energy_per_bit_J``, ``time_per_bit_s``.
* ``recorded`` -- :class:`~cosim.noise.sources.RecordedNoise`: ``path_or_bits``, ``transform``,
  ``offset_bits``, ``energy_per_bit_J``, ``time_per_bit_s``.
* ``mtj`` -- :class:`~cosim.noise.emulator.MtjNoise` on a calibrated array: ``lut`` (a trng
  :class:`~cosim.luts.lut.Lut` or its path), ``rows``/``cols`` (default 64 x 64), ``transform``
  (default ``word:12+vn``: per-cell von Neumann, because cell-to-cell variation leaves cells
  biased), ``exact_bits``, and any :class:`~cosim.noise.emulator.TrngArrayEmulator` keyword
  (``chip_seed``, ``calibration`` -- default ``column`` --, ``variation``, ``t_pulse_s``,
  ``v_write_V``, ``write_lut``/``read_lut`` (LUTs or paths), ``sense_error_rate``,
  ``correlation``). Energy and time per bit come from the LUT.
* ``mtj-raw`` -- as ``mtj`` with one nominal amplitude (``calibration="nominal"``) and no
  whitening (``transform="word:12"``).
* ``biased-<p>`` (e.g. ``biased-0.3``) -- a variation-free array driven to P(1) = p
  (``v_write_V = calibrate_v_write(lut, t_pulse_s, p)``, ``variation=0``, no sense errors, no
  correlation), no whitening (``word:12``); takes ``lut``, ``rows``, ``cols``, ``transform``,
  ``t_pulse_s`` and further emulator keywords.

Instead of ``lut`` and the emulator keywords, the mtj presets accept ``emulator=`` (a built
:class:`~cosim.noise.emulator.TrngArrayEmulator`): a fresh source (fresh counters) on the same
chip, which keeps the chip's serial-correlation state from one source to the next.
"""

from __future__ import annotations

from typing import Any

from cosim.circuit.render_trng import TRNG_T_PULSE_S
from cosim.luts.lut import Lut
from cosim.luts.queries import calibrate_v_write
from cosim.noise.defaults import ARRAY_COLS, ARRAY_ROWS, DEFAULT_TRANSFORM, MTJ_TRANSFORM
from cosim.noise.emulator import MtjNoise, TrngArrayEmulator
from cosim.noise.sources import (IdealTrngNoise, RecordedNoise, SoftwareNoise, register_noise_family,
                                 register_noise_source)

__all__ = ["make_mtj", "make_mtj_raw", "make_biased"]


def _load(lut: str | Lut, kind: str) -> Lut:
    return lut if isinstance(lut, Lut) else Lut.load(lut, kind=kind)


def _mtj_source(lut, rows: int, cols: int, transform, emulator: TrngArrayEmulator | None, exact_bits: bool,
                emulator_kw: dict[str, Any]) -> MtjNoise:
    if emulator is None:
        if lut is None:
            raise ValueError("mtj noise sources need a trng LUT (lut=...) or a built emulator (emulator=...)")
        for key in ("write_lut", "read_lut"):
            if isinstance(emulator_kw.get(key), str):
                emulator_kw[key] = _load(emulator_kw[key], key.split("_")[0])
        emulator = TrngArrayEmulator(_load(lut, "trng"), rows, cols, **emulator_kw)
    elif lut is not None or emulator_kw:
        raise ValueError(f"give either emulator= or lut= with emulator settings, not both "
                         f"(got lut={lut is not None}, settings {sorted(emulator_kw)})")
    return MtjNoise(emulator, transform, exact_bits=exact_bits)


def make_mtj(lut: str | Lut | None = None, rows: int = ARRAY_ROWS, cols: int = ARRAY_COLS,
             transform=MTJ_TRANSFORM, *, emulator: TrngArrayEmulator | None = None, exact_bits: bool = False,
             **emulator_kw: Any) -> MtjNoise:
    """``mtj``: the emulated array (default: per-column calibration, the corner's variation), ``word:12+vn``."""
    return _mtj_source(lut, rows, cols, transform, emulator, exact_bits, emulator_kw)


def make_mtj_raw(lut: str | Lut | None = None, rows: int = ARRAY_ROWS, cols: int = ARRAY_COLS,
                 transform=DEFAULT_TRANSFORM, *, emulator: TrngArrayEmulator | None = None, exact_bits: bool = False,
                 **emulator_kw: Any) -> MtjNoise:
    """``mtj-raw``: the same chip driven at one nominal amplitude, no whitening (``word:12``)."""
    if emulator is None:
        emulator_kw.setdefault("calibration", "nominal")
    return _mtj_source(lut, rows, cols, transform, emulator, exact_bits, emulator_kw)


def make_biased(p_one: float, lut: str | Lut | None = None, rows: int = ARRAY_ROWS, cols: int = ARRAY_COLS,
                transform=DEFAULT_TRANSFORM, *, t_pulse_s: float = TRNG_T_PULSE_S,
                emulator: TrngArrayEmulator | None = None, exact_bits: bool = False, **emulator_kw: Any) -> MtjNoise:
    """``biased-<p>``: a variation-free array without sense errors or correlation, driven to P(1) = ``p_one``."""
    if not 0 < p_one < 1:
        raise ValueError(f"biased-<p>: p must be in (0, 1), got {p_one}")
    if emulator is None:
        if lut is None:
            raise ValueError("mtj noise sources need a trng LUT (lut=...) or a built emulator (emulator=...)")
        lut = _load(lut, "trng")
        emulator_kw = {"v_write_V": calibrate_v_write(lut, t_pulse_s, p_one), "t_pulse_s": t_pulse_s, "variation": 0,
                       "sense_error_rate": 0.0, "correlation": 0.0, **emulator_kw}
    return _mtj_source(lut, rows, cols, transform, emulator, exact_bits, emulator_kw)


def _biased_family(suffix: str, **kwargs: Any) -> MtjNoise:
    try:
        p_one = float(suffix)
    except ValueError:
        raise ValueError(f"biased-<p> needs a number p, got 'biased-{suffix}'") from None
    return make_biased(p_one, **kwargs)


register_noise_source(SoftwareNoise.name, SoftwareNoise)
register_noise_source(IdealTrngNoise.name, IdealTrngNoise)
register_noise_source(RecordedNoise.name, RecordedNoise)
register_noise_source(MtjNoise.name, make_mtj)
register_noise_source("mtj-raw", make_mtj_raw)
register_noise_family("biased", _biased_family)
