"""Crossbar read: golden netlists, nodal hand check, nominal margins, corners, energy, bad input."""

import numpy as np
import pytest

from compact_models import CardError, mtj_card
from compact_models.crossbar import CrossbarCard
from compact_models.render import NETLIST_DIR, crossbar_card_texts
from cosim.circuit.crossbar import check_inputs, crossbar_read, read_netlist
from cosim.circuit.deck import NetlistError
from cosim.circuit.render_crossbar import CROSSBAR_T0_S, render_crossbar_read, render_crossbar_write
from cosim.circuit.spice import run_netlist


def test_committed_crossbar_files_equal_rendered():
    """Regenerate with `vcma cards render`."""
    assert (NETLIST_DIR / "crossbar_read.cir").read_text() == render_crossbar_read()
    assert (NETLIST_DIR / "crossbar_write.cir").read_text() == render_crossbar_write()
    for rel, text in crossbar_card_texts().items():
        assert (NETLIST_DIR / rel).read_text() == text


def _nodal(rows, cols, read_row, card, r_cell, r_ref, v_read):
    """Bit-line voltages at the SA end by nodal analysis of the resistive network (switch = 1 Ohm)."""
    names, res = {}, []

    def node(n):
        return names.setdefault(n, len(names))

    cols_all = ["ref"] + [str(c) for c in range(cols)]
    for c in cols_all:
        res.append(("rd", f"bsa{c}", card.r_load_ohm))
        prev = f"bsa{c}"
        for r in range(read_row + 1):
            res.append((prev, f"b{r}_{c}", card.r_bl_ohm))
            prev = f"b{r}_{c}"
        res.append((prev, f"m{c}", r_ref if c == "ref" else r_cell))
        res.append((f"m{c}", f"s{c}", 1.0))
    prev = "sld"
    res.append(("sld", "gnd", card.r_drv_ohm))
    for c in cols_all:
        res.append((prev, f"s{c}", card.r_sl_ohm))
        prev = f"s{c}"
    fixed = {"rd": v_read, "gnd": 0.0}
    for a, b, _ in res:
        for n in (a, b):
            if n not in fixed:
                node(n)
    g = np.zeros((len(names), len(names)))
    i = np.zeros(len(names))
    for a, b, r in res:
        for x, y in ((a, b), (b, a)):
            if x in fixed:
                continue
            g[names[x], names[x]] += 1 / r
            if y in fixed:
                i[names[x]] += fixed[y] / r
            else:
                g[names[x], names[y]] -= 1 / r
    v = np.linalg.solve(g, i)
    return np.array([v[names[f"bsa{c}"]] for c in range(cols)]), v[names["bsaref"]]


def test_ideal_switch_bit_lines_match_nodal_hand_calculation(tmp_path):
    rows, cols = 3, 4
    path = tmp_path / "ideal.cir"
    path.write_text(render_crossbar_read(rows, cols, ideal=True, netlist_dir=str(NETLIST_DIR) + "/"))
    res = run_netlist(path, {"theta_cells": 0})  # MTJs fixed exactly in P: linear R_P
    card, mtj = CrossbarCard(), mtj_card("tt", 300.15)
    r_p = mtj.ra_ohm_m2 / mtj.area_m2
    r_ap = r_p * (1 + mtj.tmr0 / (1 + 0.09 / mtj.vh_V ** 2))
    m = 0.5 * (r_p / (card.r_load_ohm + r_p) + r_ap / (card.r_load_ohm + r_ap))
    r_ref = card.r_load_ohm * m / (1 - m)
    for k in range(rows):
        v_bl, v_ref = _nodal(rows, cols, k, card, r_p, r_ref, card.v_read_V)
        spice = np.array([res.measures[f"vbl_{k}_{c}"] for c in range(cols)])
        np.testing.assert_allclose(spice, v_bl, rtol=0.01)
        assert res.measures[f"vref_{k}"] == pytest.approx(v_ref, rel=0.01)


@pytest.fixture(scope="module")
def nominal():
    return crossbar_read(16, 16, "tt", 27.0)


