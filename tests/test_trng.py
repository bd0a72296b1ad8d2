"""The TRNG cell: standalone ngspice and the Python path agree bit for bit; P(1) follows the write pulse."""

import re
import subprocess

import numpy as np
import pytest

from compact_models.render import NETLIST_DIR
from cosim.circuit.render_trng import DEFAULT_TRNG_CYCLES
from cosim.circuit.trng import run_trng

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def python_run():
    return run_trng(DEFAULT_TRNG_CYCLES, seed=1)


def test_standalone_ngspice_gives_the_same_bits(python_run):
    out = subprocess.run(["ngspice", "-b", str(NETLIST_DIR / "trng_cell.cir")], capture_output=True, text=True,
                         timeout=900, cwd="/").stdout
    found = {int(k): float(v) for k, v in re.findall(r"^bit_(\d+)\s*=\s*(\S+)", out, re.M)}
    standalone = np.array([found[k] > 0.5 for k in range(DEFAULT_TRNG_CYCLES)], dtype=np.uint8)
    assert np.array_equal(standalone, python_run.bits)


def test_default_operating_point_is_near_half(python_run):
    lo, hi = python_run.p_one.ci
    assert lo < 0.5 < hi, str(python_run.p_one)
    assert 0 < python_run.bits.sum() < len(python_run.bits)


def test_energy_and_cycle_time_are_physical(python_run):
    # reset slot 1 ns + rest 4 ns + write slot 1 ns + settle 3 ns + read slot 1 ns (trng_cell.cir)
    assert python_run.cycle_time_s == pytest.approx(10e-9, rel=1e-3)
    assert np.all(python_run.energy_J > 0)
    assert 1e-15 < python_run.energy_per_bit_J < 1e-12


def test_weak_write_gives_no_ones():
    weak = run_trng(6, v_write=0.6, seed=2)
    assert weak.bits.sum() == 0
