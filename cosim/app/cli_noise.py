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

STREAM_RAW = "raw"
STREAM_VN = "vn"
STREAMS = {STREAM_RAW: "raw array bits", STREAM_VN: "per-cell von Neumann output"}
"""Stream types ``vcma emulate`` writes and the metadata names them by."""
WHITEN_STREAM = {"none": STREAM_RAW, "vn": STREAM_VN}
"""``--whiten`` -> the stream type written."""
BITS_FORMAT = "vcma-bits"


def cmd_emulate(args) -> None:
    from cosim.app.stages import Stages, checked_device

    _check_emulate(args)
    cards = _requested_cards(args)
    device = checked_device(args)
    out = checks.npy_target("--out", args.out)
    stages = Stages(2 + bool(out) + bool(args.plot), quiet=args.quiet)
    stream = WHITEN_STREAM[args.whiten]
    with stages.stage("LUTs and the chip's calibration"):
        emu = _build_emulator(args, cards, device)
    with stages.stage(f"{args.cycles} cycles of the {args.rows} x {args.cols} array on {device}"):
        import torch

        gen = torch.Generator(device=device).manual_seed(args.seed)
        bits = emu.cycles(args.cycles, gen).cpu()
    if not args.quiet:
        _print_emulation(emu, bits)
    if out:
        with stages.stage(f"write {STREAMS[stream]}"):
            meta = _save_stream(out, bits, emu, stream, args)
        print(f"bits: {out} ({meta['bits']} bits, {STREAMS[stream]}; metadata {metadata_path(out)})")
    if args.plot:
        from cosim.app.plots import plot_emulation
        from cosim.noise.sources import make_noise_source

        with stages.stage("histogram plot"):
            source = make_noise_source("mtj", emulator=emu.to("cpu"), transform=args.transform)
            gauss = source.randn((20000,), generator=torch.Generator().manual_seed(args.seed))
            plot = plot_emulation(bits.numpy(), emu.p_one.numpy(), gauss.numpy(), args.plot)
        print(f"plot: {plot}")


def _build_emulator(args, cards, device: str):
    """The emulated chip of the ``vcma emulate`` options (LUTs built with ``cards``)."""
    from cosim.luts.lut import Lut, LutError, shipped_lut_path
    from cosim.noise.emulator import TrngArrayEmulator

    def array_lut(kind: str, path: Path | None):
        if args.no_array_luts:
            return None
        if path is not None:
            return Lut.load(path, kind=kind, cards=cards)
        try:
            return Lut.load(shipped_lut_path(kind, args.corner, args.temp), kind=kind, cards=cards)
        except LutError:
            return None

    args.lut_used = args.lut or shipped_lut_path("trng", args.corner, args.temp)
    lut = Lut.load(args.lut_used, kind="trng", cards=cards)
    return TrngArrayEmulator(lut, args.rows, args.cols, args.v_write_V, args.t_pulse_s, args.chip_seed, args.variation,
                             args.calibration, write_lut=array_lut("write", args.write_lut),
                             read_lut=array_lut("read", args.read_lut), correlation=args.correlation, device=device)


def _print_emulation(emu, bits) -> None:
    p = emu.p_one.cpu().numpy()
    rep = emu.calibration_report()
    print(f"array {emu.rows} x {emu.cols}, {emu.calibration} calibration: v_write {rep['v_write_V_min']:.4f}.."
          f"{rep['v_write_V_max']:.4f} V, t_pulse {emu.t_pulse_s * 1e9:.3f} ns")
    print(f"P(1): cells mean {p.mean():.4f}, std {p.std():.4f} ({p.min():.3f} .. {p.max():.3f}), "
          f"stuck {rep['stuck_fraction']:.1%}; worst column bias {rep['column_bias_max_abs']:+.4f}; "
          f"emulated {bits.float().mean():.4f}")
    print(f"sense error rate {emu.sense_error_rate.mean():.2e}; lag-1 correlation {emu.correlation:g}; "
          f"energy/bit {emu.energy_per_bit_J * 1e15:.2f} fJ; cycle {emu.time_per_cycle_s * 1e9:.2f} ns; "
          f"{bits.numel()} bits")


def metadata_path(bits_path: Path) -> Path:
    """The JSON sidecar that names a bit file's stream type: ``bits.npy`` -> ``bits.npy.json``."""
    return Path(bits_path).with_name(Path(bits_path).name + ".json")


def _save_stream(out: Path, bits, emu, stream: str, args) -> dict:
    """Write the raw bits (cycles x rows x cols) or their per-cell von Neumann stream (1-D), and its metadata,
    each atomically; returns the metadata."""
    import io
    import json

    from compact_models.render import write_atomic
    from cosim.noise.emulator import WHITENED_ORDER, per_cell_von_neumann

    data = per_cell_von_neumann(bits) if stream == STREAM_VN else bits
    p = emu.p_one.cpu().numpy().astype(float)
    meta = {"format": BITS_FORMAT, "version": 1, "stream": stream, "description": STREAMS[stream],
            "order": (WHITENED_ORDER if stream == STREAM_VN else
                      "shape (cycles, rows, cols): cycle by cycle, the cells in row-major order"),
            "bits": int(data.numel()), "rows": emu.rows, "cols": emu.cols, "cycles": args.cycles,
            "variation": args.variation, "chip_seed": args.chip_seed, "seed": args.seed,
            "calibration": emu.calibration, "cell_p_one_mean": float(p.mean()), "cell_p_one_std": float(p.std()),
            "correlation": emu.correlation, "lut": str(args.lut_used)}
    buf = io.BytesIO()
    np.save(buf, data.numpy())
    write_atomic(out, buf.getvalue())
    write_atomic(metadata_path(out), json.dumps(meta, indent=2))
    return meta