def test_nominal_read_is_correct_everywhere_and_margin_shrinks_with_distance(nominal):
    r = nominal
    assert r.correct.all(), "a sense decision is wrong at TT, 27 C"
    worst, pos = r.worst_margin
    assert worst > 0.02 and 0 <= pos[0] < 16 and 0 <= pos[1] < 16
    tol = 2e-6  # V: transient measurement resolution
    for m in (r.signal_V, r.margin_V[0]):  # read window, and the margin IR drop eats (P side)
        assert np.all(np.diff(m, axis=0) <= tol), "margin grows away from the sense amplifier"
        assert np.all(np.diff(m, axis=1) <= tol), "margin grows away from the word/source-line drivers"
        assert m[-1, -1] < m[0, 0]
    assert np.all(r.i_read_A[0] > r.i_read_A[1])  # P conducts more
    assert np.all(r.latency_s > r.card.t_sense_s) and r.latency_max_s < r.card.t_read_s


def test_energy_per_read_is_the_integral_of_supply_power(tmp_path):
    path = read_netlist(3, 3, "latch", read_rows=(0, 1, 2))
    res = run_netlist(path, {"mz_cells": -1})
    t = res["time"]
    p = res["v(vdd_s)"] * res["i(vadd)"] + res["v(rd_s)"] * res["i(vard)"]
    card = CrossbarCard()
    t_slot = card.t_read_s + 0.5e-9
    for k in range(3):
        a, b = CROSSBAR_T0_S + k * t_slot - 0.05e-9, CROSSBAR_T0_S + (k + 1) * t_slot - 0.05e-9
        grid = np.union1d(t[(t > a) & (t < b)], [a, b])
        hand = np.trapezoid(np.interp(grid, t, p), grid)
        assert res.measures[f"e_{k}"] == pytest.approx(hand, rel=0.01)
        assert hand > 0


def test_corners_and_temperature_move_read_in_the_physical_direction():
    res = {key: crossbar_read(4, 4, *key) for key in (("tt", 27.0), ("ss", 27.0), ("ff", 27.0), ("tt", 85.0))}
    tt, ss, ff, hot = res[("tt", 27.0)], res[("ss", 27.0)], res[("ff", 27.0)], res[("tt", 85.0)]
    for r in res.values():
        assert r.correct.all()
    # ff: lower RA, faster transistors -> more read current, more energy, faster sensing; lower TMR -> less window
    assert ff.i_read_A.mean() > tt.i_read_A.mean() > ss.i_read_A.mean()
    assert ff.energy_per_read_J > tt.energy_per_read_J > ss.energy_per_read_J
    assert ff.latency_max_s < tt.latency_max_s < ss.latency_max_s
    assert ff.signal_V.min() < tt.signal_V.min() < ss.signal_V.min()
    # 85 C: more resistive wires and slower transistors -> smaller window, slower, no less energy
    assert hot.signal_V.min() < tt.signal_V.min()
    assert hot.latency_max_s > tt.latency_max_s


def test_current_mode_sense_amplifier_reads_correctly():
    r = crossbar_read(3, 3, sense_amp="current")
    assert r.correct.all() and r.worst_margin[0] > 0.01


@pytest.mark.parametrize("kwargs,err,match", [
    (dict(rows=0, cols=4), CardError, "rows must be an integer >= 1"),
    (dict(rows=4, cols=-1), CardError, "cols must be an integer >= 1"),
    (dict(rows=4, cols=4, corner="zz"), CardError, "unknown device corner 'zz'"),
    (dict(rows=4, cols=4, model_lib="/no/such/pdk.lib", model_corner="tt"), NetlistError, "PDK model library not found"),
])
def test_bad_input_gives_one_clear_error(kwargs, err, match):
    with pytest.raises(err, match=match):
        check_inputs(**kwargs)
    with pytest.raises(err, match=match):
        crossbar_read(**kwargs)


def test_bad_sense_amp_is_refused():
    with pytest.raises(CardError, match="unknown sense-amplifier type"):
        crossbar_read(2, 2, sense_amp="magic")
