"""Demo and sensitivity study: reduced runs, reproducibility with emulated noise, one clear error per bad input."""

import csv
import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from diffusion_fixture import synthetic_trng_lut, synthetic_write_lut, tiny_model  # noqa: E402,F401 (tiny_model: a fixture)

from cosim.app.cli import main as vcma_main  # noqa: E402
from cosim.app.demo import demo_source_factories, welch_difference  # noqa: E402
from diffusion.classifier import DEFAULT_CLASSIFIER_PATH  # noqa: E402
from diffusion.train import sample  # noqa: E402

torch.set_num_threads(1)



@pytest.mark.parametrize("name", ["mtj", "mtj-raw", "biased-0.3", "ideal-trng", "software"])
def test_same_seed_and_source_give_bit_identical_images(tiny_model, name):
    factories = demo_source_factories(synthetic_trng_lut(), chip_seed=3, energy_per_bit_J=1e-14, time_per_bit_s=3e-9,
                                      t_pulse_s=0.5e-9)
    kw = dict(n=3, sampler="ddim", steps=4, eta=1.0, progress=False)
    a = sample(tiny_model, noise_source=factories[name](), seed=5, **kw)
    b = sample(tiny_model, noise_source=factories[name](), seed=5, **kw)
    c = sample(tiny_model, noise_source=factories[name](), seed=6, **kw)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_welch_difference():
    d = welch_difference([10.0, 12.0, 11.0], [10.0, 10.5, 9.5])
    assert d["difference"] == pytest.approx(1.0)
    assert d["ci95"][0] < 1.0 < d["ci95"][1] and d["relative"] == pytest.approx(0.1)


def test_sensitivity_tiny_run_writes_plot_and_table(tmp_path):
    from cosim.app.sensitivity import QUICK_LEVELS, run_sensitivity

    luts = tmp_path / "luts"
    luts.mkdir()
    synthetic_trng_lut().save(luts / "trng_tt_27C.lut.npz")
    r = run_sensitivity(tmp_path / "out", n_images=4, steps=1, ref_seeds=2, quick=True, lut_dir=luts, threads=1,
                        progress=False)
    for name in ("sensitivity.png", "sensitivity.csv", "sensitivity.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    rows = list(csv.DictReader((tmp_path / "out" / "sensitivity.csv").open()))
    assert {row["sweep"] for row in rows} == set(QUICK_LEVELS)
    assert len(rows) == sum(len(v) for v in QUICK_LEVELS.values())
    assert all(float(row["fid"]) > 0 for row in rows)
    bias = {row["level"]: float(row["p_one_array_mean"]) for row in rows if row["sweep"] == "bias"}
    assert bias == pytest.approx({"0.3": 0.3, "0.5": 0.5}, abs=1e-3)
    data = json.loads((tmp_path / "out" / "sensitivity.json").read_text())
    assert len(data["references"]["software"]["fid_values"]) == 2 and data["references"]["software"]["fid_ci95"]
    assert "sense_error" in r["summary"]


def _error(capsys, *args):
    assert vcma_main(list(args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("vcma: error:") and "Traceback" not in err and err.count("\n") == 1
    return err


def test_bad_counts(capsys, tiny_model):
    assert "n_images must be a positive integer, got -1" in _error(capsys, "demo", "--images", "-1")
    assert "n_seeds must be a positive integer, got 0" in _error(capsys, "demo", "--seeds", "0")
    assert "unknown demo source(s) ['bogus']" in _error(capsys, "demo", "--sources", "software,bogus")
    assert "n_images must be a positive integer, got 0" in _error(capsys, "diffusion", "sensitivity", "--images", "0")
    assert "--levels expects SWEEP=v1,v2" in _error(capsys, "diffusion", "sensitivity", "--levels", "bias")
    assert "unknown sweep 'bogus'" in _error(capsys, "diffusion", "sensitivity", "--sweeps", "bogus")
    for n in (-1, 0, 2.5):
        with pytest.raises(ValueError, match="number of images n must be a positive integer"):
            sample(tiny_model, n, progress=False)


def test_bad_checkpoints(capsys, tmp_path):
    assert "nope.pt: file not found" in _error(capsys, "demo", "--ddpm", str(tmp_path / "nope.pt"))
    err = _error(capsys, "demo", "--ddpm", str(DEFAULT_CLASSIFIER_PATH))
    assert "format is 'vcma-diffusion-classifier', expected 'vcma-diffusion-ddpm'" in err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert "junk.pt: cannot be read as a torch checkpoint" in _error(capsys, "demo", "--classifier", str(junk))


def test_lut_of_the_wrong_kind(capsys, tmp_path):
    write = synthetic_write_lut().save(tmp_path / "write.lut.npz")
    err = _error(capsys, "demo", "--lut", str(write))
    assert "a 'write' LUT where a 'trng' LUT is needed" in err
    (tmp_path / "luts").mkdir()
    synthetic_write_lut().save(tmp_path / "luts" / "trng_tt_27C.lut.npz")
    err = _error(capsys, "diffusion", "sensitivity", "--lut-dir", str(tmp_path / "luts"))
    assert "a 'write' LUT where a 'trng' LUT is needed" in err
