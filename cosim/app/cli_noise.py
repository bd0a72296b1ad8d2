"""``vcma emulate`` (the LUT-driven TRNG array) and ``vcma trng report`` (bitstream statistics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cosim.app import checks
from cosim.app.cli_common import card_option

MAX_CYCLES = 10_000_000
"""Most emulated cycles (the total bits are also capped, ``checks.MAX_EMULATED_BITS``)."""
MAX_VARIATION = 10.0
"""Largest ``--variation`` (multiples of the corner's device spreads)."""

def cmd_emulate(args) -> None:
    import torch

    from cosim.noise.emulator import TrngArrayEmulator
    from cosim.noise.sources import make_noise_source
    from cosim.luts.lut import Lut, LutError, shipped_lut_path
    from cosim.app.plots import plot_emulation
    from cosim.noise.transforms import make_transform

    _check_emulate(args)
    cards = _requested_cards(args)
    if args.plot:
        make_transform(args.transform)
    out = checks.npy_target("--out", args.out)

    def array_lut(kind: str, path: Path | None):
        if args.no_array_luts:
            return None
        if path is not None:
            return Lut.load(path, kind=kind, cards=cards)
        try:
            return Lut.load(shipped_lut_path(kind, args.corner, args.temp), kind=kind, cards=cards)
        except LutError:
            return None

    lut = Lut.load(args.lut or shipped_lut_path("trng", args.corner, args.temp), kind="trng", cards=cards)
    emu = TrngArrayEmulator(lut, args.rows, args.cols, args.v_write_V, args.t_pulse_s, args.chip_seed, args.variation, args.calibration,
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
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, bits.numpy())
        print(f"bits: {out}")
    if args.plot:
        source = make_noise_source("mtj", emulator=emu, transform=args.transform)
        gauss = source.randn((20000,), generator=torch.Generator().manual_seed(args.seed))
        print(f"plot: {plot_emulation(bits.numpy(), p, gauss.numpy(), args.plot)}")


def _requested_cards(args):
    """The process cards the LUTs must have been built with: ``--card``'s, else the shipped cards (a LUT built
    from another card file is refused, naming the fields that differ)."""
    from compact_models.card_file import SHIPPED
    from cosim.app.cli_common import load_cards

    cards = load_cards(args)
    return SHIPPED if cards is None else cards


def _check_emulate(args) -> None:
    """Every ``vcma emulate`` value, before a LUT is read or a bit drawn; sets ``v_write_V``/``t_pulse_s``."""
    for flag, path in (("--lut", args.lut), ("--write-lut", args.write_lut), ("--read-lut", args.read_lut)):
        checks.existing_input(flag, path)
    checks.corner("--corner", args.corner)
    checks.temperature("--temp", args.temp)
    checks.count("--rows", args.rows, 1, checks.MAX_EMULATED_SIDE)
    checks.count("--cols", args.cols, 1, checks.MAX_EMULATED_SIDE)
    checks.count("--cycles", args.cycles, 1, MAX_CYCLES)
    if args.cycles * args.rows * args.cols > checks.MAX_EMULATED_BITS:
        raise checks.InputError(f"--cycles x --rows x --cols = {args.cycles * args.rows * args.cols} bits is more "
                                f"than one run emulates ({checks.MAX_EMULATED_BITS}); split it into several runs")
    args.v_write_V = None if args.v_write is None else checks.voltage(
        "--v-write", checks.number("--v-write", args.v_write), positive=True)
    args.t_pulse_s = checks.number("--t-pulse", args.t_pulse)
    checks.trng_timing("--t-pulse", args.t_pulse_s)
    checks.seed("--seed", args.seed, minimum=0)
    checks.seed("--chip-seed", args.chip_seed, minimum=0)
    checks.fraction("--variation", args.variation, 0.0, MAX_VARIATION)
    if args.correlation is not None:
        checks.fraction("--correlation", args.correlation, -1.0, 1.0, lo_open=True, hi_open=True)
    checks.output_file("--plot", args.plot)
    checks.distinct_outputs(checks.npy_target("--out", args.out), args.plot)


def load_bits(path: Path) -> np.ndarray:
    """0/1 bits from a .npy array (recognised by its header, whatever the name) or a text file of
    0 and 1 (whitespace and commas ignored); errors name the file."""
    checks.input_file("", path)
    with open(path, "rb") as f:
        is_npy = f.read(6) == b"\x93NUMPY"
    if path.suffix.lower() == ".npy" and not is_npy:
        raise checks.InputError(f"{path}: not a .npy file (no NumPy header)")
    if is_npy:
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            reason = "it holds Python objects" if "allow_pickle" in str(exc) else str(exc).split("\n")[0]
            raise checks.InputError(f"{path}: not a numeric .npy array of bits ({reason})") from None
        arr = np.asarray(arr).reshape(-1)
        if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
            raise checks.InputError(f"{path}: a bit file holds only 0 and 1 (dtype {arr.dtype}, "
                                    f"{arr.size} values)")
        return arr.astype(np.uint8)
    text = path.read_bytes().decode("ascii", errors="replace")
    compact = "".join(text.replace(",", " ").split())
    bad = compact.strip("01")
    if bad:
        pos = compact.index(bad[0])
        raise checks.InputError(f"{path}: a text bit file holds only 0 and 1 (with whitespace or commas); "
                                f"found {bad[0]!r} at bit {pos}")
    if not compact:
        raise checks.InputError(f"{path}: no bits in the file")
    return np.frombuffer(compact.encode("ascii"), dtype=np.uint8) - np.uint8(ord("0"))


def cmd_trng_report(args) -> None:
    from cosim.noise.nist import bias_and_serial_correlation, run_all

    bits = load_bits(args.bits)
    b = bias_and_serial_correlation(bits)
    print(f"{b.n_bits} bits; fraction of ones {b.ones_fraction:.5f} (99 % CI {b.ones_ci99[0]:.5f}..{b.ones_ci99[1]:.5f}); "
          f"lag-1 correlation {b.serial_corr_lag1:+.5f} (99 % bound {b.serial_corr_bound99:.5f})")
    failed = 0
    for r in run_all(bits):
        p = ", ".join(f"{x:.6f}" for x in r.p_values)
        failed += not r.passed
        print(f"{r.name:28s} p = {p:30s} {'pass' if r.passed else 'FAIL'}")
    print("all tests passed" if not failed else f"{failed} test(s) failed")


def add_parser(sub) -> None:
    """The ``emulate`` and ``trng`` commands."""
    emu = sub.add_parser("emulate", help="emulate a TRNG array from a trng LUT")
    emu.add_argument("--lut", type=Path, help="trng LUT (default: the shipped one for --corner/--temp)")
    emu.add_argument("--corner", default="tt")
    emu.add_argument("--temp", type=float, default=27.0, help="temperature, C")
    emu.add_argument("--write-lut", type=Path, help="write LUT for array-position voltages (default: shipped)")
    emu.add_argument("--read-lut", type=Path, help="read LUT for sense error rates (default: shipped)")
    emu.add_argument("--no-array-luts", action="store_true", help="ignore array position and sense errors")
    card_option(emu)
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
    from cosim.app.macro_table import add_macro_parser

    add_macro_parser(trng_cmd)
