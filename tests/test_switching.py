"""Stochastic VCMA switching measured by repeated SPICE trials, with binomial confidence bounds."""

import numpy as np
import pytest

from compact_models import mtj_card
from cosim.circuit.stats import Proportion
from cosim.circuit.switching import switching_probability

pytestmark = pytest.mark.slow


def test_binomial_interval_is_exact_clopper_pearson():
    # hand values: 0/32 -> upper = 1 - 0.025^(1/32); 32/32 -> lower = 0.025^(1/32)
    assert Proportion(0, 32).ci[1] == pytest.approx(1 - 0.025 ** (1 / 32), rel=1e-9)
    assert Proportion(32, 32).ci[0] == pytest.approx(0.025 ** (1 / 32), rel=1e-9)


def test_switching_peaks_near_half_precession_period():
    half_period = mtj_card("tt", 300.15).precession_period_s() / 2  # 0.59 ns
    widths = np.array([0.2, 0.4, 0.6, 0.8, 1.2]) * 1e-9
    probs = [switching_probability(1.3, w, 32, seed=21, n_jobs=2) for w in widths]
    p = np.array([q.p for q in probs])
    best = int(np.argmax(p))
    assert abs(widths[best] - half_period) <= 0.2e-9, [str(q) for q in probs]
    assert probs[best].ci[0] > probs[0].ci[1]
    assert probs[best].ci[0] > probs[-1].ci[1]


def test_switching_rises_with_amplitude_below_cancellation():
    volts = [0.7, 0.8, 0.9]
    probs = [switching_probability(v, 0.5e-9, 32, seed=31, n_jobs=2) for v in volts]
    p = [q.p for q in probs]
    assert p == sorted(p), [str(q) for q in probs]
    assert probs[-1].ci[0] > probs[0].ci[1]


def test_seeded_trials_reproduce():
    a = switching_probability(0.8, 0.5e-9, 8, seed=3)
    b = switching_probability(0.8, 0.5e-9, 8, seed=3, n_jobs=2, batch=4)
    c = switching_probability(0.8, 0.5e-9, 8, seed=3, batch=4)
    assert b == c  # same batches, same seeds, whatever the number of workers
    assert a.n == b.n == 8


def test_sweep_settle_time_reads_the_settled_state():
    """After a pulse the free layer rings on a wide orbit (damping time 3.8 ns); the sweep reads m_z at
    SWEEP_T_SETTLE_S. Same seeds, so each trial's noise is the same up to then: its sign must agree with
    the sign after an 8 ns settle in nearly every trial at a P ~ 0.5 point (binomial: >= 60 of 64)."""
    from cosim.circuit.switching import SWEEP_T_SETTLE_S, final_mz

    short = final_mz(0.8, 0.5e-9, 64, seed=41, n_jobs=2, t_settle=SWEEP_T_SETTLE_S)
    long = final_mz(0.8, 0.5e-9, 64, seed=41, n_jobs=2, t_settle=8e-9)
    assert 10 < np.sum(long < 0) < 54  # a point where both outcomes are common
    assert np.sum(np.sign(short) == np.sign(long)) >= 60
    assert np.mean(np.abs(long)) > np.mean(np.abs(short))  # the orbit shrinks towards the well
