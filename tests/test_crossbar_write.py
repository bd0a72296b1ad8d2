"""Crossbar write: delivered voltages under V/2 and V/3, switching vs half-select disturb, corners, MC."""

import pytest

from compact_models import CardError
from compact_models.crossbar import HALF_SELECT_FRACTION
from cosim.circuit.crossbar_write import crossbar_write, monte_carlo_write, write_probabilities


@pytest.mark.parametrize("scheme", ["v2", "v3"])
def test_half_selected_cells_see_the_promised_fraction(scheme):
    w = crossbar_write(5, 5, scheme)
    v = w.card.v_write_V
    share = HALF_SELECT_FRACTION[scheme] * v
    ir = 0.06  # V: drivers and wires, at most
    for p in w.row_sharing():  # word line on: the MTJ gets the share less IR and transistor drop
        assert share - ir < w.v_stack_V[p] <= share + 1e-3
        assert w.v_mtj_V[p] <= w.v_stack_V[p] + 1e-3
    for p in w.col_sharing():  # word line off: the stack gets the share, the MTJ almost none
        assert share - ir < w.v_stack_V[p] <= share + 1e-3
        assert abs(w.v_mtj_V[p]) < 0.01
    assert v - 0.1 < w.v_mtj_V[w.sel] < v
    assert w.energy_J > 0 and w.card.t_write_s < w.latency_s < 3 * w.card.t_write_s


def test_disturb_is_far_below_switching_with_confidence_intervals():
    w = crossbar_write(4, 4, "v2")
    probs = write_probabilities(w, n_trials=24, seed=3)
    sw = probs["switch(selected)"]
    for name in ("disturb(row-sharing)", "disturb(column-sharing)"):
        assert probs[name].ci[1] < sw.ci[0], f"{name} {probs[name]} vs switching {sw}"
    assert sw.p > 0.8


def test_corners_and_temperature_move_write_in_the_physical_direction():
    tt, ss, ff = (crossbar_write(3, 3, "v2", corner=c) for c in ("tt", "ss", "ff"))
    hot = crossbar_write(3, 3, "v2", temp_C=85.0)
    assert ff.energy_J > tt.energy_J > ss.energy_J  # lower RA, stronger drivers: more current
    assert hot.v_mtj_V[hot.sel] < tt.v_mtj_V[tt.sel]  # more wire resistance, weaker access device


def test_monte_carlo_write_error_rate_is_seeded():
    a = monte_carlo_write(4, 4, trials=8, seed=5)
    b = monte_carlo_write(4, 4, trials=8, seed=5)
    assert (a.k, a.n) == (b.k, b.n) and a.n == 8 and a.p < 0.5


def test_unknown_scheme_is_refused():
    with pytest.raises(CardError, match="unknown biasing scheme 'v5'"):
        crossbar_write(2, 2, "v5")


@pytest.mark.parametrize("argv,match", [
    (["crossbar-read", "--rows", "0"], "rows must be an integer >= 1"),
    (["crossbar-write", "--cols", "0"], "cols must be an integer >= 1"),
    (["crossbar-read", "--corner", "zz"], "unknown device corner 'zz'"),
    (["crossbar-write", "--model-lib", "/no/such/pdk.lib"], "PDK model library not found"),
    (["crossbar-write", "--scheme", "v9"], "unknown biasing scheme 'v9'"),
])
def test_cli_bad_input_one_clear_error(argv, match, capsys):
    from cosim.app.cli import main

    assert main(["spice"] + argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("error") == 1
