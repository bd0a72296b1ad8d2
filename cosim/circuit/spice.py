"""Run a deck in ngspice and return waveforms and ``.meas`` results as numpy arrays.

Two backends behind one function:

* ``shared`` (default): ngspice's shared library through PySpice. ngspice keeps global
  state, so there is one simulator per process and it must never be used from threads;
  parallel sweeps use worker processes (joblib/loky), recycled now and then because
  every transient leaks about 13 MiB (PySpice issue 373). PySpice flags some harmless
  stderr lines as errors (its issues 379, 392), so errors are judged here from ngspice's
  own text instead.
* ``subprocess``: one ``ngspice -b`` process per run, reading an ASCII raw file. Slower to
  start, but isolated; the fallback when the shared library is missing.

Threads: Debian's ngspice evaluates devices with OpenMP on ``num_threads`` threads (its own
variable, default 2, read when a circuit is set up; it ignores ``OMP_NUM_THREADS``). Those
threads spin at every barrier while another process holds the other core, which slowed
transients 10-100x (CPU time, not waiting) whenever a sweep worker, torch or a second
simulation ran beside them. Every ngspice here therefore runs ``set num_threads=1``
(``VCMA_NGSPICE_THREADS`` overrides); sweeps get their parallelism from worker processes.

Any ngspice error (syntax, missing model, non-convergence, timestep too small) becomes
a :class:`SpiceError` carrying ngspice's own message and, where it names one, the deck line.

Time limits: every run has a wall-clock limit, ``timeout_s`` or else ``VCMA_SPICE_TIMEOUT_S`` or else
:data:`DEFAULT_TIMEOUT_S` (900 s; the largest shipped deck, the 64 x 64 crossbar read, takes about 330 s).
The subprocess backend passes it to ``subprocess.run``, which kills ngspice. The shared backend runs the
transient in ngspice's background thread (``bg_run``), polls it, and at the limit stops it with
``bg_halt``; if the thread does not stop within :data:`HALT_GRACE_S`, the library is marked dead and
later runs of the process go to the subprocess backend. Either way the run ends in a
:class:`SpiceTimeout` (a :class:`SpiceError`). Before anything runs, a transient needing more than
:func:`cosim.circuit.deck.max_tran_points` time points (5e7, ``VCMA_SPICE_MAX_POINTS``) is refused with
a :class:`~cosim.circuit.deck.NetlistError` naming its ``.tran`` line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cosim.circuit.deck import OSDI_MARK, NetlistError, build_deck, check_tran_size, positive_env

__all__ = ["SpiceError", "SpiceTimeout", "NetlistError", "SpiceResult", "run_deck", "run_netlist", "ngspice_version",
           "spice_timeout_s", "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 900.0
"""Wall-clock limit of one simulator run unless ``timeout_s`` or ``VCMA_SPICE_TIMEOUT_S`` says otherwise."""
HALT_GRACE_S = 10.0
"""How long the shared backend waits for ngspice's background thread to stop after ``bg_halt``."""


class SpiceError(RuntimeError):
    """ngspice refused or failed the deck; the message is ngspice's own text."""


class SpiceTimeout(SpiceError):
    """A run went past its wall-clock limit and was stopped."""


def spice_timeout_s(timeout_s: float | None = None) -> float:
    """The wall-clock limit of a run: ``timeout_s``, else ``VCMA_SPICE_TIMEOUT_S``, else :data:`DEFAULT_TIMEOUT_S`."""
    if timeout_s is None:
        return positive_env("VCMA_SPICE_TIMEOUT_S", DEFAULT_TIMEOUT_S, "a number of seconds > 0", SpiceError,
                            finite=True)
    if not 0 < timeout_s < float("inf"):
        raise SpiceError(f"timeout_s must be a number of seconds > 0, got {timeout_s!r}")
    return float(timeout_s)


