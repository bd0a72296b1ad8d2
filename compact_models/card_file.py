"""Process cards as files: a TOML file describing a process by its VCMA-MTJ, CMOS, TRNG-cell and
crossbar cards (``vcma lut build --card FILE``, ``vcma spice ... --card FILE``, ``vcma emulate --card``).

Format (fields by their dataclass names, units in the names; SI values)::

    name = "my process"            # optional label
    [mtj]
    base = "tt"                    # start from the shipped card's tt/ff/ss values at 300 K ...
    xi_J_per_V_m = 80e-15          # ... and change these fields
    [cmos]
    base = "tt"
    vth0_n_V = 0.45
    [trng_cell]
    base = "tt"                    # the shipped TRNG cell (the only base of this section)
    [crossbar]
    base = "tt"                    # the shipped crossbar card (the only base of this section)
    [macro]                        # the TRNG macro's sizes (compact_models/macro.py; not a process card)
    rows = 64

A section without ``base`` must give every field of its card. A section left out is the shipped
card. The MTJ and CMOS values are the process's *typical* card (the MTJ one quoted at
``T_REF_K`` = 300 K): ``--corner ff/ss`` still shifts them by three sigma and ``--temp`` applies the
temperature laws, so a section with ``base = "ff"`` is meant for ``--corner tt``.

Every value is checked against its unit and range by the card classes; every problem is one
:class:`CardFileError` naming the file, the section, the field and the allowed range. Standard
library only (``compact_models`` must stay light).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from . import constants as C
from .card import Card, CardError
from .cmos import CMOS_CORNERS, CmosCard, corner_card
from .crossbar import CrossbarCard
from .mtj import CORNERS, MtjCard, mtj_card
from .trng_cell import TRNG_CELL, TrngCellCard

SECTIONS: dict[str, type] = {"mtj": MtjCard, "cmos": CmosCard, "trng_cell": TrngCellCard, "crossbar": CrossbarCard}
"""The sections of a card file and the card class each describes."""
BASES: dict[str, tuple[str, ...]] = {"mtj": CORNERS, "cmos": CMOS_CORNERS, "trng_cell": ("tt",), "crossbar": ("tt",)}
"""The ``base`` values each section accepts (the TRNG cell and the crossbar have no corners)."""
TOP_LEVEL_KEYS = ("name",)
OTHER_TABLES = ("macro",)
"""Tables a card file may hold that are not process cards: ``[macro]`` (read by ``compact_models.macro``)."""


class CardFileError(CardError):
    """A card file that cannot be used; the message names the file, the section and the field."""


def base_card(section: str, base: str) -> Card:
    """The shipped card of ``section`` at corner ``base`` (MTJ: at 300 K; CMOS: the corner's threshold and
    mobility shifts applied to the typical card, as ``render_cmos_lib`` renders that corner)."""
    if section == "mtj":
        return mtj_card(base, C.T_REF_K)
    if section == "cmos":
        return corner_card(base)
    return TRNG_CELL if section == "trng_cell" else CrossbarCard()


@dataclass(frozen=True)
class ProcessCards:
    """One process: its four cards (MTJ and CMOS typical, MTJ at 300 K) and where they came from."""

    mtj: MtjCard = dataclasses.field(default_factory=MtjCard)
    cmos: CmosCard = dataclasses.field(default_factory=CmosCard)
    trng_cell: TrngCellCard = TRNG_CELL
    crossbar: CrossbarCard = dataclasses.field(default_factory=CrossbarCard)
    source: str = "shipped cards"

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{"mtj": {...}, "cmos": {...}, "trng_cell": {...}, "crossbar": {...}}`` (what a LUT's provenance holds)."""
        return {s: getattr(self, s).as_dict() for s in SECTIONS}

    def fingerprint(self) -> str:
        return card_fingerprint(self.as_dict())

    def _diff(self, section: str, spice: bool = False) -> dict[str, float]:
        card, default = getattr(self, section), SECTIONS[section]() if section != "trng_cell" else TRNG_CELL
        fields = dataclasses.fields(card)
        return {(f.metadata["spice"] if spice else f.name): getattr(card, f.name) for f in fields
                if getattr(card, f.name) != getattr(default, f.name)}

    def deck_params(self) -> dict[str, float]:
        """MTJ and CMOS fields that differ from the shipped cards, by field name: the ``params`` every deck of
        this process takes (``cosim.circuit.deck.build_deck`` applies them to the corner and temperature)."""
        return {**self._diff("mtj"), **self._diff("cmos")}

    def cell_params(self) -> dict[str, float]:
        """TRNG-cell fields that differ from the shipped cell, by SPICE ``.param`` name (``trng_cell.cir``)."""
        return self._diff("trng_cell", spice=True)

    def crossbar_params(self) -> dict[str, float]:
        """Crossbar-card fields that differ from the shipped card, by field name (``crossbar_params``)."""
        return self._diff("crossbar")

    @classmethod
    def from_dict(cls, cards: Mapping[str, Mapping[str, Any]], source: str = "LUT provenance") -> "ProcessCards":
        """The inverse of :meth:`as_dict`; a section left out is the shipped card."""
        unknown = sorted(set(cards) - set(SECTIONS))
        if unknown:
            raise CardFileError(f"{source}: unknown card section(s) {unknown}; known: {list(SECTIONS)}")
        return cls(**{s: SECTIONS[s].from_dict(dict(v)) for s, v in cards.items()}, source=source)


