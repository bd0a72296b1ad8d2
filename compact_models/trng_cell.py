"""TRNG-cell card: drive, timing, read bias and device sizes of the 1T-1MTJ TRNG cell.

The cell (``netlists/trng_cell.cir``) runs cycles of reset / stochastic write / read. Each
cycle is five windows, in this order (defaults 1 + 4 + 1 + 3 + 1 = 10 ns):

``t_slot`` reset slot, ``t_rest`` rest, ``t_slot`` write slot, ``t_settle`` settle, ``t_slot``
read slot.

The rests are there because with damping alpha = 0.01 a pulse leaves the magnetisation ringing
on a wide orbit that decays in about 1/(alpha gamma mu0 H) = 3.8 ns: a write too soon after the
reset starts from a ringing state, and a read too soon samples the orbit, not the well (both
flatten P(1) against amplitude). The reset pulse is 0.6 ns because at 0.5 ns 11 of 45 in-cell
resets failed and at 0.6 ns 2 of 48. docs/physics.md gives the reasons in full.

Every field reaches the netlist as the ``.param`` of its ``spice`` name through the rendered
include ``netlists/cards/trng_cell_card.inc``; the netlist template holds none of these values.
"""

from __future__ import annotations

from dataclasses import dataclass

from .card import Card, CardError, param

BIT_MEASURE_BEFORE_END_S = 0.05e-9
"""The bit of a cycle is measured this long before the cycle ends (after the latch clock)."""


