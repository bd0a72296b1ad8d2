"""``vcma emulate`` (the LUT-driven TRNG array) and ``vcma trng report`` (bitstream statistics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cosim.app.cli_common import si

def cmd_emulate(args) -> None:
    import torch

    from cosim.noise.emulator import TrngArrayEmulator
    from cosim.noise.sources import make_noise_source
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
    emu = TrngArrayEmulator(lut, args.rows, args.cols, si(args.v_write) if args.v_write else None,
                            si(args.t_pulse), args.chip_seed, args.variation, args.calibration,
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
        source = make_noise_source("mtj", emulator=emu, transform=args.transform)
        gauss = source.randn((20000,), generator=torch.Generator().manual_seed(args.seed))
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


def add_parser(sub) -> None:
    """The ``emulate`` and ``trng`` commands."""
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