@dataclass
class SpiceResult:
    """Waveforms (``time``, ``v(node)``, ``i(source)``; SI units) and ``.meas`` results of one run."""

    vectors: dict[str, np.ndarray]
    measures: dict[str, float]
    failed_measures: list[str] = field(default_factory=list)
    log: str = ""
    backend: str = "shared"

    def __getitem__(self, name: str) -> np.ndarray:
        key = name.lower()
        if key not in self.vectors:
            raise KeyError(f"no vector '{name}'; available: {sorted(self.vectors)[:40]}")
        return self.vectors[key]


_ERROR_PATTERNS = re.compile(
    r"(error|timestep too small|singular matrix|iteration limit|no convergence|could not find|"
    r"unknown subckt|undefined parameter|cannot compute substitute|unable to find definition|"
    r"fatal|not found)", re.IGNORECASE)
_BENIGN = re.compile(r"(^warning|^note|unsupported ngspice version|can't find init file|"
                     r"^\s*$|reference value|no\. of data rows|^using|measurements for)", re.IGNORECASE)
_MEAS = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_MEAS_FAILED = re.compile(r"^\s*([A-Za-z_]\w*)\s+failed!?", re.IGNORECASE)


def _check_errors(log_lines: list[str], deck: str) -> None:
    errors = [ln.strip() for ln in log_lines if _ERROR_PATTERNS.search(ln) and not _BENIGN.search(ln.strip())]
    if not errors:
        return
    context = []
    deck_lines = deck.splitlines()
    for ln in errors:
        m = re.search(r"line(?: no\.)?\s*(\d+)", ln, re.IGNORECASE)
        if m and 0 < int(m.group(1)) <= len(deck_lines):
            context.append(f"  deck line {m.group(1)}: {deck_lines[int(m.group(1)) - 1].strip()}")
    seen = list(dict.fromkeys(errors))
    raise SpiceError("ngspice: " + "\n".join(seen[:12] + context))


def _parse_measures(log_lines: list[str]) -> tuple[dict[str, float], list[str]]:
    """``.meas`` results: the ``name = value`` lines after ngspice's 'Measurements for' header."""
    measures, failed, inside = {}, [], False
    for ln in log_lines:
        if "measurements for" in ln.lower():
            inside = True
        elif not inside:
            continue
        elif m := _MEAS.match(ln):
            measures[m.group(1).lower()] = float(m.group(2))
        elif m := _MEAS_FAILED.match(ln):
            failed.append(m.group(1).lower())
    return measures, failed


def _vector_name(raw: str) -> str:
    name = raw.lower()
    if name.endswith("#branch"):
        return f"i({name[:-7]})"
    if name == "time" or "(" in name:
        return name
    return f"v({name})"


def ngspice_threads() -> int:
    """OpenMP threads per ngspice (default 1; see the module docstring)."""
    value = os.environ.get("VCMA_NGSPICE_THREADS", "1")
    if not value.isdigit() or int(value) < 1:
        raise SpiceError(f"VCMA_NGSPICE_THREADS must be a positive integer, got {value!r}")
    return int(value)


class _Shared:
    """The process's one ngspice shared-library instance (created on first use).

    After some fatal errors ngspice says it "cannot recover and awaits to be detached";
    the library cannot be reloaded in the same process, so later runs of this process
    go to the subprocess backend instead.
    """

    _instance = None
    dead = False
    osdi_loaded: set[str] = set()

    @classmethod
    def get(cls):
        if cls._instance is None:
            import logging

            logging.getLogger("PySpice").setLevel(logging.CRITICAL)
            from PySpice.Spice.NgSpice.Shared import NgSpiceShared

            NgSpiceShared._background_thread_running = staticmethod(_bg_thread_callback)
            cls._instance = NgSpiceShared.new_instance()
            cls._instance.exec_command(f"set num_threads={ngspice_threads()}")
        return cls._instance


def _osdi_modules(deck: str) -> list[str]:
    """Compiled modules the deck needs loaded first (see :data:`cosim.circuit.deck.OSDI_MARK`)."""
    return [ln[len(OSDI_MARK):].strip() for ln in deck.splitlines() if ln.startswith(OSDI_MARK)]


_BG_DONE = threading.Event()
"""Set by ngspice's BGThreadRunning callback when its background thread has ended."""


