"""The TRNG macro: card checks, traceable blocks, totals recomputed by hand, the SPICE energy split,
the comparison table, the MAC counter and the energy of an image."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from compact_models import CardError
from compact_models.card_file import load_card_file
from compact_models.macro import MACRO, load_macro_card
from compact_models.published_trngs import PUBLISHED_TRNGS
from compact_models.trng_cell import TRNG_CELL
from cosim.app.cli import main as vcma_main
from cosim.app.macro_table import comparison_markdown, image_energy, macro_report
from cosim.circuit.macro import macro_blocks, macro_summary
from diffusion.macs import denoiser_macs, macs_per_sample

SHARES = {"reset": 10e-15, "write": 7e-15, "driver_other": 0.0, "read_bias": 4e-15, "sense_amp": 12e-15}


@pytest.mark.parametrize("text,needle", [
    ("rows = 0", "'rows' = 0 is out of its physical range [1, 4096]"),
    ("calibration_duty = 1.5", "'calibration_duty' = 1.5 is out of its physical range [0, 1]"),
    ("dac_bits = 6.5", "'dac_bits' = 6.5 must be a whole number"),
    ("node_nm = 28", "'node_nm' = 28 nm is out of its physical range [45, 45]"),
    ("word_bits = \"12\"", "'word_bits' must be a finite number"),
    ("bogus = 1", "unknown TRNG-macro card parameter(s) ['bogus']"),
    ("rows_parallel = 65", "'rows_parallel' = 65 is more than rows = 64"),
])
def test_bad_macro_card_field_is_one_line(tmp_path, capsys, text, needle):
    card = tmp_path / "m.toml"
    card.write_text(f"[macro]\n{text}\n")
    with pytest.raises(CardError) as err:
        load_macro_card(card)
    assert needle in str(err.value) and str(card) in str(err.value) and "\n" not in str(err.value)
    assert vcma_main(["trng", "macro", "--card", str(card)]) == 2  # fails before any SPICE
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vcma: error: ") and needle in lines[0]


def test_card_file_with_macro_table(tmp_path):
    card = tmp_path / "p.toml"
    card.write_text("[trng_cell]\nbase = \"tt\"\n[macro]\nrows = 128\ncalibration_duty = 0.25\n")
    assert load_card_file(card).trng_cell.v_write_V == 0.85  # the process cards ignore [macro]
    macro = load_macro_card(card)
    assert (macro.rows, macro.cols, macro.calibration_duty) == (128, 64, 0.25)


def test_every_block_carries_its_source():
    blocks = macro_blocks(SHARES)
    spice = [b for b in blocks if b["block"].startswith(("cell reset", "cell write", "driver outside", "read bias",
                                                           "sense amplifier"))]
    assert len(spice) == 5 and all("SPICE netlists/trng_cell.cir" in b["source"] for b in spice)
    cited = ("Horowitz", "Nangate", "Mistry", "CMOS card", "footprint rule", "SPICE")
    for b in blocks:
        assert any(c in b["source"] for c in cited), b
        if b["energy_J"] > 0 and not b["source"].startswith("SPICE"):
            assert "energy:" in b["source"], b  # the energy's own source is named
        if b["area_m2"] > 0:
            assert "area" in b["source"], b


def test_macro_totals_recomputed_by_hand():
    s = macro_summary(macro_blocks(SHARES), MACRO, cycle_time_s=10e-9, raw_bits_per_fair_bit=4.0)
    um2 = 1e-12
    # energy per raw bit: SPICE shares + word-line gate (Cox W L VDD^2) + counter (10 x 3.75 fJ) + von Neumann
    cox = 3.9 * 8.8541878128e-12 / 1.25e-9
    e_raw = 33e-15 + cox * 360e-9 * 45e-9 * 1.0 + 37.5e-15 + 3.75e-15
    assert s["energy_per_raw_bit_J"] == pytest.approx(e_raw, rel=1e-9)
    assert s["energy_per_fair_bit_J"] == pytest.approx(4 * e_raw, rel=1e-9)
    assert s["energy_per_sample_J"] == pytest.approx(48 * e_raw + 12 * 3.75e-15 + 10e-12, rel=1e-9)
    # areas (um^2): footprint (W + 0.09) x 0.32 per transistor; Nangate cells; 0.346 um^2 SRAM bits
    fp = lambda w_um: (w_um + 0.09) * 0.32
    w_n = 45e-9 / (0.0491 * cox * (1.0 - 0.466) * 500) * 1e6
    w_p = 45e-9 / (0.02 * cox * (1.0 - 0.412) * 500) * 1e6
    bits = (4096 * fp(0.36) + 64 * (fp(1.44) + 8 * fp(0.72)) + 64 * 4 * 0.798 + 64 * (2 * fp(w_p) + fp(w_n))
            + 64 * fp(0.36) + 64 * (63 * fp(0.09) + 6 * 4.522) + 64 * 10 * (4.522 + 2.660)
            + 64 * (4.522 + 1.596 + 4.522))
    assert s["area_bit_macro_m2"] == pytest.approx(bits * um2, rel=1e-9)
    assert s["area_macro_m2"] == pytest.approx((bits + 12 * 4.522 + 4096 * 16 * 0.346) * um2, rel=1e-9)
    assert s["raw_bit_per_s"] == pytest.approx(6.4e9) and s["fair_bit_per_s"] == pytest.approx(1.6e9)
    assert s["sample_per_s"] == pytest.approx(1.6e9 / 12)
    assert s["energy_area_fair_bit_J_m2"] == pytest.approx(4 * e_raw * bits * um2, rel=1e-9)


def test_card_changes_move_the_totals_as_counted():
    base = macro_summary(macro_blocks(SHARES))
    two = MACRO.replace(rows_parallel=2, calibration_duty=0.0, vn_state_per_cell=1)
    s = macro_summary(macro_blocks(SHARES, two), two)
    assert s["raw_bit_per_s"] == pytest.approx(2 * base["raw_bit_per_s"])
    assert s["energy_per_raw_bit_J"] == pytest.approx(base["energy_per_raw_bit_J"] - 37.5e-15, rel=1e-9)
    with pytest.raises(ValueError, match="raw_bits_per_fair_bit"):
        macro_summary(macro_blocks(SHARES), raw_bits_per_fair_bit=1.0)


def test_comparison_table_headline_claim_and_published():
    report = macro_report(SHARES)
    rows = report["comparison"]
    assert rows[0]["name"].startswith("this macro, per fair bit") and rows[0]["energy_area_vs_macro"] == 1
    assert rows[0]["energy_area_J_m2"] == pytest.approx(report["summary"]["energy_area_fair_bit_J_m2"])
    assert next(r for r in rows if "Gaussian sample" in r["name"])["energy_area_vs_macro"] is None
    bound = next(r for r in rows if r["name"].startswith("bound"))
    assert bound["energy_area_J_m2"] < rows[0]["energy_area_J_m2"]
    assert any("2407.12261" in r["source"] and "10^3" in r["note"] for r in rows)
    kinds = [t["kind"] for t in PUBLISHED_TRNGS]
    assert len(PUBLISHED_TRNGS) >= 3 and "CMOS" in kinds and "MTJ" in kinds
    assert all(t["source"] and t["node"] for t in PUBLISHED_TRNGS)
    mathew = next(r for r in rows if "2.4 Gbps" in r["source"])
    assert mathew["energy_area_J_m2"] == pytest.approx(2.9e-12 * 4004e-12)
    text = comparison_markdown(rows)
    assert "bound" in text and "not published" in text and text.count("\n") == len(rows) + 1


def test_spice_phase_energies_sum_to_the_cycle_energy():
    from cosim.circuit.trng import run_trng
    from cosim.circuit.trng_energy import phase_energies

    run = run_trng(4, seed=1)
    e = phase_energies(run.result, 4)
    total = sum(e.shares_J.values())
    # The shares integrate each supply's V x I between window edges interpolated on ngspice's time points;
    # the total is ngspice's own integral of the summed power: at the model's ~1 ps steps they agree to ~0.1 %.
    np.testing.assert_allclose(total, e.total_J, rtol=3e-3)
    np.testing.assert_allclose(e.total_J, run.energy_J)
    # the reset pulse fires only after a latched 1 (the cell starts in P)
    fired = e.shares_J["reset"] > 1e-15
    assert list(fired) == [False] + [bool(b) for b in run.bits[:-1]]
    assert (e.shares_J["write"] > 1e-15).all() and (e.shares_J["sense_amp"] > 1e-15).all()
    assert np.abs(e.shares_J["driver_other"]).max() < 1e-18  # the driver sits at 0 V between pulses
    assert (e.driver_loss_J < e.shares_J["reset"] + e.shares_J["write"]).all()
    with pytest.raises(ValueError, match="pass the TRNG-cell card the run used"):
        phase_energies(run.result, 4, TRNG_CELL.replace(t_rest_s=5e-9))


def test_mac_count_of_a_tiny_net_by_hand():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 4, 3, stride=2, padding=1),
                        nn.Conv2d(4, 4, 1, groups=2), nn.Flatten(), nn.Linear(16, 3))
    m = macs_per_sample(net, torch.zeros(5, 1, 4, 4))
    # 2x4x4 outputs x 9; 4x2x2 outputs x (2 x 9); 4x2x2 outputs x 2 (groups); 3 outputs x 16
    assert m == {"conv": 32 * 9 + 16 * 18 + 16 * 2, "linear": 48, "total": 608 + 48}


def test_unet_macs_agree_with_torch_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    from diffusion.unet import UNet, UNetConfig

    model = UNet(UNetConfig(base_channels=8, channel_mult=(1, 2), time_dim=16, groups=4))
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 1, 28, 28), torch.zeros(1, dtype=torch.long))
    assert denoiser_macs(model)["total"] == counter.get_total_flops() // 2


def test_image_energy_by_hand():
    e = image_energy(1_000_000, 10, 100, 1e-11, n_params=1000)
    assert e["compute_J"] == pytest.approx(1e7 * 4.6e-12)
    assert e["weights_J"] == pytest.approx(1000 * 4 / 8 * 10e-12 * 10)
    assert e["noise_J"] == pytest.approx(1e-9)
    assert e["trng_share"] == pytest.approx(1e-9 / (4.6e-5 + 5e-8 + 1e-9))


def test_trng_macro_command_writes_consistent_json(tmp_path, capsys):
    out = tmp_path / "macro.json"
    assert vcma_main(["trng", "macro", "--cycles", "2", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "## Blocks" in text and "## Comparison" in text and "Mathew" in text
    report = json.loads(out.read_text())
    blocks = report["blocks"]
    e_raw = sum(b["energy_J"] for b in blocks if b["scope"] == "bit")
    assert report["summary"]["energy_per_raw_bit_J"] == pytest.approx(e_raw)
    cell = sum(report["cell_bound"]["energy_per_raw_bit_J"] for _ in [0])
    assert cell == pytest.approx(report["cell_run"]["energy_per_bit_J"], rel=1e-3)
    assert math.isclose(report["summary"]["raw_bits_per_fair_bit"], 4.0)


@pytest.mark.parametrize("args,needle", [
    (["--cycles", "0"], "--cycles must be a positive integer"),
    (["--card", "{missing}"], "card file not found"),
    (["--card", "{nomacro}"], "no [macro] table"),
    (["--json", "{dir}"], "--json"),
    (["--seed", "0"], "--seed"),
])
def test_trng_macro_bad_input_is_one_line_before_spice(tmp_path, capsys, monkeypatch, args, needle):
    nomacro = tmp_path / "n.toml"
    nomacro.write_text("[trng_cell]\nbase = \"tt\"\n")
    places = {"{missing}": str(tmp_path / "missing.toml"), "{nomacro}": str(nomacro), "{dir}": str(tmp_path)}
    monkeypatch.setattr("cosim.app.macro_table.measure_shares", lambda *a: pytest.fail("SPICE ran"))
    assert vcma_main(["trng", "macro", *[places.get(a, a) for a in args]]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vcma: error: ") and needle in lines[0], lines
