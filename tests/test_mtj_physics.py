"""Physics every correct macrospin must reproduce, checked in ngspice against closed forms
computed here by hand from the card (not from the model's own helpers), for both forms of the
compact model: the compiled Verilog-A one and the behavioural reference (fixture ``model``)."""

import math

import numpy as np
import pytest

from compact_models import mtj_card
from cosim.circuit.render_switching import render_switching
from cosim.circuit.spice import run_netlist

MU0 = 4e-7 * math.pi * 1.00000000055  # CODATA 2018 within 1e-9
GAMMA = 1.76e11
KB = 1.380649e-23
T_K = 300.15  # 27 C, the default operating temperature


def card():
    return mtj_card("tt", T_K)


def hand_v_cancel(c) -> float:
    nx = math.pi * c.t_fl_m / (4 * c.diameter_m)
    nz = 1 - 2 * nx
    k_eff0 = c.ki_J_per_m2 / c.t_fl_m - 0.5 * MU0 * c.ms_A_per_m ** 2 * (nz - nx)
    return k_eff0 * c.t_ox_m * c.t_fl_m / c.xi_J_per_V_m


@pytest.fixture
def single_cell(tmp_path, lib_path):
    path = tmp_path / "one.cir"
    path.write_text(render_switching(1, lib=lib_path))
    return path


@pytest.fixture(scope="module", params=["va", "behavioural"])
def iv_result(request, netlist_dir, tmp_path_factory):
    """netlists/mtj_iv.cir; the behavioural model has its anisotropy field on node bz, not an OSDI variable."""
    path = netlist_dir / "mtj_iv.cir"
    if request.param == "behavioural":
        text = path.read_text().replace("@n.xp.n1[bkeff]", "v(xp.bz)")
        path = tmp_path_factory.mktemp("iv") / "mtj_iv_behavioural.cir"
        path.write_text(text.replace(".include vcma_mtj_va.lib", f".include {netlist_dir}/vcma_mtj.lib"))
    return run_netlist(path, model=request.param)


def test_anisotropy_cancels_at_closed_form_voltage(iv_result):
    assert iv_result.measures["v_hk_zero"] == pytest.approx(hand_v_cancel(card()), rel=2e-3)


def test_resistance_and_bias_dependent_tmr(iv_result):
    c = card()
    r_p = c.ra_ohm_m2 / (math.pi * c.diameter_m ** 2 / 4)
    v = iv_result["v(b)"]
    for bias in (0.1, 0.4, 0.8):
        i = int(np.argmin(abs(v - bias)))
        rp = v[i] / iv_result["i(vip)"][i]
        rap = v[i] / iv_result["i(via)"][i]
        # ammeter current flows into the cell's top terminal from b, so it is negative in SPICE's sign
        assert abs(rp) == pytest.approx(r_p, rel=1e-3)
        assert abs(rap) / abs(rp) - 1 == pytest.approx(c.tmr0 / (1 + bias ** 2 / c.vh_V ** 2), rel=1e-3)


def _deterministic_ringing(single_cell, alpha, t_run, model):
    c = card()
    params = {"v_write": hand_v_cancel(c), "t_pulse": t_run, "t_rise": 1e-12, "t_delay": 1e-12,
              "t_settle": 0.5e-9, "noise": 0, "alpha": alpha, "eta_stt": 0.0, "t_therm": 0.0}
    r = run_netlist(single_cell, params, model=model)
    t = r["time"]
    keep = (t > 20e-12) & (t < t_run)
    return t[keep], r["v(x0.mx)"][keep], r["v(x0.mz)"][keep]


def test_precession_frequency_about_bias_field(single_cell, model):
    """With VCMA cancelling the anisotropy only H_x acts: m_z precesses at gamma mu0 Hx / 2 pi."""
    c = card()
    t, _, mz = _deterministic_ringing(single_cell, alpha=0.01, t_run=6e-9, model=model)
    up = np.where((mz[:-1] < 0) & (mz[1:] >= 0))[0]
    crossings = t[up] - mz[up] * (t[up + 1] - t[up]) / (mz[up + 1] - mz[up])
    f_measured = (len(crossings) - 1) / (crossings[-1] - crossings[0])
    f_expected = GAMMA * MU0 * c.hx_A_per_m / (2 * math.pi)
    assert len(crossings) >= 4
    assert f_measured == pytest.approx(f_expected, rel=0.02)


def test_damping_time_constant(single_cell, model):
    """The polar angle from the field axis relaxes as tan(theta/2) ~ exp(-t alpha gamma mu0 H)."""
    c = card()
    alpha = 0.05
    t, mx, _ = _deterministic_ringing(single_cell, alpha=alpha, t_run=8e-9, model=model)
    theta = np.arccos(np.clip(mx / np.sqrt(1.0), -1, 1))
    slope = np.polyfit(t, np.log(np.tan(theta / 2)), 1)[0]
    tau_expected = 1 / (alpha * GAMMA * MU0 * c.hx_A_per_m)
    assert -1 / slope == pytest.approx(tau_expected, rel=0.10)


