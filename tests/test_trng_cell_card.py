"""TRNG-cell card: documented fields, refusals, consistency checks, and the one path to the netlist."""

import dataclasses
import re

import pytest

from compact_models.card import SPICE_SCALE
from compact_models import CardError
from compact_models.crossbar import CrossbarCard
from compact_models.render import NETLIST_DIR, TRNG_CELL_CARD_FILE, render_trng_cell_card, trng_cell_card_texts
from compact_models.trng_cell import TRNG_CELL, TrngCellCard
from cosim.circuit.deck import build_deck, top_level_params
from cosim.circuit.render_trng import TRNG_FILE, TRNG_T_PULSE_S, render_trng_cell

NETLIST_PARAMS = ("v_write", "t_pulse", "v_reset", "t_reset", "t_rise", "t_slot", "t_rest", "t_settle", "v_read",
                  "r_load", "r_drv", "w_access", "w_sa")
"""The .param names the cell always had: scripts and ``--param`` overrides use them."""


def spice_float(text: str) -> float:
    """A rendered card value ("0.5n", "60k", "0.85") as a number."""
    m = re.fullmatch(r"([-+0-9.eE]+)(meg|[fpnumk])?", text.strip())
    return float(m.group(1)) * (SPICE_SCALE[m.group(2)] if m.group(2) else 1.0)


def _assigned(text: str) -> dict[str, str]:
    return top_level_params(text.splitlines())


def test_every_field_is_documented_with_unit_range_and_spice_name():
    for f in dataclasses.fields(TrngCellCard):
        assert f.metadata["unit"] and f.metadata["doc"] and f.metadata["spice"], f.name
    spice = set(TRNG_CELL.spice_params())
    assert set(NETLIST_PARAMS) <= spice


def test_default_cycle_is_ten_ns():
    assert TRNG_CELL.cycle_time_s == pytest.approx(1e-9 + 4e-9 + 1e-9 + 3e-9 + 1e-9)
    assert TrngCellCard(t_rest_s=2e-9).cycle_time_s == pytest.approx(8e-9)


def test_single_owners_read_the_card():
    assert TRNG_T_PULSE_S == TRNG_CELL.t_pulse_s
    assert CrossbarCard().w_access_m == TRNG_CELL.w_access_m
    assert CrossbarCard().w_sa_m == TRNG_CELL.w_sa_m


def test_unknown_key_is_refused_by_name():
    with pytest.raises(CardError, match="v_wirte"):
        TrngCellCard.from_dict({"v_wirte": 0.9})
    with pytest.raises(CardError, match="t_plse_s"):
        TRNG_CELL.replace(t_plse_s=1e-9)


@pytest.mark.parametrize("field,value,unit", [("v_write_V", -0.1, "V"), ("v_read_V", 2.0, "V"),
                                              ("r_load_ohm", 0.0, "Ohm"), ("w_access_m", 1e-3, "m"),
                                              ("t_rise_s", float("nan"), None)])
def test_out_of_range_value_names_field_range_and_unit(field, value, unit):
    with pytest.raises(CardError, match=field) as err:
        TRNG_CELL.replace(**{field: value})
    if unit is not None:
        lo, hi = dataclasses.fields(TrngCellCard)[TrngCellCard.field_names().index(field)].metadata["range"]
        assert f" {unit} is out of its physical range" in str(err.value)
        assert f"{hi:g}]" in str(err.value)


@pytest.mark.parametrize("overrides,match", [
    (dict(t_pulse_s=0.95e-9), "t_pulse_s .* does not fit its slot"),
    (dict(t_reset_s=1.2e-9), "t_reset_s .* does not fit its slot"),
    (dict(t_slot_s=0.7e-9), "does not fit its slot|read slot"),
    (dict(t_pulse_s=10e-12), "shorter than t_rise_s"),
    (dict(t_ren_s=1.0e-9), "read enable ends"),
    (dict(t_clk_delay_s=0.4e-9), "latch clock"),
])
def test_pulses_and_read_windows_must_fit_their_slots(overrides, match):
    with pytest.raises(CardError, match=match):
        TRNG_CELL.replace(**overrides)


def test_template_holds_no_card_value_and_the_include_holds_all():
    cell = render_trng_cell()
    assert f".include {TRNG_CELL_CARD_FILE}" in cell
    assert not set(_assigned(cell)) & set(TRNG_CELL.spice_params())
    card = _assigned(render_trng_cell_card())
    assert {k: spice_float(v) for k, v in card.items()} == pytest.approx(TRNG_CELL.spice_params())


def test_changing_a_field_changes_the_rendered_card_and_nothing_else_is_needed():
    changed = TRNG_CELL.replace(v_write_V=0.9, t_rest_s=2e-9)
    text = render_trng_cell_card(changed)
    assert text != render_trng_cell_card()
    params = _assigned(text)
    assert spice_float(params["v_write"]) == 0.9 and spice_float(params["t_rest"]) == 2e-9
    assert "8 ns cycle" in text.splitlines()[0]


def test_committed_card_include_equals_rendered():
    for rel, text in trng_cell_card_texts().items():
        assert (NETLIST_DIR / rel).read_text() == text, f"{rel} is stale: run `vcma cards render`"


def test_deck_inlines_the_card_and_overrides_its_params_by_name():
    deck = build_deck(NETLIST_DIR / TRNG_FILE, params={"v_write": 0.9, "t_pulse": 0.4e-9}, model="behavioural")
    params = _assigned(deck)
    assert spice_float(params["v_write"]) == 0.9 and spice_float(params["t_pulse"]) == 0.4e-9
    assert spice_float(params["v_reset"]) == TRNG_CELL.v_reset_V
    assert len(re.findall(r"^\.param v_write=", deck, re.M)) == 1
