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
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cosim.circuit.deck import OSDI_MARK, NetlistError, build_deck

__all__ = ["SpiceError", "NetlistError", "SpiceResult", "run_deck", "run_netlist", "ngspice_version"]


class SpiceError(RuntimeError):
    """ngspice refused or failed the deck; the message is ngspice's own text."""


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

            cls._instance = NgSpiceShared.new_instance()
            cls._instance.exec_command(f"set num_threads={ngspice_threads()}")
        return cls._instance


def _osdi_modules(deck: str) -> list[str]:
    """Compiled modules the deck needs loaded first (see :data:`cosim.circuit.deck.OSDI_MARK`)."""
    return [ln[len(OSDI_MARK):].strip() for ln in deck.splitlines() if ln.startswith(OSDI_MARK)]


def _run_shared(deck: str) -> SpiceResult:
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
        ng.run()
    except NgSpiceCommandError:
        pass
    run_log = ng._stdout + ng._stderr
    log += run_log
    try:
        _check_errors(run_log, deck)
        plot = ng.plot(None, ng.last_plot)
        vectors = {_vector_name(k): np.array(v._data).real.astype(float) for k, v in plot.items()}
    finally:
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
                                  cwd=tmp)
        except subprocess.TimeoutExpired:
            raise SpiceError(f"ngspice did not finish within {timeout_s:g} s") from None
        log = (proc.stdout + "\n" + proc.stderr).splitlines()
        _check_errors(log, deck)
        if not raw.is_file():
            raise SpiceError("ngspice wrote no results:\n" + "\n".join(log[-20:]))
        vectors = _parse_binary_raw(raw.read_bytes())
    measures, failed = _parse_measures(log)
    return SpiceResult(vectors, measures, failed, "\n".join(log), "subprocess")


def run_deck(deck: str, backend: str = "shared", timeout_s: float = 600.0) -> SpiceResult:
    """Run a complete deck (see :func:`cosim.circuit.deck.build_deck`) on the chosen backend."""
    if backend == "shared" and not _Shared.dead:
        return _run_shared(deck)
    if backend == "shared":
        return _run_subprocess(deck, timeout_s)
    if backend == "subprocess":
        return _run_subprocess(deck, timeout_s)
    raise ValueError(f"unknown backend '{backend}'; known: ['shared', 'subprocess']")


def run_netlist(netlist: str | Path, params: dict | None = None, seed: int | None = None, corner: str = "tt",
                temp_C: float = 27.0, backend: str = "shared", model_lib=None, model_corner=None,
                timeout_s: float = 600.0, model: str | None = None) -> SpiceResult:
    """Build the deck for ``netlist`` (see :func:`cosim.circuit.deck.build_deck`) and run it.

    A transient whose timestep collapses under trapezoidal integration (it happens about once in 20
    stochastic 16-cycle TRNG-cell runs) is run once more with Gear integration, ngspice's standard
    remedy, same seed; a second failure is reported with both of ngspice's messages.
    """
    deck = build_deck(netlist, params, seed, corner, temp_C, model_lib, model_corner, model)
    try:
        return run_deck(deck, backend, timeout_s)
    except SpiceError as err:
        if "timestep too small" not in str(err).lower():
            raise
        gear = deck[: -len(".end\n")] + ".options method=gear\n.end\n"
        try:
            return run_deck(gear, backend, timeout_s)
        except SpiceError as again:
            raise SpiceError(f"{netlist}: {err}\nretried with method=gear: {again}") from None


def ngspice_version() -> str:
    exe = shutil.which("ngspice")
    if exe is None:
        return "unknown"
    out = subprocess.run([exe, "-v"], capture_output=True, text=True, env={**os.environ, "LANG": "C"}).stdout
    m = re.search(r"ngspice-(\S+)", out)
    return m.group(1) if m else "unknown"
