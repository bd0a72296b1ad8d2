"""Crossbar (1T-1MTJ array) read: margins, decisions, disturb, energy; the parts reads and writes share.

Every number comes from ngspice runs of the netlists rendered by
:func:`cosim.circuit.render_crossbar.render_crossbar_read` / ``render_crossbar_write`` (the 16 x 16 defaults
are committed in ``netlists/``). Read maps come from two transients per corner/temperature (array
all P, array all AP) that read every row in turn. Stochastic quantities (read disturb,
switching and half-select disturb, write error rate) come from batched stochastic LLG trials at
the MTJ voltages the array simulation delivers, with seeds recorded.

The write (delivered voltages, switching, half-select disturb, write error rate) is in
:mod:`cosim.circuit.crossbar_write`.

Monte Carlo: each trial draws, per cell, xi, K_i, RA and TMR0 from the corner card with the
one-sigma spreads ``compact_models.DEVICE_SPREADS``, and a threshold shift (BSIM4 ``delvto``)
of sigma ``CmosCard.sigma_vth_V`` for every access, reference and sense-amplifier input
transistor; draws come from ``numpy.random.default_rng([seed, trial])``.
"""

from __future__ import annotations

import functools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compact_models import DEVICE_SPREADS, mtj_card
from compact_models.card import CardError
from compact_models.crossbar import CrossbarCard, check_sense_amp, check_size
from compact_models.render import NETLIST_DIR

from cosim.circuit.deck import NetlistError, cmos_card_for, mtj_card_for
from cosim.circuit.render_crossbar import (CROSSBAR_READ_GAP_S, CROSSBAR_T0_S, render_crossbar_read,
                                          render_crossbar_write)
from cosim.circuit.spice import run_netlist
from cosim.circuit.stats import Proportion
from cosim.circuit.switching import SWEEP_DT_THERMAL_S, final_mz

LIB_DIR = str(NETLIST_DIR) + "/"
"""Folder the rendered crossbar netlists include their libraries from."""
_XB_SPICE = {f: CrossbarCard.__dataclass_fields__[f].metadata["spice"] for f in CrossbarCard.field_names()}


def crossbar_params(overrides: dict | None = None) -> tuple[CrossbarCard, dict[str, float]]:
    """Validate crossbar-card overrides (field or SPICE names) and split them from other parameters.

    Returns the card and the deck parameters (card fields under their SPICE names, others as given).
    """
    overrides = dict(overrides or {})
    by_spice = {v: k for k, v in _XB_SPICE.items()}
    card_over = {}
    other = {}
    for k, v in overrides.items():
        if k in _XB_SPICE:
            card_over[k] = float(v)
        elif k in by_spice:
            card_over[by_spice[k]] = float(v)
        else:
            other[k] = v
    card = CrossbarCard().replace(**card_over)
    params = {_XB_SPICE[k]: v for k, v in card_over.items()}
    params.update(other)
    return card, params


def check_inputs(rows: int, cols: int, corner: str = "tt", model_lib=None, model_corner=None) -> None:
    """One clear error for each bad input, before any simulation starts."""
    check_size(rows, cols)
    mtj_card(corner)  # CardError: unknown device corner
    if model_lib is not None:
        if not Path(model_lib).is_file():
            raise NetlistError(f"PDK model library not found: {model_lib}")
        if not model_corner:
            raise NetlistError(f"a corner (section name) is needed for the PDK library {model_lib}")


@functools.lru_cache(maxsize=64)
def _written(text: str, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="vcma_crossbar_"))
    path = folder / name
    path.write_text(text)
    return path


def read_netlist(rows: int, cols: int, sense_amp: str = "latch", **kwargs) -> Path:
    """The read netlist for this size, rendered once per process into a temporary folder."""
    return _written(render_crossbar_read(rows, cols, sense_amp, netlist_dir=LIB_DIR, **kwargs), "crossbar_read.cir")


def write_netlist(rows: int, cols: int, scheme: str = "v2", sel=None, **kwargs) -> Path:
    return _written(render_crossbar_write(rows, cols, scheme, sel, netlist_dir=LIB_DIR, **kwargs),
                    "crossbar_write.cir")


