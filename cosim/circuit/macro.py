"""Energy, area and throughput of a whole TRNG macro, block by block, each block with its source.

Blocks (counts from the macro card, :mod:`compact_models.macro`):

* the cell's reset, write, read-bias and sense-amplifier energies: SPICE, the shipped
  ``netlists/trng_cell.cir`` split by supply and phase (:mod:`cosim.circuit.trng_energy`);
* word line: the access transistors' gate charge, ``Cox W L VDD^2`` per cell per cycle (CMOS card);
* calibration counters, von Neumann logic and the bits-to-Gaussian table: 45 nm energies per
  operation from Horowitz (ISSCC 2014), areas of Nangate 45 nm standard cells and Intel's 45 nm
  SRAM cell (:mod:`compact_models.published_trngs`);
* transistors not in a standard cell (cell, sense amplifier, drivers, DAC) by the footprint rule
  ``(W + 2F) x 2 CPP``.

Per raw bit, per fair bit (after von Neumann) and per Gaussian sample. The bit macro (array,
drivers, sense amplifiers, calibration, whitening) is what the bit figures use; the sample figures
add the conversion unit. Not counted: wires other than the bit line's 5 fF, the clock tree, the
table's decoders and sense amplifiers, the replica reference resistor, leakage.
"""

from __future__ import annotations

import math

from compact_models import constants as C
from compact_models import mtj_card
from compact_models import published_trngs as pub
from compact_models.cmos import CmosCard
from compact_models.macro import MACRO, MacroCard
from compact_models.trng_cell import TRNG_CELL, TrngCellCard

EPS_R_SIO2 = 3.9
"""Relative permittivity of the CMOS card's gate oxide (``epsrox`` in ``netlists/cards/cmos45.lib``)."""
E_LOGIC_BIT = pub.E_ADD8.value / 8
"""One bit of logic work: Horowitz's 8-bit add spread over its 8 bits (0.00375 pJ)."""
E_LOGIC_BIT_SOURCE = f"{pub.E_ADD8.source} / 8 bits = 3.75 fJ per bit operation"
WL_DRIVER_NAND2_EQ = 4
"""Row decoder gate plus word-line buffer per row, in NAND2_X1 equivalents (an estimate, stated as one)."""


def transistor_area_m2(w_m: float) -> float:
    """Footprint of one transistor: (W + 2F) wide (active plus isolation) x 2 contacted poly pitches."""
    return (w_m + 2 * pub.FEATURE_45.value) * 2 * pub.CPP_45.value


def cell_area(cell: TrngCellCard = TRNG_CELL) -> dict:
    """One 1T-1MTJ cell: the MTJ pillar sits on the access transistor's drain, so the transistor sets it."""
    mtj = mtj_card().area_m2
    access = transistor_area_m2(cell.w_access_m)
    return {"mtj_footprint_m2": mtj, "access_transistor_m2": access, "cell_m2": max(mtj, access),
            "rule": f"{pub.TRANSISTOR_RULE} (F = 45 nm, CPP: {pub.CPP_45.source}); access NMOS W = "
                    f"{cell.w_access_m * 1e9:.0f} nm; MTJ d = {mtj_card().diameter_m * 1e9:.0f} nm on its drain contact"}


def switch_width_m(r_on_ohm: float, nmos: bool, cmos: CmosCard | None = None) -> float:
    """Width of a switch with on-resistance ``r_on_ohm`` at full gate drive: the long-channel linear region,
    R_on = L / (u0 Cox W (VDD - Vth)), from the CMOS card (optimistic: no velocity saturation)."""
    cmos = cmos or CmosCard()
    cox = EPS_R_SIO2 * C.EPS0 / cmos.tox_m
    u0, vth = (cmos.u0_n_m2_per_Vs, cmos.vth0_n_V) if nmos else (cmos.u0_p_m2_per_Vs, cmos.vth0_p_V)
    return cmos.l_min_m / (u0 * cox * (cmos.vdd_V - vth) * r_on_ohm)


def _row(block: str, scope: str, count: int | None, energy_J: float, per: str, area_each_m2: float,
         source: str) -> dict:
    """One block; ``count`` None: an energy share with no area of its own."""
    return {"block": block, "scope": scope, "count": count, "energy_J": energy_J, "energy_per": per,
            "area_each_m2": area_each_m2, "area_m2": (count or 0) * area_each_m2, "source": source}


