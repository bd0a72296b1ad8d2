"""The crossbar read and write netlists (``netlists/crossbar_*.cir``), any size up to 64 x 64.

The rendered defaults live in ``netlists/`` so a designer can open them in plain ``ngspice -b``;
a test checks the committed files equal what this module renders.
"""

from __future__ import annotations

from pathlib import Path

from compact_models.render import NETLIST_DIR, write_atomic


CROSSBAR_READ_FILE = "crossbar_read.cir"
CROSSBAR_WRITE_FILE = "crossbar_write.cir"
DEFAULT_CROSSBAR_SIZE = (16, 16)
CROSSBAR_T0_S = 0.1e-9
"""Start of the first operation (s): supplies settle before it."""
CROSSBAR_READ_GAP_S = 0.5e-9
"""Idle time between read slots (bit lines discharge); a read slot lasts xb_tread + this."""
CROSSBAR_WRITE_SETTLE_S = 1.0e-9
CROSSBAR_WRITE_LEAD_S = 0.2e-9
"""The selected word line rises this long before the bit-line pulse."""


def _cell_extra(extra, key) -> str:
    return "" if not extra or key not in extra else " " + extra[key]


def _array_core(rows: int, cols: int, dynamic, mtj_extra, mos_extra, ideal: bool, ref: bool) -> list[str]:
    """Cells, reference column, and the bit-, word- and source-line RC ladders.

    Nodes: bit line ``b<r>_<c>`` at cell (r, c), its driver / sense end ``bsa<c>`` (row 0 side);
    word line ``w<r>_<c>`` driven at ``wld<r>`` (column 0 side); source line ``s<r>_<c>`` running
    along the row, driven at ``sld<r>`` (column 0 side); MTJ-transistor node ``m<r>_<c>``.
    The reference column ``ref`` sits between the row drivers and column 0.
    """
    cols_all = (["ref"] if ref else []) + [str(c) for c in range(cols)]
    out = ["", "* Bit lines: one RC segment per cell pitch from the driver/sense end (row 0 side).",
           "* Wire resistance follows the copper temperature coefficient (tc1, referred to 27 C)."]
    for c in cols_all:
        prev = f"bsa{c}"
        for r in range(rows):
            out.append(f"Rb{r}_{c} {prev} b{r}_{c} {{xb_rbl}} tc1={{xb_tcr}}")
            out.append(f"Cb{r}_{c} b{r}_{c} 0 {{xb_cbl}}")
            prev = f"b{r}_{c}"
    out += ["", "* Word lines and source lines: one RC segment per cell pitch from the row drivers (column 0 side)."]
    for r in range(rows):
        pw, ps = f"wld{r}", f"sld{r}"
        for c in cols_all:
            out.append(f"Rw{r}_{c} {pw} w{r}_{c} {{xb_rwl}} tc1={{xb_tcr}}")
            out.append(f"Cw{r}_{c} w{r}_{c} 0 {{xb_cwl}}")
            out.append(f"Rs{r}_{c} {ps} s{r}_{c} {{xb_rsl}} tc1={{xb_tcr}}")
            out.append(f"Cs{r}_{c} s{r}_{c} 0 {{xb_csl}}")
            pw, ps = f"w{r}_{c}", f"s{r}_{c}"
    out += ["", "* Cells: bit line -> MTJ (top) -> access transistor -> source line. Word line on = vdd.",
            "* Static cells use VCMA_MTJ_STATIC (the hold=1, noise=0 limit of VCMA_MTJ, one element)."]
    if ideal:
        out.append("* IDEAL variant: access transistors replaced by switches (1 Ohm when the word line is at vdd, open at 0).")
    for r in range(rows):
        if ref:
            out.append(f"Rref{r} b{r}_ref mref{r} {{r_ref}}")
            out.append(_access(f"ref{r}", f"mref{r}", f"w{r}_ref", f"s{r}_ref", ideal, _cell_extra(mos_extra, ("ref", r))))
        for c in range(cols):
            extra = _cell_extra(mtj_extra, (r, c))
            if (r, c) in dynamic:
                out.append(f"X{r}_{c} b{r}_{c} m{r}_{c} VCMA_MTJ noise=1 hold=0 mz0={{mz_cells}} theta0={{theta_cells}}"
                           f" nid={r * cols + c + 1}" + extra)
            else:
                out.append(f"X{r}_{c} b{r}_{c} m{r}_{c} VCMA_MTJ_STATIC mz0={{mz_cells}} theta0={{theta_cells}}"
                           + extra)
            out.append(_access(f"{r}_{c}", f"m{r}_{c}", f"w{r}_{c}", f"s{r}_{c}", ideal, _cell_extra(mos_extra, (r, c))))
    return out


