"""The command line: the main job's command path with reduced counts, and one clear error per bad input."""

import json
import subprocess
import sys

import pytest

from compact_models.render import NETLIST_DIR


def vcma(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "cosim.app.cli", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_demo_command_path(tmp_path):
    from diffusion_fixture import synthetic_trng_lut

    out = tmp_path / "demo"
    lut = synthetic_trng_lut().save(tmp_path / "trng.lut.npz")
    proc = vcma("demo", "--out", str(out), "--images", "6", "--seeds", "2", "--steps", "2", "--cycles", "3",
                "--trials", "4", "--lut", str(lut), "--threads", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert len(report["trng_cell"]["bits"]) == 3
    assert set(report["images"]) == {"software", "ideal-trng", "mtj", "mtj-raw", "biased-0.3"}
    ideal = report["images"]["ideal-trng"]
    assert ideal["energy_per_image_J"] == pytest.approx(
        ideal["random_bits_per_image"] * report["trng_cell"]["energy_per_bit_J"], rel=1e-9)
    macro = report["energy"]["macro"]["summary"]
    assert report["energy"]["macro_energy_per_image_J"]["ideal-trng"] == pytest.approx(
        ideal["random_bits_per_image"] * macro["energy_per_raw_bit_J"], rel=1e-9)
    for name, row in report["images"].items():
        assert len(row["fid_values"]) == 2 and row["fid_ci95"][0] <= row["fid_mean"] <= row["fid_ci95"][1]
        assert row["images_per_s"] > 0 and 0 < row["mean_max_prob"] <= 1
    mtj = report["images"]["mtj"]
    assert mtj["calibration_report"]["calibration"] == "column"
    assert abs(mtj["calibration_report"]["residual_bias"]) < 1e-3
    assert report["images"]["biased-0.3"]["calibration_report"]["p_one_array_mean"] == pytest.approx(0.3, abs=1e-3)
    assert mtj["energy_per_image_J"] == pytest.approx(mtj["random_bits_per_image"] * mtj["energy_per_raw_bit_J"])
    diff = report["fid_difference_vs_software"]["mtj"]
    assert diff["ci95"][0] <= diff["difference"] <= diff["ci95"][1]
    assert macro["raw_bits_per_fair_bit"] == pytest.approx(mtj["raw_bits_per_fair_bit"])
    assert 0 < report["energy"]["image"]["trng_share"] < 1
    text = (out / "report.md").read_text()
    assert "Mathew" in text and "Differences against software" in text and "What this size resolves" in text
    for name in ("switching.png", "trng_cell.png", "report.md", *(f"digits_{s}.png" for s in report["images"])):
        assert (out / name).stat().st_size > 0


def test_spice_run_prints_measures():
    proc = vcma("spice", "run", str(NETLIST_DIR / "mtj_iv.cir"), "--param", "tmr0=1.5")
    assert proc.returncode == 0, proc.stderr
    assert "v_hk_zero" in proc.stdout and "r_ap_100mv" in proc.stdout


@pytest.mark.parametrize("args,message", [
    (["spice", "run", "missing.cir"], "netlist not found: missing.cir"),
    (["spice", "run", str(NETLIST_DIR / "mtj_iv.cir"), "--param", "bogus=1"], "unknown parameter(s) ['bogus']"),
    (["spice", "run", str(NETLIST_DIR / "mtj_iv.cir"), "--param", "alpha=0"], "'alpha' = 0 is out of its physical range"),
    (["spice", "run", str(NETLIST_DIR / "mtj_iv.cir"), "--param", "alpha"], "--param expects NAME=VALUE"),
    (["spice", "trng", "--cycles", "0"], "--cycles must be an integer in 1 .. 10000, got 0"),
    (["spice", "run", str(NETLIST_DIR / "trng_cell.cir"), "--corner", "fs"], "unknown device corner 'fs'"),
])
def test_bad_input_gives_one_clear_line(args, message):
    proc = vcma(*args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("vcma: error:") and message in proc.stderr
    assert "Traceback" not in proc.stderr