def _bg_thread_callback(exited, ngspice_id, user_data) -> int:
    """ngspice's BGThreadRunning callback: its flag is true when the background thread has *ended* (PySpice
    reads it the other way round and returns None where C needs an int, hence this replacement)."""
    if exited:
        _BG_DONE.set()
    return 0


def _bg_run(ng, timeout_s: float) -> None:
    """``run`` in ngspice's background thread, waited for, halted at ``timeout_s`` or on an interrupt (see
    the module docstring)."""
    lib = ng._ngspice_shared
    _BG_DONE.clear()
    ng.exec_command("bg_run")
    try:
        deadline = time.monotonic() + timeout_s
        while not _BG_DONE.wait(min(0.2, max(deadline - time.monotonic(), 0.0))):
            if time.monotonic() > deadline:
                raise SpiceTimeout(f"ngspice did not finish within {timeout_s:g} s (stopped; VCMA_SPICE_TIMEOUT_S "
                                   "or timeout_s sets the limit)")
    except BaseException:  # a timeout or Ctrl-C: stop the background thread before anything else
        if not _BG_DONE.is_set():
            lib.ngSpice_Command(b"bg_halt")
            if not _BG_DONE.wait(HALT_GRACE_S):
                _Shared.dead = True
        raise


def _run_shared(deck: str, timeout_s: float) -> SpiceResult:
    from PySpice.Spice.NgSpice.Shared import NgSpiceCommandError

    ng = _Shared.get()
    log: list[str] = []
    for module in _osdi_modules(deck):
        if module not in _Shared.osdi_loaded:  # a module is loaded once per process
            ng.exec_command(f"osdi {module}")
            log += ng._stdout + ng._stderr
            _check_errors(log, deck)
            _Shared.osdi_loaded.add(module)
    try:
        ng.load_circuit(deck)
    except Exception:  # PySpice raises on any 'error' text; judge it from ngspice's lines below
        pass
    log += ng._stdout + ng._stderr
    if any("cannot recover" in ln for ln in log):
        _Shared.dead = True
    _check_errors(log, deck)
    try:
        try:
            _bg_run(ng, timeout_s)
        except NgSpiceCommandError:
            pass
        run_log = ng._stdout + ng._stderr
        log += run_log
        _check_errors(run_log, deck)
        plot = ng.plot(None, ng.last_plot)
        vectors = {_vector_name(k): np.array(v._data).real.astype(float) for k, v in plot.items()}
    finally:
        if not _Shared.dead:  # a thread that would not halt is left alone; later runs use the subprocess backend
            ng.remove_circuit()
            ng.destroy()
    if "time" not in vectors and len(vectors) == 0:
        raise SpiceError("ngspice produced no vectors:\n" + "\n".join(log[-20:]))
    measures, failed = _parse_measures(run_log)
    return SpiceResult(vectors, measures, failed, "\n".join(log), "shared")


def _parse_binary_raw(blob: bytes) -> dict[str, np.ndarray]:
    """Vectors of a real-valued binary rawfile as written by ngspice's ``write``."""
    head, sep, data = blob.partition(b"Binary:\n")
    if not sep:
        raise SpiceError("ngspice rawfile has no binary section")
    text = head.decode(errors="replace")
    n_vars = int(re.search(r"No\. Variables:\s*(\d+)", text).group(1))
    n_points = int(re.search(r"No\. Points:\s*(\d+)", text).group(1))
    names = [ln.split()[1] for ln in text.split("Variables:")[-1].strip().splitlines()[:n_vars]]
    arr = np.frombuffer(data[: 8 * n_vars * n_points], dtype="<f8").reshape(n_points, n_vars)
    return {_vector_name(n): arr[:, i].copy() for i, n in enumerate(names)}