def _access(name: str, d: str, g: str, s: str, ideal: bool, extra: str) -> str:
    if ideal:
        return f"Gsw{name} {d} {s} cur='V({d},{s})*V({g})/vdd'\nCm{name} {d} 0 1e-18"
    return f"Ma{name} {d} {g} {s} 0 nch W={{xb_wacc}} L=45n{extra}"


def _strongarm(tag: str, inp: str, inn: str, extra: dict | None) -> list[str]:
    """PMOS-input StrongARM latch (as in trng_cell.cir): o<tag> high when V(inp) > V(inn)."""
    def e(k):
        return _cell_extra(extra, (tag, k))
    x, y, on, op, tail = f"x{tag}", f"y{tag}", f"on{tag}", f"op{tag}", f"tail{tag}"
    return [
        f"Mt{tag} {tail} saeb vdd vdd pch W={{2*xb_wsa}} L=45n{e('t')}",
        f"M1_{tag} {x} {inp} {tail} vdd pch W={{xb_wsa}} L=45n{e(1)}",
        f"M2_{tag} {y} {inn} {tail} vdd pch W={{xb_wsa}} L=45n{e(2)}",
        f"M3_{tag} {on} {op} {x} vdd pch W={{xb_wsa}} L=45n{e(3)}",
        f"M4_{tag} {op} {on} {y} vdd pch W={{xb_wsa}} L=45n{e(4)}",
        f"M5_{tag} {on} {op} 0 0 nch W={{xb_wsa}} L=45n{e(5)}",
        f"M6_{tag} {op} {on} 0 0 nch W={{xb_wsa}} L=45n{e(6)}",
        f"M7_{tag} {on} saeb 0 0 nch W={{xb_wsa}} L=45n",
        f"M8_{tag} {op} saeb 0 0 nch W={{xb_wsa}} L=45n",
        f"M9_{tag} {x} saeb 0 0 nch W={{xb_wsa}} L=45n",
        f"M10_{tag} {y} saeb 0 0 nch W={{xb_wsa}} L=45n",
        f"Con{tag} {on} 0 1f",
        f"Cop{tag} {op} 0 1f",
        f"Bad{tag} ad{tag} 0 V=abs(V({op})-V({on}))",
        f"Bdp{tag} dp{tag} 0 V=V({op})-V({on})",
    ]


def render_crossbar_read(rows: int = DEFAULT_CROSSBAR_SIZE[0], cols: int = DEFAULT_CROSSBAR_SIZE[1],
                         sense_amp: str = "latch", ideal: bool = False, read_rows=None, dynamic=(),
                         netlist_dir: str = "", mtj_extra: dict | None = None, mos_extra: dict | None = None,
                         sa_extra: dict | None = None) -> str:
    """R x C 1T-1MTJ array read row by row: slot k reads row ``read_rows[k]`` (default 0..R-1).

    All columns of the selected row are read in parallel, each by its own sense amplifier
    against one reference column (one reference resistor per row, same wires and access
    transistor). ``sense_amp``: ``latch`` (voltage mode: bit lines biased from the read rail
    through r_load, PMOS StrongARM latch) or ``current`` (bit lines clamped at v_clamp by a
    regulated driver; the cell current minus the reference current, times r_tia, is the SA's
    input, decided by the same latch). ``ideal`` replaces transistors by ideal switches (for
    hand-checkable nodal voltages); ``dynamic`` lists (r, c) cells that run the stochastic LLG
    (all others are static, hold=1). ``mtj_extra``/``mos_extra``/``sa_extra`` add per-instance
    parameters (Monte Carlo draws) keyed by (r, c) / ("ref", r) / (column, transistor).
    """
    from compact_models.crossbar import check_sense_amp, check_size

    check_size(rows, cols)
    check_sense_amp(sense_amp)
    read_rows = list(range(rows)) if read_rows is None else list(read_rows)
    if not read_rows or any(not 0 <= r < rows for r in read_rows):
        raise ValueError(f"read_rows must name rows in [0, {rows}), got {read_rows}")
    dynamic = set(map(tuple, dynamic))
    lines = _read_header(rows, cols, sense_amp, ideal, read_rows, netlist_dir)
    lines += _array_core(rows, cols, dynamic, mtj_extra, mos_extra, ideal, ref=True)
    lines += _read_outputs(cols, sense_amp, sa_extra, read_rows)
    return "\n".join(lines) + "\n.end\n"



