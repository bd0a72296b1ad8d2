"""Fast torch emulator of an R x C array of VCMA-MTJ TRNG cells, driven by a ``trng`` LUT.

Per cycle every cell latches 1 with its own switching probability, interpolated from the LUT
at the voltage that cell sees. Cell-to-cell variation is drawn once per emulated chip from the
corner's spreads (compact_models.DEVICE_SPREADS) and enters as a per-cell scale of the write
voltage, V_eff = V * V_c,nominal / V_c,cell: VCMA switching depends on the amplitude relative to
the cell's anisotropy-cancelling voltage (a first-order mapping, documented as such). Sense errors
flip latched bits with a given rate. Energy and time per bit come from the LUT (SPICE TRNG cell).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import brentq

from compact_models import DEVICE_SPREADS, mtj_card

from .lut import Lut, LutError
from .noise_source import BitNoiseSource, register_noise_source
from .transforms import DEFAULT_TRANSFORM


def calibrate_v_write(lut: Lut, t_pulse_s: float, target: float = 0.5) -> float:
    """The write amplitude at which the LUT's switching probability equals ``target``."""
    vs = lut.axis("v_write_V")
    f = lambda v: float(lut.interp("p_switch", v_write_V=v, t_pulse_s=t_pulse_s)) - target  # noqa: E731
    if f(vs[0]) > 0 or f(vs[-1]) < 0:
        raise LutError(f"P = {target} is not reached inside the LUT's amplitude range at t_pulse = {t_pulse_s:g} s")
    return brentq(f, vs[0], vs[-1], xtol=1e-6)


class TrngArrayEmulator:
    """Bits of an R x C TRNG array, cycle by cycle, vectorised in torch."""

    def __init__(self, lut: Lut, rows: int, cols: int, v_write_V: float | None = None, t_pulse_s: float = 0.5e-9,
                 chip_seed: int = 0, variation: bool = True, cell_voltage_scale: np.ndarray | None = None,
                 sense_error_rate: float = 0.0, device: str | torch.device = "cpu") -> None:
        if lut.kind != "trng":
            raise LutError(f"the emulator needs a 'trng' LUT, got a '{lut.kind}' LUT")
        for axis in ("v_write_V", "t_pulse_s"):
            lut.axis(axis)
        if not (isinstance(rows, int) and isinstance(cols, int) and rows >= 1 and cols >= 1):
            raise ValueError(f"array size must be positive integers, got rows={rows!r}, cols={cols!r}")
        if not 0 <= sense_error_rate < 0.5:
            raise ValueError(f"sense_error_rate must be in [0, 0.5), got {sense_error_rate}")
        self.rows, self.cols, self.t_pulse_s = rows, cols, t_pulse_s
        self.v_write_V = calibrate_v_write(lut, t_pulse_s) if v_write_V is None else float(v_write_V)
        corner, temp_C = lut.provenance.get("corner", "tt"), lut.provenance.get("temp_C", 27.0)
        scale = np.ones((rows, cols))
        if variation:
            scale = scale * self._variation_scale(corner, temp_C, rows, cols, chip_seed)
        if cell_voltage_scale is not None:
            scale = scale * np.broadcast_to(cell_voltage_scale, (rows, cols))
        v_eff = self.v_write_V * scale
        p = lut.interp("p_switch", v_write_V=v_eff, t_pulse_s=np.full_like(v_eff, t_pulse_s))
        p = p * (1 - sense_error_rate) + (1 - p) * sense_error_rate
        self.device = torch.device(device)
        self.p_one = torch.as_tensor(p, dtype=torch.float32, device=self.device)
        self.energy_per_bit_J = float(lut.interp("energy_per_bit_J", v_energy_V=self.v_write_V))
        self.time_per_cycle_s = float(lut.provenance.get("cycle_time_s", 3e-9))

    @staticmethod
    def _variation_scale(corner: str, temp_C: float, rows: int, cols: int, chip_seed: int) -> np.ndarray:
        """V_c,nominal / V_c,cell from per-cell draws of xi and K_i (vectorised closed form)."""
        card = mtj_card(corner, temp_C + 273.15)
        rng = np.random.default_rng(chip_seed)
        xi = card.xi_J_per_V_m * (1 + DEVICE_SPREADS["xi_J_per_V_m"] * rng.standard_normal((rows, cols)))
        ki = card.ki_J_per_m2 * (1 + DEVICE_SPREADS["ki_J_per_m2"] * rng.standard_normal((rows, cols)))
        k_shape = card.ki_J_per_m2 / card.t_fl_m - card.k_eff(0)  # demagnetising part, J/m^3
        vc = (ki / card.t_fl_m - k_shape) * card.t_ox_m * card.t_fl_m / xi
        return card.v_cancel() / vc

    def cycles(self, n_cycles: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Latched bits, uint8 of shape (n_cycles, rows, cols)."""
        u = torch.rand((n_cycles, self.rows, self.cols), generator=generator, device=self.device)
        return (u < self.p_one).to(torch.uint8)


class MtjNoise(BitNoiseSource):
    """Noise source whose raw bits come from the emulated array, read out cycle by cycle."""

    name = "mtj"

    def __init__(self, emulator: TrngArrayEmulator, transform=DEFAULT_TRANSFORM) -> None:
        super().__init__(transform, energy_per_bit_J=emulator.energy_per_bit_J,
                         time_per_bit_s=emulator.time_per_cycle_s / (emulator.rows * emulator.cols))
        self.emulator = emulator

    def _bits(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        per_cycle = self.emulator.rows * self.emulator.cols
        return self.emulator.cycles(math.ceil(n / per_cycle), generator).reshape(-1)[:n]


def _make_mtj(lut: str | Lut, rows: int = 64, cols: int = 64, transform=DEFAULT_TRANSFORM, **kw) -> MtjNoise:
    lut = Lut.load(lut, kind="trng") if not isinstance(lut, Lut) else lut
    return MtjNoise(TrngArrayEmulator(lut, rows, cols, **kw), transform)


register_noise_source("mtj", _make_mtj)
