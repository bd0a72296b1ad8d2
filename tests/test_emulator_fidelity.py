"""The emulator on the shipped TT 27 C LUT: against fresh SPICE TRNG-cell runs and NIST SP 800-22."""

import numpy as np
import pytest
import torch

from cosim.noise.emulator import MtjNoise, TrngArrayEmulator, calibrate_v_write
from cosim.luts.lut import Lut, shipped_lut_path
from cosim.noise.nist import run_all
from cosim.circuit.stats import Proportion

N_BITS = 1_000_000


@pytest.fixture(scope="module")
def tt():
    return Lut.load(shipped_lut_path("trng", "tt", 27.0), kind="trng")


def nist_failures(bits) -> list[str]:
    return [r.name for r in run_all(np.asarray(bits, dtype=np.uint8)) if not r.passed]


def nist_proportion_failures(sequences) -> dict[str, float]:
    """SP 800-22 section 4.2.1: over m sequences, each test's pass proportion must reach
    (1 - alpha) - 3 sqrt(alpha (1 - alpha) / m); returns the tests below that bound."""
    results = [run_all(np.asarray(b, dtype=np.uint8)) for b in sequences]
    m, alpha = len(results), 0.01
    bound = (1 - alpha) - 3 * np.sqrt(alpha * (1 - alpha) / m)
    passed = {r.name: 0 for r in results[0]}
    for res in results:
        for r in res:
            passed[r.name] += r.passed
    return {name: k / m for name, k in passed.items() if k / m < bound}


M_SEQUENCES = 10


def test_calibrated_bits_pass_every_nist_test(tt):
    """Ten 10^6-bit sequences, judged by NIST's pass-proportion rule (at alpha = 0.01 a single
    sequence fails any one test 1 % of the time): a varied 64 x 64 chip, column-calibrated, read
    through per-cell von Neumann; and a calibrated chip without variation, raw."""
    gen = torch.Generator().manual_seed(2026)
    src = MtjNoise(TrngArrayEmulator(tt, 64, 64, chip_seed=7), "word:12+vn")
    raw_per_seq = 2 * int(0.55 * N_BITS / src.vn_yield)
    white = [src.transform.whiten(src._bits(raw_per_seq, gen)) for _ in range(M_SEQUENCES)]
    assert min(w.numel() for w in white) >= N_BITS
    assert nist_proportion_failures([w[:N_BITS].numpy() for w in white]) == {}
    flat = TrngArrayEmulator(tt, 64, 64, variation=0)
    assert abs(flat.p_one.mean().item() - 0.5) < 1e-4
    raw = [flat.cycles(N_BITS // 4096 + 1, gen).reshape(-1)[:N_BITS].numpy() for _ in range(M_SEQUENCES)]
    assert nist_proportion_failures(raw) == {}


def test_bits_at_p_045_fail_the_frequency_test(tt):
    v = calibrate_v_write(tt, target=0.45)
    emu = TrngArrayEmulator(tt, 64, 64, v_write_V=v, variation=0)
    assert emu.p_one.mean().item() == pytest.approx(0.45, abs=1e-4)
    bits = emu.cycles(N_BITS // 4096 + 1, torch.Generator().manual_seed(3)).reshape(-1)[:N_BITS]
    assert "frequency" in nist_failures(bits.numpy())


@pytest.mark.slow
def test_emulated_p_one_inside_spice_ci_at_held_out_points(tt):
    """Three operating points off the LUT grid (pulse widths between its 25 ps steps, amplitudes for
    P = 0.25 / 0.5 / 0.75): an 8-cell array emulated for many cycles against 8 fresh SPICE TRNG
    cells (driver, access transistor, sense amplifier; new seeds) x 16 cycles, 99 % CI. The LUT
    holds ideal single pulses; only its one-parameter amplitude correction came from the cell."""
    from cosim.luts.build_trng import cell_bits_point, point_seed
    from cosim.circuit.sweep import run_points

    grid_t = tt.axis("t_pulse_s")
    rows = []
    for target, t in ((0.25, 0.4875e-9), (0.5, 0.5125e-9), (0.75, 0.5375e-9)):
        assert np.min(np.abs(grid_t - t)) > 5e-12  # held out: between grid widths
        v = round(calibrate_v_write(tt, t, target), 3)
        emu = TrngArrayEmulator(tt, 1, 8, v_write_V=v, t_pulse_s=t, variation=0)
        p_emu = emu.cycles(20000, torch.Generator().manual_seed(1)).float().mean().item()
        pts = [dict(v_write_V=v, cycles=16, seed=point_seed(v, t, "fidelity", i), corner="tt", temp_C=27.0,
                    t_pulse_s=t) for i in range(8)]
        bits = np.concatenate([r["bits"] for r in run_points(cell_bits_point, pts, n_jobs=2, desc="SPICE")])
        lo, hi = Proportion(int(bits.sum()), len(bits), 0.99).ci
        rows.append((v, t, p_emu, bits.mean(), lo, hi))
    assert all(lo <= p <= hi for _, _, p, _, lo, hi in rows), rows


@pytest.mark.parametrize("corner,temp_C", [("tt", 27.0), ("ss", 27.0), ("ff", 27.0), ("tt", 85.0)])
def test_every_shipped_trng_lut_drives_a_calibrated_emulator(corner, temp_C):
    lut = Lut.load(shipped_lut_path("trng", corner, temp_C), kind="trng")
    assert "vcma lut build --kind trng" in lut.provenance["command"]
    assert len(lut.axis("t_pulse_s")) == 13 and "cell_check" in lut.provenance
    emu = TrngArrayEmulator(lut, 16, 16, chip_seed=1)
    assert np.abs(emu.p_one.numpy().mean(axis=0) - 0.5).max() < 1e-3
