"""Process cards as files (compact_models/card_file.py): format, refusals, deck parameters, LUT card checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from compact_models import MtjCard, mtj_card
from compact_models.card_file import (SHIPPED, CardFileError, ProcessCards, card_differences, load_card_file)
from compact_models.cmos import CmosCard, corner_card

NEW_PROCESS = """name = "test process"
[mtj]
base = "tt"
xi_J_per_V_m = 80e-15
ki_J_per_m2 = 0.9e-3
[cmos]
base = "tt"
vth0_n_V = 0.45
[trng_cell]
base = "tt"
r_load_ohm = 50e3
"""


def write(tmp_path, text, name="process.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def full_file(cards: ProcessCards) -> str:
    """Every field of every section, no base (what a process engineer writes from scratch)."""
    return "\n".join(f"[{s}]\n" + "\n".join(f"{k} = {v!r}" for k, v in values.items())
                     for s, values in cards.as_dict().items()) + "\n"


def test_round_trip(tmp_path):
    cards = load_card_file(write(tmp_path, NEW_PROCESS))
    assert cards.mtj.xi_J_per_V_m == 80e-15 and cards.mtj.alpha == MtjCard().alpha
    assert cards.cmos.vth0_n_V == 0.45 and cards.trng_cell.r_load_ohm == 50e3
    assert cards.crossbar == SHIPPED.crossbar  # a section left out is the shipped card
    again = load_card_file(write(tmp_path, full_file(cards), "full.toml"))
    assert again.as_dict() == cards.as_dict() and again.fingerprint() == cards.fingerprint()
    assert ProcessCards.from_dict(cards.as_dict()).as_dict() == cards.as_dict()


def test_deck_params_hold_only_what_differs(tmp_path):
    cards = load_card_file(write(tmp_path, NEW_PROCESS))
    assert cards.deck_params() == {"xi_J_per_V_m": 80e-15, "ki_J_per_m2": 0.9e-3, "vth0_n_V": 0.45}
    assert cards.cell_params() == {"r_load": 50e3} and cards.crossbar_params() == {}
    shipped = load_card_file(write(tmp_path, '[mtj]\nbase = "tt"\n', "tt.toml"))
    assert shipped.deck_params() == {} and shipped.fingerprint() == SHIPPED.fingerprint()


def test_base_corners(tmp_path):
    cards = load_card_file(write(tmp_path, '[mtj]\nbase = "ff"\n[cmos]\nbase = "ss"\n'))
    assert cards.mtj == mtj_card("ff", 300.0)
    assert cards.cmos == corner_card("ss") and cards.cmos.vth0_n_V == pytest.approx(CmosCard().vth0_n_V + 0.03)


def test_cmos_card_reaches_the_deck(tmp_path):
    """A [cmos] section based on ss, run at --corner tt, gives the shipped library's ss models."""
    from compact_models.render import NETLIST_DIR
    from cosim.circuit.deck import build_deck

    cards = load_card_file(write(tmp_path, '[cmos]\nbase = "ss"\n'))
    models = lambda deck: [ln for ln in deck.splitlines() if ln.startswith(".model")]  # noqa: E731
    via_card = build_deck(NETLIST_DIR / "trng_cell.cir", cards.deck_params(), model="behavioural")
    ss = build_deck(NETLIST_DIR / "trng_cell.cir", corner="ss", model="behavioural")
    tt = build_deck(NETLIST_DIR / "trng_cell.cir", model="behavioural")
    assert models(via_card) == models(ss) != models(tt)


@pytest.mark.parametrize("text,needles", [
    ('[mtj]\nbase = "tt"\nxi_J_per_Vm = 80e-15\n', ["[mtj]", "unknown field 'xi_J_per_Vm'", "did you mean 'xi_J_per_V_m'"]),
    ("[mtj]\nalpha = 0.01\n", ["[mtj]", "no base", "missing: diameter_m"]),
    ('[mtj]\nbase = "tt"\nxi_J_per_V_m = 2e-12\n', ["[mtj]", "xi_J_per_V_m = 2e-12", "allowed range [0, 1e-12] J/(V m)"]),
    ('[cmos]\nbase = "tt"\nvdd_V = "1.1"\n', ["[cmos]", "vdd_V must be a number in [0.3, 2] V", "the string '1.1'"]),
    ('[trng_cell]\nbase = "tt"\nt_slot_s = true\n', ["[trng_cell]", "t_slot_s must be a number", "(0, 1e-07] s"]),
    ('[mtjj]\nbase = "tt"\n', ["unknown section [mtjj]", "did you mean 'mtj'", "[trng_cell]"]),
    ('[trng_cell]\nbase = "ff"\n', ["[trng_cell]", "base = 'ff'", "['tt']"]),
    ('[mtj]\nbase = "tt"\nki_J_per_m2 = 0.4e-3\n', ["[mtj]", "in-plane"]),
    ('[trng_cell]\nbase = "tt"\nt_pulse_s = 2e-9\n', ["[trng_cell]", "t_pulse_s", "does not fit its slot"]),
    ("mtj = 3\n", ["[mtj] must be a section"]),
    ("[mtj\n", ["not a valid TOML card file"]),
])
def test_refusals_name_file_section_field_and_range(tmp_path, text, needles):
    path = write(tmp_path, text)
    with pytest.raises(CardFileError) as err:
        load_card_file(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for needle in needles:
        assert needle in message


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CardFileError, match="card file not found"):
        load_card_file(tmp_path / "nope.toml")


