"""Input checks at the boundary of every ``vcma`` command, run before anything is simulated or written.

Each check raises :class:`InputError` (a ``ValueError``: ``vcma`` prints one ``vcma: error:`` line
and exits 2) naming the option the user gave. The physical limits themselves live in
:mod:`compact_models.limits` (temperature -55..150 C, drive |V| <= 2.5 V, TRNG pulses that fit
their slot, arrays up to 64 x 64), so the circuit functions check the same rules.

Counts are positive integers (never "0 means the default"). Output paths (``--out``, ``--plot``,
``--bits-out``, ``--netlist-out``) must not name an existing folder or device; output folders
(``--out`` of the array commands, ``--cache``) must not name an existing file; input files must be
regular, non-empty, readable files.
"""

from __future__ import annotations

import os
from pathlib import Path

from compact_models import CardError
from compact_models import limits

MAX_JOBS = 256
"""Most local worker processes / torch threads a command accepts."""

SEED_MAX = 2**31 - 1
"""Largest seed (ngspice's seed is a 31-bit positive integer)."""

MAX_EMULATED_BITS = 2**30
"""Most bits ``vcma emulate`` produces in one run (cycles x rows x cols): about 1 GiB of memory."""

MAX_EMULATED_SIDE = 4096
"""Largest emulated TRNG array side (rows, columns)."""


class InputError(ValueError):
    """A command-line value that cannot be used (the message names the option)."""


def _wrap(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except CardError as err:
        raise InputError(str(err)) from None


def number(flag: str, text: str) -> float:
    """A finite number with an optional SPICE suffix (``0.5n``, ``40k``, ``1meg``)."""
    from cosim.app.cli_common import si

    try:
        value = si(str(text).strip())
    except ValueError:
        raise InputError(f"{flag}: '{text}' is not a number (SPICE suffixes f p n u m k meg g are allowed)") from None
    return _wrap(limits.check_finite, value, flag)


def count(flag: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    return _wrap(limits.check_count, value, flag, minimum, maximum)


def jobs(flag: str, value) -> int:
    return count(flag, value, 1, MAX_JOBS)


def seed(flag: str, value, minimum: int = 1) -> int:
    return count(flag, value, minimum, SEED_MAX)


def temperature(flag: str, value) -> float:
    return _wrap(limits.check_temperature_C, value, flag)


def voltage(flag: str, value, positive: bool = False) -> float:
    return _wrap(limits.check_drive_voltage, value, flag, positive)


def pulse_width(flag: str, value) -> float:
    return _wrap(limits.check_pulse_width, value, flag)


def trng_timing(flag: str, t_pulse_s: float):
    """A TRNG write pulse: the TRNG-cell card with it must hold (range, slot fit)."""
    limits.check_finite(t_pulse_s, flag)
    try:
        return limits.trng_cell_with(t_pulse_s=t_pulse_s)
    except CardError as err:
        raise InputError(f"{flag} {t_pulse_s:g} s: {err}") from None


def array_size(rows, cols) -> tuple[int, int]:
    return _wrap(limits.check_array_size, rows, cols)


def fraction(flag: str, value, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite number in an interval (open ends where asked)."""
    v = _wrap(limits.check_finite, value, flag)
    if v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise InputError(f"{flag} = {v:g} is outside {left}{lo:g}, {hi:g}{right}")
    return v


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _check_parent(flag: str, path: Path) -> None:
    anc = _existing_ancestor(path.parent if path.parent != Path("") else Path("."))
    if not anc.is_dir():
        raise InputError(f"{flag} {path}: {anc} is not a folder")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: cannot write in {anc} (permission denied)")


def output_file(flag: str, path: Path | None) -> Path | None:
    """An output file path: absent or an existing regular file, in a folder that can be created/written."""
    if path is None:
        return None
    path = Path(path)
    if str(path).strip() == "":
        raise InputError(f"{flag}: an empty path")
    if path.exists() or path.is_symlink():
        if path.is_dir():
            raise InputError(f"{flag} {path}: is a folder; give a file name")
        if not path.is_file():
            raise InputError(f"{flag} {path}: exists and is not a regular file (a device or other special file); "
                             "give a file name")
        if not os.access(path, os.W_OK):
            raise InputError(f"{flag} {path}: permission denied")
    _check_parent(flag, path)
    return path


def npy_target(flag: str, path: Path | None) -> Path | None:
    """Where ``np.save(path)`` writes (it appends ``.npy`` when missing), checked as an output file."""
    if path is None:
        return None
    path = Path(path)
    output_file(flag, path)  # the name as given: not a folder or device either
    if path.suffix != ".npy":
        path = path.with_name(path.name + ".npy")
    return output_file(flag, path)


def output_dir(flag: str, path: Path | None) -> Path | None:
    """An output folder: absent (created later) or an existing, writable folder."""
    if path is None:
        return None
    path = Path(path)
    if str(path).strip() == "":
        raise InputError(f"{flag}: an empty path")
    if path.exists():
        if not path.is_dir():
            raise InputError(f"{flag} {path}: exists and is not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"{flag} {path}: cannot write in this folder (permission denied)")
        return path
    _check_parent(flag, path)
    return path


def input_file(flag: str, path: Path | None) -> Path | None:
    """An input file: an existing, regular, readable, non-empty file."""
    if path is None:
        return None
    path = Path(path)
    what = f"{flag} {path}" if flag else str(path)
    if not path.exists():
        raise InputError(f"{what}: file not found")
    if path.is_dir():
        raise InputError(f"{what}: is a folder, not a file")
    if not path.is_file():
        raise InputError(f"{what}: not a regular file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{what}: permission denied")
    if path.stat().st_size == 0:
        raise InputError(f"{what}: the file is empty")
    return path


def existing_input(flag: str, path: Path | None) -> Path | None:
    """An input that exists must be a readable, non-empty regular file; a missing one is left to the
    stage that reads it (it reports it with its own message, e.g. "LUT file not found")."""
    if path is not None and (Path(path).exists() or Path(path).is_symlink()):
        input_file(flag, path)
    return path


def input_dir(flag: str, path: Path | None) -> Path | None:
    """An input folder that exists."""
    if path is None:
        return None
    path = Path(path)
    if not path.exists():
        raise InputError(f"{flag} {path}: folder not found")
    if not path.is_dir():
        raise InputError(f"{flag} {path}: is not a folder")
    return path


def corner(flag: str, value: str) -> str:
    from compact_models import CORNERS

    if value not in CORNERS:
        raise InputError(f"{flag}: unknown device corner '{value}'; known: {list(CORNERS)}")
    return value


def distinct_outputs(*paths: Path | None) -> None:
    """Two output options naming the same file would overwrite each other."""
    seen = {}
    for p in paths:
        if p is None:
            continue
        key = Path(p).absolute()
        if key in seen:
            raise InputError(f"{p}: named by two output options")
        seen[key] = p