def _read_header(rows: int, cols: int, sense_amp: str, ideal: bool, read_rows: list[int],
                 netlist_dir: str) -> list[str]:
    """Comments, includes, parameters, supplies, timing, word-line and bit-line drivers of the read deck."""
    n = len(read_rows)
    if sense_amp == "latch":
        r_ref = "{xb_rload*m_ref/(1 - m_ref)}"
        ref_doc = "giving the bit-line voltage midway between the P and AP levels"
    else:
        r_ref = ("{2*(mtj_ra/(3.141592653589793*mtj_d*mtj_d/4))*(1 + mtj_tmr0/(1 + 0.0625/(mtj_vh*mtj_vh)))"
                 "/(2 + mtj_tmr0/(1 + 0.0625/(mtj_vh*mtj_vh)))}")
        ref_doc = "harmonic mean of R_P and R_AP at 0.25 V (current midway)"
    lines = [
        f"* VCMA-MTJ crossbar read: {rows} x {cols} 1T-1MTJ array, {sense_amp} sense amplifiers, "
        f"{'IDEAL switches, ' if ideal else ''}{n} row reads",
        "* Rendered by cosim.circuit.render_crossbar.render_crossbar_read; run with: ngspice -b netlists/crossbar_read.cir",
        "* Slot k (period t_slot = xb_tread + gap) reads row rk: its word line and the read enable ren are high for",
        "* xb_tread; the sense enable sae rises xb_tsense after ren. Bit lines are sensed at their driver end bsa<c>",
        f"* against the reference column bsaref (reference resistor {ref_doc}).",
        "* Measures per slot k and column c: vsa_k_c / vref_k (mean SA input voltages over the 50 ps before sae),",
        "* vbl_k_c (bit-line voltage there), dec_k_c (latch output difference op-on at the end of the slot:",
        "* > 0 means AP), lat_k_c (sae 50 % to |op-on| = vdd/2), e_k (supply energy of the slot).",
        f".include {netlist_dir}vcma_mtj_va.lib",
        f".include {netlist_dir}vcma_mtj_static.lib",
        f".include {netlist_dir}cards/crossbar_card.inc",
        f".lib {netlist_dir}cards/cmos45.lib tt",
        f".param mz_cells=1 theta_cells=-1 t_rise=20p t_gap={CROSSBAR_READ_GAP_S:g} t0={CROSSBAR_T0_S:g}",
        ".param v_clamp=0.25 g_clamp=2m v_sacm=0.3",
        ".param r_p={mtj_ra/(3.141592653589793*mtj_d*mtj_d/4)} r_ap={r_p*(1 + mtj_tmr0/(1 + 0.09/(mtj_vh*mtj_vh)))}",
        ".param m_ref={0.5*(r_p/(xb_rload + r_p) + r_ap/(xb_rload + r_ap))}",
        f".param r_ref={r_ref}",
        f".param t_slot={{xb_tread + t_gap}} n_reads={n}",
        "",
        "* Supplies, each with a 0 V ammeter for energy accounting.",
        "Vdd vdd_s 0 {vdd}",
        "Vadd vdd_s vdd 0",
        "Vrd rd_s 0 {xb_vread}",
        "Vard rd_s rd 0",
        "",
        "* Timing: read enable and sense enable every slot; word-line select per row.",
        "Vren ren 0 PULSE(0 1 {t0} {t_rise} {t_rise} {xb_tread - t_rise} {t_slot})",
        "Vsae sae 0 PULSE(0 {vdd} {t0 + xb_tsense} {t_rise} {t_rise} {xb_tread - xb_tsense - t_rise} {t_slot})",
        "Bsaeb saeb 0 V=vdd - V(sae)",
    ]
    slot_of = {}
    for k, r in enumerate(read_rows):
        slot_of.setdefault(r, []).append(k)
    lines.append("* Word-line drivers (inverter-like, from the vdd rail, output resistance xb_rwldrv).")
    for r in range(rows):
        ks = slot_of.get(r, [])
        if ks:
            terms = " + ".join(f"V(sel{r}_{k})" for k in ks)
            for k in ks:
                lines.append(f"Vsel{r}_{k} sel{r}_{k} 0 PULSE(0 1 {{t0 + {k}*t_slot}} {{t_rise}} {{t_rise}} "
                             f"{{xb_tread - t_rise}} 1)")
            lines.append(f"Gwlu{r} vdd wld{r} cur='(V(vdd)-V(wld{r}))*({terms})/xb_rwldrv'")
            lines.append(f"Gwld{r} wld{r} 0 cur='V(wld{r})*(1-({terms}))/xb_rwldrv'")
        else:
            lines.append(f"Rwld{r} wld{r} 0 {{xb_rwldrv}}")
        lines.append(f"Rsld{r} sld{r} 0 {{xb_rdrv}}")
    lines += ["", "* Bit-line read drivers: bias while ren is high, discharge to 0 otherwise."]
    for c in ["ref"] + [str(c) for c in range(cols)]:
        if sense_amp == "latch":
            lines.append(f"Grd{c} rd bsa{c} cur='(V(rd)-V(bsa{c}))*V(ren)/xb_rload'")
        else:
            lines.append(f"Grd{c} rd bsa{c} cur='(v_clamp-V(bsa{c}))*V(ren)*g_clamp'")
        lines.append(f"Gdis{c} bsa{c} 0 cur='V(bsa{c})*(1-V(ren))/xb_rdrv'")
        lines.append(f"Csa{c} bsa{c} 0 2f")
    return lines


