"""``vcma diffusion compare``: one clear line per bad input, a tiny real run, and the difference statements."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from cosim.app.cli import main as vcma_main
from cosim.app.compare import TARGET_RELATIVE, within_target
from cosim.app.demo_report import demo_markdown
from cosim.app.scoring import min_images, welch_difference
from diffusion.metrics import detectable_difference


def _error(capsys, out, *args) -> str:
    assert vcma_main(["diffusion", "compare", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vcma: error:") and "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()  # refused before anything is written
    return err


@pytest.mark.parametrize("args,expected", [
    (["--sources", "software,foo"], "--sources: unknown source(s) foo"),
    (["--sources", "mtj"], "--sources must list software"),
    (["--sources", "software"], "--sources must list software (the reference) and at least one other"),
    (["--sources", ","], "--sources: unknown source(s) (none given)"),
    (["--seeds", "1"], "--seeds must be an integer >= 2 (a 95 % interval over seeds needs two values"),
    (["--seeds", "0"], "--seeds must be an integer >= 2"),
    (["--images", "128"], "--images must be an integer >= 129 (FID fits a covariance to 128"),
    (["--images", "-5"], "--images must be an integer >= 129"),
    (["--steps", "0"], "--steps must be a positive integer"),
    (["--threads", "0"], "--threads"),
    (["--seed", "0"], "--seed"),
])
def test_bad_input_is_one_clear_line(capsys, tmp_path, args, expected):
    assert expected in _error(capsys, tmp_path / "out", *args)


def test_minimum_images_is_one_more_than_the_feature_dimension():
    assert min_images(128) == 129
    # with N <= D the sample covariance is singular: rank N - 1
    f = np.random.default_rng(0).normal(size=(128, 128))
    assert np.linalg.matrix_rank(np.cov(f, rowvar=False)) == 127


def test_welch_difference_states_interval_and_detectable_difference():
    a, b = [10.0, 12.0, 11.0, 13.0], [10.0, 10.5, 9.5, 10.0]
    d = welch_difference(a, b)
    va, vb = np.var(a, ddof=1) / 4, np.var(b, ddof=1) / 4
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / 3 + vb ** 2 / 3)
    assert d["difference"] == pytest.approx(1.5) and d["se"] == pytest.approx(se) and d["df"] == pytest.approx(df)
    half = stats.t.ppf(0.975, df) * se
    assert d["ci95"] == pytest.approx([1.5 - half, 1.5 + half])
    assert d["detectable"] == pytest.approx((stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)) * se, rel=0.03)
    assert d["relative_detectable"] == pytest.approx(d["detectable"] / 10.0)
    assert within_target({"relative_ci95": [-0.09, 0.099]}) and not within_target({"relative_ci95": [-0.2, 0.05]})


def test_tiny_run_writes_report_with_consistent_differences(capsys, tmp_path):
    out = tmp_path / "cmp"
    assert vcma_main(["diffusion", "compare", "--sources", "software,mtj", "--images", "129", "--seeds", "2",
                      "--steps", "1", "--threads", "1", "--out", str(out)]) in (0, None)
    printed = capsys.readouterr().out
    for name in ("report.md", "report.json", "compare.png", "digits_software.png", "digits_mtj.png"):
        assert (out / name).stat().st_size > 0
    r = json.loads((out / "report.json").read_text())
    soft, mtj = r["images"]["software"], r["images"]["mtj"]
    assert len(soft["fid_values"]) == len(mtj["kid_values"]) == 2 and r["n_images"] == 129
    for metric in ("fid", "kid"):
        d = r[f"{metric}_difference_vs_software"]["mtj"]
        a, b = np.array(mtj[f"{metric}_values"]), np.array(soft[f"{metric}_values"])
        assert d["difference"] == pytest.approx(a.mean() - b.mean())
        assert d["detectable"] == pytest.approx(detectable_difference(d["se"], d["df"]))
        assert d["ci95"][0] <= d["difference"] <= d["ci95"][1]
    assert all(lo <= k <= hi for k, (lo, hi) in zip(mtj["kid_values"], mtj["kid_bootstrap_ci95"]))
    verdict = "inside" if within_target(r["fid_difference_vs_software"]["mtj"]) else "not inside"
    assert f"is {verdict} +-{TARGET_RELATIVE:.0%}" in printed and "| mtj | FID |" in printed
    assert [ln[:5] for ln in printed.splitlines() if ln.startswith("[")] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]


def test_demo_report_states_what_its_size_resolves():
    row = {"fid_mean": 90.0, "fid_ci95": [60.0, 120.0], "kid_mean": 20.0, "kid_ci95": [10.0, 30.0],
           "mean_max_prob": 0.93, "classes_seen_min": 10, "random_bits_per_image": 0.0, "energy_per_image_J": 0.0,
           "sampling_seconds": 30.0, "images_per_s": 8.0}
    fid = welch_difference([80.0, 100.0, 95.0], [90.0, 110.0, 85.0])
    kid = welch_difference([18.0, 22.0, 21.0], [19.0, 24.0, 17.0])
    r = {"trng_cell": {"bits": "0101", "p_one": 0.5, "p_one_ci95": [0.1, 0.9], "energy_per_bit_J": 4e-14,
                       "time_per_bit_s": 1e-8},
         "switching_vs_width_1p3V": [], "sampler": {"steps": 50, "eta": 1.0}, "n_images": 256, "seeds": [1, 2, 3],
         "classifier_heldout_accuracy": 0.98, "images": {"software": row, "mtj": row},
         "fid_difference_vs_software": {"mtj": fid}, "kid_difference_vs_software": {"mtj": kid},
         "seconds": 1.0, "spice_seconds": 0.5, "threads": 2}
    md = demo_markdown(r)
    assert "| noise | FID | 95 % CI (seeds) | KID |" in md and "| software | 90.0 | [60.0, 120.0] | 20.00 |" in md
    assert (f"software FID differences of {fid['detectable']:.1f} or more "
            f"({fid['detectable'] / 95.0:.0%} of software's FID)") in md
    assert f"KID differences of {kid['detectable']:.2f} or more" in md
