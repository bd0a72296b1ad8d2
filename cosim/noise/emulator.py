"""Fast torch emulator of an R x C array of VCMA-MTJ TRNG cells, driven by the LUTs.

Per cycle every cell latches 1 with its own probability, the ``trng`` LUT's switching probability
(its fitted ``p_switch_fit`` where present, else the raw ``p_switch``) at the voltage that cell's MTJ
actually sees:

    V_mtj = v_write * f_cell(v_write) * g(row, col) * V_c,nominal / V_c,cell

* ``v_write`` is the cell's driver amplitude (the ``v_write`` of ``trng_cell.cir``); ``f_cell`` is
  the fraction of it the TRNG-cell SPICE run delivers across the MTJ (LUT ``v_mtj_fraction``),
  times the LUT's ``cell_check.amplitude_correction`` (fast sweep -> full cell, see lut_build).
* ``g`` is the array-position factor from a ``write`` LUT (its ``v_cell_fraction`` relative to
  the best-placed cell: IR drop along the lines), on normalised position; 1 without a write LUT.
* ``V_c,nominal / V_c,cell`` is cell-to-cell variation, drawn once per emulated chip from the
  corner's one-sigma spreads (``compact_models.DEVICE_SPREADS``, scaled by ``variation``): VCMA
  switching depends on the amplitude relative to the cell's anisotropy-cancelling voltage (a
  first-order mapping, documented as such).

Calibration (an on-chip bias feedback loop) picks ``v_write``: ``nominal`` solves P = 0.5 for a
nominal cell from the LUT alone, ``array`` one amplitude for the mean P(1) of this chip's cells,
``column`` one amplitude per column (a DAC per column). What is left, the cells' spread inside a
column, is the residual bias that :meth:`TrngArrayEmulator.calibration_report` states.

Sense errors flip latched bits (rate from a ``read`` LUT per position, or given). Serial
correlation: bits of one cell form a stationary Markov chain with lag-1 correlation ``rho``
(default: the TRNG-cell check in the LUT, used only where its 95 % interval excludes 0). Energy
and time per bit come from the ``trng`` LUT.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np
import torch

from compact_models import DEVICE_SPREADS, mtj_card

from cosim.luts.lut import Lut, LutError
from cosim.luts.queries import (bisect_increasing, calibrate_v_write, driver_range, mtj_voltage,
                                switching_probability_var)
from cosim.circuit.render_trng import TRNG_T_PULSE_S
from cosim.noise.sources import BitNoiseSource, torch_device
from cosim.noise.defaults import DEFAULT_TRANSFORM, MTJ_TRANSFORM  # noqa: F401 (MTJ_TRANSFORM: re-exported)

Calibration = Literal["nominal", "array", "column"]
CALIBRATIONS: tuple[str, ...] = get_args(Calibration)


def _position_map(lut: Lut | None, var: str, kind: str, rows: int, cols: int) -> np.ndarray | None:
    """``var`` of a read/write LUT at each emulated cell, on normalised array position."""
    if lut is None:
        return None
    if lut.kind != kind:
        raise LutError(f"expected a '{kind}' LUT for {var}, got a '{lut.kind}' LUT")
    if var not in lut.variables:
        raise LutError(f"the {kind} LUT has no variable '{var}'")
    r_ax, c_ax = lut.axis("row"), lut.axis("col")
    r = r_ax[0] + (r_ax[-1] - r_ax[0]) * np.linspace(0, 1, rows)[:, None] * np.ones((1, cols))
    c = c_ax[0] + (c_ax[-1] - c_ax[0]) * np.linspace(0, 1, cols)[None, :] * np.ones((rows, 1))
    return lut.interp(var, row=r, col=c)


class TrngArrayEmulator:
    """Bits of an R x C TRNG array, cycle by cycle, vectorised in torch."""

    def __init__(self, lut: Lut, rows: int, cols: int, v_write_V: float | None = None,
                 t_pulse_s: float = TRNG_T_PULSE_S, chip_seed: int = 0, variation: float | bool = 1.0,
                 calibration: Calibration = "column", write_lut: Lut | None = None, read_lut: Lut | None = None,
                 sense_error_rate: float | None = None, correlation: float | None = None,
                 device: str | torch.device = "cpu") -> None:
        if lut.kind != "trng":
            raise LutError(f"the emulator needs a 'trng' LUT, got a '{lut.kind}' LUT")
        for axis in ("v_write_V", "t_pulse_s", "v_energy_V"):
            lut.axis(axis)
        if not (isinstance(rows, int) and isinstance(cols, int) and rows >= 1 and cols >= 1):
            raise ValueError(f"array size must be positive integers, got rows={rows!r}, cols={cols!r}")
        if calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {list(CALIBRATIONS)}, got {calibration!r}")
        if variation < 0:
            raise ValueError(f"variation (a multiple of the corner's spreads) must be >= 0, got {variation}")
        if sense_error_rate is not None and not 0 <= sense_error_rate < 0.5:
            raise ValueError(f"sense_error_rate must be in [0, 0.5), got {sense_error_rate}")
        self.lut, self.rows, self.cols, self.t_pulse_s = lut, rows, cols, float(t_pulse_s)
        self.p_var = switching_probability_var(lut)  # the fitted P(switch) where the LUT has one
        lut.interp(self.p_var, v_write_V=lut.axis("v_write_V")[0], t_pulse_s=self.t_pulse_s)  # range check
        corner, temp_C = lut.provenance.get("corner", "tt"), lut.provenance.get("temp_C", 27.0)
        scale = np.ones((rows, cols))
        if variation:
            scale = scale * self._variation_scale(corner, temp_C, rows, cols, chip_seed, float(variation))
        g = _position_map(write_lut, "v_cell_fraction", "write", rows, cols)
        if g is not None:
            scale = scale * g / g.max()
        self.cell_scale = scale
        if v_write_V is not None:
            self.calibration = "fixed"
            v_col = np.full(cols, float(v_write_V))
            mtj_voltage(lut, v_col)  # range check of the driver amplitude
        elif calibration == "nominal":
            self.calibration = calibration
            v_col = np.full(cols, calibrate_v_write(lut, self.t_pulse_s))
        else:
            self.calibration = calibration
            v_col = self._calibrate(scale if calibration == "column" else scale.reshape(-1, 1))
            v_col = np.broadcast_to(v_col, (cols,)).copy()
        self.v_write_col_V = v_col
        self.v_write_V = float(np.mean(v_col))
        self.p_switch = self._p(v_col[None, :], scale)
        ser = _position_map(read_lut, "sense_error_rate", "read", rows, cols)
        if ser is None:
            ser = np.full((rows, cols), sense_error_rate or 0.0)
        elif sense_error_rate is not None:
            raise ValueError("give either read_lut or sense_error_rate, not both")
        self.sense_error_rate = ser
        self.correlation = self._lut_correlation(lut) if correlation is None else float(correlation)
        if not 0 <= self.correlation < 1:
            raise ValueError(f"correlation (lag-1, per cell) must be in [0, 1), got {self.correlation}")
        self.device = torch_device(device)
        p_one = self.p_switch * (1 - ser) + (1 - self.p_switch) * ser
        self.p_one = torch.as_tensor(p_one, dtype=torch.float32, device=self.device)
        self._state: torch.Tensor | None = None  # last true (pre-sense) cell states, for the Markov chain
        self.energy_per_bit_J = float(np.mean(lut.interp("energy_per_bit_J", v_energy_V=v_col)))
        if "cycle_time_s" not in lut.provenance:
            raise LutError("the trng LUT's provenance has no cycle_time_s (the TRNG cell's cycle, which sets the "
                           "time per bit); rerun its cell parts with `vcma lut cell <lut>` or rebuild it with "
                           "`vcma lut build`")
        self.time_per_cycle_s = float(lut.provenance["cycle_time_s"])

    def _p(self, v_write: np.ndarray, scale: np.ndarray) -> np.ndarray:
        v_mtj = mtj_voltage(self.lut, v_write) * scale
        return self.lut.interp(self.p_var, v_write_V=v_mtj, t_pulse_s=np.full_like(v_mtj, self.t_pulse_s))

    def _calibrate(self, scale: np.ndarray) -> np.ndarray:
        """One driver amplitude per column of ``scale`` with the column's mean P(1) = 0.5."""
        lo, hi = driver_range(self.lut, scale.min(), scale.max())
        n = scale.shape[1]
        mean_p = lambda v: self._p(v[None, :], scale).mean(axis=0)  # noqa: E731
        if np.any(mean_p(np.full(n, lo)) > 0.5) or np.any(mean_p(np.full(n, hi)) < 0.5):
            raise LutError("calibration cannot reach P(1) = 0.5 inside the LUT's amplitude range")
        return bisect_increasing(lambda v: mean_p(v) - 0.5, np.full(n, lo), np.full(n, hi))

    @staticmethod
    def _lut_correlation(lut: Lut) -> float:
        corr = lut.provenance.get("cell_check", {}).get("serial_correlation")
        if not corr:
            return 0.0
        lo, hi = corr["ci95"]
        return max(float(corr["lag1"]), 0.0) if (lo > 0 or hi < 0) else 0.0

    @staticmethod
    def _variation_scale(corner: str, temp_C: float, rows: int, cols: int, chip_seed: int,
                         multiple: float = 1.0) -> np.ndarray:
        """V_c,nominal / V_c,cell from per-cell draws of xi and K_i (vectorised closed form)."""
        card = mtj_card(corner, temp_C + 273.15)
        rng = np.random.default_rng(chip_seed)
        xi = card.xi_J_per_V_m * (1 + multiple * DEVICE_SPREADS["xi_J_per_V_m"] * rng.standard_normal((rows, cols)))
        ki = card.ki_J_per_m2 * (1 + multiple * DEVICE_SPREADS["ki_J_per_m2"] * rng.standard_normal((rows, cols)))
        return card.v_cancel() / card.v_cancel(ki_J_per_m2=ki, xi_J_per_V_m=xi)

    def calibration_report(self) -> dict:
        """Residual bias after calibration: how far the cells and columns are from P(1) = 0.5."""
        p = self.p_one.cpu().numpy().astype(float)
        col = p.mean(axis=0)
        return {"calibration": self.calibration, "v_write_V_mean": self.v_write_V,
                "v_write_V_min": float(self.v_write_col_V.min()), "v_write_V_max": float(self.v_write_col_V.max()),
                "p_one_array_mean": float(p.mean()), "residual_bias": float(p.mean() - 0.5),
                "column_bias_max_abs": float(np.abs(col - 0.5).max()), "cell_p_std": float(p.std()),
                "cell_bias_mean_abs": float(np.abs(p - 0.5).mean()),
                "stuck_fraction": float(np.mean((p < 0.01) | (p > 0.99))),
                "von_neumann_yield": float(np.mean(p * (1 - p)))}

    def to(self, device: str | torch.device) -> "TrngArrayEmulator":
        """Emulate on ``device`` (``cpu``, ``cuda``, ``cuda:N``; checked) from now on; returns self."""
        self.device = torch_device(device)
        self.p_one = self.p_one.to(self.device)
        self._state = None if self._state is None else self._state.to(self.device)
        return self

    def cycles(self, n_cycles: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Latched bits, uint8 of shape (n_cycles, rows, cols), on the emulator's device.

        Random numbers are drawn on the generator's device (the emulator's without one), so a CPU
        generator gives the same bits on any device and a generator on the GPU keeps the work there.
        """
        dev = generator.device if generator is not None else self.device
        shape = (n_cycles, self.rows, self.cols)
        if self.correlation == 0:
            u = torch.rand(shape, generator=generator, device=dev)
            return (u < self.p_one.to(dev)).to(torch.uint8).to(self.device)
        p = torch.as_tensor(self.p_switch, dtype=torch.float32, device=dev)
        ser = torch.as_tensor(self.sense_error_rate, dtype=torch.float32, device=dev)
        rho = self.correlation
        u = torch.rand((2, *shape), generator=generator, device=dev)
        state = self._state.to(dev) if self._state is not None else u[0, 0] < p
        out = torch.empty(shape, dtype=torch.bool, device=dev)
        for k in range(n_cycles):  # stationary chain: P(1|1) = p + rho (1 - p), P(1|0) = p (1 - rho)
            state = u[0, k] < torch.where(state, p + rho * (1 - p), p * (1 - rho))
            out[k] = state ^ (u[1, k] < ser)
        self._state = state
        return out.to(torch.uint8).to(self.device)


WHITENED_ORDER = ("pairs of consecutive cycles (2k, 2k+1) in time order; within a pair the cells in row-major "
                  "order; each cell's pair 01 -> 0, 10 -> 1, 00 and 11 dropped")
"""The order of the per-cell von Neumann stream (:func:`per_cell_von_neumann`, ``MtjNoise``'s whitened bits)."""


def per_cell_von_neumann(bits: torch.Tensor) -> torch.Tensor:
    """Per-cell von Neumann output of array bits of shape (cycles, rows, cols), as a 1-D uint8 stream.

    Why per cell: cells differ in bias, and von Neumann is exactly fair only for a pair drawn from one
    biased source, so each cell's two consecutive bits are paired, never neighbouring cells' bits. Order:
    :data:`WHITENED_ORDER` (the same stream ``MtjNoise`` whitens); an odd last cycle is dropped.
    """
    if bits.dim() != 3:
        raise ValueError(f"per-cell von Neumann needs bits of shape (cycles, rows, cols), got {tuple(bits.shape)}")
    pairs = bits.shape[0] // 2
    b = bits[: 2 * pairs].reshape(pairs, 2, -1)
    first, second = b[:, 0], b[:, 1]
    return first[first != second].to(torch.uint8)


class MtjNoise(BitNoiseSource):
    """Noise source whose raw bits come from the emulated array, read out cycle by cycle.

    With von Neumann whitening the stream pairs each cell's bits of two consecutive cycles (a
    per-cell extractor: exactly fair output for any fixed P(1) of the cell); otherwise bits are
    read out cycle by cycle in row-major cell order.

    Fast path (``exact_bits=False``, the default): with von Neumann and no serial correlation the
    whitened stream is provably i.i.d. fair, so samples are drawn from fair words directly and the
    raw-bit cost is charged at its expectation, bits_per_sample / mean_cells(p (1 - p)).
    ``exact_bits=True`` emulates every raw bit instead (same distribution, tested).
    """

    name = "mtj"

    def __init__(self, emulator: TrngArrayEmulator, transform=DEFAULT_TRANSFORM, exact_bits: bool = False) -> None:
        super().__init__(transform, energy_per_bit_J=emulator.energy_per_bit_J,
                         time_per_bit_s=emulator.time_per_cycle_s / (emulator.rows * emulator.cols))
        self.emulator = emulator
        self.device = emulator.device
        p = emulator.p_one.double()
        self.vn_yield = float((p * (1 - p)).mean())  # whitened bits per raw bit
        self.fast = not exact_bits and self.transform.whitening == "vn" and emulator.correlation == 0
        if self.transform.whitening == "vn" and self.vn_yield < 1e-3:
            raise ValueError(f"von Neumann whitening yields {self.vn_yield:.2g} bits per raw bit on this array "
                             "(cells stuck at 0 or 1): calibrate it")

    def to(self, device: str | torch.device) -> "MtjNoise":
        """Deliver samples, and emulate the array, on ``device``; returns self."""
        super().to(device)
        self.emulator.to(self.device)
        return self

    @property
    def bits_per_sample(self) -> float:
        if self.transform.whitening == "vn":
            return self.transform.bits_per_sample / self.vn_yield
        return super().bits_per_sample

    def _samples(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        if not self.fast:
            return super()._samples(n, generator)
        self._account(round(n * self.bits_per_sample))
        return self.transform.sample_fair(n, generator)

    def _bits(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        cells = self.emulator.rows * self.emulator.cols
        if self.transform.whitening == "vn":
            pairs = math.ceil(n / (2 * cells))
            bits = self.emulator.cycles(2 * pairs, generator).reshape(pairs, 2, cells).transpose(1, 2)
            return bits.reshape(-1)[:n]
        return self.emulator.cycles(math.ceil(n / cells), generator).reshape(-1)[:n]