@dataclass(frozen=True)
class TrngCellCard(Card):
    """Operating point and sizes of the 1T-1MTJ TRNG cell (all SI)."""

    kind = "TRNG-cell card"

    v_write_V: float = param(0.85, "V", 0, 2.5, "v_write", "Write-driver amplitude of the stochastic VCMA pulse (the LUT build sweeps it; the emulator calibrates it to P(1) = 0.5).", lo_open=True)
    t_pulse_s: float = param(0.5e-9, "s", 0, 1e-7, "t_pulse", "Write pulse width (FWHM): about half the 1.19 ns precession period about the in-plane bias field.", lo_open=True, suffix="n")
    v_reset_V: float = param(1.35, "V", 0, 2.5, "v_reset", "Reset (toggle back to P) amplitude: above the 1.2 V anisotropy-cancelling voltage plus the driver and transistor drop.", lo_open=True)
    t_reset_s: float = param(0.6e-9, "s", 0, 1e-7, "t_reset", "Reset pulse width (FWHM): 0.6 ns (2/48 in-cell reset failures; 11/45 at 0.5 ns).", lo_open=True, suffix="n")
    t_rise_s: float = param(20e-12, "s", 0, 1e-9, "t_rise", "Rise and fall time of every timing pulse (driver edge).", lo_open=True, suffix="p")
    t_lead_s: float = param(0.1e-9, "s", 0, 1e-8, "t_lead", "Delay of the reset and write pulses after the start of their slot.", suffix="n")
    t_slot_s: float = param(1e-9, "s", 0, 1e-7, "t_slot", "Length of the reset, write and read slots.", lo_open=True, suffix="n")
    t_rest_s: float = param(4e-9, "s", 0, 1e-6, "t_rest", "Rest between reset and write: the ringing left by the reset decays (~3.8 ns at alpha = 0.01).", suffix="n")
    t_settle_s: float = param(3e-9, "s", 0, 1e-6, "t_settle", "Settle between write and read: the read samples the well, not the ringing orbit.", suffix="n")
    t_ren_delay_s: float = param(0.05e-9, "s", 0, 1e-8, "t_ren_delay", "Read enable (bias on, driver released) after the read slot starts.", suffix="n")
    t_ren_s: float = param(0.85e-9, "s", 0, 1e-7, "t_ren", "Read-enable width (flat top).", lo_open=True, suffix="n")
    t_sae_delay_s: float = param(0.45e-9, "s", 0, 1e-8, "t_sae_delay", "Sense-amplifier enable after the read slot starts (bit line settled through r_load).", suffix="n")
    t_sae_s: float = param(0.45e-9, "s", 0, 1e-7, "t_sae", "Sense-amplifier enable width (flat top).", lo_open=True, suffix="n")
    t_clk_delay_s: float = param(0.8e-9, "s", 0, 1e-8, "t_clk_delay", "Output-latch clock after the read slot starts (latch resolved).", suffix="n")
    t_clk_s: float = param(0.05e-9, "s", 0, 1e-8, "t_clk", "Output-latch clock width (flat top).", lo_open=True, suffix="n")
    v_read_V: float = param(0.5, "V", 0, 1.0, "v_read", "Read bias rail; with r_load the MTJ sees ~0.25 V, far from VCMA read disturb.", lo_open=True)
    r_load_ohm: float = param(60e3, "Ohm", 0, 1e7, "r_load", "Read load from the read rail to the bit line and to the replica reference.", lo_open=True, suffix="k")
    r_drv_ohm: float = param(500.0, "Ohm", 0, 1e5, "r_drv", "Output resistance of the write driver.", lo_open=True)
    w_access_m: float = param(360e-9, "m", 0, 1e-5, "w_access", "Access NMOS width (L = 45 nm, W/L = 8); the crossbar card's access width too.", lo_open=True, suffix="n")
    w_sa_m: float = param(720e-9, "m", 0, 1e-5, "w_sa", "StrongARM sense-amplifier transistor width (the tail device is 2 x this).", lo_open=True, suffix="n")
    c_bl_F: float = param(5e-15, "F", 0, 1e-12, "c_bl", "Bit-line capacitance of the cell (lumped wire and junction).", suffix="f")
    c_ref_F: float = param(5e-15, "F", 0, 1e-12, "c_ref", "Replica reference-line capacitance (matches the bit line).", suffix="f")

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, width in (("t_pulse_s", self.t_pulse_s), ("t_reset_s", self.t_reset_s)):
            if width < self.t_rise_s:
                raise CardError(f"{self.kind}: {name} = {width:g} s is shorter than t_rise_s = {self.t_rise_s:g} s "
                                "(the pulse is its full width at half maximum)")
            if self.t_lead_s + width + self.t_rise_s > self.t_slot_s:
                raise CardError(f"{self.kind}: {name} = {width:g} s does not fit its slot: t_lead_s + {name} + "
                                f"t_rise_s = {self.t_lead_s + width + self.t_rise_s:g} s > t_slot_s = {self.t_slot_s:g} s")
        windows = (("read enable", self.t_ren_delay_s, self.t_ren_s), ("sense enable", self.t_sae_delay_s, self.t_sae_s),
                   ("latch clock", self.t_clk_delay_s, self.t_clk_s))
        for what, delay, width in windows:
            end = delay + width + 2 * self.t_rise_s
            if end > self.t_slot_s - BIT_MEASURE_BEFORE_END_S:
                raise CardError(f"{self.kind}: the {what} ends {end:g} s into the read slot, past the point where the "
                                f"bit is measured, t_slot_s - {BIT_MEASURE_BEFORE_END_S:g} s "
                                f"= {self.t_slot_s - BIT_MEASURE_BEFORE_END_S:g} s")
        if not self.t_sae_delay_s < self.t_clk_delay_s:
            raise CardError(f"{self.kind}: the latch clock (t_clk_delay_s = {self.t_clk_delay_s:g} s) must come after "
                            f"the sense enable (t_sae_delay_s = {self.t_sae_delay_s:g} s)")
        if self.t_clk_delay_s + self.t_clk_s > self.t_sae_delay_s + self.t_sae_s:
            raise CardError(f"{self.kind}: the latch clock must close while the sense amplifier is enabled "
                            "(t_clk_delay_s + t_clk_s <= t_sae_delay_s + t_sae_s)")

    @property
    def cycle_time_s(self) -> float:
        """One TRNG cycle: reset slot + rest + write slot + settle + read slot."""
        return self.t_slot_s + self.t_rest_s + self.t_slot_s + self.t_settle_s + self.t_slot_s

    @property
    def sense_amp_widths_m(self) -> tuple[float, ...]:
        """Widths of the StrongARM latch's nine transistors: the tail at 2 w_sa, eight at w_sa."""
        return (2 * self.w_sa_m,) + (self.w_sa_m,) * 8


TRNG_CELL = TrngCellCard()
"""The default TRNG cell (what ``netlists/cards/trng_cell_card.inc`` holds)."""
