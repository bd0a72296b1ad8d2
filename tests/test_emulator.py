"""The LUT-driven TRNG array emulator and its noise source (synthetic LUTs with known answers)."""

import numpy as np
import pytest
import torch

from cosim.noise.emulator import MtjNoise, TrngArrayEmulator, calibrate_v_write, mtj_voltage
from cosim.luts.lut import Lut, LutError


def lut(fraction=1.0, correlation=None):
    """P(switch) rises linearly from 0 at 0.7 V to 1 at 0.9 V across the MTJ, at every width."""
    v = np.linspace(0.4, 1.2, 17)
    t = np.array([0.4e-9, 0.6e-9])
    p = np.clip((v[:, None] - 0.7) / 0.2, 0, 1) * np.ones((1, 2))
    ve = np.array([0.4, 1.6])
    prov = {"corner": "tt", "temp_C": 27.0, "cycle_time_s": 3e-9}
    if correlation is not None:
        prov["cell_check"] = {"serial_correlation": correlation}
    return Lut("trng", {"v_write_V": ("V", v), "t_pulse_s": ("s", t), "v_energy_V": ("V", ve)},
               {"p_switch": ("1", ("v_write_V", "t_pulse_s"), p), "energy_per_bit_J": ("J", ("v_energy_V",), ve * 1e-14),
                "v_mtj_fraction": ("1", ("v_energy_V",), np.full(2, fraction))}, prov)


def position_lut(kind, var, values):
    rows, cols = values.shape
    return Lut(kind, {"row": ("1", np.arange(rows, dtype=float)), "col": ("1", np.arange(cols, dtype=float))},
               {var: ("1", ("row", "col"), values)}, {"corner": "tt", "temp_C": 27.0})


def test_calibration_finds_half_probability_through_the_cell_fraction():
    assert calibrate_v_write(lut(), 0.5e-9) == pytest.approx(0.8, abs=1e-6)
    # 90 % of the driver amplitude reaches the MTJ: the driver must give 0.8 / 0.9 V
    assert calibrate_v_write(lut(0.9), 0.5e-9) == pytest.approx(0.8 / 0.9, abs=1e-6)
    assert float(mtj_voltage(lut(0.9), 1.0)) == pytest.approx(0.9)


def test_bits_follow_lut_probability_within_binomial_bounds():
    emu = TrngArrayEmulator(lut(), 16, 16, v_write_V=0.75, variation=0)
    bits = emu.cycles(400, torch.Generator().manual_seed(1))
    n = bits.numel()
    p = bits.float().mean().item()
    assert abs(p - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)


def test_seeded_bit_identical_and_seeds_differ():
    emu = TrngArrayEmulator(lut(), 8, 8, chip_seed=3)
    a = emu.cycles(10, torch.Generator().manual_seed(5))
    b = emu.cycles(10, torch.Generator().manual_seed(5))
    c = emu.cycles(10, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_variation_spreads_cells_and_each_calibration_centres_its_own_scope():
    kw = dict(chip_seed=1, variation=2.0)
    nominal = TrngArrayEmulator(lut(), 32, 32, calibration="nominal", **kw)
    array = TrngArrayEmulator(lut(), 32, 32, calibration="array", **kw)
    column = TrngArrayEmulator(lut(), 32, 32, calibration="column", **kw)
    assert nominal.v_write_V == pytest.approx(0.8, abs=1e-6)
    assert nominal.p_one.numpy().std() > 0.01
    assert array.p_one.numpy().mean() == pytest.approx(0.5, abs=1e-4)
    assert np.abs(column.p_one.numpy().mean(axis=0) - 0.5).max() < 1e-4
    assert np.ptp(column.v_write_col_V) > 0  # columns got their own amplitudes
    rep_a, rep_c = array.calibration_report(), column.calibration_report()
    assert rep_c["column_bias_max_abs"] < 1e-4 < rep_a["column_bias_max_abs"]
    assert rep_a["residual_bias"] == pytest.approx(0, abs=1e-4)


def test_von_neumann_pairs_each_cell_with_itself_and_removes_cell_bias():
    """Cells far from 0.5 (strong variation) give biased raw bits; a per-cell von Neumann extractor
    gives fair bits (a cross-cell pairing would not: P(01) != P(10) for cells of different P)."""
    emu = TrngArrayEmulator(lut(), 16, 16, calibration="nominal", chip_seed=2, variation=2.5)
    p = emu.p_one.numpy()
    assert np.abs(p - 0.5).mean() > 0.1
    src = MtjNoise(emu, "word:12+vn")
    raw = src._bits(2 * 256 * 800, torch.Generator().manual_seed(0))
    # consecutive raw bits are one cell's two cycles
    pairs = raw.reshape(-1, 256, 2).float()
    assert np.allclose(pairs.mean(axis=(0, 2)).numpy(), p.ravel(), atol=5 * 0.5 / np.sqrt(1600))
    out = src.transform.whiten(raw).float()
    n = out.numel()
    assert abs(out.mean().item() - 0.5) < 4 * 0.5 / np.sqrt(n)
    x = src.randn((20000,), generator=torch.Generator().manual_seed(1))
    assert abs(x.mean().item()) < 4 / np.sqrt(20000) and abs(x.var().item() - 1) < 0.05


def test_markov_correlation_keeps_p_and_gives_lag1_rho():
    emu = TrngArrayEmulator(lut(), 8, 8, v_write_V=0.76, variation=0, correlation=0.3)
    bits = emu.cycles(3000, torch.Generator().manual_seed(4)).float().reshape(3000, -1).numpy()
    p = 0.3
    assert abs(bits.mean() - p) < 4 * np.sqrt(p * (1 - p) / bits.size * (1.3 / 0.7))
    a, b = bits[:-1].ravel(), bits[1:].ravel()
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r - 0.3) < 4 / np.sqrt(a.size)
    # a LUT whose cell check shows correlation passes it on only when its interval excludes 0
    assert TrngArrayEmulator(lut(correlation={"lag1": 0.2, "ci95": [0.1, 0.3]}), 2, 2).correlation == 0.2
    assert TrngArrayEmulator(lut(correlation={"lag1": 0.05, "ci95": [-0.1, 0.2]}), 2, 2).correlation == 0.0


