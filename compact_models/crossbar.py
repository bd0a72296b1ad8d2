"""Crossbar (1T-1MTJ array) card: wire parasitics per cell pitch, drivers, read/write biasing.

Values are typical of a 45 nm-class back end: a minimum-width Cu M1/M2 line is about
4 Ohm/um with about 0.2 fF/um to its neighbours, and a compact 1T-1MTJ cell has a
pitch of about 0.25-0.3 um, hence about 1-1.5 Ohm and 0.05-0.1 fF per pitch on the
bit and source lines; the word line (poly strapped to metal) is a few times more
resistive. Wire resistance follows copper's temperature coefficient.

The biasing scheme and the sense-amplifier type are choices, not numbers; they are
checked here (``check_scheme``, ``check_sense_amp``) and selected when a netlist is
rendered.

Write biasing (``BiasScheme``), V = write amplitude on the selected bit line:

* ``v2``: selected BL = V, unselected BLs = V/2; selected row's SL = 0, unselected
  SLs = V/2. Cells sharing the selected row see V/2, cells sharing the selected
  column see V/2 across their stack (MTJ + off access transistor), all others 0.
* ``v3``: selected BL = V, unselected BLs = V/3; selected SL = 0, unselected SLs = 2V/3.
  Row- and column-sharing cells see V/3, all others -V/3 (which stiffens the
  anisotropy: no disturb).

Only the selected word line is on, so cells sharing the column are further isolated by
their access transistor: their MTJ sees a short transient while their internal node charges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .card import Card, CardError, param
from .trng_cell import TRNG_CELL

BiasScheme = Literal["v2", "v3"]
BIAS_SCHEMES: tuple[str, ...] = get_args(BiasScheme)
SenseAmp = Literal["latch", "current"]
SENSE_AMPS: tuple[str, ...] = get_args(SenseAmp)

HALF_SELECT_FRACTION = {"v2": 0.5, "v3": 1.0 / 3.0}
"""Fraction of the write voltage that a half-selected stack (row- or column-sharing) sees."""

UNSELECTED_BL_FRACTION = {"v2": 0.5, "v3": 1.0 / 3.0}
UNSELECTED_SL_FRACTION = {"v2": 0.5, "v3": 2.0 / 3.0}


@dataclass(frozen=True)
class CrossbarCard(Card):
    """Wire parasitics per cell pitch, peripheral drivers and operating points of the array."""

    kind = "crossbar card"

    r_bl_ohm: float = param(1.2, "Ohm", 0, 1e3, "xb_rbl", "Bit-line resistance per cell pitch (Cu M2, ~4 Ohm/um x 0.3 um).")
    c_bl_F: float = param(0.06e-15, "F", 0, 1e-12, "xb_cbl", "Bit-line capacitance per cell pitch (~0.2 fF/um x 0.3 um).")
    r_sl_ohm: float = param(1.2, "Ohm", 0, 1e3, "xb_rsl", "Source-line resistance per cell pitch (runs along the row).")
    c_sl_F: float = param(0.06e-15, "F", 0, 1e-12, "xb_csl", "Source-line capacitance per cell pitch.")
    r_wl_ohm: float = param(5.0, "Ohm", 0, 1e4, "xb_rwl", "Word-line resistance per cell pitch (strapped poly).")
    c_wl_F: float = param(0.08e-15, "F", 0, 1e-12, "xb_cwl", "Word-line wire capacitance per cell pitch (gate load comes from BSIM4).")
    tcr_per_K: float = param(3.9e-3, "1/K", 0, 0.01, "xb_tcr", "Temperature coefficient of wire resistance (copper), referred to 27 C.")
    r_drv_ohm: float = param(200.0, "Ohm", 0, 1e5, "xb_rdrv", "Output resistance of bit-line and source-line drivers.", lo_open=True)
    r_wldrv_ohm: float = param(500.0, "Ohm", 0, 1e5, "xb_rwldrv", "Output resistance of word-line drivers.", lo_open=True)
    v_read_V: float = param(0.5, "V", 0, 1.0, "xb_vread", "Read bias rail; with r_load the MTJ sees ~0.25 V (no VCMA disturb).", lo_open=True)
    r_load_ohm: float = param(60e3, "Ohm", 0, 1e7, "xb_rload", "Read load from the read rail to each bit line (and the reference line).", lo_open=True)
    v_write_V: float = param(1.35, "V", 0, 2.5, "xb_vwrite", "Write rail on the selected bit line (the cell gets it less IR and transistor drop).", lo_open=True)
    t_write_s: float = param(0.5e-9, "s", 0, 1e-7, "xb_twrite", "Write pulse width (FWHM): about half a precession period.", lo_open=True)
    t_read_s: float = param(1.2e-9, "s", 0, 1e-7, "xb_tread", "Read enable width (word line and read bias on).", lo_open=True)
    t_sense_s: float = param(0.8e-9, "s", 0, 1e-7, "xb_tsense", "Sense-enable delay after the read enable rises.", lo_open=True)
    r_tia_ohm: float = param(50e3, "Ohm", 0, 1e8, "xb_rtia", "Current-mode SA: transimpedance that turns the current difference into its input voltage.", lo_open=True)
    w_access_m: float = param(TRNG_CELL.w_access_m, "m", 0, 1e-5, "xb_wacc", "Access NMOS width (default: the TRNG-cell card's, the same 1T-1MTJ cell).", lo_open=True)
    w_sa_m: float = param(TRNG_CELL.w_sa_m, "m", 0, 1e-5, "xb_wsa", "Sense-amplifier transistor width (default: the TRNG-cell card's).", lo_open=True)


def crossbar_card(**overrides: float) -> CrossbarCard:
    return CrossbarCard().replace(**overrides)


def check_scheme(scheme: str) -> str:
    if scheme not in BIAS_SCHEMES:
        raise CardError(f"unknown biasing scheme '{scheme}'; known: {list(BIAS_SCHEMES)}")
    return scheme


def check_sense_amp(sa: str) -> str:
    if sa not in SENSE_AMPS:
        raise CardError(f"unknown sense-amplifier type '{sa}'; known: {list(SENSE_AMPS)}")
    return sa


def check_size(rows: int, cols: int) -> tuple[int, int]:
    """Rows and columns each 1 .. 64, what the crossbar templates support (``compact_models.limits``)."""
    from .limits import check_array_size

    return check_array_size(rows, cols)
