"""The command line: the main job's command path with reduced counts, and one clear error per bad input."""

import json
import subprocess
import sys

import pytest

from compact_models.render import NETLIST_DIR


def vcma(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "cosim.cli", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_demo_command_path(tmp_path):
    out = tmp_path / "demo"
    proc = vcma("demo", "--out", str(out), "--images", "8", "--cycles", "3", "--trials", "4")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert len(report["trng_cell"]["bits"]) == 3
    assert {"software", "ideal-trng"} <= set(report["images"])
    ideal = report["images"]["ideal-trng"]
    assert ideal["energy_per_image_J"] == pytest.approx(
        ideal["random_bits_per_image"] * report["trng_cell"]["energy_per_bit_J"], rel=1e-9)
    for name in ("switching.png", "trng_cell.png", "digits_software.png", "digits_ideal-trng.png", "report.md"):
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
    (["spice", "trng", "--cycles", "0"], "n_cycles must be a positive integer"),
    (["spice", "run", str(NETLIST_DIR / "trng_cell.cir"), "--corner", "fs"], "unknown device corner 'fs'"),
])
def test_bad_input_gives_one_clear_line(args, message):
    proc = vcma(*args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("vcma: error:") and message in proc.stderr
    assert "Traceback" not in proc.stderr
