"""Operating limits of the models: where the cards, the netlists and the LUTs are valid.

One place for the ranges every entry point checks (the ``vcma`` commands and the public
circuit functions), each raising :class:`CardError` with a message that names the value:

* temperature: ``TEMP_RANGE_C`` = -55 .. 150 C, the extended (military) operating range; the
  MTJ card's Bloch-law temperature model and the CMOS card are not meant for more;
* drive amplitude on the MTJ stack: ``|V| <= V_DRIVE_MAX_V`` = 2.5 V, the upper end of the
  TRNG-cell and crossbar card ranges for ``v_write``/``v_reset`` (the MgO barrier of the
  VCMA-MTJ card, 1.4 nm, is beyond its breakdown field well before that);
* pulse widths: a TRNG write pulse must fit its slot, checked by building a
  :class:`TrngCellCard` with the override (the rule lives in the card); a stand-alone switching
  pulse lies in ``PULSE_RANGE_S`` = 20 ps .. 100 ns (the card's rise time .. its range end);
* array sizes: 1 .. ``MAX_ARRAY`` = 64 rows and columns, what the crossbar templates support
  (:func:`compact_models.crossbar.check_size`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

from .card import CardError
from .trng_cell import TRNG_CELL, TrngCellCard

TEMP_RANGE_C = (-55.0, 150.0)
"""Operating temperature range, C (inclusive)."""

V_DRIVE_MAX_V = TrngCellCard.__dataclass_fields__["v_write_V"].metadata["range"][1]
"""Largest drive amplitude on the MTJ stack, V (2.5 V: the card ranges of v_write and v_reset)."""

PULSE_RANGE_S = (TRNG_CELL.t_rise_s, TrngCellCard.__dataclass_fields__["t_pulse_s"].metadata["range"][1])
"""Stand-alone write-pulse widths (FWHM), s: no shorter than the driver's edge, no longer than 100 ns."""

MAX_ARRAY = 64
"""Largest crossbar side the read/write templates support (rows and columns)."""

KELVIN = 273.15


def check_finite(value, what: str) -> float:
    """``value`` as a float; a bool, a non-number, NaN or infinity is an error naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise CardError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def check_count(value, what: str, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer in ``minimum .. maximum`` (counts are never "0 means default")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise CardError(f"{what} must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is not None:
            limit = f"an integer in {minimum} .. {maximum}"
        else:
            limit = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise CardError(f"{what} must be {limit}, got {value}")
    return int(value)


def check_temperature_C(temp_C, what: str = "temperature") -> float:
    """A temperature in C inside ``TEMP_RANGE_C``; a value that looks like kelvin says what it would be."""
    t = check_finite(temp_C, what)
    lo, hi = TEMP_RANGE_C
    if not lo <= t <= hi:
        hint = ""
        if t > hi and lo <= t - KELVIN <= hi:
            hint = f"; if you meant {t:g} K, that is {t - KELVIN:g} C"
        raise CardError(f"{what} {t:g} C is outside the operating range {lo:g}..{hi:g} C{hint}")
    return t


def check_drive_voltage(v, what: str = "v_write", positive: bool = False) -> float:
    """A drive amplitude with ``|v| <= V_DRIVE_MAX_V`` (``positive``: also ``v > 0``)."""
    v = check_finite(v, what)
    if positive and v <= 0:
        raise CardError(f"{what} = {v:g} V must be > 0 (a write pulse amplitude)")
    if abs(v) > V_DRIVE_MAX_V:
        raise CardError(f"{what} = {v:g} V is beyond the model's validity |V| <= {V_DRIVE_MAX_V:g} V "
                        "(the MTJ card's drive range)")
    return v


def check_pulse_width(t, what: str = "t_pulse") -> float:
    """A stand-alone write-pulse width (FWHM) inside ``PULSE_RANGE_S``."""
    t = check_finite(t, what)
    lo, hi = PULSE_RANGE_S
    if not lo <= t <= hi:
        raise CardError(f"{what} = {t:g} s is outside {lo:g} .. {hi:g} s (the driver's rise time .. 100 ns)")
    return t


def trng_cell_with(**overrides) -> TrngCellCard:
    """The default TRNG cell with some fields changed, checked by the card (ranges, slot fit)."""
    for name, value in overrides.items():
        check_finite(value, name)
    try:
        return dataclasses.replace(TRNG_CELL, **overrides)
    except TypeError as err:
        raise CardError(f"TRNG-cell card: {err}") from None


def check_array_size(rows, cols) -> tuple[int, int]:
    """Rows and columns of a crossbar, each 1 .. ``MAX_ARRAY``."""
    for name, n in (("rows", rows), ("cols", cols)):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise CardError(f"{name} must be an integer >= 1, got {n!r}")
        if n > MAX_ARRAY:
            raise CardError(f"{name} = {n} is beyond the largest supported array side, {MAX_ARRAY} "
                            f"(the crossbar templates support up to {MAX_ARRAY} x {MAX_ARRAY})")
    return int(rows), int(cols)