def _read_outputs(cols: int, sense_amp: str, sa_extra: dict | None, read_rows: list[int]) -> list[str]:
    """Sense amplifiers (inputs in voltage or current mode, a StrongARM latch per column), the transient, measures."""
    lines = ["", "* Sense amplifiers, one per column."]
    if sense_amp == "latch":
        lines.append("* Voltage mode: inputs are the bit line and the reference line themselves.")
        lines.append("Bsaref saref 0 V=V(bsaref)")
        for c in range(cols):
            lines.append(f"Bsa{c} sa{c} 0 V=V(bsa{c})")
    else:
        lines.append("* Current mode: input = v_sacm + r_tia (I_ref - I_cell), reference input = v_sacm.")
        lines.append("Bsaref saref 0 V=v_sacm")
        for c in range(cols):
            lines.append(f"Bsa{c} sa{c} 0 V=v_sacm + xb_rtia*g_clamp*(V(bsa{c}) - V(bsaref))")
    for c in range(cols):
        lines += _strongarm(str(c), f"sa{c}", "saref", sa_extra)
    lines += ["", "* Total supply power (W): read rail and vdd rail (word lines and sense amplifiers).",
              "Bpwr pwr 0 V=V(vdd_s)*I(Vadd) + V(rd_s)*I(Vard)",
              "", ".tran 20p {t0 + n_reads*t_slot}"]
    for k, r in enumerate(read_rows):
        ts = f"t0 + {k}*t_slot + xb_tsense"
        lines.append(f".meas tran vref_{k} avg v(saref) from={{{ts} - 50p}} to={{{ts}}}")
        lines.append(f".meas tran e_{k} integ v(pwr) from={{t0 + {k}*t_slot - 0.05n}} to={{t0 + ({k}+1)*t_slot - 0.05n}}")
        for c in range(cols):
            lines.append(f".meas tran vsa_{k}_{c} avg v(sa{c}) from={{{ts} - 50p}} to={{{ts}}}")
            lines.append(f".meas tran vbl_{k}_{c} avg v(bsa{c}) from={{{ts} - 50p}} to={{{ts}}}")
            lines.append(f".meas tran dec_{k}_{c} find v(dp{c}) at={{t0 + {k}*t_slot + xb_tread - 0.05n}}")
            lines.append(f".meas tran lat_{k}_{c} trig v(sae) val={{0.5*vdd}} td={{t0 + {k}*t_slot}} rise=1 "
                         f"targ v(ad{c}) val={{0.5*vdd}} td={{t0 + {k}*t_slot}} rise=1")
    return lines


