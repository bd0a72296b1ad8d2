"""``vcma spice`` (run, trng, switching, crossbar-read, crossbar-write) and ``vcma cards render``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cosim.app import checks
from cosim.app.cli_common import card_params, check_common, common_options, parse_params
from cosim.app.stages import Stages, add_quiet_option, progress_bar

MAX_TRNG_CYCLES = 10_000
"""Most TRNG-cell cycles one ``vcma spice trng`` simulates (100 us of circuit time)."""
MAX_TRIALS = 100_000
"""Most stochastic SPICE trials per point a ``vcma spice`` command accepts."""


def cmd_spice_run(args) -> None:
    from cosim.app.plots import plot_vectors
    from cosim.circuit.spice import run_netlist

    check_common(args)
    checks.existing_input("", args.netlist)
    checks.existing_input("--model-lib", args.model_lib)
    checks.output_file("--plot", args.plot)
    params = {**card_params(args), **parse_params(args.param)}
    result = run_netlist(args.netlist, params, seed=args.seed, corner=args.corner,
                         temp_C=args.temp, backend=args.backend, model_lib=args.model_lib,
                         model_corner=args.model_corner, model=args.model)
    for name, value in sorted(result.measures.items()):
        print(f"{name:24s} {value: .6e}")
    for name in result.failed_measures:
        print(f"{name:24s} failed")
    if args.plot:
        from cosim.app.plots import scale_vector

        x = (scale_vector(result) or ("time",))[0]
        names = args.vectors or [n for n in result.vectors if n.startswith("v(") and n != x][:4]
        print(f"plot: {plot_vectors(result, names, args.plot)}")


def cmd_spice_trng(args) -> None:
    from cosim.app.plots import plot_trng
    from cosim.circuit.trng import run_trng

    from cosim.circuit.trng import check_cell_params

    check_common(args)
    checks.count("--cycles", args.cycles, 1, MAX_TRNG_CYCLES)
    v_write = None if args.v_write is None else checks.voltage("--v-write", checks.number("--v-write", args.v_write),
                                                               positive=True)
    t_pulse = None if args.t_pulse is None else checks.number("--t-pulse", args.t_pulse)
    if t_pulse is not None:
        checks.trng_timing("--t-pulse", t_pulse)
    params = {**card_params(args, "cell"), **parse_params(args.param)}
    check_cell_params({**params, **({} if v_write is None else {"v_write": v_write}),
                       **({} if t_pulse is None else {"t_pulse": t_pulse})})
    bits_out = checks.npy_target("--bits-out", args.bits_out)
    checks.output_file("--plot", args.plot)
    checks.distinct_outputs(bits_out, args.plot)
    start = time.perf_counter()
    stages = Stages(1 + bool(args.plot), quiet=args.quiet)
    with stages.stage(f"TRNG cell in SPICE ({args.cycles} cycle(s), {args.corner} {args.temp:g} C)"):
        run = run_trng(args.cycles, v_write, t_pulse, seed=args.seed, corner=args.corner,
                       temp_C=args.temp, params=params, backend=args.backend, model=args.model)
    print("bits:", "".join(map(str, run.bits)))
    print(f"P(1): {run.p_one}")
    print(f"energy/bit: {run.energy_per_bit_J * 1e15:.2f} fJ   cycle time: {run.cycle_time_s * 1e9:.2f} ns")
    print(f"simulated in {time.perf_counter() - start:.1f} s")
    if bits_out:
        bits_out.parent.mkdir(parents=True, exist_ok=True)
        np.save(bits_out, run.bits)
        print(f"bits: {bits_out}")
    if args.plot:
        with stages.stage("waveform plot"):
            plot = plot_trng(run.result, run.bits, run.cycle_time_s, args.plot)
        print(f"plot: {plot}")


def cmd_spice_switching(args) -> None:
    from compact_models import mtj_card

    from cosim.app.plots import plot_switching_curve
    from cosim.circuit.switching import switching_probability

    check_common(args)
    v_write = checks.voltage("--v-write", checks.number("--v-write", args.v_write))
    widths = [checks.pulse_width("--t-pulse", checks.number("--t-pulse", w)) for w in args.t_pulse]
    checks.count("--trials", args.trials, 1, MAX_TRIALS)
    checks.jobs("--jobs", args.jobs)
    checks.output_file("--plot", args.plot)
    probs = []
    stages = Stages(len(widths) + bool(args.plot), quiet=args.quiet)
    with progress_bar(len(widths), "switching (SPICE)", "width", stages.progress) as bar:
        for w in widths:
            with stages.stage(f"{args.trials} switching trial(s) in SPICE at {v_write:g} V, {w * 1e9:.3f} ns"):
                q = switching_probability(v_write, w, args.trials, seed=args.seed, corner=args.corner,
                                          temp_C=args.temp, params=card_params(args) or None, n_jobs=args.jobs,
                                          backend=args.backend, model=args.model)
            probs.append(q)
            bar.update(1)
            print(f"t_pulse {w * 1e9:6.3f} ns  P(switch) {q}")
    if args.plot:
        with stages.stage("plot"):
            half = mtj_card(args.corner, args.temp + 273.15).precession_period_s() / 2
            out = plot_switching_curve([w * 1e9 for w in widths], probs, "pulse width (ns)", args.plot,
                                       marker=half * 1e9, marker_label="half precession period")
        print(f"plot: {out}")


def _crossbar_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=16)
    p.add_argument("--cols", type=int, default=16)
    p.add_argument("--trials", type=int, default=32, help="stochastic trials per probability / Monte Carlo draws")
    p.add_argument("--model-lib", type=Path, help="a PDK model library replacing the shipped CMOS card")
    p.add_argument("--model-corner", help="section of --model-lib to use (default: --corner)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="override a crossbar/card value")
    p.add_argument("--out", type=Path, default=Path("out/crossbar"), help="folder for plots")
    p.add_argument("--netlist-out", type=Path, help="also write the rendered netlist here")
    p.add_argument("--jobs", type=int, default=2)
    common_options(p)


def _xb_params(args) -> dict:
    """``--card``'s MTJ, CMOS and crossbar fields, then ``--param`` on top."""
    return {**card_params(args, "crossbar"), **parse_params(args.param)}