# Read ---------------------------------------------------------------------------------------------

@dataclass
class ReadResult:
    """Per-position read quantities, arrays indexed [state, row, col] with state 0 = P, 1 = AP (SI units)."""

    rows: int
    cols: int
    corner: str
    temp_C: float
    sense_amp: str
    v_sa_V: np.ndarray          # SA input voltage (voltage mode: the bit line at the SA)
    v_ref_V: np.ndarray         # [state, row] SA reference input
    v_bl_V: np.ndarray          # bit-line voltage at the SA end
    i_read_A: np.ndarray        # cell read current
    decision_ap: np.ndarray     # bool: the latch said AP
    latency_s: np.ndarray       # read latency: read enable to resolved latch (xb_tsense + SA regeneration)
    energy_row_J: np.ndarray    # [state, slot] supply energy of one row read (all columns in parallel)
    t_read_s: float
    runtime_s: float
    card: CrossbarCard = field(repr=False, default_factory=CrossbarCard)

    @property
    def margin_V(self) -> np.ndarray:
        """[state, row, col] signed margin at the SA input: > 0 is on the correct side of the reference."""
        ref = self.v_ref_V[:, :, None]
        return np.stack([ref[0] - self.v_sa_V[0], self.v_sa_V[1] - ref[1]])

    @property
    def signal_V(self) -> np.ndarray:
        """[row, col] read window V_AP - V_P at the SA input (twice the margin of a centred reference)."""
        return self.v_sa_V[1] - self.v_sa_V[0]

    @property
    def margin_min_V(self) -> np.ndarray:
        """[row, col] the smaller of the P and AP margins against the actual reference."""
        return self.margin_V.min(axis=0)

    @property
    def correct(self) -> np.ndarray:
        """[state, row, col] whether the sense decision matches the stored state."""
        return np.stack([~self.decision_ap[0], self.decision_ap[1]])

    @property
    def worst_margin(self) -> tuple[float, tuple[int, int]]:
        m = self.margin_min_V
        idx = np.unravel_index(int(np.argmin(m)), m.shape)
        return float(m[idx]), (int(idx[0]), int(idx[1]))

    @property
    def energy_per_read_J(self) -> float:
        """Mean supply energy of one row read (``cols`` bits)."""
        return float(self.energy_row_J.mean())

    @property
    def energy_per_bit_J(self) -> float:
        return self.energy_per_read_J / self.cols

    @property
    def latency_max_s(self) -> float:
        return float(np.nanmax(self.latency_s))


def _read_once(rows, cols, mz, corner, temp_C, sense_amp, params, backend, model_lib, model_corner, model, render_kw):
    path = read_netlist(rows, cols, sense_amp, **render_kw)
    res = run_netlist(path, {**params, "mz_cells": mz}, corner=corner, temp_C=temp_C, backend=backend,
                      model_lib=model_lib, model_corner=model_corner, model=model)
    return res.measures


def _parse_read(meas: dict, rows: int, cols: int, read_rows: list[int]):
    n = len(read_rows)
    v_sa = np.full((rows, cols), np.nan)
    v_bl = np.full((rows, cols), np.nan)
    dec = np.zeros((rows, cols))
    lat = np.full((rows, cols), np.nan)
    v_ref = np.full(rows, np.nan)
    energy = np.array([meas[f"e_{k}"] for k in range(n)])
    for k, r in enumerate(read_rows):
        v_ref[r] = meas[f"vref_{k}"]
        for c in range(cols):
            v_sa[r, c] = meas[f"vsa_{k}_{c}"]
            v_bl[r, c] = meas[f"vbl_{k}_{c}"]
            dec[r, c] = meas[f"dec_{k}_{c}"]
            lat[r, c] = meas.get(f"lat_{k}_{c}", np.nan)
    return v_sa, v_ref, v_bl, dec, lat, energy