def render_crossbar_write(rows: int = DEFAULT_CROSSBAR_SIZE[0], cols: int = DEFAULT_CROSSBAR_SIZE[1],
                          scheme: str = "v2", sel=None, dynamic=None, netlist_dir: str = "",
                          mtj_extra: dict | None = None, mos_extra: dict | None = None) -> str:
    """One VCMA write pulse at cell ``sel`` (default: the far corner) under a biasing scheme.

    ``scheme``: ``v2`` or ``v3`` (see compact_models.crossbar). Bit-line drivers (row 0 side)
    and source-line drivers (column 0 side) have output resistance xb_rdrv and draw from
    three rails: vw (selected BL), vub (unselected BLs), vus (unselected SLs); the selected SL
    is pulled to 0. Only the selected word line is on. ``dynamic`` lists cells running the
    stochastic LLG (default: the selected cell).
    """
    from compact_models.crossbar import check_scheme, check_size

    check_size(rows, cols)
    check_scheme(scheme)
    sel = (rows - 1, cols - 1) if sel is None else tuple(sel)
    if not (0 <= sel[0] < rows and 0 <= sel[1] < cols):
        raise ValueError(f"selected cell {sel} is outside the {rows} x {cols} array")
    dynamic = {sel} if dynamic is None else set(map(tuple, dynamic))
    lines = _write_header(rows, cols, scheme, sel, netlist_dir)
    lines += _array_core(rows, cols, dynamic, mtj_extra, mos_extra, False, ref=True)
    lines += _write_measures(rows, cols, sel, dynamic)
    return "\n".join(lines) + "\n.end\n"



