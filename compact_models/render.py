"""Render model cards into the include files the netlists read (the only writer of them)."""

from __future__ import annotations

import os
from pathlib import Path

from .cmos import CmosCard, render_cmos_lib
from .mtj import MtjCard, mtj_card

NETLIST_DIR = Path(__file__).resolve().parent.parent / "netlists"
MTJ_CARD_FILE = "cards/mtj_card.inc"
CMOS_LIB_FILE = "cards/cmos45.lib"
DEFAULT_TEMP_C = 27.0


def render_mtj_card(card: MtjCard, temp_K: float, title: str) -> str:
    """``.param`` text of a device card, plus the operating temperature the model reads."""
    return card.render_params(title) + f".param mtj_temp_k={temp_K:.8g}  $ K: operating temperature\n"


def default_card_texts() -> dict[str, str]:
    """The shipped include files: typical corner at 27 C, and the CMOS library."""
    temp_K = DEFAULT_TEMP_C + 273.15
    return {
        MTJ_CARD_FILE: render_mtj_card(mtj_card("tt", temp_K), temp_K, "VCMA-MTJ card: corner tt, 27 C"),
        CMOS_LIB_FILE: render_cmos_lib(CmosCard()),
    }


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data)
    os.replace(tmp, path)


def write_default_cards(netlist_dir: Path = NETLIST_DIR) -> list[Path]:
    """Write every shipped include file: the device and CMOS cards, the crossbar and TRNG-cell cards."""
    written = []
    for rel, text in {**default_card_texts(), **crossbar_card_texts(), **trng_cell_card_texts()}.items():
        write_atomic(netlist_dir / rel, text)
        written.append(netlist_dir / rel)
    return written


CROSSBAR_CARD_FILE = "cards/crossbar_card.inc"


def crossbar_card_texts() -> dict[str, str]:
    """The shipped crossbar card include (wire parasitics, drivers, operating points)."""
    from .crossbar import CrossbarCard

    return {CROSSBAR_CARD_FILE: CrossbarCard().render_params("Crossbar card: wires per cell pitch, drivers, timing")}



TRNG_CELL_CARD_FILE = "cards/trng_cell_card.inc"


def render_trng_cell_card(card=None) -> str:
    """``.param`` text of a TRNG-cell card (default: :data:`compact_models.trng_cell.TRNG_CELL`)."""
    from .trng_cell import TRNG_CELL

    card = TRNG_CELL if card is None else card
    return card.render_params(f"TRNG-cell card: drive, timing ({card.cycle_time_s * 1e9:g} ns cycle), read bias, sizes")


def trng_cell_card_texts() -> dict[str, str]:
    """The shipped TRNG-cell card include (what ``netlists/trng_cell.cir`` reads)."""
    return {TRNG_CELL_CARD_FILE: render_trng_cell_card()}
