"""The ``vcma`` command: SPICE runs, TRNG cells, switching statistics, model cards."""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
import tempfile

from cosim.app import cli_diffusion, cli_lut, cli_noise, cli_spice

EXIT_BAD_INPUT = 2
"""Bad input: argparse errors, values out of range, unusable files (nothing was run)."""
EXIT_RUN_FAILED = 1
"""A run that started and failed: ngspice errors, non-convergence, OS errors while writing."""
EXIT_INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT)."""


class VcmaArgumentParser(argparse.ArgumentParser):
    """argparse with one ``vcma: error:`` line (naming the subcommand) instead of usage + error."""

    def error(self, message: str):  # noqa: D102 - argparse API
        sub = self.prog[len("vcma"):].strip() if self.prog.startswith("vcma") else self.prog
        where = f"{sub}: " if sub else ""
        self.exit(EXIT_BAD_INPUT, f"vcma: error: {where}{message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``vcma`` parser: one group module per command group, in the order ``--help`` lists them."""
    parser = VcmaArgumentParser(prog="vcma", description=__doc__)
    parser.add_argument("--verbose", action="store_true",
                        help="on failure, print ngspice's full message (anywhere on the command line)")
    sub = parser.add_subparsers(dest="command", required=True)

    cli_spice.add_parser(sub)
    cli_lut.add_parser(sub)
    cli_noise.add_parser(sub)
    cli_diffusion.add_parser(sub)
    cli_spice.add_cards_parser(sub)
    return parser


_HIDDEN_TMP = re.compile(r"^\.(?P<stem>.+)\.tmp(?P<suffix>\.[^.]*)?$")
"""Sibling temporary files of atomic writes (``.name.tmp.png``) -> the user's ``name.png``."""


def _user_path(name: str) -> str:
    """The path the user gave for a temporary sibling the toolkit wrote first, else ``name``."""
    head, tail = os.path.split(name)
    m = _HIDDEN_TMP.match(tail)
    if m:
        return os.path.join(head, m.group("stem") + (m.group("suffix") or ""))
    return name


def _untemp(text: str, args) -> str:
    """Replace the toolkit's temporary netlists in ``text`` (``vcma_*`` folders and files, the subprocess
    backend's ``deck.cir``) with the user's netlist, or ``<generated NAME>`` for a rendered one."""
    user = getattr(args, "netlist", None)
    tmp = re.escape(tempfile.gettempdir().rstrip("/"))
    part = r"[^\s:;,()\[\]'\"/]+"
    pattern = re.compile(rf"{tmp}/(?:vcma_{part}/(?P<inner>{part})|(?P<file>vcma_{part})|tmp{part}/(?P<deck>deck\.cir))")

    def repl(m: re.Match) -> str:
        if m.group("deck") is not None and user is not None:
            return str(user)
        return f"<generated {m.group('inner') or m.group('file') or m.group('deck')}>"

    return pattern.sub(repl, text)


def _spice_line(text: str, verbose: bool) -> str:
    """ngspice's message: its first meaningful line (the whole text with ``--verbose``)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if verbose or len(lines) <= 1:
        return "\n".join(lines)
    first = next((ln for ln in lines if not re.fullmatch(r"(ngspice:?|.*:)\s*", ln)), lines[0])
    return f"{first} (ngspice said more; rerun with --verbose for the full message)"


def _os_line(err: OSError) -> str:
    name = err.filename
    reason = err.strerror or (errno.errorcode.get(err.errno, "") if err.errno else "") or str(err)
    if name is None:
        return reason
    return f"{_user_path(os.fsdecode(name))}: {reason}"


def _classify(err: BaseException):
    """(exit status, one-line message) for a known failure, or None for a bug (traceback)."""
    from compact_models import CardError

    from cosim.circuit.deck import NetlistError
    from cosim.circuit.spice import SpiceError
    from cosim.luts.lut import LutError

    ckpt = sys.modules.get("diffusion.checkpoint")  # imported only by commands that load checkpoints
    if isinstance(err, SpiceError):
        return EXIT_RUN_FAILED, None
    if isinstance(err, (NetlistError, CardError, LutError, ValueError)):
        return EXIT_BAD_INPUT, str(err)
    if ckpt is not None and isinstance(err, ckpt.CheckpointError):
        return EXIT_BAD_INPUT, str(err)
    if isinstance(err, FileNotFoundError):
        return EXIT_BAD_INPUT, _os_line(err)
    if isinstance(err, OSError):
        return EXIT_RUN_FAILED, _os_line(err)
    if isinstance(err, MemoryError):
        return EXIT_RUN_FAILED, "out of memory (reduce the counts or the array size)"
    return None


def _interrupt_line(err: BaseException) -> str:
    text = str(err).strip()
    if not text:
        return "vcma: interrupted"
    return f"vcma: {text}" if text.lower().startswith("interrupted") else f"vcma: interrupted: {text}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    end = argv.index("--") if "--" in argv else len(argv)
    verbose = "--verbose" in argv[:end]
    argv = [a for i, a in enumerate(argv) if not (i < end and a == "--verbose")]
    args = build_parser().parse_args(argv)
    args.verbose = verbose
    try:
        args.func(args)
    except KeyboardInterrupt as err:
        print(_interrupt_line(err), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - known failures become one line, anything else propagates
        if type(err).__name__.endswith(("Interrupted", "Interrupt")):
            print(_interrupt_line(err), file=sys.stderr)
            return EXIT_INTERRUPTED
        known = _classify(err)
        if known is None:
            raise
        status, message = known
        if message is None:  # SpiceError: ngspice's text, condensed
            message = _spice_line(str(err), verbose)
        message = _untemp(message, args)
        if not verbose:
            message = " ".join(ln.strip() for ln in message.splitlines() if ln.strip())
        print(f"vcma: error: {message}", file=sys.stderr)
        return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
