"""The compiled Verilog-A model against the behavioural reference through the toolkit's own runner:
the same switching statistics, and a clear fallback where ngspice cannot load OSDI."""

from __future__ import annotations

import pytest
from scipy.stats import fisher_exact

from compact_models import osdi
from cosim.circuit import deck
from cosim.circuit.switching import switching_probability

POINTS = [(1.3, 0.30e-9), (1.3, 0.45e-9), (1.3, 0.90e-9), (0.78, 0.5e-9), (0.82, 0.5e-9), (0.86, 0.5e-9)]
"""1.3 V across widths (rising flank, near certainty, falling flank) and 0.5 ns across the amplitude transition."""


@pytest.mark.slow
@pytest.mark.parametrize("v,t", POINTS)
def test_switching_probability_agrees_with_the_behavioural_model(v, t):
    """Independent seeds, 128 trials per model: Fisher's exact test must not reject equality at the 1 % level."""
    va = switching_probability(v, t, 128, seed=101, n_jobs=2, model="va")
    ref = switching_probability(v, t, 128, seed=90001, n_jobs=2, model="behavioural")
    _, p = fisher_exact([[va.k, va.n - va.k], [ref.k, ref.n - ref.k]])
    assert p > 0.01, (v, t, va, ref)


def test_without_osdi_the_behavioural_model_runs_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(osdi, "ngspice_has_osdi", lambda exe=None: False)
    deck.default_model.cache_clear()
    try:
        assert deck.default_model() == "behavioural"
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot load compiled Verilog-A" in err and "behavioural" in err
        with pytest.raises(deck.NetlistError, match="needs an ngspice that loads OSDI"):
            deck.resolve_model("va")
    finally:
        deck.default_model.cache_clear()


def test_unknown_model_is_refused():
    with pytest.raises(deck.NetlistError, match=r"unknown VCMA-MTJ model 'spectre'.*\['va', 'behavioural'\]"):
        deck.resolve_model("spectre")


def test_va_deck_names_the_compiled_module_and_the_behavioural_one_does_not(netlist_dir):
    va = deck.build_deck(netlist_dir / "mtj_switching.cir", model="va")
    beh = deck.build_deck(netlist_dir / "mtj_switching.cir", model="behavioural")
    assert f"{deck.OSDI_MARK}{osdi.OSDI_FILE}" in va and "vcma_mtj_va" in va
    assert deck.OSDI_MARK not in beh and ".model vcma_mtj_va" not in beh and "Bgx" in beh