def cell_rows(shares_J: dict[str, float], macro: MacroCard, cell: TrngCellCard) -> list[dict]:
    """The SPICE-measured blocks, per raw bit; the cell array carries the area."""
    from cosim.circuit.trng_energy import MEASUREMENTS

    area = cell_area(cell)["cell_m2"]
    names = {"reset": "cell reset (driver, reset slot)", "write": "cell write (driver, write slot)",
             "driver_other": "driver outside its pulses", "read_bias": "read bias (bit line + replica)",
             "sense_amp": "sense amplifier (StrongARM)"}
    rows = [_row("1T-1MTJ cell array", "bit", macro.cells, 0.0, "raw bit", area,
                 f"energy: the SPICE shares below; area: {cell_area(cell)['rule']}")]
    rows += [_row(names[k], "bit", None, shares_J[k], "raw bit", 0.0, MEASUREMENTS[k])
             for k in ("reset", "write", "driver_other", "read_bias")]
    sa = sum(transistor_area_m2(w) for w in cell.sense_amp_widths_m)
    rows.append(_row(names["sense_amp"], "bit", macro.column_slices, shares_J["sense_amp"], "raw bit", sa,
                     f"{MEASUREMENTS['sense_amp']}; area: 9 devices (tail 2 w_sa, 8 at w_sa), {pub.TRANSISTOR_RULE}"))
    return rows


def periphery_rows(macro: MacroCard, cell: TrngCellCard, cmos: CmosCard | None = None) -> list[dict]:
    """Blocks not simulated here: word lines, drivers, replica, calibration, whitening (per raw bit)."""
    cmos = cmos or CmosCard()
    cox = EPS_R_SIO2 * C.EPS0 / cmos.tox_m
    e_wl = cox * cell.w_access_m * cmos.l_min_m * cmos.vdd_V ** 2  # one gate per raw bit per cycle
    w_n, w_p = switch_width_m(cell.r_drv_ohm, True, cmos), switch_width_m(cell.r_drv_ohm, False, cmos)
    driver = 2 * transistor_area_m2(w_p) + transistor_area_m2(w_n)
    dac = (2 ** macro.dac_bits - 1) * transistor_area_m2(cmos.l_min_m * 2) + macro.dac_bits * pub.A_DFF_X1.value
    counter = macro.counter_bits * (pub.A_DFF_X1.value + pub.A_HA_X1.value)
    vn_slice = pub.A_DFF_X1.value + pub.A_XOR2_X1.value  # pair-phase flop + compare
    vn_state = macro.cells if macro.vn_state_per_cell else macro.column_slices
    return [
        _row("word line (access-gate charge)", "bit", macro.rows, e_wl, "raw bit",
             WL_DRIVER_NAND2_EQ * pub.A_NAND2_X1.value,
             f"energy: Cox W L VDD^2 per cell per cycle, Cox = 3.9 eps0 / tox (CMOS card: tox = {cmos.tox_m * 1e9:.2f} nm, "
             f"VDD = {cmos.vdd_V:g} V); area per row: {WL_DRIVER_NAND2_EQ} x {pub.A_NAND2_X1.source} (decoder gate + "
             "buffer, an estimate)"),
        _row("write driver (2 rail switches + pull-down)", "bit", macro.column_slices, 0.0, "raw bit", driver,
             f"energy: in the cell's reset/write rows (the deck's driver source); area: switches sized for R_on = r_drv = "
             f"{cell.r_drv_ohm:g} Ohm (long-channel R_on from the CMOS card: W_n = {w_n * 1e9:.0f} nm, W_p = "
             f"{w_p * 1e9:.0f} nm), {pub.TRANSISTOR_RULE}"),
        _row("replica reference (access device)", "bit", macro.column_slices, 0.0, "raw bit",
             transistor_area_m2(cell.w_access_m),
             f"energy: in the read-bias row; area: one access NMOS, {pub.TRANSISTOR_RULE} (resistor not counted)"),
        _row(f"calibration DAC ({macro.dac_bits:g} bit) + register", "bit", macro.cols, 0.0, "raw bit", dac,
             f"energy: updated once per calibration window, not counted; area: 2^bits - 1 unit devices (W = 2F) by "
             f"{pub.TRANSISTOR_RULE} + {macro.dac_bits:g} x {pub.A_DFF_X1.source}"),
        _row(f"calibration counter ({macro.counter_bits:g} bit)", "bit", macro.cols,
             macro.calibration_duty * macro.counter_bits * E_LOGIC_BIT, "raw bit", counter,
             f"energy: duty {macro.calibration_duty:g} x {macro.counter_bits:g} bits x {E_LOGIC_BIT_SOURCE}; area: "
             f"per bit {pub.A_DFF_X1.source} + {pub.A_HA_X1.source}"),
        _row("von Neumann logic" + (" (state per cell)" if macro.vn_state_per_cell else " (per column slice)"),
             "bit", macro.column_slices, E_LOGIC_BIT, "raw bit",
             vn_slice + pub.A_DFF_X1.value * vn_state / macro.column_slices,
             f"energy: one bit operation per raw bit, {E_LOGIC_BIT_SOURCE}; area: per slice a pair-phase "
             f"{pub.A_DFF_X1.source} + {pub.A_XOR2_X1.source}, plus one DFF_X1 of state per "
             + ("cell" if macro.vn_state_per_cell else "slice (each cell read twice in a row)")),
    ]