def crossbar_read(rows: int = 16, cols: int = 16, corner: str = "tt", temp_C: float = 27.0,
                  sense_amp: str = "latch", params: dict | None = None, backend: str = "shared",
                  model_lib=None, model_corner=None, n_jobs: int = 1, read_rows=None,
                  mtj_extra=None, mos_extra=None, sa_extra=None, model: str | None = None) -> ReadResult:
    """Read every row of an all-P and an all-AP array; per-position margins, currents, decisions, latency.
    ``model``: the VCMA_MTJ form (see :func:`cosim.circuit.deck.resolve_model`), as in every function here."""
    check_inputs(rows, cols, corner, model_lib, model_corner)
    check_sense_amp(sense_amp)
    card, deck_params = crossbar_params(params)
    read_rows = list(range(rows)) if read_rows is None else list(read_rows)
    render_kw = dict(read_rows=read_rows, mtj_extra=mtj_extra, mos_extra=mos_extra, sa_extra=sa_extra)
    args = [(rows, cols, mz, corner, temp_C, sense_amp, deck_params, backend, model_lib, model_corner, model)
            for mz in (1, -1)]
    start = time.perf_counter()
    if mtj_extra or mos_extra or sa_extra:  # per-cell draws: rendered for this run only
        path = render_tmp(render_crossbar_read(rows, cols, sense_amp, netlist_dir=LIB_DIR, **render_kw))
        metas = [run_netlist(path, {**deck_params, "mz_cells": mz}, corner=corner, temp_C=temp_C, backend=backend,
                             model_lib=model_lib, model_corner=model_corner, model=model).measures for mz in (1, -1)]
        path.unlink()
    else:
        kw = dict(read_rows=tuple(read_rows))
        if n_jobs > 1:
            from joblib import Parallel, delayed
            metas = Parallel(n_jobs=min(n_jobs, 2), backend="loky")(delayed(_read_once)(*a, kw) for a in args)
        else:
            metas = [_read_once(*a, kw) for a in args]
    runtime = time.perf_counter() - start
    parts = [_parse_read(m, rows, cols, read_rows) for m in metas]
    v_sa, v_ref, v_bl, dec, lat, energy = (np.stack(x) for x in zip(*parts))
    if sense_amp == "latch":
        i_read = (card.v_read_V - v_bl) / card.r_load_ohm
    else:
        g_clamp, v_clamp = float(deck_params.get("g_clamp", 2e-3)), float(deck_params.get("v_clamp", 0.25))
        i_read = (v_clamp - v_bl) * g_clamp
    return ReadResult(rows, cols, corner, temp_C, sense_amp, v_sa, v_ref, v_bl, i_read, dec > 0,
                      lat + card.t_sense_s, energy, card.t_read_s + CROSSBAR_READ_GAP_S, runtime, card)


def render_tmp(text: str) -> Path:
    """Write a rendered netlist to a fresh temporary file (the caller deletes it)."""
    fd, name = tempfile.mkstemp(prefix="vcma_xb_", suffix=".cir")
    path = Path(name)
    with open(fd, "w") as fh:
        fh.write(text)
    return path


def read_disturb(v_bias_V: float, t_read_s: float, n_trials: int = 64, seed: int = 1, corner: str = "tt",
                 temp_C: float = 27.0, n_jobs: int = 1, backend: str = "shared",
                 model: str | None = None) -> dict[str, Proportion]:
    """P(a read pulse flips the cell), from P and from AP, with the stochastic LLG on.

    The pulse amplitude is ``v_bias_V`` applied across the MTJ (use the largest bit-line voltage of
    the array read: an upper bound, the access transistor takes a little of it) for ``t_read_s``.
    Seeds: ``seed`` + batch (P start), ``seed`` + 1000 + batch (AP start).
    """
    out = {}
    for name, mz0, s in (("P->AP", 1, seed), ("AP->P", -1, seed + 1000)):
        mz = final_mz(v_bias_V, t_read_s, n_trials, seed=s, corner=corner, temp_C=temp_C,
                      params={"mz0": mz0}, n_jobs=n_jobs, backend=backend, dt_thermal_s=SWEEP_DT_THERMAL_S,
                      model=model)
        out[name] = Proportion(int(np.sum(mz * mz0 < 0)), len(mz))
    return out


