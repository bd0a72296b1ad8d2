"""VCMA-MTJ model card, its process corners and its temperature dependence.

Values are the consistent perpendicular card worked through in docs/physics.md, inside
the published ranges collected there (xi 30-110 fJ/(V m), K_i 0.3-1.0 mJ/m^2,
Ms 0.6-1.2 MA/m, t_FL 1.1 nm, t_ox 1.4 nm, d 50-70 nm, alpha 0.01-0.05,
TMR0 100-150 %, V_h 0.5 V, RA 100-200 Ohm um^2, bias 200-500 Oe).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal, get_args

from . import constants as C
from .card import Card, CardError, param


@dataclass(frozen=True)
class MtjCard(Card):
    """Perpendicular CoFeB/MgO VCMA-MTJ, macrospin free layer, quoted at T_REF_K."""

    kind = "VCMA-MTJ card"

    diameter_m: float = param(50e-9, "m", 0, 500e-9, "mtj_d", "Free-layer disk diameter (docs/physics.md: 50-70 nm).", lo_open=True)
    t_fl_m: float = param(1.1e-9, "m", 0, 10e-9, "mtj_tfl", "Free-layer thickness (docs/physics.md: 1.1 nm).", lo_open=True)
    t_ox_m: float = param(1.4e-9, "m", 0, 10e-9, "mtj_tox", "MgO barrier thickness (docs/physics.md: 1.4 nm).", lo_open=True)
    ms_A_per_m: float = param(1.1e6, "A/m", 0, 3e6, "mtj_ms", "Saturation magnetisation at T_REF_K (docs/physics.md: 0.6-1.2 MA/m).", lo_open=True)
    ki_J_per_m2: float = param(0.88e-3, "J/m^2", 0, 1e-2, "mtj_ki", "Interfacial anisotropy at 0 V, T_REF_K (docs/physics.md worked card).")
    xi_J_per_V_m: float = param(100e-15, "J/(V m)", 0, 1e-12, "mtj_xi", "VCMA coefficient (docs/physics.md: 30-110 fJ/(V m)).")
    alpha: float = param(0.01, "1", 0, 1, "mtj_alpha", "Gilbert damping (docs/physics.md: 0.01-0.05).", lo_open=True)
    tmr0: float = param(1.2, "1", 0, 10, "mtj_tmr0", "Zero-bias TMR ratio, 1.2 = 120 % (docs/physics.md: 100-150 %).")
    vh_V: float = param(0.5, "V", 0, 10, "mtj_vh", "Bias at which TMR halves (docs/physics.md: 0.5 V).", lo_open=True)
    ra_ohm_m2: float = param(100e-12, "Ohm m^2", 0, 1e-8, "mtj_ra", "Resistance-area product of the P state, 100 Ohm um^2 (docs/physics.md).", lo_open=True)
    hx_A_per_m: float = param(2.4e4, "A/m", 0, 1e6, "mtj_hx", "In-plane bias field along x, mu0*Hx = 30 mT = 300 Oe (docs/physics.md).")
    eta_stt: float = param(0.6, "1", 0, 1, "mtj_eta", "Spin polarisation of the Slonczewski torque (0 turns STT off); typical CoFeB/MgO.")
    eps_ox_rel: float = param(9.8, "1", 1, 100, "mtj_epsox", "Relative permittivity of MgO for the barrier capacitance.")
    tc_K: float = param(1100.0, "K", 0, 2000, "mtj_tc", "Curie temperature of the free layer for the Bloch law Ms(T) (CoFeB ~1100 K).", lo_open=True)
    dt_thermal_s: float = param(1e-12, "s", 0, 1e-10, "mtj_dt_th", "Sample interval of the thermal-field noise sources (docs/physics.md: 1 ps).", lo_open=True)
    ki_ms_exponent: float = param(2.18, "1", 0, 5, "mtj_kiexp", "K_i(T), xi(T) scale as (Ms(T)/Ms)^this (Callen-Callen; 2-2.5 measured for CoFeB/MgO).")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.k_eff() <= 0:
            raise CardError(
                f"{self.kind} is in-plane: K_eff = K_i/t_FL - mu0/2 Ms^2 (N_z - N_x) = {self.k_eff():.3g} J/m^3 <= 0; "
                "raise ki_J_per_m2 or lower ms_A_per_m / t_fl_m")

    # Geometry -----------------------------------------------------------------
    @property
    def area_m2(self) -> float:
        return math.pi * self.diameter_m ** 2 / 4

    @property
    def volume_m3(self) -> float:
        return self.area_m2 * self.t_fl_m

    @property
    def demag(self) -> tuple[float, float]:
        """Thin-disk demagnetising factors (N_x = N_y, N_z), N_x = pi t / (4 d)."""
        nx = math.pi * self.t_fl_m / (4 * self.diameter_m)
        return nx, 1 - 2 * nx

    # Closed forms (docs/physics.md) --------------------------------------------
    @property
    def k_shape(self) -> float:
        """Demagnetising (shape) anisotropy mu0/2 Ms^2 (N_z - N_x) that opposes K_i/t_FL, J/m^3."""
        nx, nz = self.demag
        return C.MU0 / 2 * self.ms_A_per_m ** 2 * (nz - nx)

    def k_eff(self, v=0.0, ki_J_per_m2=None, xi_J_per_V_m=None):
        """Effective perpendicular anisotropy energy density at bias v, J/m^3.

        K_eff(V) = K_i/t_FL - xi V/(t_ox t_FL) - mu0/2 Ms^2 (N_z - N_x). ``v``, ``ki_J_per_m2`` and
        ``xi_J_per_V_m`` (default: the card's) may be floats or numpy or torch arrays (cell-to-cell
        spreads): only arithmetic is used, so the result has their type.
        """
        ki = self.ki_J_per_m2 if ki_J_per_m2 is None else ki_J_per_m2
        xi = self.xi_J_per_V_m if xi_J_per_V_m is None else xi_J_per_V_m
        return ki / self.t_fl_m - xi * v / (self.t_ox_m * self.t_fl_m) - self.k_shape

    def hk_eff(self, v: float = 0.0) -> float:
        """H_k,eff(V) = 2 K_eff(V) / (mu0 Ms), A/m."""
        return 2 * self.k_eff(v) / (C.MU0 * self.ms_A_per_m)

    def v_cancel(self, ki_J_per_m2=None, xi_J_per_V_m=None):
        """Bias at which VCMA cancels the perpendicular anisotropy, K_eff(V_c) = 0, V.

        ``ki_J_per_m2`` / ``xi_J_per_V_m`` (default: the card's) may be numpy or torch arrays, e.g.
        per-cell draws from :data:`DEVICE_SPREADS`; the result has their type and shape.
        """
        xi = self.xi_J_per_V_m if xi_J_per_V_m is None else xi_J_per_V_m
        return self.k_eff(0.0, ki_J_per_m2) * self.t_ox_m * self.t_fl_m / xi

    def delta(self, temp_K: float = C.T_REF_K) -> float:
        """Thermal stability factor K_eff V / (kB T) at zero bias."""
        return self.k_eff(0) * self.volume_m3 / (C.KB * temp_K)

    def r_p(self) -> float:
        return self.ra_ohm_m2 / self.area_m2

    def tmr(self, v: float) -> float:
        return self.tmr0 / (1 + v ** 2 / self.vh_V ** 2)

    def precession_period_s(self, h_A_per_m: float | None = None) -> float:
        """2 pi / (gamma mu0 H) about a field H (default the in-plane bias)."""
        h = self.hx_A_per_m if h_A_per_m is None else h_A_per_m
        return 2 * math.pi / (C.GAMMA * C.MU0 * h)

    def at_temperature(self, temp_K: float) -> "MtjCard":
        """The card at another temperature: Bloch law for Ms, Callen-Callen for K_i and xi."""
        if not 0 < temp_K < self.tc_K:
            raise CardError(f"temperature {temp_K} K is outside (0, Tc = {self.tc_K} K)")
        ratio = (1 - (temp_K / self.tc_K) ** 1.5) / (1 - (C.T_REF_K / self.tc_K) ** 1.5)
        k_scale = ratio ** self.ki_ms_exponent
        return dataclasses.replace(self, ms_A_per_m=self.ms_A_per_m * ratio,
                                   ki_J_per_m2=self.ki_J_per_m2 * k_scale,
                                   xi_J_per_V_m=self.xi_J_per_V_m * k_scale)


Corner = Literal["tt", "ff", "ss"]
CORNERS: tuple[str, ...] = get_args(Corner)

# Relative shifts of each corner from the typical card. "ff" switches more easily
# (stronger VCMA, weaker anisotropy, lower RA); "ss" the opposite. Shifts are
# three times the one-sigma spreads below, the usual definition of a corner.
_CORNER_SHIFT_SIGMAS = {"tt": 0.0, "ff": 3.0, "ss": -3.0}
_CORNER_SIGN = {"xi_J_per_V_m": +1, "ki_J_per_m2": -1, "ra_ohm_m2": -1, "tmr0": -1}

DEVICE_SPREADS: dict[str, float] = {
    "xi_J_per_V_m": 0.02,
    "ki_J_per_m2": 0.004,
    "ra_ohm_m2": 0.03,
    "tmr0": 0.02,
}
"""One-sigma relative device-to-device spreads (Gaussian) used for corners and Monte Carlo."""


def mtj_card(corner: str = "tt", temp_K: float = C.T_REF_K, **overrides: float) -> MtjCard:
    """The device card for a named corner at a temperature, with optional field overrides."""
    if corner not in CORNERS:
        raise CardError(f"unknown device corner '{corner}'; known: {list(CORNERS)}")
    base = MtjCard().replace(**overrides)
    n = _CORNER_SHIFT_SIGMAS[corner]
    shifted = {k: getattr(base, k) * (1 + n * _CORNER_SIGN[k] * s) for k, s in DEVICE_SPREADS.items()}
    return base.replace(**shifted).at_temperature(temp_K)