def _die_with_parent() -> None:
    """In a sweep worker's ngspice child (before exec): be killed when the worker dies (Linux prctl)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run_subprocess(deck: str, timeout_s: float) -> SpiceResult:
    exe = shutil.which("ngspice")
    if exe is None:
        raise SpiceError("ngspice executable not found on PATH (apt-get install ngspice)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "out.raw"
        pre = "".join(f"pre_osdi {module}\n" for module in _osdi_modules(deck))
        control = f".control\n{pre}set num_threads={ngspice_threads()}\nrun\nwrite {raw} all\nquit\n.endc\n"
        body = deck.rstrip().removesuffix(".end")
        cir = Path(tmp) / "deck.cir"
        cir.write_text(body + "\n" + control + ".end\n")
        try:
            proc = subprocess.run([exe, "-b", str(cir)], capture_output=True, text=True, timeout=timeout_s,
                                  cwd=tmp, preexec_fn=_die_with_parent if os.environ.get("VCMA_DIE_WITH_PARENT")
                                  else None)
        except subprocess.TimeoutExpired:
            raise SpiceTimeout(f"ngspice did not finish within {timeout_s:g} s (killed; VCMA_SPICE_TIMEOUT_S or "
                               "timeout_s sets the limit)") from None
        log = (proc.stdout + "\n" + proc.stderr).splitlines()
        _check_errors(log, deck)
        if not raw.is_file():
            raise SpiceError("ngspice wrote no results:\n" + "\n".join(log[-20:]))
        vectors = _parse_binary_raw(raw.read_bytes())
    measures, failed = _parse_measures(log)
    return SpiceResult(vectors, measures, failed, "\n".join(log), "subprocess")


def run_deck(deck: str, backend: str = "shared", timeout_s: float | None = None) -> SpiceResult:
    """Run a complete deck (see :func:`cosim.circuit.deck.build_deck`) on the chosen backend, within
    :func:`spice_timeout_s` seconds; a transient too long to run is refused first."""
    if backend not in ("shared", "subprocess"):
        raise ValueError(f"unknown backend '{backend}'; known: ['shared', 'subprocess']")
    timeout_s = spice_timeout_s(timeout_s)
    check_tran_size(deck)
    if backend == "shared" and not _Shared.dead:
        return _run_shared(deck, timeout_s)
    if backend == "shared":
        return _run_subprocess(deck, timeout_s)
    if backend == "subprocess":
        return _run_subprocess(deck, timeout_s)
    raise ValueError(f"unknown backend '{backend}'; known: ['shared', 'subprocess']")


def run_netlist(netlist: str | Path, params: dict | None = None, seed: int | None = None, corner: str = "tt",
                temp_C: float = 27.0, backend: str = "shared", model_lib=None, model_corner=None,
                timeout_s: float | None = None, model: str | None = None) -> SpiceResult:
    """Build the deck for ``netlist`` (see :func:`cosim.circuit.deck.build_deck`) and run it.

    A transient whose timestep collapses ("Timestep too small") is run again, same seed, with the remedies
    in :data:`TIMESTEP_RETRIES` in turn; the last failure is reported with every one of ngspice's messages.
    """
    deck = build_deck(netlist, params, seed, corner, temp_C, model_lib, model_corner, model)
    messages = []
    for options in ("",) + TIMESTEP_RETRIES:
        try:
            return run_deck(deck[: -len(".end\n")] + options + ".end\n" if options else deck, backend, timeout_s)
        except SpiceError as err:
            if "timestep too small" not in str(err).lower():
                raise
            messages.append(f"retried with {options.strip()}: {err}" if options else str(err))
    raise SpiceError(f"{netlist}: " + "\n".join(messages))


TIMESTEP_RETRIES = (".options minbreak=1e-13\n", ".options minbreak=1e-13 method=gear\n")
"""Remedies for a collapsed timestep, in order. In ngspice 46 the collapse comes from two source breakpoints
falling (nearly) together, e.g. a thermal-field sample change on a pulse edge (a TRNG cell with a 0.4875 ns
pulse at a 5 ps thermal step): merging breakpoints closer than 0.1 ps (far below the 5 ps sample and 20 ps
edge) removes it. Gear integration, ngspice's standard remedy, is the second."""


def ngspice_version() -> str:
    exe = shutil.which("ngspice")
    if exe is None:
        return "unknown"
    out = subprocess.run([exe, "-v"], capture_output=True, text=True, env={**os.environ, "LANG": "C"}).stdout
    m = re.search(r"ngspice-(\S+)", out)
    return m.group(1) if m else "unknown"
