"""The ngspice runner: both backends agree, errors carry ngspice's text, nothing is left broken."""

import numpy as np
import pytest

from cosim.circuit.spice import SpiceError, run_netlist


def _rc(tmp_path, extra=""):
    path = tmp_path / "rc.cir"
    path.write_text("* rc step\n.param r=1k c=1n\nV1 a 0 PULSE(0 1 0 1p 1p 1 2)\nR1 a b {r}\nC1 b 0 {c}\n"
                    f"{extra}.tran 10n 5u\n.meas tran vb1 find v(b) at=1u\n.end\n")
    return path


@pytest.mark.parametrize("backend", ["shared", "subprocess"])
def test_rc_step_matches_hand_value(tmp_path, backend):
    r = run_netlist(_rc(tmp_path), backend=backend)
    assert r.measures["vb1"] == pytest.approx(1 - np.exp(-1), rel=2e-3)  # t = RC
    assert r["time"][-1] == pytest.approx(5e-6)
    assert r.backend == backend


@pytest.mark.parametrize("backend", ["shared", "subprocess"])
@pytest.mark.parametrize("bad,match", [("R9 a 0 1k 2k 3k\n", "deck line"), ("X1 a 0 nosuch\n", "unknown subckt"),
                                       ("M1 a a 0 0 nomodel\n", "could not find a valid modelname")])
def test_ngspice_errors_are_reported_with_its_message(tmp_path, backend, bad, match):
    with pytest.raises(SpiceError, match=match):
        run_netlist(_rc(tmp_path, bad), backend=backend)
    # the process can still simulate afterwards
    assert run_netlist(_rc(tmp_path), backend=backend).measures["vb1"] > 0.6


def test_same_seed_same_noise_across_backends(tmp_path, lib_path):
    from cosim.circuit.render_switching import render_switching

    path = tmp_path / "sw.cir"
    path.write_text(render_switching(2, lib=lib_path))
    params = {"t_pulse": 0.3e-9, "t_settle": 0.5e-9}
    a = run_netlist(path, params, seed=9, backend="shared").measures
    b = run_netlist(path, params, seed=9, backend="shared").measures
    c = run_netlist(path, params, seed=9, backend="subprocess").measures
    d = run_netlist(path, params, seed=10, backend="shared").measures
    assert a == b == c
    assert a != d



@pytest.mark.parametrize("failures", [1, 2, 3])
def test_collapsing_timestep_is_retried_with_merged_breakpoints_then_gear_then_reported(tmp_path, monkeypatch,
                                                                                         failures):
    """ngspice's 'Timestep too small' (in ngspice 46: a thermal-field sample change on a pulse edge, e.g. a TRNG
    cell with a 0.4875 ns pulse at a 5 ps thermal step, which the fidelity test runs) is retried with breakpoints
    closer than 0.1 ps merged, then also with Gear integration; a third failure is reported with every message."""
    import cosim.circuit.spice as spice

    decks = []
    real = spice.run_deck

    def flaky(deck, *args):
        decks.append(deck)
        if len(decks) <= failures:
            raise SpiceError(f"ngspice: doAnalyses: TRAN:  Timestep too small; time = {len(decks)}e-07")
        return real(deck, *args)

    monkeypatch.setattr(spice, "run_deck", flaky)
    if failures == 3:
        with pytest.raises(SpiceError, match=r"(?s)time = 1e-07.*retried with .options minbreak=1e-13: .*time = 2e-07"
                                             r".*minbreak=1e-13 method=gear: .*time = 3e-07"):
            run_netlist(_rc(tmp_path))
    else:
        assert run_netlist(_rc(tmp_path)).measures["vb1"] == pytest.approx(1 - np.exp(-1), rel=2e-3)
    assert len(decks) == min(failures + 1, 3) and "minbreak" not in decks[0]
    assert ".options minbreak=1e-13\n.end" in decks[1]
    if failures >= 2:
        assert ".options minbreak=1e-13 method=gear\n.end" in decks[2]


def test_a_pulse_edge_on_a_thermal_sample_change_runs():
    """The real case: without the merged breakpoints this TRNG cell collapses at its first write edge (5.5875 ns)."""
    from cosim.circuit.trng import run_trng

    run = run_trng(2, v_write=0.84, t_pulse=0.4875e-9, params={"dt_thermal_s": 5e-12}, seed=3)
    assert len(run.bits) == 2