def _requested_cards(args):
    """The process cards the LUTs must have been built with: ``--card``'s, else the shipped cards (a LUT built
    from another card file is refused, naming the fields that differ)."""
    from compact_models.card_file import SHIPPED
    from cosim.app.cli_common import load_cards

    cards = load_cards(args)
    return SHIPPED if cards is None else cards


def _check_emulate(args) -> None:
    """Every ``vcma emulate`` value, before a LUT is read or a bit drawn; sets ``v_write_V``/``t_pulse_s``."""
    if args.plot:
        from cosim.noise.transforms import make_transform

        make_transform(args.transform)
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


def load_stream_metadata(bits_path: Path, n_bits: int) -> tuple[dict | None, str]:
    """The metadata ``vcma emulate`` wrote next to a bit file, and a one-line stream description.

    A bare file (no ``<name>.json``), unreadable metadata or metadata of another length is ``unknown``,
    with the reason: the bits are still analysed."""
    import json

    side = metadata_path(bits_path)
    if not side.is_file():
        return None, f"unknown (no metadata file {side.name})"
    try:
        meta = json.loads(side.read_text())
        ok = isinstance(meta, dict) and meta.get("format") == BITS_FORMAT and meta.get("stream") in STREAMS
    except (OSError, UnicodeDecodeError, ValueError):
        ok = False
    if not ok:
        return None, f"unknown ({side.name} is not {BITS_FORMAT} metadata)"
    if meta.get("bits") != n_bits:
        return None, f"unknown ({side.name} describes {meta.get('bits')} bits, the file holds {n_bits})"
    return meta, (f"{STREAMS[meta['stream']]} of a {meta['rows']} x {meta['cols']} array ({meta['calibration']} "
                  f"calibration, variation {meta['variation']:g}, cell P(1) std {meta['cell_p_one_std']:.4f})")


def raw_stream_note(meta: dict | None) -> str | None:
    """Why raw bits of a chip with cell-to-cell variation fail DFT and runs (None for other streams)."""
    if not meta or meta["stream"] != STREAM_RAW or not meta.get("variation"):
        return None
    cells = meta["rows"] * meta["cols"]
    return (f"note: raw array bits are not i.i.d.: each cell keeps its own bias (cell P(1) std "
            f"{meta['cell_p_one_std']:.4f}) and recurs once per array read-out ({cells} bits), a periodic component "
            f"at the array size that DFT and runs detect even when every column is fair on average; "
            f"`vcma emulate --whiten vn` writes the per-cell von Neumann stream")


def cmd_trng_report(args) -> None:
    from cosim.noise.nist import bias_and_serial_correlation, run_all

    bits = load_bits(args.bits)
    meta, stream = load_stream_metadata(args.bits, bits.size)
    print(f"stream: {stream}")
    b = bias_and_serial_correlation(bits)
    print(f"{b.n_bits} bits; fraction of ones {b.ones_fraction:.5f} (99 % CI {b.ones_ci99[0]:.5f}..{b.ones_ci99[1]:.5f}); "
          f"lag-1 correlation {b.serial_corr_lag1:+.5f} (99 % bound {b.serial_corr_bound99:.5f})")
    failed = 0
    for r in run_all(bits):
        p = ", ".join(f"{x:.6f}" for x in r.p_values)
        failed += not r.passed
        print(f"{r.name:28s} p = {p:30s} {'pass' if r.passed else 'FAIL'}")
    print("all tests passed" if not failed else f"{failed} test(s) failed")
    note = raw_stream_note(meta)
    if note:
        print(note)


def add_parser(sub) -> None:
    """The ``emulate`` and ``trng`` commands."""
    from cosim.app.stages import add_device_option, add_quiet_option

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
    emu.add_argument("--whiten", default="none", choices=list(WHITEN_STREAM),
                     help="what --out holds: none, the raw array bits (default; shape cycles x rows x cols), or vn, each cell's "
                          "von Neumann output (consecutive pairs 01 -> 0, 10 -> 1, 00/11 dropped; 1-D, pairs in time "
                          "order, cells row-major)")
    emu.add_argument("--out", type=Path, help="save bits (.npy) and their metadata (<out>.json: stream type, array)")
    emu.add_argument("--plot", type=Path)
    add_device_option(emu)
    add_quiet_option(emu)
    emu.set_defaults(func=cmd_emulate)
    trng_cmd = sub.add_parser("trng", help="bitstream analysis").add_subparsers(dest="trng_command", required=True)
    rep = trng_cmd.add_parser("report", help="bias, serial correlation and NIST SP 800-22 tests of a bitstream")
    rep.add_argument("bits", type=Path, help=".npy or text file of 0/1")
    rep.set_defaults(func=cmd_trng_report)
    from cosim.app.macro_table import add_macro_parser

    add_macro_parser(trng_cmd)
