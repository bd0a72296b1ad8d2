"""Where the TRNG cell's supply energy goes: per cycle, per supply and per phase, from the shipped deck.

``netlists/trng_cell.cir`` puts a 0 V ammeter in series with each supply: the write driver
(``Vadrv``, reset and write pulses), the read rail (``Vard``, bit line and replica reference through
``r_load``) and ``vdd`` (``Vadd``, the StrongARM sense amplifier). Its ``.meas e_k`` integrates the sum
of the three powers over cycle k. This module integrates each supply's power ``V * I`` from the same
waveforms (trapezoid over ngspice's own time points, linear interpolation of the running integral at
the window edges) and splits the driver's energy by window: the reset slot, the write slot, and the
rest of the cycle. The shares sum to ``e_k`` (``tests/test_macro.py``). The netlist is measured as
shipped; nothing is added to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import cumulative_trapezoid

from compact_models.trng_cell import TRNG_CELL, TrngCellCard

PHASES = ("reset", "write", "driver_other", "read_bias", "sense_amp")
"""The shares of a cycle's supply energy (their sum is the cycle's ``e_k``)."""

MEASUREMENTS = {
    "reset": "SPICE netlists/trng_cell.cir: integral of v(drv_s)*i(vadrv) over the reset slot [0, t_slot)",
    "write": "SPICE netlists/trng_cell.cir: integral of v(drv_s)*i(vadrv) over the write slot [t_w, t_w + t_slot)",
    "driver_other": "SPICE netlists/trng_cell.cir: integral of v(drv_s)*i(vadrv) outside the reset and write slots",
    "read_bias": "SPICE netlists/trng_cell.cir: integral of v(rd_s)*i(vard) over the cycle (bit line + replica)",
    "sense_amp": "SPICE netlists/trng_cell.cir: integral of v(vdd_s)*i(vadd) over the cycle (StrongARM latch)",
    "driver_loss": "SPICE netlists/trng_cell.cir: integral of (v(drv)-v(bl))^2 (1-v(ren))/r_drv (driver resistance)",
}
"""The measurement behind each share: what is integrated, over which window."""


@dataclass
class CellEnergy:
    """Per-cycle energies (J) of each share, arrays of length n_cycles; ``total_J`` is the deck's ``e_k``."""

    shares_J: dict[str, np.ndarray]
    driver_loss_J: np.ndarray
    total_J: np.ndarray
    cycle_time_s: float

    def mean_J(self) -> dict[str, float]:
        """Mean over cycles of each share (what one raw bit costs on average)."""
        return {k: float(np.mean(v)) for k, v in self.shares_J.items()}

    def as_dict(self) -> dict:
        return {"mean_J": self.mean_J(), "driver_loss_mean_J": float(np.mean(self.driver_loss_J)),
                "total_mean_J": float(np.mean(self.total_J)), "n_cycles": int(self.total_J.size),
                "cycle_time_s": self.cycle_time_s, "measurements": MEASUREMENTS}


def _running(t: np.ndarray, p: np.ndarray):
    """E(a, b) = integral of p over [a, b], from the running trapezoid integral."""
    cum = cumulative_trapezoid(p, t, initial=0.0)

    def between(a, b):
        return np.interp(b, t, cum) - np.interp(a, t, cum)
    return between


def phase_energies(result, n_cycles: int, card: TrngCellCard = TRNG_CELL) -> CellEnergy:
    """Split the supply energy of each of ``n_cycles`` cycles of a ``trng_cell.cir`` run into :data:`PHASES`.

    ``result`` is the :class:`~cosim.circuit.spice.SpiceResult` of :func:`cosim.circuit.trng.run_trng`
    (its waveforms); ``card`` the TRNG-cell card the run used (its slot timing).
    """
    t = np.asarray(result["time"], float)
    if not math.isclose(t[-1], n_cycles * card.cycle_time_s, rel_tol=1e-6):
        raise ValueError(f"the run lasts {t[-1]:g} s, not n_cycles x the card's cycle ({n_cycles} x "
                         f"{card.cycle_time_s:g} s): pass the TRNG-cell card the run used")
    power = {"drv": result["v(drv_s)"] * result["i(vadrv)"], "rd": result["v(rd_s)"] * result["i(vard)"],
             "vdd": result["v(vdd_s)"] * result["i(vadd)"]}
    loss = (result["v(drv)"] - result["v(bl)"]) ** 2 * (1.0 - result["v(ren)"]) / card.r_drv_ohm
    energy = {k: _running(t, np.asarray(v, float)) for k, v in power.items()}
    e_loss = _running(t, np.asarray(loss, float))
    period = card.cycle_time_s
    t_w = card.t_slot_s + card.t_rest_s
    start = np.arange(n_cycles) * period
    end = start + period
    reset = energy["drv"](start, start + card.t_slot_s)
    write = energy["drv"](start + t_w, start + t_w + card.t_slot_s)
    shares = {"reset": reset, "write": write, "driver_other": energy["drv"](start, end) - reset - write,
              "read_bias": energy["rd"](start, end), "sense_amp": energy["vdd"](start, end)}
    total = np.array([result.measures[f"e_{k}"] for k in range(n_cycles)], float)
    return CellEnergy(shares, e_loss(start, end), total, period)