@pytest.mark.slow
def test_norm_held_over_stochastic_run(single_cell, model):
    r = run_netlist(single_cell, {"v_write": 1.3, "t_pulse": 0.5e-9, "t_settle": 19.4e-9}, seed=3, model=model)
    norm = np.sqrt(r["v(x0.mx)"] ** 2 + r["v(x0.my)"] ** 2 + r["v(x0.mz)"] ** 2)
    assert r["time"][-1] >= 20e-9
    assert np.max(np.abs(norm - 1)) < 1e-3
    assert np.std(r["v(x0.mx)"]) > 0.01  # the run really was stochastic


def boltzmann_var_mx() -> float:
    """var(m_x) = kB T / (mu0 Ms Hk,eff V) about the easy axis without bias field (small angles)."""
    c = card()
    nx = math.pi * c.t_fl_m / (4 * c.diameter_m)
    hk = 2 * c.ki_J_per_m2 / (MU0 * c.ms_A_per_m * c.t_fl_m) - (1 - 3 * nx) * c.ms_A_per_m
    volume = math.pi * c.diameter_m ** 2 / 4 * c.t_fl_m
    return KB * T_K / (MU0 * c.ms_A_per_m * hk * volume)


def time_averaged_mx2(r, n: int, after_s: float) -> float:
    t = r["time"]
    dt = np.diff(t, append=t[-1])
    keep = t > after_s
    return float(np.mean([np.sum((r[f"v(x{k}.mx)"] ** 2 * dt)[keep]) / np.sum(dt[keep]) for k in range(n)]))


@pytest.mark.slow
def test_thermal_equilibrium_boltzmann_variance(tmp_path, lib_path, model):
    """Without bias field or pulse, m_x fluctuates with the Boltzmann variance."""
    n = 16
    path = tmp_path / "eq.cir"
    path.write_text(render_switching(n, lib=lib_path))
    alpha = 0.2  # fast decorrelation: ~0.2 ns, so 18 ns x 16 cells give thousands of samples
    r = run_netlist(path, {"v_write": 0.0, "t_settle": 19e-9, "hx_A_per_m": 0.0, "alpha": alpha}, seed=7, model=model)
    assert time_averaged_mx2(r, n, 2e-9) == pytest.approx(boltzmann_var_mx(), rel=0.15)


def test_thermalising_phase_reaches_boltzmann_equilibrium(tmp_path, lib_path, model):
    """Switching trials start from equilibrium: during t_therm the damping is alpha_therm = 1 with its own
    thermal field, and var(m_x) must be the Boltzmann value within ~0.3 ns, at the sweep's 5 ps
    thermal step, although the card's alpha = 0.01 alone would need ~10 ns."""
    n = 64
    path = tmp_path / "therm.cir"
    path.write_text(f"* thermalising phase\n.include {lib_path}\nVw w 0 0\n"
                    + "".join(f"X{k} w 0 VCMA_MTJ hx=0 t_therm=2n dt_th=5p nid={k + 1}\n" for k in range(n))
                    + ".tran 1p 2n 0 5p\n.end\n")
    r = run_netlist(path, seed=5, model=model)
    assert time_averaged_mx2(r, n, 0.3e-9) == pytest.approx(boltzmann_var_mx(), rel=0.12)


def test_static_model_has_the_same_iv_as_the_held_dynamic_model(tmp_path, netlist_dir, model):
    """VCMA_MTJ_STATIC (array bulk cells) repeats the junction law: it must match VCMA_MTJ hold=1."""
    path = tmp_path / "static.cir"
    path.write_text(f"* static vs dynamic\n.include {netlist_dir}/vcma_mtj.lib\n.include {netlist_dir}/vcma_mtj_static.lib\n"
                    "Vb b 0 0\nV1 b d1 0\nV2 b s1 0\nV3 b d2 0\nV4 b s2 0\n"
                    "XD1 d1 0 VCMA_MTJ noise=0 hold=1 mz0=1\nXS1 s1 0 VCMA_MTJ_STATIC mz0=1\n"
                    "XD2 d2 0 VCMA_MTJ noise=0 hold=1 mz0=-1\nXS2 s2 0 VCMA_MTJ_STATIC mz0=-1\n"
                    ".dc Vb -1 1 0.1\n.end\n")
    r = run_netlist(path, model=model)
    assert np.allclose(r["i(v1)"], r["i(v2)"], rtol=1e-9, atol=1e-15)
    assert np.allclose(r["i(v3)"], r["i(v4)"], rtol=1e-9, atol=1e-15)
    assert np.max(np.abs(r["i(v1)"])) > 1e-6