def _model_corner(args):
    return (args.model_corner or args.corner) if args.model_lib is not None else None


def _check_crossbar(args) -> None:
    """Everything the crossbar commands take, before any simulation or file is written."""
    from cosim.circuit.crossbar import check_inputs, crossbar_params

    check_common(args)
    check_inputs(args.rows, args.cols, args.corner, args.model_lib, _model_corner(args))
    checks.existing_input("--model-lib", args.model_lib)
    checks.count("--trials", args.trials, 1, MAX_TRIALS)
    checks.jobs("--jobs", args.jobs)
    crossbar_params(_xb_params(args))
    checks.output_dir("--out", args.out)
    checks.output_file("--netlist-out", args.netlist_out)


def cmd_spice_crossbar_read(args) -> None:
    from cosim.circuit.crossbar import crossbar_read, monte_carlo_read, read_disturb
    from cosim.app.crossbar_plots import plot_disturb_vs_position, plot_margin_map, plot_read_current_hist
    from cosim.circuit.render_crossbar import render_crossbar_read
    from compact_models.crossbar import check_sense_amp

    _check_crossbar(args)
    check_sense_amp(args.sense_amp)
    if args.netlist_out:
        args.netlist_out.write_text(render_crossbar_read(args.rows, args.cols, args.sense_amp))
        print(f"netlist: {args.netlist_out}")
    r = crossbar_read(args.rows, args.cols, args.corner, args.temp, args.sense_amp, _xb_params(args),
                      args.backend, args.model_lib, _model_corner(args), n_jobs=args.jobs, model=args.model)
    print(f"crossbar read {args.rows} x {args.cols}, {args.sense_amp} SA, corner {args.corner}, {args.temp:g} C "
          f"(SPICE {r.runtime_s:.1f} s)")
    print(f"{'row':>4} {'col':>4} {'I_P uA':>8} {'I_AP uA':>8} {'mrg_P mV':>9} {'mrg_AP mV':>9} {'window mV':>9} "
          f"{'dec ok':>6} {'lat ps':>7}")
    picks = sorted({(0, 0), (0, args.cols - 1), (args.rows - 1, 0), (args.rows - 1, args.cols - 1),
                    (args.rows // 2, args.cols // 2)})
    for i, j in picks:
        print(f"{i:4d} {j:4d} {r.i_read_A[0, i, j] * 1e6:8.3f} {r.i_read_A[1, i, j] * 1e6:8.3f} "
              f"{r.margin_V[0, i, j] * 1e3:9.2f} {r.margin_V[1, i, j] * 1e3:9.2f} {r.signal_V[i, j] * 1e3:9.2f} "
              f"{str(bool(r.correct[:, i, j].all())):>6} {np.nanmax(r.latency_s[:, i, j]) * 1e12:7.0f}")
    worst, pos = r.worst_margin
    print(f"all decisions correct: {bool(r.correct.all())}   worst-case margin {worst * 1e3:.2f} mV at {pos}")
    print(f"energy per row read {r.energy_per_read_J * 1e15:.1f} fJ ({r.energy_per_bit_J * 1e15:.2f} fJ/bit), "
          f"read latency {r.latency_max_s * 1e9:.3f} ns, cycle {r.t_read_s * 1e9:.2f} ns")
    vmax = float(np.nanmax(r.v_bl_V))
    dist = read_disturb(vmax, r.card.t_read_s, args.trials, seed=args.seed, corner=args.corner, temp_C=args.temp,
                        n_jobs=args.jobs, backend=args.backend, model=args.model)
    for name, q in dist.items():
        print(f"read disturb {name} at {vmax:.3f} V, {r.card.t_read_s * 1e9:.2f} ns: {q}")
    mc_rows, mc_cols = min(args.rows, 8), min(args.cols, 8)
    mc = monte_carlo_read(mc_rows, mc_cols, max(1, args.trials // 16), args.seed, args.corner, args.temp,
                          args.sense_amp, _xb_params(args), args.backend, args.model_lib,
                          _model_corner(args), n_jobs=args.jobs, model=args.model)
    print(f"Monte Carlo sense error rate ({mc_rows} x {mc_cols} arrays, seed {args.seed}): {mc.sense_error_rate}")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"plot: {plot_margin_map(r.margin_min_V, args.out / 'read_margin_map.png')}")
    i = mc.i_read_A
    print(f"plot: {plot_read_current_hist(i[0], i[1], args.out / 'read_current_hist.png')}")
    print(f"plot: {plot_disturb_vs_position(list(dist), list(dist.values()), args.out / 'read_disturb.png')}")


def cmd_spice_crossbar_write(args) -> None:
    from cosim.circuit.crossbar_write import crossbar_write, monte_carlo_write, write_probabilities
    from cosim.app.crossbar_plots import plot_disturb_vs_position, plot_margin_map
    from cosim.circuit.render_crossbar import render_crossbar_write

    _check_crossbar(args)
    from compact_models.crossbar import check_scheme

    check_scheme(args.scheme)
    if args.netlist_out:
        args.netlist_out.write_text(render_crossbar_write(args.rows, args.cols, args.scheme))
        print(f"netlist: {args.netlist_out}")
    w = crossbar_write(args.rows, args.cols, args.scheme, None, args.corner, args.temp, _xb_params(args),
                       args.seed, args.backend, args.model_lib, _model_corner(args), model=args.model)
    sr, sc = w.sel
    print(f"crossbar write {args.rows} x {args.cols}, scheme {args.scheme}, selected {w.sel}, corner {args.corner}, "
          f"{args.temp:g} C (SPICE {w.runtime_s:.1f} s)")
    print(f"{'cell':>16} {'stack V':>8} {'MTJ V':>8} {'peak V':>8}")
    rows = [("selected", w.sel), ("row-sharing near", (sr, 0)), ("column-sharing near", (0, sc))]
    for name, p in rows:
        print(f"{name:>16} {w.v_stack_V[p]:8.3f} {w.v_mtj_V[p]:8.3f} {w.v_peak_V[p]:8.3f}")
    print(f"half-select fraction promised {w.fraction_promised:.3f} of {w.card.v_write_V:g} V = "
          f"{w.fraction_promised * w.card.v_write_V:.3f} V")
    print(f"energy per write {w.energy_J * 1e15:.1f} fJ, latency {w.latency_s * 1e9:.3f} ns, "
          f"in-array selected cell final m_z {w.mz_sel:+.2f}")
    probs = write_probabilities(w, args.trials, args.seed, args.jobs, args.backend, model=args.model)
    for name, q in probs.items():
        print(f"{name:>24}: {q}")
    wer = monte_carlo_write(args.rows, args.cols, args.trials, args.seed, args.corner, args.temp,
                            params=_xb_params(args), backend=args.backend, n_jobs=args.jobs,
                            model_lib=args.model_lib, model_corner=_model_corner(args), model=args.model)
    print(f"Monte Carlo write error rate (seed {args.seed}): {wer}")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"plot: {plot_margin_map(w.v_mtj_V, args.out / 'write_vmtj_map.png', 'MTJ voltage during the write')}")
    v = [w.v_mtj_V[w.sel], max(w.v_mtj_V[p] for p in w.row_sharing() or [w.sel]),
         max(w.v_mtj_V[p] for p in w.col_sharing() or [w.sel])]
    print(f"plot: {plot_disturb_vs_position(list(probs), list(probs.values()), args.out / 'write_disturb.png', v)}")


def cmd_cards_render(args) -> None:
    from compact_models.render import write_default_cards

    from cosim.circuit.render_crossbar import write_crossbar
    from cosim.circuit.render_switching import write_switching
    from cosim.circuit.render_trng import write_trng_cell

    for path in write_default_cards() + [write_switching(), write_trng_cell()] + write_crossbar():
        print(f"wrote {path}")


def add_parser(sub) -> None:
    """The ``spice`` command group."""
    spice = sub.add_parser("spice", help="run ngspice netlists").add_subparsers(dest="spice_command", required=True)
    run = spice.add_parser("run", help="run a netlist and print its .meas results")
    run.add_argument("netlist", type=Path)
    run.add_argument("--param", action="append", metavar="NAME=VALUE", help="override a .param or card value")
    run.add_argument("--plot", type=Path, help="write a waveform plot (PNG)")
    run.add_argument("--vectors", nargs="+", help="vectors to plot, e.g. 'v(x1.mz)'")
    run.add_argument("--model-lib", type=Path, help="a PDK model library replacing the shipped CMOS card")
    run.add_argument("--model-corner", help="section of --model-lib to use")
    common_options(run)
    run.set_defaults(func=cmd_spice_run)

    trng = spice.add_parser("trng", help="simulate the TRNG cell for N cycles")
    trng.add_argument("--cycles", type=int, default=16)
    trng.add_argument("--v-write", help="write pulse amplitude on the bit line, V (default: the netlist's)")
    trng.add_argument("--t-pulse", help="write pulse width (FWHM), s, e.g. 0.5n")
    trng.add_argument("--param", action="append", metavar="NAME=VALUE")
    trng.add_argument("--plot", type=Path, help="write a waveform plot (PNG)")
    trng.add_argument("--bits-out", type=Path, help="save the bits (.npy)")
    common_options(trng)
    add_quiet_option(trng)
    trng.set_defaults(func=cmd_spice_trng)

    sw = spice.add_parser("switching", help="switching probability from batched SPICE trials")
    sw.add_argument("--v-write", default="1.3")
    sw.add_argument("--t-pulse", nargs="+", default=["0.55n"])
    sw.add_argument("--trials", type=int, default=64)
    sw.add_argument("--jobs", type=int, default=2)
    sw.add_argument("--plot", type=Path)
    common_options(sw)
    add_quiet_option(sw)
    sw.set_defaults(func=cmd_spice_switching)

    xr = spice.add_parser("crossbar-read", help="crossbar read: margins, decisions, disturb, energy, Monte Carlo")
    xr.add_argument("--sense-amp", default="latch", help="latch (voltage mode) or current (current mode)")
    _crossbar_common(xr)
    xr.set_defaults(func=cmd_spice_crossbar_read)

    xw = spice.add_parser("crossbar-write", help="crossbar write: delivered voltages, switching, half-select disturb")
    xw.add_argument("--scheme", default="v2", help="biasing scheme: v2 (V/2) or v3 (V/3)")
    _crossbar_common(xw)
    xw.set_defaults(func=cmd_spice_crossbar_write)


def add_cards_parser(sub) -> None:
    """The ``cards`` command group."""
    cards = sub.add_parser("cards", help="model cards").add_subparsers(dest="cards_command", required=True)
    render = cards.add_parser("render", help="re-render netlists/cards and the generated netlists")
    render.set_defaults(func=cmd_cards_render)
