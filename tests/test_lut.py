"""LUT files (round trip, refusals), the sweep engine (resume, Dask), and LUT-vs-SPICE validation."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cosim.luts.lut import Lut, LutError
from cosim.circuit.sweep import run_points

sys.path.insert(0, str(Path(__file__).parent))
from sweep_fixture import slow_square  # noqa: E402


def small_lut(p=None):
    v = np.array([0.7, 0.8, 0.9])
    t = np.array([0.4e-9, 0.5e-9])
    p = np.array([[0.0, 0.1], [0.3, 0.5], [0.9, 1.0]]) if p is None else p
    return Lut("trng", {"v_write_V": ("V", v), "t_pulse_s": ("s", t)},
               {"p_switch": ("1", ("v_write_V", "t_pulse_s"), p), "energy_per_bit_J": ("J", ("v_write_V",), v * 1e-14)},
               {"corner": "tt", "temp_C": 27.0})


def test_round_trip(tmp_path):
    lut = small_lut()
    back = Lut.load(lut.save(tmp_path / "a.lut.npz"))
    assert back.kind == "trng" and back.provenance == lut.provenance
    for name in lut.variables:
        assert np.array_equal(back.variables[name][2], lut.variables[name][2])
        assert back.variables[name][:2] == lut.variables[name][:2]


def test_interpolation_is_grid_exact_linear_and_refuses_extrapolation():
    lut = small_lut()
    assert lut.interp("p_switch", v_write_V=0.8, t_pulse_s=0.5e-9) == pytest.approx(0.5)
    assert lut.interp("p_switch", v_write_V=0.75, t_pulse_s=0.4e-9) == pytest.approx(0.15)
    line = lut.interp("p_switch", v_write_V=np.linspace(0.7, 0.9, 21), t_pulse_s=0.45e-9)
    assert np.all(np.diff(line) >= 0)
    with pytest.raises(LutError, match="v_write_V = 1.2.*outside the LUT range"):
        lut.interp("p_switch", v_write_V=1.2, t_pulse_s=0.45e-9)
    with pytest.raises(LutError, match="no variable 'nope'"):
        lut.interp("nope", v_write_V=0.8)


def test_corrupted_truncated_wrong_schema_nan_and_kind_are_refused(tmp_path):
    good = small_lut().save(tmp_path / "good.lut.npz")
    blob = good.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(LutError, match="trunc.npz: not a readable LUT"):
        Lut.load(tmp_path / "trunc.npz")
    (tmp_path / "junk.npz").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(LutError, match="junk.npz: not a readable LUT"):
        Lut.load(tmp_path / "junk.npz")
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["__meta__"]))
    meta["schema"] = 99
    np.savez(tmp_path / "schema.npz", **{**arrays, "__meta__": np.array(json.dumps(meta))})
    with pytest.raises(LutError, match="schema 99"):
        Lut.load(tmp_path / "schema.npz")
    nan = arrays["var:p_switch"].copy()
    nan[1, 1] = np.nan
    np.savez(tmp_path / "nan.npz", **{**arrays, "var:p_switch": nan})
    with pytest.raises(LutError, match="nan.npz: variable 'p_switch' holds NaN"):
        Lut.load(tmp_path / "nan.npz")
    meta = json.loads(str(arrays["__meta__"]))
    meta["provenance"]["model_sha256"] = "0" * 64
    np.savez(tmp_path / "model.npz", **{**arrays, "__meta__": np.array(json.dumps(meta))})
    with pytest.raises(LutError, match="another behavioural compact model"):
        Lut.load(tmp_path / "model.npz")
    meta = json.loads(str(arrays["__meta__"]))
    meta["provenance"]["trng_cell_sha256"] = "0" * 64
    np.savez(tmp_path / "cell.npz", **{**arrays, "__meta__": np.array(json.dumps(meta))})
    with pytest.raises(LutError, match="another trng_cell.cir; rerun them with `vcma lut cell"):
        Lut.load(tmp_path / "cell.npz")
    with pytest.raises(LutError, match="a 'trng' LUT where a 'read' LUT is needed"):
        Lut.load(good, kind="read")
    with pytest.raises(LutError, match="not found"):
        Lut.load(tmp_path / "missing.npz")


def test_killed_sweep_resumes_without_recomputing(tmp_path):
    cache, markers = tmp_path / "cache", tmp_path / "markers"
    markers.mkdir()
    points = [{"x": float(x), "marker_dir": str(markers)} for x in range(12)]
    script = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); from sweep_fixture import slow_square; "
              f"from cosim.circuit.sweep import run_points; run_points(slow_square, {points!r}, {str(cache)!r})")
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(list(cache.glob("*.json"))) < 4 and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    finished = len(list(cache.glob("*.json")))
    assert 4 <= finished < 12
    calls_before = len(list(markers.iterdir()))
    results = run_points(slow_square, points, cache)
    assert results == [x * x for x in range(12)]
    assert len(list(markers.iterdir())) - calls_before == 12 - finished


@pytest.mark.slow
def test_dask_local_cluster_gives_bit_identical_results(tmp_path):
    from distributed import LocalCluster

    from cosim.luts.build_trng import point_seed, switching_point

    points = [dict(v_write_V=v, t_pulse_s=0.5e-9, trials=6, seed=point_seed(v), corner="tt", temp_C=27.0)
              for v in (0.8, 0.85)]
    local = run_points(switching_point, points, n_jobs=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_points(switching_point, points, scheduler=cluster.scheduler_address)
    assert local == remote


@pytest.mark.slow
def test_small_lut_matches_fresh_spice_at_held_out_points(tmp_path):
    from cosim.luts.build_trng import build_trng_lut
    from cosim.luts.validate_trng import validate_trng_lut

    axes = {"v_write_V": np.array([0.76, 0.80, 0.84, 0.88]), "t_pulse_s": np.array([0.45e-9, 0.55e-9])}
    lut = build_trng_lut("tt", 27.0, trials=64, n_jobs=2, cache_dir=tmp_path / "cache", axes=axes, energy_cycles=1,
                         check_runs=2)
    lut = Lut.load(lut.save(tmp_path / "small.lut.npz"), kind="trng")
    res = validate_trng_lut(lut, n_points=6, trials=64, n_jobs=2)
    assert res["passed"], res  # Holm across the 6 points: a false alarm at most 1 % of the time
    assert len(res["rows"]) == 6 and res["expected_false_alarms"] == pytest.approx(0.06)
    assert np.all(np.diff(lut.variables["p_switch"][2][:, 0]) >= -0.2)  # rises with amplitude, within noise
    assert lut.provenance["cell_check"]["bits"] == 2 * 16
    assert lut.provenance["cycle_time_s"] == pytest.approx(10e-9)  # 1 + 4 + 1 + 3 + 1 ns (trng_cell.cir)

    # `vcma lut cell` reruns only the cell parts: the switching table is kept, the command recorded
    out = tmp_path / "recell.lut.npz"
    subprocess.run([sys.executable, "-m", "cosim.app.cli", "lut", "cell", str(tmp_path / "small.lut.npz"), "--check-runs",
                    "0", "--cache", str(tmp_path / "cache"), "--out", str(out)], check=True, capture_output=True)
    again = Lut.load(out, kind="trng")
    assert np.array_equal(again.variables["p_switch"][2], lut.variables["p_switch"][2])
    assert again.provenance["command"] == lut.provenance["command"]
    assert "lut cell" in again.provenance["cell_command"] and "cell_check" not in again.provenance
    assert np.array_equal(again.axis("v_energy_V"), lut.axis("v_energy_V"))
    assert np.all(again.variables["energy_per_bit_J"][2] > 0)
