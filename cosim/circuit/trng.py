"""Run the 1T-1MTJ TRNG cell netlist and read its bits, energy and timing."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compact_models import TrngCellCard
from compact_models.limits import check_count, trng_cell_with
from compact_models.render import NETLIST_DIR

from cosim.circuit.render_trng import DEFAULT_TRNG_CYCLES, TRNG_FILE, render_trng_cell
from cosim.circuit.deck import cmos_card_for
from cosim.circuit.spice import SpiceError, SpiceResult, run_netlist
from cosim.circuit.stats import Proportion


@dataclass
class TrngRun:
    """Bits latched per cycle (1 = AP), supply energy per cycle (J), and the waveforms."""

    bits: np.ndarray
    energy_J: np.ndarray
    cycle_time_s: float
    result: SpiceResult

    @property
    def p_one(self) -> Proportion:
        return Proportion(int(self.bits.sum()), len(self.bits))

    @property
    def energy_per_bit_J(self) -> float:
        return float(np.mean(self.energy_J))


@functools.lru_cache(maxsize=None)
def trng_netlist(n_cycles: int) -> Path:
    """The shipped netlist for the default cycle count, else one rendered to a temp dir."""
    if n_cycles == DEFAULT_TRNG_CYCLES:
        return NETLIST_DIR / TRNG_FILE
    path = Path(tempfile.mkdtemp(prefix="vcma_trng_")) / f"trng_cell_{n_cycles}.cir"
    path.write_text(render_trng_cell(n_cycles, netlist_dir=f"{NETLIST_DIR}/"))
    return path


_CELL_FIELDS = {f.metadata["spice"]: f.name for f in TrngCellCard.__dataclass_fields__.values()}


def check_cell_params(params: dict) -> TrngCellCard:
    """The TRNG-cell card with the overrides among ``params`` (SPICE names), checked by the card:
    ranges, and every pulse fitting its slot (e.g. ``t_pulse`` 5 ns does not fit the 1 ns write slot)."""
    return trng_cell_with(**{_CELL_FIELDS[k]: v for k, v in params.items() if k in _CELL_FIELDS})


def run_trng(n_cycles: int = DEFAULT_TRNG_CYCLES, v_write: float | None = None, t_pulse: float | None = None,
             seed: int = 1, corner: str = "tt", temp_C: float = 27.0, params: dict | None = None,
             backend: str = "shared", model: str | None = None) -> TrngRun:
    """Simulate ``n_cycles`` reset/write/read cycles; ``None`` keeps the netlist's default pulse."""
    check_count(n_cycles, "n_cycles")
    run_params = dict(params or {})
    if v_write is not None:
        run_params["v_write"] = v_write
    if t_pulse is not None:
        run_params["t_pulse"] = t_pulse
    check_cell_params(run_params)
    result = run_netlist(trng_netlist(n_cycles), run_params, seed=seed, corner=corner, temp_C=temp_C,
                         backend=backend, model=model)
    missing = [k for k in range(n_cycles) if f"bit_{k}" not in result.measures]
    if missing:
        raise SpiceError(f"TRNG run did not report bits for cycles {missing[:5]}; failed: {result.failed_measures}")
    vdd = cmos_card_for(run_params).vdd_V
    bits = np.array([result.measures[f"bit_{k}"] > 0.5 * vdd for k in range(n_cycles)], dtype=np.uint8)
    energy = np.array([result.measures[f"e_{k}"] for k in range(n_cycles)])
    t_cycle = float(result["time"][-1]) / n_cycles
    return TrngRun(bits, energy, t_cycle, result)