def test_sense_errors_from_read_lut_and_position_from_write_lut():
    read = position_lut("read", "sense_error_rate", np.full((4, 4), 0.1))
    emu = TrngArrayEmulator(lut(), 4, 4, v_write_V=0.75, variation=0, read_lut=read)
    # P(latched 1) = p (1 - e) + (1 - p) e with p = 0.25, e = 0.1
    assert np.allclose(emu.p_one.numpy(), 0.25 * 0.9 + 0.75 * 0.1, atol=1e-6)
    frac = np.tile(np.linspace(1.0, 0.9, 4), (4, 1))  # IR drop along the row
    write = position_lut("write", "v_cell_fraction", frac)
    emu = TrngArrayEmulator(lut(), 4, 7, v_write_V=0.85, variation=0, write_lut=write)
    expected = np.clip((0.85 * np.linspace(1.0, 0.9, 7) - 0.7) / 0.2, 0, 1)
    assert np.allclose(emu.p_one.numpy()[0], expected, atol=1e-6)


def test_energy_per_sample_is_bits_times_energy_per_bit():
    src = MtjNoise(TrngArrayEmulator(lut(), 8, 8, variation=0), "word:12")
    src.randn((100,), generator=torch.Generator().manual_seed(0))
    assert src.bits_used == 1200
    assert src.energy_J == pytest.approx(1200 * 0.8e-14, rel=1e-6)


def test_bad_input_is_refused():
    with pytest.raises(LutError, match="outside the LUT range"):
        TrngArrayEmulator(lut(), 4, 4, v_write_V=1.7, variation=0)
    with pytest.raises(LutError, match="outside the LUT range"):
        TrngArrayEmulator(lut(), 4, 4, t_pulse_s=1e-9)
    with pytest.raises(ValueError, match="positive integers"):
        TrngArrayEmulator(lut(), 0, 4)
    with pytest.raises(ValueError, match="calibration must be one of"):
        TrngArrayEmulator(lut(), 4, 4, calibration="row")
    bad = Lut("read", {"x": ("1", np.array([0.0, 1.0]))}, {"y": ("1", ("x",), np.array([0.0, 1.0]))})
    with pytest.raises(LutError, match="needs a 'trng' LUT"):
        TrngArrayEmulator(bad, 4, 4)
    with pytest.raises(LutError, match="expected a 'write' LUT"):
        TrngArrayEmulator(lut(), 4, 4, write_lut=position_lut("read", "sense_error_rate", np.zeros((2, 2))))
    old = lut()
    del old.variables["v_mtj_fraction"]
    with pytest.raises(LutError, match="rebuild it"):
        TrngArrayEmulator(old, 4, 4)
    no_axis = Lut("trng", {"v_write_V": old.axes["v_write_V"], "v_energy_V": old.axes["v_energy_V"]},
                  {"energy_per_bit_J": old.variables["energy_per_bit_J"]}, {})
    with pytest.raises(LutError, match="no axis 't_pulse_s'"):
        TrngArrayEmulator(no_axis, 4, 4)


def test_von_neumann_fast_path_matches_bit_level_emulation():
    """The fair-word shortcut against emulating every raw bit: same output distribution (two-sample
    KS), and the charged raw bits equal the bit-level count within its binomial spread."""
    from scipy.stats import ks_2samp

    emu = TrngArrayEmulator(lut(), 16, 16, calibration="column", chip_seed=4, variation=2.0)
    fast, exact = MtjNoise(emu, "word:12+vn"), MtjNoise(emu, "word:12+vn", exact_bits=True)
    assert fast.fast and not exact.fast
    a = fast.randn((40000,), generator=torch.Generator().manual_seed(1)).numpy()
    b = exact.randn((40000,), generator=torch.Generator().manual_seed(2)).numpy()
    assert ks_2samp(a, b).pvalue > 1e-3
    out_bits = 40000 * 12
    # the bit-level path draws in chunks (overshoot < 4 sigma + 16 bits per chunk): compare yields
    assert fast.bits_used == pytest.approx(out_bits / fast.vn_yield, rel=1e-6)
    assert exact.bits_used == pytest.approx(out_bits / fast.vn_yield, rel=0.03)
