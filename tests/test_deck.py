"""Deck building: includes, overrides, corners, seeds, golden netlists, and bad input."""

from pathlib import Path

import pytest

from compact_models.render import NETLIST_DIR
from cosim.circuit.deck import NetlistError, build_deck
from cosim.circuit.render_switching import render_switching
from cosim.circuit.render_trng import render_trng_cell


def _tiny(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "t.cir"
    path.write_text(body)
    return path


def test_deck_text_line_by_line(tmp_path):
    inc = tmp_path / "sub.inc"
    inc.write_text("R2 b 0 {rb}\n")
    path = _tiny(tmp_path, "* tiny\n.param ra=1k rb=2k $ loads\n.include sub.inc\nV1 a 0 1\nR1 a b {ra}\n"
                           ".control\nrun\n.endc\n.tran 1n 10n\n.end\n")
    deck = build_deck(path, {"rb": 3e3}, seed=5, temp_C=85)
    assert deck.splitlines() == ["* tiny", ".temp 85", ".options seed=5", ".param ra=1k rb=3000 $ loads",
                                 "R2 b 0 {rb}", "V1 a 0 1", "R1 a b {ra}", ".tran 1n 10n", ".end"]


def test_card_override_goes_through_the_card(tmp_path):
    deck = build_deck(NETLIST_DIR / "mtj_iv.cir", {"alpha": 0.05, "mtj_hx": 1e4})
    assert ".param mtj_alpha=0.05 " in deck and ".param mtj_hx=10000 " in deck


def test_corner_and_temperature_reach_the_deck():
    ff = build_deck(NETLIST_DIR / "trng_cell.cir", corner="ff", temp_C=85)
    assert "corner ff, 85 C" in ff and ".temp 85" in ff
    assert "vth0=0.436" in ff  # 0.466 - 3 sigma (10 mV)


@pytest.mark.parametrize("kwargs,match", [
    ({"params": {"nosuch": 1.0}}, "unknown parameter"),
    ({"params": {"diameter_m": -1e-9}}, "diameter_m"),
    ({"corner": "zz"}, "unknown device corner 'zz'"),
    ({"model_lib": "/no/such/pdk.lib", "model_corner": "tt"}, "PDK model library not found"),
    ({"seed": 0}, "seed"),
])
def test_bad_input_gives_one_clear_error(kwargs, match):
    with pytest.raises(NetlistError, match=match):
        build_deck(NETLIST_DIR / "trng_cell.cir", **kwargs)


def test_missing_netlist_and_include(tmp_path):
    with pytest.raises(NetlistError, match="netlist not found"):
        build_deck(tmp_path / "nope.cir")
    path = _tiny(tmp_path, "* t\n.include missing.inc\n.end\n")
    with pytest.raises(NetlistError, match="t.cir:2: included file not found"):
        build_deck(path)


def test_user_pdk_library_replaces_shipped_card(tmp_path):
    pdk = tmp_path / "pdk.lib"
    pdk.write_text(".lib slow\n.model nch nmos level=54\n.model pch pmos level=54\n.endl slow\n")
    deck = build_deck(NETLIST_DIR / "trng_cell.cir", model_lib=pdk, model_corner="slow")
    assert f".lib {pdk} slow" in deck and "vth0=0.466" not in deck


def test_committed_generated_netlists_equal_rendered():
    """Generated netlists are golden files: regenerate with `vcma cards render`."""
    assert (NETLIST_DIR / "mtj_switching.cir").read_text() == render_switching()
    assert (NETLIST_DIR / "trng_cell.cir").read_text() == render_trng_cell()