# Monte Carlo --------------------------------------------------------------------------------------

def mtj_draw(rng: np.random.Generator, corner: str, temp_C: float, params: dict | None = None) -> str:
    card = mtj_card_for(corner, temp_C, params)  # card fields among params (a process card file) move the centre
    names = {"xi_J_per_V_m": "xi", "ki_J_per_m2": "ki", "ra_ohm_m2": "ra", "tmr0": "tmr0"}
    return " ".join(f"{names[k]}={getattr(card, k) * (1 + s * rng.standard_normal()):.8g}"
                    for k, s in DEVICE_SPREADS.items())


def vth_draw(rng: np.random.Generator, sigma: float) -> str:
    return f"delvto={sigma * rng.standard_normal():.6g}"


def mc_read_draws(rows: int, cols: int, seed: int, trial: int, corner: str, temp_C: float, params: dict | None = None):
    rng = np.random.default_rng([seed, trial])
    sigma = cmos_card_for(params).sigma_vth_V
    mtj = {(r, c): mtj_draw(rng, corner, temp_C, params) for r in range(rows) for c in range(cols)}
    mos = {(r, c): " " + vth_draw(rng, sigma) for r in range(rows) for c in range(cols)}
    mtj = {k: v for k, v in mtj.items()}
    mos.update({("ref", r): " " + vth_draw(rng, sigma) for r in range(rows)})
    sa = {(str(c), k): " " + vth_draw(rng, sigma) for c in range(cols) for k in (1, 2, 3, 4, 5, 6)}
    return mtj, {k: v.strip() for k, v in mos.items()}, {k: v.strip() for k, v in sa.items()}


def mc_read_trial(rows, cols, seed, trial, corner, temp_C, sense_amp, params, backend, model_lib, model_corner,
                  model=None):
    mtj, mos, sa = mc_read_draws(rows, cols, seed, trial, corner, temp_C, params)
    return crossbar_read(rows, cols, corner, temp_C, sense_amp, params, backend, model_lib, model_corner,
                         mtj_extra=mtj, mos_extra=mos, sa_extra=sa, model=model)


@dataclass
class McRead:
    sense_error_rate: Proportion
    results: list[ReadResult]

    @property
    def i_read_A(self) -> np.ndarray:
        """[state, trial*row*col] read currents over all draws."""
        return np.concatenate([r.i_read_A.reshape(2, -1) for r in self.results], axis=1)

    @property
    def margin_min_V(self) -> np.ndarray:
        return np.concatenate([r.margin_min_V.ravel() for r in self.results])


def monte_carlo_read(rows: int = 8, cols: int = 8, trials: int = 2, seed: int = 1, corner: str = "tt",
                     temp_C: float = 27.0, sense_amp: str = "latch", params: dict | None = None,
                     backend: str = "shared", model_lib=None, model_corner=None, n_jobs: int = 1,
                     model: str | None = None) -> McRead:
    """Sense error rate over ``trials`` arrays with device-to-device variation (2 R C reads each)."""
    check_inputs(rows, cols, corner, model_lib, model_corner)
    args = [(rows, cols, seed, t, corner, temp_C, sense_amp, params, backend, model_lib, model_corner, model)
            for t in range(trials)]
    if n_jobs > 1 and trials > 1:
        from joblib import Parallel, delayed
        results = Parallel(n_jobs=min(n_jobs, 2), backend="loky")(delayed(mc_read_trial)(*a) for a in args)
    else:
        results = [mc_read_trial(*a) for a in args]
    errors = sum(int((~r.correct).sum()) for r in results)
    return McRead(Proportion(errors, 2 * rows * cols * trials), results)


__all__ = ["CardError", "ReadResult", "McRead", "crossbar_read", "read_disturb", "monte_carlo_read", "mc_read_trial",
           "check_inputs", "crossbar_params", "read_netlist", "write_netlist", "mtj_draw", "vth_draw", "render_tmp",
           "LIB_DIR",
           "CROSSBAR_T0_S"]