SHIPPED = ProcessCards()
"""The shipped cards (what a LUT without a ``cards`` provenance was built with)."""


def card_fingerprint(cards: Mapping[str, Mapping[str, float]]) -> str:
    """sha256 of the cards' canonical JSON (sections and fields sorted; floats as Python writes them)."""
    text = json.dumps({s: dict(sorted(v.items())) for s, v in sorted(cards.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def card_differences(have: Mapping[str, Mapping[str, float]], want: Mapping[str, Mapping[str, float]],
                     sections: tuple[str, ...] | None = None) -> list[tuple[str, str, Any, Any]]:
    """``(section, field, have, want)`` for every field that differs (a section missing on either side: the
    shipped card; a field missing: None), over ``sections`` (default all), in card order."""
    out = []
    for s in sections or tuple(SECTIONS):
        shipped = SHIPPED.as_dict()[s]
        a, b = {**shipped, **have.get(s, {})}, {**shipped, **want.get(s, {})}
        for name in list(shipped) + sorted((set(a) | set(b)) - set(shipped)):
            x, y = a.get(name), b.get(name)
            if x is None or y is None or not math.isclose(float(x), float(y), rel_tol=1e-12, abs_tol=0.0):
                out.append((s, name, x, y))
    return out


def read_toml(path: Path, error: type[CardError] = CardFileError) -> dict:
    """The parsed TOML of a card file; ``error`` with one line for a missing, odd or unparsable file."""
    if not path.is_file():
        raise error(f"card file not found: {path}" if not path.exists() else f"{path}: not a regular file")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path}: not a valid TOML card file: {err}") from None


def load_card_file(path: str | Path) -> ProcessCards:
    """The cards a TOML card file describes; one :class:`CardFileError` for the first problem."""
    path = Path(path)
    data = read_toml(path, CardFileError)
    for key, value in data.items():
        if key in OTHER_TABLES:
            continue
        if key in TOP_LEVEL_KEYS:
            if not isinstance(value, str):
                raise CardFileError(f"{path}: top-level '{key}' must be a string, got {value!r}")
        elif key not in SECTIONS:
            raise CardFileError(f"{path}: unknown section [{key}]{_nearest(key, SECTIONS)}; known sections: "
                                f"{', '.join(f'[{s}]' for s in SECTIONS)}")
        elif not isinstance(value, dict):
            raise CardFileError(f"{path}: [{key}] must be a section (a TOML table), got {key} = {value!r}")
    cards = {s: section_card(path, s, data[s]) for s in SECTIONS if s in data}
    return ProcessCards(**cards, source=str(path))


def section_card(path: Path, section: str, values: Mapping[str, Any]) -> Card:
    """The card one section describes: ``base`` (or every field) plus the fields given, each checked."""
    cls = SECTIONS[section]
    where = f"{path}: [{section}]"
    values = dict(values)
    base = values.pop("base", None)
    if base is not None and base not in BASES[section]:
        raise CardFileError(f"{where} base = {base!r} is not one of {list(BASES[section])}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in values:
        if name not in fields:
            raise CardFileError(f"{where} unknown field '{name}'{_nearest(name, fields)}; {cls.kind} fields: "
                                f"{', '.join(fields)}")
    if base is None:
        missing = [n for n in fields if n not in values]
        if missing:
            raise CardFileError(f"{where} has no base, so every field must be given; missing: {', '.join(missing)} "
                                f"(or add base = \"tt\")")
    for name, value in values.items():
        values[name] = _checked(where, fields[name], value)
    start = base_card(section, base) if base is not None else None
    try:
        return start.replace(**values) if start is not None else cls(**values)
    except CardError as err:
        raise CardFileError(f"{where} {err}") from None


def _checked(where: str, f: dataclasses.Field, value: Any) -> float:
    unit, (lo, hi), lo_open = f.metadata["unit"], f.metadata["range"], f.metadata["lo_open"]
    allowed = f"{'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}]{'' if unit == '1' else ' ' + unit}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        got = f"the string {value!r}" if isinstance(value, str) else f"{type(value).__name__} {value!r}"
        raise CardFileError(f"{where} {f.name} must be a number in {allowed}, got {got}")
    value = float(value)
    bad = not math.isfinite(value) or (lo is not None and (value <= lo if lo_open else value < lo)) \
        or (hi is not None and value > hi)
    if bad:
        raise CardFileError(f"{where} {f.name} = {value:g} is outside its allowed range {allowed}")
    return value


def _nearest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fmt(x: float | None) -> str:
    return "inf" if x is None else f"{x:g}"