def conversion_rows(macro: MacroCard) -> list[dict]:
    """The bits-to-Gaussian unit: a shift register of ``word_bits`` and the inverse-CDF table (per sample)."""
    entries = 2 ** macro.word_bits
    kbytes = entries * macro.table_word_bits / 8 / 1024
    table = entries * macro.table_word_bits * pub.A_SRAM_CELL_45.value
    return [
        _row(f"word register ({macro.word_bits:g} bit)", "sample", macro.conversion_units,
             macro.word_bits * E_LOGIC_BIT, "sample", macro.word_bits * pub.A_DFF_X1.value,
             f"energy: {macro.word_bits:g} bit operations, {E_LOGIC_BIT_SOURCE}; area: {macro.word_bits:g} x "
             f"{pub.A_DFF_X1.source}"),
        _row(f"inverse-CDF table ({entries:.0f} x {macro.table_word_bits:g} bit = {kbytes:g} KB)", "sample",
             macro.conversion_units, pub.E_SRAM8K_READ64.value, "sample", table,
             f"energy: one read, {pub.E_SRAM8K_READ64.source} (taken whole for any table size: a stated estimate); "
             f"area: bit cells only, {pub.A_SRAM_CELL_45.source}"),
    ]


def macro_blocks(shares_J: dict[str, float], macro: MacroCard = MACRO, cell: TrngCellCard = TRNG_CELL) -> list[dict]:
    """Every block of the macro: name, scope ('bit' or 'sample'), count, energy per raw bit or per sample,
    area (count x each) and its source."""
    return cell_rows(shares_J, macro, cell) + periphery_rows(macro, cell) + conversion_rows(macro)


def macro_summary(blocks: list[dict], macro: MacroCard = MACRO, cycle_time_s: float = TRNG_CELL.cycle_time_s,
                  raw_bits_per_fair_bit: float = 4.0) -> dict:
    """Totals from the blocks: energy per raw bit, fair bit and sample; areas; throughput; energy x area.

    ``raw_bits_per_fair_bit``: 1 / (p (1 - p)) of von Neumann, 4 at P(1) = 0.5 (the emulator's measured
    value where there is one)."""
    if not raw_bits_per_fair_bit >= 2 or not math.isfinite(raw_bits_per_fair_bit):
        raise ValueError(f"raw_bits_per_fair_bit must be a finite number >= 2 (von Neumann), got {raw_bits_per_fair_bit}")
    e_raw = sum(b["energy_J"] for b in blocks if b["scope"] == "bit")
    e_conv = sum(b["energy_J"] for b in blocks if b["scope"] == "sample")
    a_bits = sum(b["area_m2"] for b in blocks if b["scope"] == "bit")
    a_all = a_bits + sum(b["area_m2"] for b in blocks if b["scope"] == "sample")
    e_fair = e_raw * raw_bits_per_fair_bit
    e_sample = e_fair * macro.word_bits + e_conv
    raw_rate = macro.column_slices / cycle_time_s
    return {"energy_per_raw_bit_J": e_raw, "energy_per_fair_bit_J": e_fair, "energy_per_sample_J": e_sample,
            "area_bit_macro_m2": a_bits, "area_macro_m2": a_all, "raw_bits_per_fair_bit": raw_bits_per_fair_bit,
            "raw_bit_per_s": raw_rate, "fair_bit_per_s": raw_rate / raw_bits_per_fair_bit,
            "sample_per_s": raw_rate / raw_bits_per_fair_bit / macro.word_bits, "cycle_time_s": cycle_time_s,
            "energy_area_raw_bit_J_m2": e_raw * a_bits, "energy_area_fair_bit_J_m2": e_fair * a_bits,
            "energy_area_sample_J_m2": e_sample * a_all, "macro": macro.as_dict()}


def cell_bound(shares_J: dict[str, float], cell: TrngCellCard = TRNG_CELL) -> dict:
    """The cell-only figure: SPICE cell energy per raw bit x one cell's area. A lower bound, not a macro."""
    e = sum(shares_J.values())
    a = cell_area(cell)["cell_m2"]
    return {"energy_per_raw_bit_J": e, "area_m2": a, "energy_area_raw_bit_J_m2": e * a}