# LUT card checks ------------------------------------------------------------------------------------------------

def tiny_lut(kind_cards: ProcessCards | None):
    from cosim.luts.lut import Lut, card_provenance

    prov = {"corner": "tt", "temp_C": 27.0, **({} if kind_cards is None else card_provenance(kind_cards))}
    v, t = np.array([0.6, 0.7]), np.array([0.4e-9, 0.5e-9])
    return Lut("trng", {"v_write_V": ("V", v), "t_pulse_s": ("s", t)},
               {"p_switch": ("1", ("v_write_V", "t_pulse_s"), np.array([[0.1, 0.2], [0.6, 0.8]]))}, prov)


def test_lut_with_another_card_is_refused_naming_the_field(tmp_path):
    from cosim.luts.lut import Lut, LutError, lut_cards

    cards = load_card_file(write(tmp_path, NEW_PROCESS))
    path = tiny_lut(cards).save(tmp_path / "trng.lut.npz")
    assert lut_cards(Lut.load(path, cards=cards)).as_dict() == cards.as_dict()
    with pytest.raises(LutError) as err:
        Lut.load(path, cards=SHIPPED)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "[mtj] xi_J_per_V_m: LUT 8e-14, requested 1e-13" in message
    assert "[cmos] vth0_n_V" in message and "[trng_cell] r_load_ohm" in message
    one_off = dataclasses.replace(cards, mtj=cards.mtj.replace(xi_J_per_V_m=81e-15))
    with pytest.raises(LutError, match=r"xi_J_per_V_m: LUT 8e-14, requested 8.1e-14") as err:
        Lut.load(path, cards=one_off)
    assert "ki_J_per_m2" not in str(err.value)
    Lut.load(path)  # not asked for a card: not checked


def test_lut_card_check_covers_the_sections_of_its_kind(tmp_path):
    from cosim.luts.lut import Lut

    crossbar_only = dataclasses.replace(SHIPPED, crossbar=SHIPPED.crossbar.replace(r_bl_ohm=2.0))
    path = tiny_lut(crossbar_only).save(tmp_path / "trng.lut.npz")
    Lut.load(path, cards=SHIPPED)  # a trng LUT does not depend on the crossbar card
    assert card_differences(crossbar_only.as_dict(), SHIPPED.as_dict()) == [("crossbar", "r_bl_ohm", 2.0, 1.2)]


def test_lut_without_cards_counts_as_shipped(tmp_path):
    from cosim.luts.lut import Lut, LutError

    path = tiny_lut(None).save(tmp_path / "old.lut.npz")
    Lut.load(path, cards=SHIPPED)
    other = dataclasses.replace(SHIPPED, mtj=SHIPPED.mtj.replace(alpha=0.02), source="new.toml")
    with pytest.raises(LutError, match=r"\[mtj\] alpha: LUT 0.01, requested 0.02"):
        Lut.load(path, cards=other)


def test_broken_card_provenance_is_one_lut_error(tmp_path):
    from cosim.luts.lut import Lut, LutError

    lut = tiny_lut(SHIPPED)
    lut.provenance["cards"] = {"mtj": {"alpha": "fast"}}
    path = lut.save(tmp_path / "bad.lut.npz")
    with pytest.raises(LutError, match="provenance cards cannot be read"):
        Lut.load(path, cards=SHIPPED)


# CLI --------------------------------------------------------------------------------------------------------------

def test_lut_build_refuses_a_bad_card_before_running(tmp_path, monkeypatch, capsys):
    import cosim.luts.build_crossbar as build_crossbar
    import cosim.luts.build_trng as build_trng
    from cosim.app.cli import main

    def never(*args, **kwargs):
        raise AssertionError("a build started with a bad card file")

    monkeypatch.setattr(build_trng, "build_trng_lut", never)
    monkeypatch.setattr(build_crossbar, "build_crossbar_lut", never)
    bad = write(tmp_path, '[mtj]\nbase = "tt"\nxi_J_per_V_m = -1e-15\n')
    for kind in ("trng", "read", "write"):
        out = tmp_path / f"{kind}.lut.npz"
        assert main(["lut", "build", "--kind", kind, "--card", str(bad), "--out", str(out)]) == 2
        assert not out.exists()
    err = capsys.readouterr().err
    assert f"{bad}: [mtj] xi_J_per_V_m = -1e-15 is outside its allowed range [0, 1e-12] J/(V m)" in err


def test_emulate_refuses_a_lut_of_another_card(tmp_path, capsys):
    from cosim.app.cli import main

    card = write(tmp_path, '[mtj]\nbase = "tt"\nxi_J_per_V_m = 80e-15\n')
    assert main(["emulate", "--card", str(card), "--cycles", "4", "--rows", "2", "--cols", "2"]) == 2
    assert "[mtj] xi_J_per_V_m: LUT 1e-13, requested 8e-14" in capsys.readouterr().err
