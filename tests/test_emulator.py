"""The LUT-driven TRNG array emulator and its noise source."""

import numpy as np
import pytest
import torch

from cosim.emulator import MtjNoise, TrngArrayEmulator, calibrate_v_write
from cosim.lut import Lut, LutError


def lut():
    v = np.linspace(0.6, 1.0, 9)
    t = np.array([0.4e-9, 0.6e-9])
    p = np.clip((v[:, None] - 0.7) / 0.2, 0, 1) * np.ones((1, 2))
    return Lut("trng", {"v_write_V": ("V", v), "t_pulse_s": ("s", t), "v_energy_V": ("V", v)},
               {"p_switch": ("1", ("v_write_V", "t_pulse_s"), p), "energy_per_bit_J": ("J", ("v_energy_V",), v * 1e-14)},
               {"corner": "tt", "temp_C": 27.0, "cycle_time_s": 3e-9})


def test_calibration_finds_half_probability():
    assert calibrate_v_write(lut(), 0.5e-9) == pytest.approx(0.8, abs=1e-6)


def test_bits_follow_lut_probability_within_binomial_bounds():
    emu = TrngArrayEmulator(lut(), 16, 16, v_write_V=0.75, variation=False)
    bits = emu.cycles(400, torch.Generator().manual_seed(1))
    n = bits.numel()
    p = bits.float().mean().item()
    assert abs(p - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)


def test_seeded_bit_identical_and_seeds_differ():
    emu = TrngArrayEmulator(lut(), 8, 8, variation=True, chip_seed=3)
    a = emu.cycles(10, torch.Generator().manual_seed(5))
    b = emu.cycles(10, torch.Generator().manual_seed(5))
    c = emu.cycles(10, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_variation_spreads_cell_probabilities_around_calibration():
    emu = TrngArrayEmulator(lut(), 32, 32, variation=True, chip_seed=1)
    p = emu.p_one.numpy()
    assert p.std() > 0.01 and abs(p.mean() - 0.5) < 0.1


def test_energy_per_sample_is_bits_times_energy_per_bit():
    src = MtjNoise(TrngArrayEmulator(lut(), 8, 8, variation=False), "word:12")
    src.randn((100,), generator=torch.Generator().manual_seed(0))
    assert src.bits_used == 1200
    assert src.energy_J == pytest.approx(1200 * 0.8e-14, rel=1e-6)


def test_bad_input_is_refused():
    with pytest.raises(LutError, match="outside the LUT range"):
        TrngArrayEmulator(lut(), 4, 4, v_write_V=1.5, variation=False)
    with pytest.raises(ValueError, match="positive integers"):
        TrngArrayEmulator(lut(), 0, 4)
    bad = Lut("read", {"x": ("1", np.array([0.0, 1.0]))}, {"y": ("1", ("x",), np.array([0.0, 1.0]))})
    with pytest.raises(LutError, match="needs a 'trng' LUT"):
        TrngArrayEmulator(bad, 4, 4)
