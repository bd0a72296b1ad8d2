"""``vcma demo`` (the main job), ``vcma diffusion sensitivity`` (FID against TRNG non-idealities) and
``vcma diffusion compare`` (FID and KID of noise sources against software, with the power to decide)."""

from __future__ import annotations

import math
from pathlib import Path

from cosim.app import checks


def _image_job_inputs(args) -> tuple[list[str], str]:
    """The checks ``demo`` and ``diffusion compare`` share: sources, seed, threads, inputs, output, device."""
    from cosim.app.stages import checked_device

    checks.seed("--seed", args.seed)
    checks.jobs("--threads", args.threads)
    for flag, path in (("--lut", args.lut), ("--ddpm", args.ddpm), ("--classifier", args.classifier)):
        checks.existing_input(flag, path)
    checks.output_dir("--out", args.out)
    return [s.strip() for s in args.sources.split(",") if s.strip()], checked_device(args)


def _print_report(args, what: str, seconds: float) -> None:
    """``--quiet``: the report's path only; else the report, then where everything is."""
    path = Path(args.out) / "report.md"
    if args.quiet:
        print(path)
        return
    print(path.read_text())
    print(f"{what} in {args.out} ({seconds:.0f} s); report: {path}")


def cmd_demo(args) -> None:
    from cosim.app.demo import run_demo

    sources, device = _image_job_inputs(args)
    report = run_demo(args.out, args.images, args.cycles, args.trials, args.seed, n_seeds=args.seeds,
                      steps=args.steps, sources=sources, lut_path=args.lut, ddpm_path=args.ddpm,
                      classifier_path=args.classifier, threads=args.threads, quiet=args.quiet, device=device)
    _print_report(args, "figures and report", report["seconds"])


LEVEL_RANGES = {"bias": (0.0, 1.0, True, True), "correlation": (-1.0, 1.0, True, True),
                "sense_error": (0.0, 0.5, False, False), "variation": (0.0, 10.0, False, False)}
"""Allowed ``--levels`` per numeric sweep: (low, high, low open, high open)."""


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
        if not out[name.strip()] or not all(math.isfinite(v) for v in out[name.strip()]):
            raise ValueError(f"--levels {name}: '{values}' is not a list of finite numbers")
        lo, hi, lo_open, hi_open = LEVEL_RANGES.get(name.strip(), (-math.inf, math.inf, False, False))
        for v in out[name.strip()]:
            checks.fraction(f"--levels {name.strip()}", v, lo, hi, lo_open, hi_open)
    return out


def cmd_diffusion_sensitivity(args) -> None:
    from cosim.app.stages import Stages

    checks.seed("--seed", args.seed)
    checks.jobs("--threads", args.threads)
    checks.input_dir("--lut-dir", args.lut_dir)
    for flag, path in (("--ddpm", args.ddpm), ("--classifier", args.classifier)):
        checks.existing_input(flag, path)
    checks.output_dir("--out", args.out)
    levels = _sweep_levels(args.levels)
    stages = Stages(1, quiet=args.quiet)
    with stages.stage("sensitivity sweeps: images per level with the software and ideal-trng references"):
        from cosim.app.sensitivity import run_sensitivity

        result = run_sensitivity(args.out, n_images=args.images, steps=args.steps, seed=args.seed,
                                 ref_seeds=args.ref_seeds, quick=args.quick, lut_dir=args.lut_dir,
                                 ddpm_path=args.ddpm, classifier_path=args.classifier, threads=args.threads,
                                 progress=stages.progress and not args.no_progress, sweeps=args.sweeps, levels=levels)
    if not args.quiet:
        print(result["summary"])
    print(f"plot, table and JSON in {args.out} ({result['seconds']:.0f} s)")


def cmd_diffusion_compare(args) -> None:
    from cosim.app.compare import run_compare

    sources, device = _image_job_inputs(args)
    report = run_compare(args.out, sources, args.images, args.seeds, steps=args.steps, seed=args.seed,
                         threads=args.threads, quiet=args.quiet, lut_path=args.lut, ddpm_path=args.ddpm,
                         classifier_path=args.classifier, device=device)
    _print_report(args, "report.md, report.json and compare.png", report["seconds"])


def add_parser(sub) -> None:
    """The ``demo`` and ``diffusion`` commands."""
    from cosim.app.stages import add_device_option, add_quiet_option

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
    add_quiet_option(demo)
    add_device_option(demo)
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
    sens.add_argument("--no-progress", action="store_true", help="no progress bars (stage lines stay)")
    add_quiet_option(sens)
    sens.set_defaults(func=cmd_diffusion_sensitivity)

    comp = diff.add_parser("compare", help="FID and KID of noise sources against software noise, with intervals "
                                           "and the smallest detectable difference")
    comp.add_argument("--sources", default="software,mtj", help="comma-separated noise sources; must include software")
    comp.add_argument("--images", type=int, default=1000, help="images per source and seed (>= 129)")
    comp.add_argument("--seeds", type=int, default=5, help="sampling seeds per source (>= 2)")
    comp.add_argument("--steps", type=int, default=50, help="DDIM steps (eta = 1)")
    comp.add_argument("--seed", type=int, default=1, help="first sampling seed; also the chip seed")
    comp.add_argument("--out", type=Path, default=Path("out/compare"))
    comp.add_argument("--lut", type=Path, help="trng LUT for the mtj sources (default: shipped TT 27 C)")
    comp.add_argument("--ddpm", type=Path, help="DDPM checkpoint (default: shipped)")
    comp.add_argument("--classifier", type=Path, help="classifier checkpoint (default: shipped)")
    comp.add_argument("--threads", type=int, default=2, help="torch threads")
    add_quiet_option(comp)
    add_device_option(comp)
    comp.set_defaults(func=cmd_diffusion_compare)
