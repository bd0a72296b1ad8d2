"""Read and write LUTs: tiny builds round-trip, the physics directions, honest error bounds, kind checks."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import special

from cosim.luts.lut import Lut, LutError, shipped_lut_path
from cosim.luts.build_crossbar import fit_error_map, pooled_interval
from cosim.luts.build_write import build_write_lut, same_proportion_p, validate_write_lut
from cosim.circuit.stats import Proportion

SHIPPED = [("tt", 27.0), ("ss", 27.0), ("ff", 27.0), ("tt", 85.0)]
"""Shipped so far (the SS/FF 27 C and TT 85 C builds are still to be made with `vcma lut build`)."""


# Tiny builds (SPICE) -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_read(tmp_path_factory):
    """A 2 x 3 read LUT from 2 Monte Carlo arrays, built through the CLI (the command path users take)."""
    out = tmp_path_factory.mktemp("lut") / "read.lut.npz"
    cmd = [sys.executable, "-m", "cosim.app.cli", "lut", "build", "--kind", "read", "--rows", "2", "--cols", "3",
           "--trials", "2", "--jobs", "1", "--cache", str(out.parent / "cache"), "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "wrote" in res.stdout
    return out


def test_cli_read_build_round_trips_with_provenance(tiny_read):
    lut = Lut.load(tiny_read, kind="read")
    assert list(lut.axis("row")) == [0, 1] and list(lut.axis("col")) == [0, 1, 2]
    assert lut.provenance["command"].split()[-1] == str(tiny_read) and "--kind read" in lut.provenance["command"]
    assert lut.provenance["mc_arrays"] == 2 and lut.provenance["array"] == [2, 3]
    back = Lut.load(lut.save(tiny_read.with_name("again.lut.npz")), kind="read")
    for name, (unit, axes, arr) in lut.variables.items():
        assert back.variables[name][:2] == (unit, axes) and np.array_equal(back.variables[name][2], arr)
    assert back.provenance == lut.provenance


def test_read_ap_current_below_p_current_at_every_position(tiny_read):
    lut = Lut.load(tiny_read, kind="read")
    i_p, i_ap = lut.variables["i_read_P_A"][2], lut.variables["i_read_AP_A"][2]
    assert np.all(i_ap < i_p) and np.all(i_ap > 0)
    # every position: 2 states x 2 arrays decisions; the raw rate is k/n and the bounds bracket it
    n = lut.variables["sense_trials"][2]
    assert np.all(n == 4)
    raw, lo, hi = (lut.variables[k][2] for k in ("sense_error_rate_raw", "sense_error_ci_low", "sense_error_ci_high"))
    assert np.all(lo <= raw) and np.all(raw <= hi) and np.all(hi > 0)


def test_tiny_write_build_round_trips_and_refuses_validation_without_off_grid_points(tmp_path):
    lut = build_write_lut("tt", 27.0, trials=4, n_jobs=1, cache_dir=None, rows=2, cols=2, grid=5)
    back = Lut.load(lut.save(tmp_path / "w.lut.npz"), kind="write")
    assert back.provenance["scheme"] == "v2" and back.provenance["v_drive_V"] == pytest.approx(1.35)
    f = back.variables["v_cell_fraction"][2]
    assert np.allclose(f, back.variables["v_cell_V"][2] / 1.35)
    assert np.all((f > 0.8) & (f < 1.0))  # the drivers, wires and access transistor take a little
    # V/2: cells sharing the selected row see about half the drive, well below the selected cell
    assert np.allclose(back.variables["v_half_row_V"][2], 0.5 * 1.35, atol=0.1)
    assert np.all(back.variables["p_switch_trials"][2] == 4)
    with pytest.raises(LutError, match="nothing off its grid"):
        validate_write_lut(back, 2)


# Statistics helpers (no SPICE) -------------------------------------------------------------------


def test_write_validation_counts_the_luts_own_sampling_error():
    """Fisher's exact test of fresh k/n against the LUT's proportion of its own trials (hand-checked cases)."""
    assert same_proportion_p(0.2344, 32, 26, 64) > 0.01  # 26/64 vs ~8/32: a 32-trial LUT cannot tell these apart
    assert same_proportion_p(1.0, 32, 63, 64) == pytest.approx(1.0)  # one miss in 64 against 32/32
    assert same_proportion_p(0.0, 32, 64, 64) < 1e-15  # plainly different
    from scipy.stats import fisher_exact

    assert same_proportion_p(0.5, 32, 10, 64) == pytest.approx(fisher_exact([[10, 54], [16, 16]])[1])

def test_error_map_fit_recovers_a_known_position_trend():
    r, c = np.arange(8.0), np.arange(6.0)
    rn, cn = r[:, None] / 7, c[None, :] / 5
    truth = special.expit(-4.0 + 1.5 * rn - 0.8 * cn)
    n = np.full(truth.shape, 1e6)
    fitted, beta = fit_error_map(np.round(truth * n), n, r, c, terms=("row", "col"))
    assert beta == pytest.approx([-4.0, 1.5, -0.8], abs=0.02)
    assert np.allclose(fitted, truth, rtol=0.02)
    # the default fits the row only: a column-only pattern gives a map constant in the column
    col_only = special.expit(-3.0 + 0.0 * rn - 1.0 * cn) * np.ones_like(rn)
    fitted, beta = fit_error_map(np.round(col_only * n), n, r, c)
    assert beta[2] == 0 and np.allclose(fitted, fitted[:, :1])
    assert fitted.mean() == pytest.approx(col_only.mean(), rel=0.01)


def test_no_errors_give_rate_zero_and_an_honest_upper_bound():
    n = np.full((3, 3), 16.0)
    fitted, _ = fit_error_map(np.zeros((3, 3)), n, np.arange(3.0), np.arange(3.0))
    assert np.all(fitted == 0)
    # 0 of N: the 95 % Clopper-Pearson upper bound is 1 - 0.025^(1/N) (about 3.7/N), not 0
    assert Proportion(0, 16).ci[1] == pytest.approx(1 - 0.025 ** (1 / 16))
    lo, hi = pooled_interval(0, 144, [0.0, 0.0, 0.0], 0.95)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 144))


def test_pooled_interval_widens_for_clustered_errors():
    # errors all in one of four arrays: the per-array spread must widen the binomial interval
    k, n = 40, 4000
    lo_cp, hi_cp = Proportion(k, n).ci
    lo, hi = pooled_interval(k, n, [0.04, 0.0, 0.0, 0.0], 0.95)
    assert lo <= lo_cp and hi > hi_cp


# Shipped LUTs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["read", "write"])
@pytest.mark.parametrize("corner,temp_C", SHIPPED)
def test_shipped_crossbar_luts_load_with_kind_checked(kind, corner, temp_C):
    path = shipped_lut_path(kind, corner, temp_C)
    assert path.stat().st_size < 100_000
    lut = Lut.load(path, kind=kind)
    assert lut.provenance["corner"] == corner and lut.provenance["temp_C"] == temp_C
    assert "vcma lut build" in lut.provenance["command"] and f"--kind {kind}" in lut.provenance["command"]
    assert list(lut.axes) == ["row", "col"] and lut.axis("row")[0] == 0 and lut.axis("row")[-1] == 15
    need = "sense_error_rate" if kind == "read" else "v_cell_fraction"
    assert need in lut.variables


def test_a_read_lut_is_refused_where_a_write_lut_is_needed():
    path = shipped_lut_path("read", "tt", 27.0)
    with pytest.raises(LutError, match=r"a 'read' LUT where a 'write' LUT is needed"):
        Lut.load(path, kind="write")
    with pytest.raises(LutError, match="needs a 'write' LUT, got a 'read' LUT"):
        validate_write_lut(Lut.load(path), 1)


def test_shipped_read_luts_ap_below_p_with_honest_error_bounds():
    luts = {key: Lut.load(shipped_lut_path("read", *key), kind="read") for key in SHIPPED}
    for lut in luts.values():
        assert np.all(lut.variables["i_read_AP_A"][2] < lut.variables["i_read_P_A"][2])
        hi, rate = lut.variables["sense_error_ci_high"][2], lut.variables["sense_error_rate_raw"][2]
        assert np.all(hi >= rate) and np.all(hi > 0)  # never a bare zero without its bound


def test_shipped_write_luts_lose_voltage_with_distance_from_the_drivers():
    for key in SHIPPED:
        lut = Lut.load(shipped_lut_path("write", *key), kind="write")
        f = lut.variables["v_cell_fraction"][2]
        assert f[0, 0] > f[-1, -1]  # near corner vs far corner
        assert np.all(np.diff(f.mean(axis=1)) < 0.0005) and np.all(np.diff(f.mean(axis=0)) < 0.0005)
        assert f[0, 0] - f[-1, -1] > 0.0005  # more than the transient noise of one array write
        # the selected cell switches far more often than a half-selected cell is disturbed
        assert np.all(lut.variables["p_half_select_disturb_ci_high"][2] < lut.variables["p_switch_ci_low"][2])


def test_shipped_read_luts_follow_the_corners():
    """FF transistors conduct more than SS ones: the read current of every cell orders SS < TT < FF."""
    i = {c: Lut.load(shipped_lut_path("read", c, 27.0), kind="read").variables["i_read_P_A"][2] for c in ("ss", "tt", "ff")}
    assert np.all(i["ss"] < i["tt"]) and np.all(i["tt"] < i["ff"])
