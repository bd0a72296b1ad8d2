"""Published figures the TRNG-macro model uses or is compared with, each with its citation.

One place for numbers that do not come from a simulation here: 45 nm logic and memory energies
(Horowitz, ISSCC 2014), 45 nm standard-cell and SRAM-cell areas, layout rules, the seed paper's
claim, and published TRNGs (CMOS and MTJ-based) as their papers state them. A field a paper does
not state is ``None`` with a note; nothing is inferred. "checked" notes say where a number was
verified (the abstract, or a copy of the table); the rest are quoted from the paper as cited.
"""

from __future__ import annotations

from typing import NamedTuple


class Cited(NamedTuple):
    """One published number: value (SI), unit, and where it comes from."""

    value: float
    unit: str
    source: str


REFERENCES = {
    "Horowitz, ISSCC 2014": ("M. Horowitz, 'Computing's energy problem (and what we can do about it)', IEEE ISSCC 2014, "
                             "pp. 10-14: table of energies per operation at 45 nm, 0.9 V"),
    "Nangate 45 nm": "Nangate 45 nm Open Cell Library (for FreePDK45), NangateOpenCellLibrary_typical.lib: cell areas",
    "Mistry et al., IEDM 2007": ("K. Mistry et al., 'A 45nm logic technology with high-k + metal gate transistors, "
                                 "strained silicon, 9 Cu interconnect layers, 193nm dry patterning, and 100% Pb-free "
                                 "packaging', IEEE IEDM 2007"),
}
"""Full citations of the short names the block sources use."""
HOROWITZ = "Horowitz, ISSCC 2014 (45 nm, 0.9 V)"
NANGATE = "Nangate 45 nm"
MISTRY = "Mistry et al., IEDM 2007"

E_ADD8 = Cited(0.03e-12, "J", f"{HOROWITZ}: 8-bit integer add 0.03 pJ")
E_ADD32 = Cited(0.1e-12, "J", f"{HOROWITZ}: 32-bit integer add 0.1 pJ")
E_MULT8 = Cited(0.2e-12, "J", f"{HOROWITZ}: 8-bit integer multiply 0.2 pJ")
E_MULT32 = Cited(3.1e-12, "J", f"{HOROWITZ}: 32-bit integer multiply 3.1 pJ")
E_FADD16 = Cited(0.4e-12, "J", f"{HOROWITZ}: 16-bit FP add 0.4 pJ")
E_FMULT16 = Cited(1.1e-12, "J", f"{HOROWITZ}: 16-bit FP multiply 1.1 pJ")
E_FADD32 = Cited(0.9e-12, "J", f"{HOROWITZ}: 32-bit FP add 0.9 pJ")
E_FMULT32 = Cited(3.7e-12, "J", f"{HOROWITZ}: 32-bit FP multiply 3.7 pJ")
E_SRAM8K_READ64 = Cited(10e-12, "J", f"{HOROWITZ}: 8 KB SRAM, 64-bit read 10 pJ")

A_NAND2_X1 = Cited(0.798e-12, "m^2", f"{NANGATE} NAND2_X1 0.798 um^2")
A_DFF_X1 = Cited(4.522e-12, "m^2", f"{NANGATE} DFF_X1 4.522 um^2")
A_XOR2_X1 = Cited(1.596e-12, "m^2", f"{NANGATE} XOR2_X1 1.596 um^2")
A_HA_X1 = Cited(2.660e-12, "m^2", f"{NANGATE} HA_X1 2.660 um^2")

A_SRAM_CELL_45 = Cited(0.346e-12, "m^2", f"{MISTRY}: 6T SRAM cell 0.346 um^2")
CPP_45 = Cited(160e-9, "m", f"{MISTRY}: contacted gate pitch 160 nm")
FEATURE_45 = Cited(45e-9, "m", "technology node F = 45 nm (the CMOS card's minimum length)")
TRANSISTOR_RULE = "footprint rule (W + 2F) x 2 CPP per transistor (a stated estimate, not a layout)"