def _write_header(rows: int, cols: int, scheme: str, sel: tuple[int, int], netlist_dir: str) -> list[str]:
    """Comments, includes, parameters, supplies, timing and the drivers of the write deck."""
    from compact_models.crossbar import UNSELECTED_BL_FRACTION, UNSELECTED_SL_FRACTION

    sr, sc = sel
    lines = [
        f"* VCMA-MTJ crossbar write: {rows} x {cols} 1T-1MTJ array, scheme {scheme}, selected cell ({sr}, {sc})",
        "* Rendered by cosim.circuit.render_crossbar.render_crossbar_write; run with: ngspice -b netlists/crossbar_write.cir",
        f"* Biasing ({scheme}): selected BL = xb_vwrite, unselected BLs = {UNSELECTED_BL_FRACTION[scheme]:.4g} xb_vwrite,",
        f"* selected SL = 0, unselected SLs = {UNSELECTED_SL_FRACTION[scheme]:.4g} xb_vwrite; only the selected word line is on.",
        "* The bit-line pulse has width xb_twrite (FWHM); the word line rises t_lead before it and falls t_lead after.",
        "* Measures per cell (r, c): vb_r_c, vm_r_c, vs_r_c (mean bit-line, MTJ-bottom and source-line voltages over",
        "* the pulse plateau: stack = vb - vs, MTJ = vb - vm); for cells sharing the selected row or column vpk_r_c",
        "* (peak MTJ voltage, node vmtj<r>_<c>); for stochastic cells mz_r_c (final m_z; < 0: switched from P);",
        "* e_write (supply energy of the whole operation), lat_write (select edge to the end of the cell pulse).",
        f".include {netlist_dir}vcma_mtj_va.lib",
        f".include {netlist_dir}vcma_mtj_static.lib",
        f".include {netlist_dir}cards/crossbar_card.inc",
        f".lib {netlist_dir}cards/cmos45.lib tt",
        f".param mz_cells=1 theta_cells=-1 t_rise=20p t0={CROSSBAR_T0_S:g} t_lead={CROSSBAR_WRITE_LEAD_S:g} "
        f"t_settle={CROSSBAR_WRITE_SETTLE_S:g}",
        ".param r_ref={mtj_ra/(3.141592653589793*mtj_d*mtj_d/4)}",
        f".param f_ub={UNSELECTED_BL_FRACTION[scheme]:.10g} f_us={UNSELECTED_SL_FRACTION[scheme]:.10g}",
        ".param t_on={t0 + t_lead} t_stop={t0 + 2*t_lead + xb_twrite + t_settle}",
        ".options seed=1",
        "",
        "* Supplies, each with a 0 V ammeter for energy accounting.",
        "Vdd vdd_s 0 {vdd}", "Vadd vdd_s vdd 0",
        "Vw vw_s 0 {xb_vwrite}", "Vaw vw_s vw 0",
        "Vub vub_s 0 {f_ub*xb_vwrite}", "Vaub vub_s vub 0",
        "Vus vus_s 0 {f_us*xb_vwrite}", "Vaus vus_s vus 0",
        "",
        "* Timing: word-line select (wsel) and write enable (wen, FWHM xb_twrite).",
        "Vwsel wsel 0 PULSE(0 1 {t0} {t_rise} {t_rise} {xb_twrite + 2*t_lead - t_rise} 1)",
        "Vwen wen 0 PULSE(0 1 {t_on - 0.5*t_rise} {t_rise} {t_rise} {xb_twrite - t_rise} 1)",
        "",
    ]
    lines.append("* Word-line drivers: the selected one from the vdd rail, the others held at 0.")
    for r in range(rows):
        if r == sr:
            lines.append(f"Gwlu{r} vdd wld{r} cur='(V(vdd)-V(wld{r}))*V(wsel)/xb_rwldrv'")
            lines.append(f"Gwld{r} wld{r} 0 cur='V(wld{r})*(1-V(wsel))/xb_rwldrv'")
        else:
            lines.append(f"Rwld{r} wld{r} 0 {{xb_rwldrv}}")
    lines.append("* Source-line drivers: the selected row's held at 0, the others at the vus rail while wen.")
    for r in range(rows):
        if r == sr:
            lines.append(f"Rsld{r} sld{r} 0 {{xb_rdrv}}")
        else:
            lines.append(f"Gslu{r} vus sld{r} cur='(V(vus)-V(sld{r}))*V(wen)/xb_rdrv'")
            lines.append(f"Gsld{r} sld{r} 0 cur='V(sld{r})*(1-V(wen))/xb_rdrv'")
    lines.append("* Bit-line drivers: the selected one from vw, the others from vub, while wen; 0 otherwise.")
    lines.append("Rbdref bsaref 0 {xb_rdrv}")
    for c in range(cols):
        rail = "vw" if c == sc else "vub"
        lines.append(f"Gblu{c} {rail} bsa{c} cur='(V({rail})-V(bsa{c}))*V(wen)/xb_rdrv'")
        lines.append(f"Gbld{c} bsa{c} 0 cur='V(bsa{c})*(1-V(wen))/xb_rdrv'")
    return lines


def _write_measures(rows: int, cols: int, sel: tuple[int, int], dynamic: set) -> list[str]:
    """MTJ-voltage probes of the sharing cells, supply power, the transient and the measures."""
    sr, sc = sel
    lines = []
    lines += ["", "* MTJ voltage of the cells sharing the selected row or column (for peak measures)."]
    lines += [f"Bvm{r}_{c} vmtj{r}_{c} 0 V=V(b{r}_{c})-V(m{r}_{c})" for r, c in _sharing(rows, cols, sel)]
    lines += ["", "* Total supply power (W).",
              "Bpwr pwr 0 V=V(vdd_s)*I(Vadd) + V(vw_s)*I(Vaw) + V(vub_s)*I(Vaub) + V(vus_s)*I(Vaus)",
              "", ".tran 1p {t_stop} 0 {mtj_dt_th}",
              ".meas tran e_write integ v(pwr) from=0 to={t_stop}",
              f".meas tran lat_write trig v(wsel) val=0.5 rise=1 targ v(vmtj{sr}_{sc}) "
              f"val={{0.5*xb_vwrite}} fall=1"]
    win = "from={t_on + 0.15n} to={t_on + xb_twrite - 0.1n}"
    for r in range(rows):
        for c in range(cols):
            for node in "bms":
                lines.append(f".meas tran v{node}_{r}_{c} avg v({node}{r}_{c}) {win}")
    for r, c in _sharing(rows, cols, sel):
        lines.append(f".meas tran vpk_{r}_{c} max v(vmtj{r}_{c}) from={{t0}} to={{t_on + xb_twrite + t_lead}}")
    for r, c in sorted(dynamic):
        lines.append(f".meas tran mz_{r}_{c} avg v(x{r}_{c}.mz) from={{t_stop - 0.3n}} to={{t_stop}}")
    return lines


