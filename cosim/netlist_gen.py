"""Netlists with a variable number of instances, rendered from one template each.

The rendered defaults live in ``netlists/`` so a designer can open them in plain
``ngspice -b``; a test checks the committed files equal what these functions render.
"""

from __future__ import annotations

from pathlib import Path

from compact_models.render import NETLIST_DIR, write_atomic

SWITCHING_FILE = "mtj_switching.cir"
DEFAULT_SWITCHING_TRIALS = 32


def render_switching(n_trials: int = DEFAULT_SWITCHING_TRIALS, lib: str = "vcma_mtj.lib") -> str:
    """N independent MTJs under one ideal write pulse; each reports its final m_z.

    One transient gives N Bernoulli trials, because every instance draws its own thermal
    field: this batching is what makes SPICE switching statistics affordable.
    ``lib`` is the include path of the model library (absolute for decks written elsewhere).
    """
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    lines = [
        f"* VCMA-MTJ switching trials: {n_trials} independent cells under one write pulse",
        "* Rendered by cosim.netlist_gen.render_switching; run with: ngspice -b netlists/mtj_switching.cir",
        "* t_pulse is the full width at half maximum; m_z is averaged over the last 0.5 ns of the settle time.",
        "* Every cell starts in P (mz = +1); mz_k < 0 at the end means cell k switched.",
        f".include {lib}",
        ".param v_write=1.3 t_pulse=0.55n t_rise=20p t_delay=0.1n t_settle=3n noise=1 mz0=1 theta0=-1",
        ".param t_stop={t_delay + t_pulse + t_rise + t_settle}",
        "Vw w 0 DC 0 PULSE(0 {v_write} {t_delay} {t_rise} {t_rise} {t_pulse - t_rise} 1)",
    ]
    lines += [f"X{k} w 0 VCMA_MTJ noise={{noise}} mz0={{mz0}} theta0={{theta0}}" for k in range(n_trials)]
    lines += [".tran 1p {t_stop} 0 {mtj_dt_th}"]
    lines += [f".meas tran mz_{k} avg v(x{k}.mz) from={{t_stop - 0.5n}} to={{t_stop}}" for k in range(n_trials)]
    lines += [".options seed=1", ".end"]
    return "\n".join(lines) + "\n"


def write_switching(path: Path | None = None, n_trials: int = DEFAULT_SWITCHING_TRIALS) -> Path:
    path = path or NETLIST_DIR / SWITCHING_FILE
    write_atomic(path, render_switching(n_trials))
    return path

TRNG_FILE = "trng_cell.cir"
DEFAULT_TRNG_CYCLES = 16


def render_trng_cell(n_cycles: int = DEFAULT_TRNG_CYCLES, netlist_dir: str = "") -> str:
    """1T-1MTJ TRNG cell run for N cycles of reset / stochastic write / read, one bit per cycle.

    Reset is a write-verify toggle: the bit latched in the previous cycle says whether the
    cell sits in AP, and only then a deterministic precessional pulse puts it back to P.
    The read is a resistive divider against a replica reference, decided by a StrongARM
    latch (BSIM4 transistors) and held in a behavioural latch ``q``.
    """
    if not isinstance(n_cycles, int) or n_cycles < 1:
        raise ValueError(f"n_cycles must be a positive integer, got {n_cycles!r}")
    head = f"""* VCMA-MTJ TRNG cell, 1T-1MTJ, {n_cycles} cycles of reset / write / read
* Rendered by cosim.netlist_gen.render_trng_cell; run with: ngspice -b netlists/trng_cell.cir
* Cycle k (period t_cycle): [0, t_slot) reset slot: if the last latched bit is 1 (AP), a toggle pulse
* v_reset for t_reset; [t_slot, 2 t_slot) write slot: VCMA pulse v_write for t_pulse (full width at half
* maximum) whose switching probability is the bit's P(1); [2 t_slot, 3 t_slot) read slot: the bit line
* is biased through r_load from v_read, a StrongARM latch compares it with a replica reference
* (midway between R_P and R_AP at 0.25 V) at sae,
* and q latches the decision. bit_k = q at the end of cycle k (1 = AP); e_k = supply energy of cycle k.
.include {netlist_dir}vcma_mtj.lib
.lib {netlist_dir}cards/cmos45.lib tt
.param v_write=0.85 t_pulse=0.5n v_reset=1.35 t_reset=0.5n t_rise=20p t_slot=1n
.param v_read=0.5 r_load=60k r_drv=500 w_access=360n w_sa=720n
.param r_ref={{0.5*(mtj_ra/(3.141592653589793*mtj_d*mtj_d/4))*(2 + mtj_tmr0/(1 + 0.0625/(mtj_vh*mtj_vh)))}}
.param t_cycle={{3*t_slot}} n_cycles={n_cycles}
.options seed=1

* Supplies, each with a 0 V ammeter for energy accounting.
Vdd vdd_s 0 {{vdd}}
Vadd vdd_s vdd 0
Vrd rd_s 0 {{v_read}}
Vard rd_s rd 0

* Timing (unit pulses): reset, write, read enable, sense enable, latch clock.
Vpr pr 0 PULSE(0 1 {{0.1n}} {{t_rise}} {{t_rise}} {{t_reset - t_rise}} {{t_cycle}})
Vpw pw 0 PULSE(0 1 {{t_slot + 0.1n}} {{t_rise}} {{t_rise}} {{t_pulse - t_rise}} {{t_cycle}})
Vren ren 0 PULSE(0 1 {{2*t_slot + 0.05n}} {{t_rise}} {{t_rise}} {{0.85n}} {{t_cycle}})
Vsae sae 0 PULSE(0 {{vdd}} {{2*t_slot + 0.45n}} {{t_rise}} {{t_rise}} {{0.45n}} {{t_cycle}})
Vclk clk 0 PULSE(0 1 {{2*t_slot + 0.8n}} {{t_rise}} {{t_rise}} {{0.05n}} {{t_cycle}})

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
Cbl bl 0 5f

* Read: bit line and replica reference biased through r_load while ren is high.
Gread rd bl cur='(V(rd) - V(bl))*V(ren)/r_load'
Gref rd ref cur='(V(rd) - V(ref))*V(ren)/r_load'
Rref ref refmid {{r_ref}}
Mref refmid wl 0 0 nch W={{w_access}} L=45n
Cref ref 0 5f

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
    meas = []
    for k in range(n_cycles):
        meas.append(f".meas tran bit_{k} find v(q) at={{({k}+1)*t_cycle - 0.05n}}")
        meas.append(f".meas tran e_{k} integ v(pwr) from={{{k}*t_cycle}} to={{({k}+1)*t_cycle}}")
    return head + "\n".join(meas) + "\n.end\n"


def write_trng_cell(path: Path | None = None, n_cycles: int = DEFAULT_TRNG_CYCLES) -> Path:
    path = path or NETLIST_DIR / TRNG_FILE
    write_atomic(path, render_trng_cell(n_cycles))
    return path
