"""``vcma lut``: build, cell, show and validate lookup tables."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cosim.app import checks
from cosim.app.cli_common import card_option, load_cards, model_option
from cosim.app.stages import Stages, add_quiet_option, sweep_progress

MAX_LUT_TRIALS = 100_000
"""Most SPICE trials per point (or Monte Carlo arrays) ``vcma lut build/validate`` accept."""
MAX_CHECK_RUNS = 1_000
"""Most 16-cycle TRNG-cell check runs."""
MAX_VALIDATE_POINTS = 1_000
"""Most off-grid points ``vcma lut validate`` checks."""

def cmd_lut_build(args) -> None:
    from cosim.luts.build_trng import build_trng_lut, check_kind

    check_kind(args.kind)
    checks.corner("--corner", args.corner)
    checks.temperature("--temp", args.temp)
    if args.trials is not None:
        checks.count("--trials", args.trials, 1, MAX_LUT_TRIALS)
    checks.array_size(args.rows, args.cols)
    checks.jobs("--jobs", args.jobs)
    checks.count("--check-runs", args.check_runs, 0, MAX_CHECK_RUNS)
    checks.count("--max-trials", args.max_trials, 1, MAX_LUT_TRIALS)
    if args.ci_halfwidth is not None:
        checks.fraction("--ci-halfwidth", args.ci_halfwidth, 0.0, 0.5, lo_open=True, hi_open=True)
    checks.output_dir("--cache", args.cache)
    checks.output_file("--out", args.out)
    cards = load_cards(args)  # a bad card file is refused before anything runs
    start = time.perf_counter()
    stages = Stages(2, quiet=args.quiet)
    with stages.stage(f"{args.kind} LUT {args.corner} {args.temp:g} C in SPICE (resumes from {args.cache})"), \
            sweep_progress(stages.progress):
        if args.kind == "trng":
            lut = build_trng_lut(args.corner, args.temp, 64 if args.trials is None else args.trials, args.jobs,
                                 args.scheduler, args.cache, check_runs=args.check_runs, model=args.model,
                                 ci_halfwidth=args.ci_halfwidth, max_trials=args.max_trials,
                                 **({} if cards is None else {"cards": cards}))
        else:
            from cosim.luts.build_crossbar import build_crossbar_lut

            lut = build_crossbar_lut(args.kind, args.corner, args.temp, args.trials, args.jobs, args.scheduler,
                                     args.cache, args.rows, args.cols, model=args.model, cards=cards)
    with stages.stage(f"write {args.out}"):
        path = lut.save(args.out)
    print(f"wrote {path} ({time.perf_counter() - start:.1f} s)")


def cmd_lut_cell(args) -> None:
    import datetime

    from cosim.luts.lut import Lut
    from cosim.luts.build_trng import add_cell_parts

    checks.existing_input("", args.file)
    checks.count("--check-runs", args.check_runs, 0, MAX_CHECK_RUNS)
    checks.jobs("--jobs", args.jobs)
    checks.output_dir("--cache", args.cache)
    checks.output_file("--out", args.out or args.file)
    start = time.perf_counter()
    with Stages(1, quiet=args.quiet).stage("TRNG-cell parts in SPICE (energy, driver share, cell check)"), \
            sweep_progress(not args.quiet):
        lut = add_cell_parts(Lut.load(args.file, kind="trng"), check_runs=args.check_runs, n_jobs=args.jobs,
                             scheduler=args.scheduler, cache_dir=args.cache)
    lut.provenance["cell_command"] = " ".join(sys.argv)
    lut.provenance["cell_date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(f"wrote {lut.save(args.out or args.file)} ({time.perf_counter() - start:.1f} s)")


def cmd_lut_show(args) -> None:
    from cosim.luts.lut import Lut
    from cosim.app.plots import plot_lut

    checks.existing_input("", args.file)
    checks.output_file("--plot", args.plot)
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
    _print_fit_report(lut)
    if args.plot:
        print(f"plot: {plot_lut(lut, args.plot)}")


def _print_fit_report(lut) -> None:
    """The per-width fit table of a fitted trng LUT (nothing for a LUT without a fit)."""
    from cosim.luts.fit import fit_table

    rows = fit_table(lut)
    if not rows:
        if lut.kind == "trng":
            print("fit: none (later stages read the raw p_switch; refit with cosim.luts.fit.add_fit)")
        return
    print(f"fit of P(switch) per width: {lut.provenance['fit'].get('selection', '')}")
    print(f"{'width (ns)':>10} {'method':>8} {'link':>6} {'degree':>6} {'deviance/dof':>14} {'GOF p':>8}  "
          "band models / note")
    for r in rows:
        if r.get("method") == "glm":
            gof = "-" if r.get("gof_p") is None else f"{r['gof_p']:.3g}"
            dev = f"{r['deviance']:.1f}/{r['dof']}"
            print(f"{r['t_pulse_s'] * 1e9:10.3f} {'glm':>8} {r['link']:>6} {r['degree']:>6} {dev:>14} {gof:>8}  "
                  f"{','.join(r.get('band_models', []))} {r.get('note', '')}".rstrip())
        else:
            print(f"{r['t_pulse_s'] * 1e9:10.3f} {r.get('method', '?'):>8} {'-':>6} {'-':>6} {'-':>14} {'-':>8}  "
                  f"{r.get('note', '')}")


def _verdict(rows: list[dict], need: float, what: str) -> None:
    """Print the pass count and PASS/FAIL (at least ``need`` of the rows inside); exit 1 on FAIL."""
    inside = sum(r["inside"] for r in rows)
    passed = inside >= need * len(rows)
    print(f"{inside}/{len(rows)} {what}: {'PASS' if passed else 'FAIL'}")
    if not passed:
        raise SystemExit(1)


def _crossbar_validation_rows(lut, args) -> list[dict]:
    from cosim.luts.build_crossbar import validate_read_lut
    from cosim.luts.build_write import validate_write_lut

    if lut.kind == "read":
        return validate_read_lut(lut, args.points, 4 if args.trials is None else args.trials, args.seed, args.jobs)
    return validate_write_lut(lut, args.points, 64 if args.trials is None else args.trials, args.seed, args.jobs)


def _print_crossbar_validation(rows: list[dict]) -> None:
    print(f"{'check':>30} {'position':>9} {'LUT':>11} {'SPICE':>11}  {'bound':<40} inside")
    for r in rows:
        print(f"{r['check']:>30} {r['position']:>9} {r['lut']:11.4g} {r['spice']:11.4g}  {r['bound']:<40} "
              f"{'yes' if r['inside'] else 'NO'}")
    _verdict(rows, 1.0, "checks within tolerance of / consistent at the 1 % level with fresh SPICE")


def cmd_lut_validate(args) -> None:
    from cosim.luts.lut import Lut
    from cosim.luts.validate_trng import validate_trng_lut

    checks.existing_input("", args.file)
    checks.count("--points", args.points, 1, MAX_VALIDATE_POINTS)
    if args.trials is not None:
        checks.count("--trials", args.trials, 1, MAX_LUT_TRIALS)
    checks.seed("--seed", args.seed)
    checks.jobs("--jobs", args.jobs)
    checks.fraction("--alpha", args.alpha, 0.0, 0.5, lo_open=True)
    lut = Lut.load(args.file)
    with Stages(1, quiet=args.quiet).stage(f"fresh SPICE trials at {args.points} point(s) of the {lut.kind} LUT"), \
            sweep_progress(not args.quiet):
        if lut.kind in ("read", "write"):
            rows = _crossbar_validation_rows(lut, args)
        else:
            res = validate_trng_lut(lut, args.points, 128 if args.trials is None else args.trials, args.seed,
                                    args.jobs, alpha=args.alpha)
    if lut.kind in ("read", "write"):
        return _print_crossbar_validation(rows)
    print(f"H0 per point: fresh SPICE P = the LUT's {res['p_var']} there (two-sided z test, variance "
          f"p(1-p)/n + se_LUT^2); level {res['alpha']:g}, Holm-corrected across the points")
    print(f"{'v_write (V)':>11} {'t_pulse (ns)':>12} {'P LUT':>7} {'se LUT':>7} {'P SPICE':>13} {'z':>6} "
          f"{'p-value':>8} {'detect':>7}  verdict")
    for r in res["rows"]:
        verdict = "REJECT (Holm)" if r["reject_holm"] else ("reject (alone)" if r["reject"] else "ok")
        print(f"{r['v_write_V']:11.4f} {r['t_pulse_s'] * 1e9:12.3f} {r['p_lut']:7.3f} {r['se_lut']:7.3f} "
              f"{r['p_spice']:5.3f} ({r['k']}/{r['n']}) {r['z']:6.2f} {r['p_value']:8.2g} {r['detectable']:7.3f}  "
              f"{verdict}")
    n = len(res["rows"])
    print(f"rejections at level {res['alpha']:g}: {res['rejections']}/{n} (expected false alarms "
          f"{res['expected_false_alarms']:.2g}); after Holm: {res['rejections_holm']}")
    print(f"detectable difference |P SPICE - P LUT| (80 % power, level {res['alpha']:g}/{n}): median "
          f"{res['detectable_median']:.3f}, max {max(r['detectable'] for r in res['rows']):.3f}")
    print(f"{n} points, family-wise false-alarm rate <= {res['alpha']:g}: {'PASS' if res['passed'] else 'FAIL'}")
    if not res["passed"]:
        raise SystemExit(1)


def add_parser(sub) -> None:
    """The ``lut`` command group."""
    lut = sub.add_parser("lut", help="lookup tables from SPICE").add_subparsers(dest="lut_command", required=True)
    build = lut.add_parser("build", help="sweep SPICE and write a LUT file")
    build.add_argument("--kind", default="trng", help="trng, read or write (crossbar array per position)")
    build.add_argument("--corner", default="tt")
    build.add_argument("--temp", type=float, default=27.0, help="temperature in C")
    build.add_argument("--trials", type=int, help="trng: SPICE trials per grid point in the first round (default 64); "
                       "read: Monte Carlo arrays (default 4); write: switching/disturb trials per position (default 32)")
    build.add_argument("--ci-halfwidth", type=float, default=0.03,
                       help="trng: add trials until every point's fitted 95 %% band is this narrow (default 0.03)")
    build.add_argument("--max-trials", type=int, default=2048, help="trng: most trials per point (default 2048)")
    build.add_argument("--rows", type=int, default=16, help="read/write: simulated array rows (default 16)")
    build.add_argument("--cols", type=int, default=16, help="read/write: simulated array columns (default 16)")
    build.add_argument("--jobs", type=int, default=2, help="local worker processes")
    build.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT (workers with --nthreads 1)")
    build.add_argument("--cache", type=Path, default=Path(".vcma_cache"), help="per-point cache; reruns resume")
    build.add_argument("--check-runs", type=int, default=4,
                       help="trng: 16-cycle TRNG-cell runs for the P(1) and serial-correlation check (0: none)")
    build.add_argument("--out", type=Path, required=True)
    add_quiet_option(build)
    model_option(build)
    card_option(build)
    build.set_defaults(func=cmd_lut_build)
    cell = lut.add_parser("cell", help="rerun the TRNG-cell parts of a trng LUT (energy, driver share, cell "
                          "check) after a change to trng_cell.cir; the switching table is kept")
    cell.add_argument("file", type=Path)
    cell.add_argument("--check-runs", type=int, default=4, help="16-cycle TRNG-cell runs for the check (0: none)")
    cell.add_argument("--jobs", type=int, default=2, help="local worker processes")
    cell.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT")
    cell.add_argument("--cache", type=Path, default=Path(".vcma_cache"), help="per-point cache; reruns resume")
    cell.add_argument("--out", type=Path, help="output file (default: update FILE in place, atomically)")
    add_quiet_option(cell)
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
    val.add_argument("--alpha", type=float, default=0.01,
                     help="trng: false-alarm rate of the whole validation (Holm across points; default 0.01)")
    add_quiet_option(val)
    val.set_defaults(func=cmd_lut_validate)
