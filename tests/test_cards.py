"""Model cards: the worked card of docs/physics.md, corners, temperature, validation, rendering."""

import math

import pytest

from compact_models import CORNERS, CardError, MtjCard, mtj_card
from compact_models.render import default_card_texts
from compact_models.render import NETLIST_DIR


def test_default_card_matches_design_worked_example():
    c = MtjCard()
    assert c.volume_m3 == pytest.approx(2.16e-24, rel=0.01)
    nx, nz = c.demag
    assert nx == pytest.approx(0.017, abs=5e-4) and nz == pytest.approx(0.965, abs=1e-3)
    assert c.k_eff() == pytest.approx(7.9e4, rel=0.02)
    assert c.delta(300) == pytest.approx(41, abs=1)
    assert c.k_eff(0) - c.k_eff(1.0) == pytest.approx(6.5e4, rel=0.01)
    assert c.v_cancel() == pytest.approx(1.2, abs=0.05)
    assert c.precession_period_s(2.4e4) == pytest.approx(1.19e-9, rel=0.01)


def test_in_plane_card_refused():
    with pytest.raises(CardError, match="in-plane"):
        MtjCard(ki_J_per_m2=0.5e-3)


@pytest.mark.parametrize("field,value", [("diameter_m", -50e-9), ("alpha", 0.0), ("alpha", -0.01),
                                         ("tmr0", 11.0), ("ms_A_per_m", float("nan"))])
def test_out_of_range_values_name_the_parameter(field, value):
    with pytest.raises(CardError, match=field):
        MtjCard().replace(**{field: value})


def test_unknown_key_is_an_error():
    with pytest.raises(CardError, match="alpah"):
        MtjCard.from_dict({"alpah": 0.01})
    with pytest.raises(CardError, match="unknown device corner 'xx'"):
        mtj_card("xx")


def test_corners_order_switching_ease():
    """ff switches more easily (lower cancel voltage, lower barrier) than tt, and tt than ss."""
    vc = {k: mtj_card(k).v_cancel() for k in CORNERS}
    assert vc["ff"] < vc["tt"] < vc["ss"]
    assert mtj_card("ff").delta() < mtj_card("tt").delta() < mtj_card("ss").delta()


def test_hotter_means_weaker_magnet():
    cold, hot = mtj_card("tt", 300.0), mtj_card("tt", 358.15)
    assert hot.ms_A_per_m < cold.ms_A_per_m
    assert hot.delta(358.15) < cold.delta(300.0)
    # Bloch law by hand
    tc = cold.tc_K
    ratio = (1 - (358.15 / tc) ** 1.5) / (1 - (300 / tc) ** 1.5)
    assert hot.ms_A_per_m == pytest.approx(cold.ms_A_per_m * ratio, rel=1e-12)


def test_committed_cards_equal_rendered():
    """netlists/cards is generated: `vcma cards render` must have been run after any card change."""
    for rel, text in default_card_texts().items():
        assert (NETLIST_DIR / rel).read_text() == text, f"{rel} is stale: run `vcma cards render`"


def test_rendered_param_lines_carry_values_and_units():
    text = MtjCard().render_params("t")
    assert ".param mtj_d=5e-08  $ m:" in text
    assert ".param mtj_alpha=0.01  $ 1:" in text
    assert math.isclose(float(text.split(".param mtj_xi=")[1].split()[0]), 100e-15)
