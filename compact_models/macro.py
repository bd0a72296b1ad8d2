"""TRNG-macro card: the sizes and counts of a whole TRNG macro that delivers N(0, 1) samples.

The macro is ``rows x cols`` 1T-1MTJ cells (the TRNG cell of ``trng_cell.py``). Each cycle,
``rows_parallel`` rows are read at once; every column has, per row read at once, one write driver
and one StrongARM sense amplifier (a *column slice*). Per column: one calibration loop (a counter
of ones and a DAC that sets the column's write amplitude). Von Neumann whitening (pairs 01 -> 0,
10 -> 1) either per column, reading each cell twice in a row (``vn_state_per_cell`` = 0: one stored
bit per column slice), or across array read-outs (1: one stored bit per cell, as the emulator's
per-cell whitening does). The bits-to-Gaussian unit turns ``word_bits`` fair bits into one sample
through an inverse-normal-CDF table of ``2^word_bits`` words of ``table_word_bits`` bits (the
``word:12`` transform of ``cosim/noise/transforms.py``).

Energies and areas per block, and the source of each, are in :mod:`cosim.circuit.macro`; the
published figures it uses are in :mod:`compact_models.published_trngs`.

A card file (TOML) may hold the macro in a ``[macro]`` table, fields by name::

    [macro]
    rows = 128
    calibration_duty = 0.1
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .card import Card, CardError, param

TECHNOLOGY_NODE_NM = 45
"""The node every cited logic figure and the CMOS card are for (the macro card accepts only this)."""


@dataclass(frozen=True)
class MacroCard(Card):
    """Sizes and counts of the TRNG macro (integers where they count things)."""

    kind = "TRNG-macro card"

    rows: float = param(64, "1", 1, 4096, "macro_rows", "Cells per column (rows); the emulator's 64 x 64 array.")
    cols: float = param(64, "1", 1, 4096, "macro_cols", "Columns of the array.")
    rows_parallel: float = param(1, "1", 1, 4096, "macro_rows_parallel", "Rows read in the same cycle; each needs its own driver and sense amplifier per column.")
    dac_bits: float = param(6, "1", 1, 16, "macro_dac_bits", "Bits of the per-column calibration DAC that sets the write amplitude.")
    counter_bits: float = param(10, "1", 1, 32, "macro_counter_bits", "Bits of the per-column counter of ones (calibration window 2^bits reads).")
    calibration_duty: float = param(1.0, "1", 0, 1, "macro_cal_duty", "Fraction of read cycles the calibration counters count (1: continuous tracking, the conservative case).")
    vn_state_per_cell: float = param(0, "1", 0, 1, "macro_vn_per_cell", "Von Neumann state: 0 = one stored bit per column slice (each cell read twice in a row), 1 = one per cell.")
    word_bits: float = param(12, "1", 1, 24, "macro_word_bits", "Fair bits per Gaussian sample (the word:n transform).")
    table_word_bits: float = param(16, "1", 1, 64, "macro_table_word_bits", "Width of one entry of the inverse-CDF table (the sample's fixed-point width).")
    conversion_units: float = param(1, "1", 1, 4096, "macro_conv_units", "Bits-to-Gaussian units (tables) of the macro.")
    node_nm: float = param(TECHNOLOGY_NODE_NM, "nm", TECHNOLOGY_NODE_NM, TECHNOLOGY_NODE_NM, "macro_node",
                           "Technology node; the cited logic energies and cell areas are 45 nm figures.")

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("rows", "cols", "rows_parallel", "dac_bits", "counter_bits", "vn_state_per_cell", "word_bits",
                     "table_word_bits", "conversion_units"):
            value = getattr(self, name)
            if value != int(value):
                raise CardError(f"{self.kind} parameter '{name}' = {value:g} must be a whole number")
        if self.rows_parallel > self.rows:
            raise CardError(f"{self.kind} parameter 'rows_parallel' = {self.rows_parallel:g} is more than "
                            f"rows = {self.rows:g}")

    @property
    def column_slices(self) -> int:
        """Driver + sense-amplifier sets: one per column per row read at once."""
        return int(self.cols * self.rows_parallel)

    @property
    def cells(self) -> int:
        return int(self.rows * self.cols)


MACRO = MacroCard()
"""The default macro: the emulator's 64 x 64 array, one row per cycle."""


def load_macro_card(path: str | Path) -> MacroCard:
    """The ``[macro]`` table of a TOML card file over the defaults; one :class:`CardError` line naming the
    file and the field for any problem (other tables of the file are the process cards, not read here)."""
    from .card_file import read_toml

    path = Path(path)
    data = read_toml(path, CardError)
    table = data.get("macro")
    if table is None:
        raise CardError(f"{path}: no [macro] table (fields: {', '.join(MacroCard.field_names())})")
    if not isinstance(table, dict):
        raise CardError(f"{path}: [macro] must be a TOML table, got macro = {table!r}")
    try:
        return MACRO.replace(**table)
    except CardError as err:
        raise CardError(f"{path}: [macro] {err}") from None
