"""The 1T-1MTJ TRNG-cell netlist (``netlists/trng_cell.cir``), N cycles from one template.

The rendered default lives in ``netlists/`` so a designer can open it in plain ``ngspice -b``;
a test checks the committed file equals what this module renders.
"""

from __future__ import annotations

from pathlib import Path

from compact_models.render import NETLIST_DIR, TRNG_CELL_CARD_FILE, write_atomic
from compact_models.trng_cell import BIT_MEASURE_BEFORE_END_S, TRNG_CELL


TRNG_FILE = "trng_cell.cir"
DEFAULT_TRNG_CYCLES = 16
TRNG_T_PULSE_S = TRNG_CELL.t_pulse_s
"""The TRNG cell's write-pulse width (the TRNG-cell card's default; the emulator's default operating point)."""


CELL_TEMPLATE = """* VCMA-MTJ TRNG cell, 1T-1MTJ, {n_cycles} cycles of reset / write / read
* Rendered by cosim.circuit.render_trng.render_trng_cell; run with: ngspice -b netlists/trng_cell.cir
* Drive, timing, read bias and sizes: cards/trng_cell_card.inc (rendered from compact_models/trng_cell.py).
* Cycle k (period t_cycle): [0, t_slot) reset slot: if the last latched bit is 1 (AP), a toggle pulse
* v_reset for t_reset; at t_w = t_slot + t_rest, the write: VCMA pulse v_write for t_pulse (full width at half
* maximum) whose switching probability is the bit's P(1); at t_r = t_w + t_slot + t_settle, the read slot
* [t_r, t_r + t_slot). The rests matter: with alpha = 0.01 a pulse leaves m ringing on a wide orbit that decays
* in ~1/(alpha gamma mu0 H) = 3.8 ns, so a read too soon samples the orbit, not the well, and a write
* too soon after the reset starts from a ringing state (both flatten P(1) vs amplitude). In the read slot the bit line
* is biased through r_load from v_read, a StrongARM latch compares it with a replica reference
* (midway between R_P and R_AP at 0.25 V) at sae,
* and q latches the decision. bit_k = q at the end of cycle k (1 = AP); e_k = supply energy of cycle k.
.include {netlist_dir}vcma_mtj_va.lib
.lib {netlist_dir}cards/cmos45.lib tt
.include {netlist_dir}{card}
.param r_ref={{0.5*(mtj_ra/(3.141592653589793*mtj_d*mtj_d/4))*(2 + mtj_tmr0/(1 + 0.0625/(mtj_vh*mtj_vh)))}}
.param t_w={{t_slot + t_rest}} t_r={{t_w + t_slot + t_settle}} t_cycle={{t_r + t_slot}} n_cycles={n_cycles}
.options seed=1

* Supplies, each with a 0 V ammeter for energy accounting.
Vdd vdd_s 0 {{vdd}}
Vadd vdd_s vdd 0
Vrd rd_s 0 {{v_read}}
Vard rd_s rd 0

* Timing (unit pulses): reset, write, read enable, sense enable, latch clock.
Vpr pr 0 PULSE(0 1 {{t_lead}} {{t_rise}} {{t_rise}} {{t_reset - t_rise}} {{t_cycle}})
Vpw pw 0 PULSE(0 1 {{t_w + t_lead}} {{t_rise}} {{t_rise}} {{t_pulse - t_rise}} {{t_cycle}})
Vren ren 0 PULSE(0 1 {{t_r + t_ren_delay}} {{t_rise}} {{t_rise}} {{t_ren}} {{t_cycle}})
Vsae sae 0 PULSE(0 {{vdd}} {{t_r + t_sae_delay}} {{t_rise}} {{t_rise}} {{t_sae}} {{t_cycle}})
Vclk clk 0 PULSE(0 1 {{t_r + t_clk_delay}} {{t_rise}} {{t_rise}} {{t_clk}} {{t_cycle}})

* Write driver: conditional reset toggle, then the stochastic write pulse, 0 V otherwise; it
* releases the bit line (conductance -> 0) while the read enable ren is high.
Bdrv drv_s 0 V=v_reset*V(pr)*(V(q) > 0.5*vdd ? 1 : 0) + v_write*V(pw)
Vadrv drv_s drv 0
Gdrv drv bl cur='(V(drv) - V(bl))*(1 - V(ren))/r_drv'
* Word line: the TRNG cell is always selected.
Vwl wl 0 {{vdd}}

* The cell: bit line -> MTJ -> access NMOS -> source line (ground).
XMTJ bl mid VCMA_MTJ
Macc mid wl 0 0 nch W={{w_access}} L=45n
Cbl bl 0 {{c_bl}}

* Read: bit line and replica reference biased through r_load while ren is high.
Gread rd bl cur='(V(rd) - V(bl))*V(ren)/r_load'
Gref rd ref cur='(V(rd) - V(ref))*V(ren)/r_load'
Rref ref refmid {{r_ref}}
Mref refmid wl 0 0 nch W={{w_access}} L=45n
Cref ref 0 {{c_ref}}

* StrongARM latch sense amplifier, PMOS input pair for the low common mode of a gentle read
* (about 0.25 V across the MTJ, far from VCMA read disturb): op high when V(bl) > V(ref), i.e. AP.
Bsaeb saeb 0 V=vdd - V(sae)
Mtail tail saeb vdd vdd pch W={{2*w_sa}} L=45n
M1 x bl tail vdd pch W={{w_sa}} L=45n
M2 y ref tail vdd pch W={{w_sa}} L=45n
M3 on op x vdd pch W={{w_sa}} L=45n
M4 op on y vdd pch W={{w_sa}} L=45n
M5 on op 0 0 nch W={{w_sa}} L=45n
M6 op on 0 0 nch W={{w_sa}} L=45n
M7 on saeb 0 0 nch W={{w_sa}} L=45n
M8 op saeb 0 0 nch W={{w_sa}} L=45n
M9 x saeb 0 0 nch W={{w_sa}} L=45n
M10 y saeb 0 0 nch W={{w_sa}} L=45n
Con on 0 1f
Cop op 0 1f

* Output latch behind an ideal buffer (no load on op): samples while clk is high, holds otherwise;
* q is the digital bit (starts at 0: P).
Bbuf opb 0 V=V(op)
Glat opb qs cur='(V(opb) - V(qs))*V(clk)/1k'
Cqs qs 0 20f
.ic v(qs)=0
Bq q 0 V=vdd/(1 + exp(-(V(qs) - 0.5*vdd)/0.02))

* Total supply power (W): write driver, read bias, sense amplifier.
Bpwr pwr 0 V=V(drv_s)*I(Vadrv) + V(rd_s)*I(Vard) + V(vdd_s)*I(Vadd)

.tran 1p {{n_cycles*t_cycle}} 0 {{mtj_dt_th}}
"""
"""The cell deck; ``str.format`` fields: n_cycles, netlist_dir (include prefix), card (the TRNG-cell card include)."""


