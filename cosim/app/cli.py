"""The ``vcma`` command: SPICE runs, TRNG cells, switching statistics, model cards."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _parse_params(items: list[str]) -> dict[str, float]:
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--param expects NAME=VALUE, got '{item}'")
        try:
            params[key.strip()] = float(_si(value.strip()))
        except ValueError:
            raise ValueError(f"--param {key}: '{value}' is not a number") from None
    return params


_SUFFIX = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "meg": 1e6, "g": 1e9}


def _si(text: str) -> float:
    """A number with an optional SPICE suffix (``0.5n``, ``40k``)."""
    low = text.lower()
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if low.endswith(suffix) and low[: -len(suffix)]:
            try:
                return float(low[: -len(suffix)]) * _SUFFIX[suffix]
            except ValueError:
                break
    return float(text)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=1, help="ngspice random seed (default 1)")
    p.add_argument("--corner", default="tt", help="process corner: tt, ff, ss (default tt)")
    p.add_argument("--temp", type=float, default=27.0, help="temperature in C (default 27)")
    p.add_argument("--backend", default="shared", choices=["shared", "subprocess"])
    _model_option(p)


def _model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=["va", "behavioural"], default=None,
                   help="VCMA-MTJ model: va (compiled Verilog-A; the default where ngspice loads OSDI) or behavioural")


def cmd_spice_run(args) -> None:
    from cosim.app.plots import plot_vectors
    from cosim.circuit.spice import run_netlist

    result = run_netlist(args.netlist, _parse_params(args.param), seed=args.seed, corner=args.corner,
                         temp_C=args.temp, backend=args.backend, model_lib=args.model_lib,
                         model_corner=args.model_corner, model=args.model)
    for name, value in sorted(result.measures.items()):
        print(f"{name:24s} {value: .6e}")
    for name in result.failed_measures:
        print(f"{name:24s} failed")
    if args.plot:
        names = args.vectors or [n for n in result.vectors if n.startswith("v(")][:4]
        print(f"plot: {plot_vectors(result, names, args.plot)}")


def cmd_spice_trng(args) -> None:
    from cosim.app.plots import plot_trng
    from cosim.circuit.trng import run_trng

    start = time.perf_counter()
    run = run_trng(args.cycles, _si(args.v_write) if args.v_write else None,
                   _si(args.t_pulse) if args.t_pulse else None, seed=args.seed, corner=args.corner,
                   temp_C=args.temp, params=_parse_params(args.param), backend=args.backend, model=args.model)
    print("bits:", "".join(map(str, run.bits)))
    print(f"P(1): {run.p_one}")
    print(f"energy/bit: {run.energy_per_bit_J * 1e15:.2f} fJ   cycle time: {run.cycle_time_s * 1e9:.2f} ns")
    print(f"simulated in {time.perf_counter() - start:.1f} s")
    if args.bits_out:
        np.save(args.bits_out, run.bits)
        print(f"bits: {args.bits_out}")
    if args.plot:
        print(f"plot: {plot_trng(run.result, run.bits, run.cycle_time_s, args.plot)}")


def cmd_spice_switching(args) -> None:
    from compact_models import mtj_card

    from cosim.app.plots import plot_switching_curve
    from cosim.circuit.switching import switching_probability

    widths = [_si(w) for w in args.t_pulse]
    probs = []
    for w in widths:
        q = switching_probability(_si(args.v_write), w, args.trials, seed=args.seed, corner=args.corner,
                                  temp_C=args.temp, n_jobs=args.jobs, backend=args.backend, model=args.model)
        probs.append(q)
        print(f"t_pulse {w * 1e9:6.3f} ns  P(switch) {q}")
    if args.plot:
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
    _common(p)


def _model_corner(args):
    return (args.model_corner or args.corner) if args.model_lib is not None else None


def cmd_spice_crossbar_read(args) -> None:
    from cosim.circuit.crossbar import check_inputs, crossbar_read, monte_carlo_read, read_disturb
    from cosim.app.crossbar_plots import plot_disturb_vs_position, plot_margin_map, plot_read_current_hist
    from cosim.circuit.render_crossbar import render_crossbar_read

    check_inputs(args.rows, args.cols, args.corner, args.model_lib, _model_corner(args))
    if args.netlist_out:
        args.netlist_out.write_text(render_crossbar_read(args.rows, args.cols, args.sense_amp))
        print(f"netlist: {args.netlist_out}")
    r = crossbar_read(args.rows, args.cols, args.corner, args.temp, args.sense_amp, _parse_params(args.param),
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
                          args.sense_amp, _parse_params(args.param), args.backend, args.model_lib,
                          _model_corner(args), n_jobs=args.jobs, model=args.model)
    print(f"Monte Carlo sense error rate ({mc_rows} x {mc_cols} arrays, seed {args.seed}): {mc.sense_error_rate}")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"plot: {plot_margin_map(r.margin_min_V, args.out / 'read_margin_map.png')}")
    i = mc.i_read_A
    print(f"plot: {plot_read_current_hist(i[0], i[1], args.out / 'read_current_hist.png')}")
    print(f"plot: {plot_disturb_vs_position(list(dist), list(dist.values()), args.out / 'read_disturb.png')}")


def cmd_spice_crossbar_write(args) -> None:
    from cosim.circuit.crossbar import check_inputs, crossbar_write, monte_carlo_write, write_probabilities
    from cosim.app.crossbar_plots import plot_disturb_vs_position, plot_margin_map
    from cosim.circuit.render_crossbar import render_crossbar_write

    check_inputs(args.rows, args.cols, args.corner, args.model_lib, _model_corner(args))
    from compact_models.crossbar import check_scheme

    check_scheme(args.scheme)
    if args.netlist_out:
        args.netlist_out.write_text(render_crossbar_write(args.rows, args.cols, args.scheme))
        print(f"netlist: {args.netlist_out}")
    w = crossbar_write(args.rows, args.cols, args.scheme, None, args.corner, args.temp, _parse_params(args.param),
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
                            params=_parse_params(args.param), backend=args.backend, n_jobs=args.jobs,
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


def cmd_lut_build(args) -> None:
    from cosim.luts.build_trng import build_trng_lut, check_kind

    check_kind(args.kind)
    start = time.perf_counter()
    if args.kind == "trng":
        lut = build_trng_lut(args.corner, args.temp, args.trials or 128, args.jobs, args.scheduler, args.cache,
                             check_runs=args.check_runs, model=args.model)
    else:
        from cosim.luts.build_crossbar import build_crossbar_lut

        lut = build_crossbar_lut(args.kind, args.corner, args.temp, args.trials, args.jobs, args.scheduler,
                                 args.cache, args.rows, args.cols, model=args.model)
    print(f"wrote {lut.save(args.out)} ({time.perf_counter() - start:.1f} s)")


def cmd_lut_cell(args) -> None:
    import datetime

    from cosim.luts.lut import Lut
    from cosim.luts.build_trng import add_cell_parts

    start = time.perf_counter()
    lut = add_cell_parts(Lut.load(args.file, kind="trng"), check_runs=args.check_runs, n_jobs=args.jobs,
                         scheduler=args.scheduler, cache_dir=args.cache)
    lut.provenance["cell_command"] = " ".join(sys.argv)
    lut.provenance["cell_date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(f"wrote {lut.save(args.out or args.file)} ({time.perf_counter() - start:.1f} s)")


def cmd_lut_show(args) -> None:
    from cosim.luts.lut import Lut
    from cosim.app.plots import plot_lut

    lut = Lut.load(args.file)
    print(f"kind: {lut.kind}")
    for name, (unit, values) in lut.axes.items():
        print(f"axis {name} [{unit}]: {len(values)} points, {values[0]:g} .. {values[-1]:g}")
    for name, (unit, axes, arr) in lut.variables.items():
        print(f"variable {name} [{unit}] over {list(axes)}: {arr.min():.4g} .. {arr.max():.4g}")
    for key in ("corner", "temp_C", "trials_per_point", "dt_thermal_s", "model_sha256", "date", "command"):
        print(f"{key}: {lut.provenance.get(key)}")
    print(f"versions: {lut.provenance.get('versions')}")
    for key in ("array", "scheme", "v_drive_V", "selected_positions", "energy_per_read_J", "energy_per_bit_J",
                "latency_max_s", "sense_error_pooled", "pooled", "build_s", "cell_date", "cell_command"):
        if key in lut.provenance:
            print(f"{key}: {lut.provenance[key]}")
    check = lut.provenance.get("cell_check")
    if check:
        lo, hi = check["p_cell_ci99"]
        corr = check["serial_correlation"]
        print(f"TRNG-cell check at v_write {check['v_write_V']:.4f} V (LUT predicts P(1) = 0.5): cell P(1) = "
              f"{check['p_cell']:.3f} [{lo:.3f}, {hi:.3f}] (99 %, {check['bits']} bits); lag-1 correlation "
              f"{corr['lag1']:+.3f} [{corr['ci95'][0]:+.3f}, {corr['ci95'][1]:+.3f}] (95 %)")
    if args.plot:
        print(f"plot: {plot_lut(lut, args.plot)}")


def _verdict(rows: list[dict], need: float, what: str) -> None:
    """Print the pass count and PASS/FAIL (at least ``need`` of the rows inside); exit 1 on FAIL."""
    inside = sum(r["inside"] for r in rows)
    passed = inside >= need * len(rows)
    print(f"{inside}/{len(rows)} {what}: {'PASS' if passed else 'FAIL'}")
    if not passed:
        raise SystemExit(1)


def _validate_crossbar_lut(lut, args) -> None:
    from cosim.luts.build_crossbar import validate_read_lut, validate_write_lut

    if lut.kind == "read":
        rows = validate_read_lut(lut, args.points, args.trials or 4, args.seed, args.jobs)
    else:
        rows = validate_write_lut(lut, args.points, args.trials or 64, args.seed, args.jobs)
    print(f"{'check':>30} {'position':>9} {'LUT':>11} {'SPICE':>11}  {'bound':<34} inside")
    for r in rows:
        print(f"{r['check']:>30} {r['position']:>9} {r['lut']:11.4g} {r['spice']:11.4g}  {r['bound']:<34} "
              f"{'yes' if r['inside'] else 'NO'}")
    _verdict(rows, 1.0, "checks inside their tolerance / 99 % interval of fresh SPICE")


def cmd_lut_validate(args) -> None:
    from cosim.luts.lut import Lut
    from cosim.luts.build_trng import validate_trng_lut

    lut = Lut.load(args.file)
    if lut.kind in ("read", "write"):
        return _validate_crossbar_lut(lut, args)
    rows = validate_trng_lut(lut, args.points, args.trials or 128, args.seed, args.jobs)
    print(f"{'v_write (V)':>11} {'t_pulse (ns)':>12} {'P LUT':>7} {'P SPICE':>8} {'99% CI':>17}  inside")
    for r in rows:
        print(f"{r['v_write_V']:11.4f} {r['t_pulse_s'] * 1e9:12.3f} {r['p_lut']:7.3f} {r['p_spice']:8.3f} "
              f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]  {'yes' if r['inside'] else 'NO'}")
    _verdict(rows, 0.95, "points inside the 99 % binomial interval of fresh SPICE trials")


def cmd_emulate(args) -> None:
    import torch

    from cosim.noise.emulator import MtjNoise, TrngArrayEmulator
    from cosim.luts.lut import Lut, LutError, shipped_lut_path
    from cosim.app.plots import plot_emulation

    def array_lut(kind: str, path: Path | None):
        if args.no_array_luts:
            return None
        if path is not None:
            return Lut.load(path, kind=kind)
        try:
            return Lut.load(shipped_lut_path(kind, args.corner, args.temp), kind=kind)
        except LutError:
            return None

    lut = Lut.load(args.lut or shipped_lut_path("trng", args.corner, args.temp), kind="trng")
    emu = TrngArrayEmulator(lut, args.rows, args.cols, _si(args.v_write) if args.v_write else None,
                            _si(args.t_pulse), args.chip_seed, args.variation, args.calibration,
                            write_lut=array_lut("write", args.write_lut), read_lut=array_lut("read", args.read_lut),
                            correlation=args.correlation)
    bits = emu.cycles(args.cycles, torch.Generator().manual_seed(args.seed))
    p = emu.p_one.numpy()
    rep = emu.calibration_report()
    print(f"array {args.rows} x {args.cols}, {emu.calibration} calibration: v_write {rep['v_write_V_min']:.4f}.."
          f"{rep['v_write_V_max']:.4f} V, t_pulse {emu.t_pulse_s * 1e9:.3f} ns")
    print(f"P(1): cells mean {p.mean():.4f}, std {p.std():.4f} ({p.min():.3f} .. {p.max():.3f}), "
          f"stuck {rep['stuck_fraction']:.1%}; worst column bias {rep['column_bias_max_abs']:+.4f}; "
          f"emulated {bits.float().mean():.4f}")
    print(f"sense error rate {emu.sense_error_rate.mean():.2e}; lag-1 correlation {emu.correlation:g}; "
          f"energy/bit {emu.energy_per_bit_J * 1e15:.2f} fJ; cycle {emu.time_per_cycle_s * 1e9:.2f} ns; "
          f"{bits.numel()} bits")
    if args.out:
        np.save(args.out, bits.numpy())
        print(f"bits: {args.out}")
    if args.plot:
        gauss = MtjNoise(emu, args.transform).randn((20000,), generator=torch.Generator().manual_seed(args.seed))
        print(f"plot: {plot_emulation(bits.numpy(), p, gauss.numpy(), args.plot)}")


def cmd_trng_report(args) -> None:
    from cosim.noise.nist import bias_and_serial_correlation, run_all

    bits = np.load(args.bits).reshape(-1) if str(args.bits).endswith(".npy") else np.loadtxt(args.bits).reshape(-1)
    b = bias_and_serial_correlation(bits)
    print(f"{b.n_bits} bits; fraction of ones {b.ones_fraction:.5f} (99 % CI {b.ones_ci99[0]:.5f}..{b.ones_ci99[1]:.5f}); "
          f"lag-1 correlation {b.serial_corr_lag1:+.5f} (99 % bound {b.serial_corr_bound99:.5f})")
    failed = 0
    for r in run_all(bits):
        p = ", ".join(f"{x:.6f}" for x in r.p_values)
        failed += not r.passed
        print(f"{r.name:28s} p = {p:30s} {'pass' if r.passed else 'FAIL'}")
    print("all tests passed" if not failed else f"{failed} test(s) failed")


def cmd_demo(args) -> None:
    from cosim.app.demo import run_demo

    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    report = run_demo(args.out, args.images, args.cycles, args.trials, args.seed, n_seeds=args.seeds,
                      steps=args.steps, sources=sources, lut_path=args.lut, ddpm_path=args.ddpm,
                      classifier_path=args.classifier, threads=args.threads, progress=args.progress)
    print((Path(args.out) / "report.md").read_text())
    print(f"figures and report in {args.out} ({report['seconds']:.0f} s)")


def _sweep_levels(items: list[str] | None) -> dict:
    out = {}
    for item in items or []:
        name, sep, values = item.partition("=")
        if not sep or name == "corner":
            raise ValueError(f"--levels expects SWEEP=v1,v2,... for a numeric sweep, got '{item}'")
        try:
            out[name.strip()] = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"--levels {name}: '{values}' is not a list of numbers") from None
    return out


def cmd_diffusion_sensitivity(args) -> None:
    from cosim.app.sensitivity import run_sensitivity

    result = run_sensitivity(args.out, n_images=args.images, steps=args.steps, seed=args.seed,
                             ref_seeds=args.ref_seeds, quick=args.quick, lut_dir=args.lut_dir,
                             ddpm_path=args.ddpm, classifier_path=args.classifier, threads=args.threads,
                             progress=not args.no_progress, sweeps=args.sweeps, levels=_sweep_levels(args.levels))
    print(result["summary"])
    print(f"plot, table and JSON in {args.out} ({result['seconds']:.0f} s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vcma", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    spice = sub.add_parser("spice", help="run ngspice netlists").add_subparsers(dest="spice_command", required=True)
    run = spice.add_parser("run", help="run a netlist and print its .meas results")
    run.add_argument("netlist", type=Path)
    run.add_argument("--param", action="append", metavar="NAME=VALUE", help="override a .param or card value")
    run.add_argument("--plot", type=Path, help="write a waveform plot (PNG)")
    run.add_argument("--vectors", nargs="+", help="vectors to plot, e.g. 'v(x1.mz)'")
    run.add_argument("--model-lib", type=Path, help="a PDK model library replacing the shipped CMOS card")
    run.add_argument("--model-corner", help="section of --model-lib to use")
    _common(run)
    run.set_defaults(func=cmd_spice_run)

    trng = spice.add_parser("trng", help="simulate the TRNG cell for N cycles")
    trng.add_argument("--cycles", type=int, default=16)
    trng.add_argument("--v-write", help="write pulse amplitude on the bit line, V (default: the netlist's)")
    trng.add_argument("--t-pulse", help="write pulse width (FWHM), s, e.g. 0.5n")
    trng.add_argument("--param", action="append", metavar="NAME=VALUE")
    trng.add_argument("--plot", type=Path, help="write a waveform plot (PNG)")
    trng.add_argument("--bits-out", type=Path, help="save the bits (.npy)")
    _common(trng)
    trng.set_defaults(func=cmd_spice_trng)

    sw = spice.add_parser("switching", help="switching probability from batched SPICE trials")
    sw.add_argument("--v-write", default="1.3")
    sw.add_argument("--t-pulse", nargs="+", default=["0.55n"])
    sw.add_argument("--trials", type=int, default=64)
    sw.add_argument("--jobs", type=int, default=2)
    sw.add_argument("--plot", type=Path)
    _common(sw)
    sw.set_defaults(func=cmd_spice_switching)

    lut = sub.add_parser("lut", help="lookup tables from SPICE").add_subparsers(dest="lut_command", required=True)
    build = lut.add_parser("build", help="sweep SPICE and write a LUT file")
    build.add_argument("--kind", default="trng", help="trng, read or write (crossbar array per position)")
    build.add_argument("--corner", default="tt")
    build.add_argument("--temp", type=float, default=27.0, help="temperature in C")
    build.add_argument("--trials", type=int, help="trng: SPICE trials per grid point (default 128); read: Monte "
                       "Carlo arrays (default 4); write: switching/disturb trials per position (default 32)")
    build.add_argument("--rows", type=int, default=16, help="read/write: simulated array rows (default 16)")
    build.add_argument("--cols", type=int, default=16, help="read/write: simulated array columns (default 16)")
    build.add_argument("--jobs", type=int, default=2, help="local worker processes")
    build.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT (workers with --nthreads 1)")
    build.add_argument("--cache", type=Path, default=Path(".vcma_cache"), help="per-point cache; reruns resume")
    build.add_argument("--check-runs", type=int, default=4,
                       help="trng: 16-cycle TRNG-cell runs for the P(1) and serial-correlation check (0: none)")
    build.add_argument("--out", type=Path, required=True)
    _model_option(build)
    build.set_defaults(func=cmd_lut_build)
    cell = lut.add_parser("cell", help="rerun the TRNG-cell parts of a trng LUT (energy, driver share, cell "
                          "check) after a change to trng_cell.cir; the switching table is kept")
    cell.add_argument("file", type=Path)
    cell.add_argument("--check-runs", type=int, default=4, help="16-cycle TRNG-cell runs for the check (0: none)")
    cell.add_argument("--jobs", type=int, default=2, help="local worker processes")
    cell.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT")
    cell.add_argument("--cache", type=Path, default=Path(".vcma_cache"), help="per-point cache; reruns resume")
    cell.add_argument("--out", type=Path, help="output file (default: update FILE in place, atomically)")
    cell.set_defaults(func=cmd_lut_cell)
    show = lut.add_parser("show", help="axes, provenance and plots of a LUT")
    show.add_argument("file", type=Path)
    show.add_argument("--plot", type=Path)
    show.set_defaults(func=cmd_lut_show)
    val = lut.add_parser("validate", help="compare a LUT with fresh SPICE runs off its grid")
    val.add_argument("file", type=Path)
    val.add_argument("--points", type=int, default=8)
    val.add_argument("--trials", type=int, help="trng: fresh trials per point (default 128); read: fresh Monte "
                     "Carlo arrays (default 4); write: fresh trials per position (default 64)")
    val.add_argument("--seed", type=int, default=12345)
    val.add_argument("--jobs", type=int, default=2)
    val.set_defaults(func=cmd_lut_validate)

    xr = spice.add_parser("crossbar-read", help="crossbar read: margins, decisions, disturb, energy, Monte Carlo")
    xr.add_argument("--sense-amp", default="latch", help="latch (voltage mode) or current (current mode)")
    _crossbar_common(xr)
    xr.set_defaults(func=cmd_spice_crossbar_read)

    xw = spice.add_parser("crossbar-write", help="crossbar write: delivered voltages, switching, half-select disturb")
    xw.add_argument("--scheme", default="v2", help="biasing scheme: v2 (V/2) or v3 (V/3)")
    _crossbar_common(xw)
    xw.set_defaults(func=cmd_spice_crossbar_write)

    emu = sub.add_parser("emulate", help="emulate a TRNG array from a trng LUT")
    emu.add_argument("--lut", type=Path, help="trng LUT (default: the shipped one for --corner/--temp)")
    emu.add_argument("--corner", default="tt")
    emu.add_argument("--temp", type=float, default=27.0, help="temperature, C")
    emu.add_argument("--write-lut", type=Path, help="write LUT for array-position voltages (default: shipped)")
    emu.add_argument("--read-lut", type=Path, help="read LUT for sense error rates (default: shipped)")
    emu.add_argument("--no-array-luts", action="store_true", help="ignore array position and sense errors")
    emu.add_argument("--rows", type=int, default=16)
    emu.add_argument("--cols", type=int, default=16)
    emu.add_argument("--cycles", type=int, default=1000)
    emu.add_argument("--v-write", help="driver amplitude, V (default: calibrated to P(1) = 0.5)")
    emu.add_argument("--calibration", default="column", choices=["nominal", "array", "column"],
                     help="P(1) = 0.5 for a nominal cell, for the array mean, or per column (default)")
    emu.add_argument("--t-pulse", default="0.5n")
    emu.add_argument("--seed", type=int, default=1)
    emu.add_argument("--chip-seed", type=int, default=0, help="seed of the cell-to-cell variation draw")
    emu.add_argument("--variation", type=float, default=1.0, help="multiple of the corner's device spreads (0: none)")
    emu.add_argument("--correlation", type=float, help="lag-1 bit correlation per cell (default: from the LUT)")
    emu.add_argument("--transform", default="word:12+vn", help="bits -> N(0,1) transform for the histogram plot")
    emu.add_argument("--out", type=Path, help="save bits (.npy, shape cycles x rows x cols)")
    emu.add_argument("--plot", type=Path)
    emu.set_defaults(func=cmd_emulate)
    trng_cmd = sub.add_parser("trng", help="bitstream analysis").add_subparsers(dest="trng_command", required=True)
    rep = trng_cmd.add_parser("report", help="bias, serial correlation and NIST SP 800-22 tests of a bitstream")
    rep.add_argument("bits", type=Path, help=".npy or text file of 0/1")
    rep.set_defaults(func=cmd_trng_report)

    demo = sub.add_parser("demo", help="the main job: switching, TRNG cell, digits with its noise, report")
    demo.add_argument("--out", type=Path, default=Path("out/demo"))
    demo.add_argument("--images", type=int, default=256, help="images per noise source and seed")
    demo.add_argument("--seeds", type=int, default=3, help="sampling seeds per source (FID t-interval)")
    demo.add_argument("--steps", type=int, default=50, help="DDIM steps (eta = 1)")
    demo.add_argument("--sources", default="software,ideal-trng,mtj,mtj-raw,biased-0.3",
                      help="comma-separated noise sources")
    demo.add_argument("--lut", type=Path, help="trng LUT for the mtj sources (default: shipped TT 27 C)")
    demo.add_argument("--ddpm", type=Path, help="DDPM checkpoint (default: shipped)")
    demo.add_argument("--classifier", type=Path, help="classifier checkpoint for FID features (default: shipped)")
    demo.add_argument("--cycles", type=int, default=16, help="TRNG cell cycles simulated in SPICE")
    demo.add_argument("--trials", type=int, default=32, help="SPICE switching trials per pulse width")
    demo.add_argument("--seed", type=int, default=1, help="first sampling seed; also the SPICE and chip seed")
    demo.add_argument("--threads", type=int, default=2, help="torch threads")
    demo.add_argument("--progress", action="store_true", help="progress bars while sampling")
    demo.set_defaults(func=cmd_demo)

    diff = sub.add_parser("diffusion", help="diffusion-model studies").add_subparsers(dest="diffusion_command",
                                                                                     required=True)
    sens = diff.add_parser("sensitivity", help="FID against TRNG non-idealities (bias, correlation, sense errors, "
                                               "variation, corner, temperature)")
    sens.add_argument("--out", type=Path, default=Path("out/sensitivity"))
    sens.add_argument("--images", type=int, default=128, help="images per level")
    sens.add_argument("--steps", type=int, default=50, help="DDIM steps (eta = 1)")
    sens.add_argument("--seed", type=int, default=1, help="sampling seed of every level; also the chip seed")
    sens.add_argument("--ref-seeds", type=int, default=3, help="seeds of the software/ideal-trng reference bands")
    sens.add_argument("--quick", action="store_true", help="two levels per sweep and TT 27 C only (for tests)")
    sens.add_argument("--sweeps", nargs="+", help="only these sweeps: bias correlation sense_error variation corner")
    sens.add_argument("--levels", action="append", metavar="SWEEP=V1,V2,...", help="replace a numeric sweep's levels")
    sens.add_argument("--lut-dir", type=Path, help="folder of trng_<corner>_<T>C.lut.npz (default: shipped)")
    sens.add_argument("--ddpm", type=Path, help="DDPM checkpoint (default: shipped)")
    sens.add_argument("--classifier", type=Path, help="classifier checkpoint (default: shipped)")
    sens.add_argument("--threads", type=int, default=2, help="torch threads")
    sens.add_argument("--no-progress", action="store_true")
    sens.set_defaults(func=cmd_diffusion_sensitivity)

    cards = sub.add_parser("cards", help="model cards").add_subparsers(dest="cards_command", required=True)
    render = cards.add_parser("render", help="re-render netlists/cards and the generated netlists")
    render.set_defaults(func=cmd_cards_render)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from compact_models import CardError

    from cosim.circuit.deck import NetlistError
    from cosim.luts.lut import LutError
    from cosim.circuit.spice import SpiceError

    clear = (NetlistError, SpiceError, CardError, LutError, ValueError, FileNotFoundError)
    try:
        args.func(args)
    except Exception as err:  # noqa: BLE001 - known input errors become one line, anything else propagates
        ckpt = sys.modules.get("diffusion.checkpoint")  # imported only by commands that load checkpoints
        if not (isinstance(err, clear) or (ckpt is not None and isinstance(err, ckpt.CheckpointError))):
            raise
        print(f"vcma: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
