"""The ``vcma`` command: SPICE runs, TRNG cells, switching statistics, model cards."""

from __future__ import annotations

import argparse
import sys

from cosim.app import cli_diffusion, cli_lut, cli_noise, cli_spice


def build_parser() -> argparse.ArgumentParser:
    """The ``vcma`` parser: one group module per command group, in the order ``--help`` lists them."""
    parser = argparse.ArgumentParser(prog="vcma", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    cli_spice.add_parser(sub)
    cli_lut.add_parser(sub)
    cli_noise.add_parser(sub)
    cli_diffusion.add_parser(sub)
    cli_spice.add_cards_parser(sub)
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
