"""Stage lines and progress bars for the long ``vcma`` commands (light: imports tqdm only when a bar is made).

Why: a long job that prints nothing looks hung. Every command that runs longer than a few seconds
prints one numbered line per stage on stdout, written when the stage starts and finished with its
wall time when it ends::

    [2/5] TRNG cell in SPICE (16 cycles) ... 38 s

and shows progress bars on stderr while it works. ``--quiet`` turns both off, so stdout carries only
the essential result (e.g. the report path). On a terminal the finished line is rewritten in place
(``\\r``), because a progress bar may have drawn over the open line; in a file or pipe the time is
simply appended, one line per stage.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from typing import Iterator, TextIO


def add_quiet_option(p: argparse.ArgumentParser) -> None:
    """``--quiet``: no stage lines, no progress bars; only the essential result on stdout."""
    p.add_argument("--quiet", action="store_true",
                   help="no stage lines or progress bars; print only the essential result")


def add_device_option(p: argparse.ArgumentParser) -> None:
    """``--device``: where torch work runs (checked by ``cosim.noise.sources.torch_device`` before anything runs)."""
    p.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda or cuda:N where present")


def checked_device(args) -> str:
    """``args.device`` checked against this machine (one ``--device ...`` line if unusable), as a string.

    The default ``cpu`` needs no check, so it does not import torch (seconds on a cold machine) before a
    job's first stage line."""
    if args.device == "cpu":
        return "cpu"
    from cosim.noise.sources import torch_device

    return str(torch_device(args.device, "--device"))


class Stages:
    """Numbered stage lines ``[k/N] title ... 12 s`` on ``out`` (stdout); nothing when ``quiet``."""

    def __init__(self, total: int, quiet: bool = False, out: TextIO | None = None) -> None:
        if total < 1:
            raise ValueError(f"a job has at least one stage, got {total}")
        self.total, self.quiet, self.done = int(total), bool(quiet), 0
        self._out = out
        self.seconds: dict[str, float] = {}

    @property
    def progress(self) -> bool:
        """Whether progress bars are shown (on stderr): always, unless quiet."""
        return not self.quiet

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout  # looked up late: tests capture stdout

    @contextmanager
    def stage(self, title: str) -> Iterator[None]:
        """Print ``[k/N] title ...`` now, run the block, then finish the line with its time (or ``failed``)."""
        self.done += 1
        head = f"[{self.done}/{self.total}] {title} ..."
        self._write(head)
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self._finish(head, f"failed after {format_seconds(time.perf_counter() - start)}")
            raise
        self.seconds[title] = time.perf_counter() - start
        self._finish(head, format_seconds(self.seconds[title]))

    def _write(self, text: str) -> None:
        if not self.quiet:
            self.out.write(text)
            self.out.flush()

    def _finish(self, head: str, tail: str) -> None:
        tty = getattr(self.out, "isatty", lambda: False)()
        self._write(f"\r{head} {tail}\n" if tty else f" {tail}\n")


def format_seconds(seconds: float) -> str:
    """``0.4 s``, ``38 s``, ``5 min 12 s``: short and readable."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 600:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def progress_bar(total: int | None = None, desc: str = "", unit: str = "it", enabled: bool = True, **kwargs):
    """A tqdm bar on stderr, the one every command uses: redrawn at most every 30 s when stderr is not a
    terminal (a log file gets a few lines, not thousands), cleared when done."""
    from tqdm.auto import tqdm

    kwargs.setdefault("mininterval", 0.5 if sys.stderr.isatty() else 30.0)
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False, file=sys.stderr, **kwargs)


@contextmanager
def sweep_progress(enabled: bool) -> Iterator[None]:
    """SPICE sweeps (``cosim.circuit.sweep.run_points``) draw their bars only if ``enabled``, inside the block."""
    from cosim.circuit.sweep import PROGRESS

    token = PROGRESS.set(bool(enabled))
    try:
        yield
    finally:
        PROGRESS.reset(token)
