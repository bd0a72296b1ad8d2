"""Base machinery for model cards: documented fields with units and allowed ranges.

A card is a frozen dataclass whose fields carry metadata ``unit``, ``range`` (closed
interval of physically sensible values, ``None`` for an open end), ``spice`` (the
``.param`` name the netlists read) and ``doc`` (what it is and where the value comes
from). Unknown keys and out-of-range values are errors that name the key.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping


class CardError(ValueError):
    """A model card, corner or override that cannot be used (names the offending key)."""


SPICE_SCALE = {"a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "mil": 25.4e-6, "m": 1e-3, "k": 1e3, "meg": 1e6,
               "g": 1e9, "t": 1e12}
"""ngspice's scale suffixes (case-insensitive), the one table every parser and renderer here uses."""


def param(default: float, unit: str, lo: float | None, hi: float | None, spice: str, doc: str,
          lo_open: bool = False, suffix: str | None = None) -> Any:
    """Declare one card field: default, unit, allowed range, SPICE name and provenance. ``suffix``
    renders the value with that SPICE scale suffix ("0.5n"): ngspice computes mantissa x 10^exp, so
    "0.5n" and "5e-10" may differ in the last bit, and a netlist written by hand keeps its numbers."""
    return dataclasses.field(default=default, metadata=dict(
        unit=unit, range=(lo, hi), lo_open=lo_open, spice=spice, doc=doc, suffix=suffix))


def spice_number(value: float, suffix: str | None = None) -> str:
    """``value`` as ngspice text, with a scale suffix when given."""
    return f"{value:.8g}" if suffix is None else f"{value / SPICE_SCALE[suffix]:.10g}{suffix}"


class Card:
    """Mixin for card dataclasses: validation, overrides and ``.param`` rendering."""

    kind = "card"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise CardError(f"{self.kind} parameter '{f.name}' must be a finite number, got {value!r}")
            lo, hi = f.metadata["range"]
            bad_lo = lo is not None and (value <= lo if f.metadata["lo_open"] else value < lo)
            bad_hi = hi is not None and value > hi
            if bad_lo or bad_hi:
                lo_s = "(" if f.metadata["lo_open"] else "["
                raise CardError(
                    f"{self.kind} parameter '{f.name}' = {value:g}{_unit(f.metadata['unit'])} is out of its "
                    f"physical range {lo_s}{_fmt(lo)}, {_fmt(hi)}]")

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]):
        """Build a card from a mapping; an unknown key is an error naming it."""
        check_keys(cls, values)
        return cls(**values)

    def replace(self, **overrides: Any):
        """A copy with some fields changed (validated like a new card)."""
        check_keys(type(self), overrides)
        return dataclasses.replace(self, **overrides)

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    def spice_params(self) -> dict[str, float]:
        """The card as ``{spice_name: value}`` in SI units."""
        return {f.metadata["spice"]: getattr(self, f.name) for f in dataclasses.fields(self)}

    def render_params(self, title: str) -> str:
        """``.param`` lines for the netlists, one per field, with unit and provenance comments."""
        lines = [f"* {title}", "* Rendered by compact_models; do not edit: change the card and re-render."]
        for f in dataclasses.fields(self):
            lines.append(f".param {f.metadata['spice']}={spice_number(getattr(self, f.name), f.metadata['suffix'])}"
                         f"  $ {f.metadata['unit']}: {f.metadata['doc'].splitlines()[0]}")
        return "\n".join(lines) + "\n"


def check_keys(cls: type, values: Mapping[str, Any]) -> None:
    known = set(cls.field_names())
    unknown = sorted(set(values) - known)
    if unknown:
        raise CardError(f"unknown {cls.kind} parameter(s) {unknown}; known: {sorted(known)}")


def _fmt(x: float | None) -> str:
    return "inf" if x is None else f"{x:g}"


def _unit(unit: str) -> str:
    return "" if unit == "1" else f" {unit}"