def _sharing(rows: int, cols: int, sel) -> list[tuple[int, int]]:
    """The selected cell and the cells sharing its row or column."""
    return [(sel[0], c) for c in range(cols)] + [(r, sel[1]) for r in range(rows) if r != sel[0]]


def write_crossbar(netlist_dir: Path | None = None) -> list[Path]:
    """The committed default crossbar netlists (16 x 16, latch SA, V/2 scheme)."""
    netlist_dir = netlist_dir or NETLIST_DIR
    out = []
    for name, text in ((CROSSBAR_READ_FILE, render_crossbar_read()), (CROSSBAR_WRITE_FILE, render_crossbar_write())):
        write_atomic(netlist_dir / name, text)
        out.append(netlist_dir / name)
    return out


def render_crossbar_mc_write(n_cells: int, netlist_dir: str = "", mtj_extra: dict | None = None,
                             mos_extra: dict | None = None) -> str:
    """Monte Carlo write trials: N selected-cell stacks (driver, wire, MTJ, access NMOS) under one pulse.

    Each stack is the selected cell of the crossbar at DC: the write rail xb_vwrite through the
    series resistance ``r_series`` (drivers plus bit- and source-line wires to the position), the
    stochastic MTJ and its access transistor, word line at vdd. Per-cell draws (device-to-device
    variation) come as instance parameters in ``mtj_extra``/``mos_extra`` keyed by the cell index.
    """
    if not isinstance(n_cells, int) or n_cells < 1:
        raise ValueError(f"n_cells must be a positive integer, got {n_cells!r}")
    lines = [
        f"* VCMA-MTJ crossbar Monte Carlo write: {n_cells} selected-cell stacks, one write pulse each",
        "* Rendered by cosim.circuit.render_crossbar.render_crossbar_mc_write. mz_k < 0 at the end: cell k switched from P.",
        f".include {netlist_dir}vcma_mtj_va.lib",
        f".include {netlist_dir}vcma_mtj_static.lib",
        f".include {netlist_dir}cards/crossbar_card.inc",
        f".lib {netlist_dir}cards/cmos45.lib tt",
        f".param r_series=400 t_rise=20p t0={CROSSBAR_T0_S:g} t_settle={CROSSBAR_WRITE_SETTLE_S:g}",
        ".param t_stop={t0 + xb_twrite + t_settle}",
        ".options seed=1",
        "Vwl wl 0 {vdd}",
        "Vw w 0 DC 0 PULSE(0 {xb_vwrite} {t0} {t_rise} {t_rise} {xb_twrite - t_rise} 1)",
    ]
    for k in range(n_cells):
        lines.append(f"Rs{k} w b{k} {{r_series}}")
        lines.append(f"X{k} b{k} m{k} VCMA_MTJ noise=1 mz0=1 nid={k + 1}" + _cell_extra(mtj_extra, k))
        lines.append(f"Ma{k} m{k} wl 0 0 nch W={{xb_wacc}} L=45n" + _cell_extra(mos_extra, k))
    lines.append(".tran 1p {t_stop} 0 {mtj_dt_th}")
    lines += [f".meas tran mz_{k} avg v(x{k}.mz) from={{t_stop - 0.3n}} to={{t_stop}}" for k in range(n_cells)]
    lines.append(".meas tran vmtj_0 avg par('v(b0)-v(m0)') from={t0 + 0.15n} to={t0 + xb_twrite - 0.1n}")
    return "\n".join(lines) + "\n.end\n"
