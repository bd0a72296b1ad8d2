"""Model cards (VCMA-MTJ device, CMOS), process corners and temperatures, as data with units.

Every device and circuit parameter is defined here once and reaches the netlists
through the rendered include files in ``netlists/cards/``. Importing this package
loads only the standard library.
"""

from .card import CardError
from .cmos import CMOS_CORNERS, CmosCard, cmos_card
from .mtj import CORNERS, DEVICE_SPREADS, MtjCard, mtj_card
from .trng_cell import TRNG_CELL, TrngCellCard

__all__ = ["CardError", "CMOS_CORNERS", "CmosCard", "cmos_card", "CORNERS", "DEVICE_SPREADS",
           "MtjCard", "mtj_card", "TRNG_CELL", "TrngCellCard"]