def render_trng_cell(n_cycles: int = DEFAULT_TRNG_CYCLES, netlist_dir: str = "") -> str:
    """1T-1MTJ TRNG cell run for N cycles of reset / stochastic write / read, one bit per cycle.

    Reset is a write-verify toggle: the bit latched in the previous cycle says whether the
    cell sits in AP, and only then a deterministic precessional pulse puts it back to P.
    The read is a resistive divider against a replica reference, decided by a StrongARM
    latch (BSIM4 transistors) and held in a behavioural latch ``q``. Drive, timing, read bias
    and sizes come from the TRNG-cell card (``compact_models/trng_cell.py``) through the
    include ``netlists/cards/trng_cell_card.inc``; this template holds none of their values.
    """
    if not isinstance(n_cycles, int) or n_cycles < 1:
        raise ValueError(f"n_cycles must be a positive integer, got {n_cycles!r}")
    head = CELL_TEMPLATE.format(n_cycles=n_cycles, netlist_dir=netlist_dir, card=TRNG_CELL_CARD_FILE)
    meas = []
    for k in range(n_cycles):
        meas.append(f".meas tran bit_{k} find v(q) at={{({k}+1)*t_cycle - {BIT_MEASURE_BEFORE_END_S * 1e9:g}n}}")
        meas.append(f".meas tran e_{k} integ v(pwr) from={{{k}*t_cycle}} to={{({k}+1)*t_cycle}}")
    return head + "\n".join(meas) + "\n.end\n"


def write_trng_cell(path: Path | None = None, n_cycles: int = DEFAULT_TRNG_CYCLES) -> Path:
    path = path or NETLIST_DIR / TRNG_FILE
    write_atomic(path, render_trng_cell(n_cycles))
    return path


# Crossbar (1T-1MTJ array) netlists ---------------------------------------------------------------