PAPER_CLAIM = {
    "name": "the seed paper's claim (VCMA-MTJ TRNG for diffusion)",
    "claim": "~10^3 better energy-per-bit-per-area over traditional hardware",
    "energy_per_bit_J": None, "area_m2": None, "throughput_bit_per_s": None, "node": None,
    "note": "a ratio only: the abstract gives no absolute energy, area or throughput",
    "source": ("'Voltage-Controlled Magnetoelectric Devices for Neuromorphic Diffusion Process', arXiv:2407.12261 "
               "(abstract: 'achieving ~10^3 better energy-per-bit-per-area over traditional hardware')"),
}

PUBLISHED_TRNGS = [
    {"name": "Intel all-digital TRNG (metastable cross-coupled inverters)", "kind": "CMOS",
     "energy_per_bit_J": 2.9e-12, "area_m2": 4004e-12, "throughput_bit_per_s": 2.4e9, "node": "45 nm",
     "note": "whole TRNG incl. its PVT calibration loop; 7 mW at 1.1 V, 50 C (abstract)",
     "source": ("S. K. Mathew et al., '2.4 Gbps, 7 mW All-Digital PVT-Variation Tolerant True Random Number "
                "Generator for 45 nm CMOS High-Performance Microprocessors', IEEE J. Solid-State Circuits 47(11), "
                "Nov. 2012")},
    {"name": "Intel uRNG (three self-calibrating entropy sources + BIW extractor)", "kind": "CMOS",
     "energy_per_bit_J": 3e-12, "area_m2": 1008e-12, "throughput_bit_per_s": 162.5e6, "node": "14 nm FinFET",
     "note": "per full-entropy bit, 0.75 V, 25 C, 1.5 mW (abstract, checked)",
     "source": ("S. K. Mathew et al., 'uRNG: A 300-950 mV, 323 Gbps/W All-Digital Full-Entropy True Random Number "
                "Generator in 14 nm FinFET CMOS', IEEE J. Solid-State Circuits 51(7), July 2016")},
    {"name": "fully synthesized ring-oscillator TRNG", "kind": "CMOS",
     "energy_per_bit_J": 23e-12, "area_m2": None, "throughput_bit_per_s": 23e6, "node": "28 nm and 65 nm",
     "note": "area not in the sources checked here (title figures: 23 Mb/s, 23 pJ/b)",
     "source": ("K. Yang et al., 'A 23Mb/s 23pJ/b Fully Synthesized "
                "True-Random-Number Generator in 28nm and 65nm CMOS', IEEE ISSCC 2014")},
    {"name": "capacitive-latch TRNG with 4-bit von Neumann post-processor", "kind": "CMOS",
     "energy_per_bit_J": 38.1e-15, "area_m2": None, "throughput_bit_per_s": 162.48e6, "node": "28 nm",
     "note": "38.1 fJ/bit at 0.4 V; 162.48 Mb/s is the maximum, at 0.9 V (not the same operating point); "
             "area not in the abstract (checked)",
     "source": ("W. Lee et al., 'A 38.1 fJ/bit Capacitive-Latch True Random Number Generator Featuring Both "
                "Autozeroed Inverter Mismatch and Accelerated Evaluation', IEEE Solid-State Circuits Letters, 2025, "
                "doi:10.1109/LSSC.2025.3608187")},
    {"name": "superparamagnetic MTJ read circuit (simulated)", "kind": "MTJ",
     "energy_per_bit_J": 20e-15, "area_m2": None, "throughput_bit_per_s": None, "node": "not stated here",
     "note": "circuit-level simulation; 20 fJ/bit (abstract); area and rate not in the sources checked here",
     "source": ("D. Vodenicarevic, N. Locatelli, A. Mizrahi, T. Hirtzlin, J. S. Friedman, J. Grollier, D. Querlioz, "
                "'Circuit-Level Evaluation of the Generation of Truly Random Bits with Superparamagnetic Tunnel "
                "Junctions', 2018 (arXiv:1806.09124)")},
    {"name": "spin dice (stochastic STT switching of 8 perpendicular MTJs)", "kind": "MTJ",
     "energy_per_bit_J": None, "area_m2": None, "throughput_bit_per_s": None, "node": "board-level MTJs",
     "note": "a board-level demonstration: energy per bit, area and rate of an integrated circuit not published",
     "source": ("A. Fukushima et al., 'Spin dice: A scalable truly random number generator based on spintronics', "
                "Appl. Phys. Express 7, 083001 (2014)")},
]
"""Published TRNGs as their papers state them (``None``: not stated in the sources checked)."""
