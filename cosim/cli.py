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


def cmd_spice_run(args) -> None:
    from .plots import plot_vectors
    from .spice import run_netlist

    result = run_netlist(args.netlist, _parse_params(args.param), seed=args.seed, corner=args.corner,
                         temp_C=args.temp, backend=args.backend, model_lib=args.model_lib,
                         model_corner=args.model_corner)
    for name, value in sorted(result.measures.items()):
        print(f"{name:24s} {value: .6e}")
    for name in result.failed_measures:
        print(f"{name:24s} failed")
    if args.plot:
        names = args.vectors or [n for n in result.vectors if n.startswith("v(")][:4]
        print(f"plot: {plot_vectors(result, names, args.plot)}")


def cmd_spice_trng(args) -> None:
    from .plots import plot_trng
    from .trng import run_trng

    start = time.perf_counter()
    run = run_trng(args.cycles, _si(args.v_write) if args.v_write else None,
                   _si(args.t_pulse) if args.t_pulse else None, seed=args.seed, corner=args.corner,
                   temp_C=args.temp, params=_parse_params(args.param), backend=args.backend)
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

    from .plots import plot_switching_curve
    from .switching import switching_probability

    widths = [_si(w) for w in args.t_pulse]
    probs = []
    for w in widths:
        q = switching_probability(_si(args.v_write), w, args.trials, seed=args.seed, corner=args.corner,
                                  temp_C=args.temp, n_jobs=args.jobs, backend=args.backend)
        probs.append(q)
        print(f"t_pulse {w * 1e9:6.3f} ns  P(switch) {q}")
    if args.plot:
        half = mtj_card(args.corner, args.temp + 273.15).precession_period_s() / 2
        out = plot_switching_curve([w * 1e9 for w in widths], probs, "pulse width (ns)", args.plot,
                                   marker=half * 1e9, marker_label="half precession period")
        print(f"plot: {out}")


def cmd_cards_render(args) -> None:
    from compact_models.render import write_default_cards

    from compact_models.render import write_crossbar_cards

    from .netlist_gen import write_crossbar, write_switching, write_trng_cell

    for path in write_default_cards() + [write_switching(), write_trng_cell()] + write_crossbar_cards() + write_crossbar():
        print(f"wrote {path}")


def cmd_lut_build(args) -> None:
    from .lut_build import build_trng_lut, check_kind

    check_kind(args.kind)
    lut = build_trng_lut(args.corner, args.temp, args.trials, args.jobs, args.scheduler, args.cache)
    print(f"wrote {lut.save(args.out)}")


def cmd_lut_show(args) -> None:
    from .lut import Lut
    from .plots import plot_lut

    lut = Lut.load(args.file)
    print(f"kind: {lut.kind}")
    for name, (unit, values) in lut.axes.items():
        print(f"axis {name} [{unit}]: {len(values)} points, {values[0]:g} .. {values[-1]:g}")
    for name, (unit, axes, arr) in lut.variables.items():
        print(f"variable {name} [{unit}] over {list(axes)}: {arr.min():.4g} .. {arr.max():.4g}")
    for key in ("corner", "temp_C", "trials_per_point", "dt_thermal_s", "model_sha256", "date", "command"):
        print(f"{key}: {lut.provenance.get(key)}")
    print(f"versions: {lut.provenance.get('versions')}")
    if args.plot:
        print(f"plot: {plot_lut(lut, args.plot)}")


def cmd_lut_validate(args) -> None:
    from .lut import Lut
    from .lut_build import validate_trng_lut

    lut = Lut.load(args.file, kind="trng")
    rows = validate_trng_lut(lut, args.points, args.trials, args.seed, args.jobs)
    print(f"{'v_write (V)':>11} {'t_pulse (ns)':>12} {'P LUT':>7} {'P SPICE':>8} {'99% CI':>17}  inside")
    for r in rows:
        print(f"{r['v_write_V']:11.4f} {r['t_pulse_s'] * 1e9:12.3f} {r['p_lut']:7.3f} {r['p_spice']:8.3f} "
              f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]  {'yes' if r['inside'] else 'NO'}")
    inside = sum(r["inside"] for r in rows)
    verdict = "PASS" if inside >= 0.95 * len(rows) else "FAIL"
    print(f"{inside}/{len(rows)} points inside the 99 % binomial interval of fresh SPICE trials: {verdict}")
    if verdict == "FAIL":
        raise SystemExit(1)


def cmd_demo(args) -> None:
    from .demo import run_demo

    report = run_demo(args.out, args.images, args.cycles, args.trials, args.seed)
    print((Path(args.out) / "report.md").read_text())
    print(f"figures and report in {args.out} ({report['seconds']:.0f} s)")


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
    build.add_argument("--kind", default="trng", help="trng (read/write follow with the crossbar sweeps)")
    build.add_argument("--corner", default="tt")
    build.add_argument("--temp", type=float, default=27.0, help="temperature in C")
    build.add_argument("--trials", type=int, default=128, help="SPICE trials per grid point")
    build.add_argument("--jobs", type=int, default=2, help="local worker processes")
    build.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT (workers with --nthreads 1)")
    build.add_argument("--cache", type=Path, default=Path(".vcma_cache"), help="per-point cache; reruns resume")
    build.add_argument("--out", type=Path, required=True)
    build.set_defaults(func=cmd_lut_build)
    show = lut.add_parser("show", help="axes, provenance and plots of a LUT")
    show.add_argument("file", type=Path)
    show.add_argument("--plot", type=Path)
    show.set_defaults(func=cmd_lut_show)
    val = lut.add_parser("validate", help="compare a LUT with fresh SPICE runs off its grid")
    val.add_argument("file", type=Path)
    val.add_argument("--points", type=int, default=8)
    val.add_argument("--trials", type=int, default=128)
    val.add_argument("--seed", type=int, default=12345)
    val.add_argument("--jobs", type=int, default=2)
    val.set_defaults(func=cmd_lut_validate)

    demo = sub.add_parser("demo", help="the main job: switching, TRNG cell, digits with its noise, report")
    demo.add_argument("--out", type=Path, default=Path("out/demo"))
    demo.add_argument("--images", type=int, default=256, help="images per noise source")
    demo.add_argument("--cycles", type=int, default=16, help="TRNG cell cycles simulated in SPICE")
    demo.add_argument("--trials", type=int, default=32, help="SPICE switching trials per pulse width")
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=cmd_demo)

    cards = sub.add_parser("cards", help="model cards").add_subparsers(dest="cards_command", required=True)
    render = cards.add_parser("render", help="re-render netlists/cards and the generated netlists")
    render.set_defaults(func=cmd_cards_render)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from compact_models import CardError

    from .deck import NetlistError
    from .lut import LutError
    from .spice import SpiceError

    try:
        args.func(args)
    except (NetlistError, SpiceError, CardError, LutError, ValueError, FileNotFoundError) as err:
        print(f"vcma: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
