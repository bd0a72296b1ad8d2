"""Figures people would rather look at than numbers: waveforms, TRNG cycles, switching curves."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cosim.circuit.spice import SpiceResult  # noqa: E402
from cosim.circuit.stats import Proportion  # noqa: E402


def save_figure(fig, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(out)
    return out


def scale_vector(result: SpiceResult) -> tuple[str, str, float] | None:
    """The x axis of a run: (vector, label, scale): time (ns) for a transient, the swept source for a
    DC sweep (ngspice's ``v-sweep``/``i-sweep``/``temp-sweep``/``res-sweep``), frequency for AC."""
    names = set(result.vectors)
    if "time" in names:
        return "time", "time (ns)", 1e9
    for name in sorted(names):
        bare = name[2:-1] if name.startswith("v(") and name.endswith(")") else name
        if bare in ("v-sweep", "i-sweep", "temp-sweep", "res-sweep"):
            unit = {"v-sweep": "V", "i-sweep": "A", "temp-sweep": "C", "res-sweep": "Ohm"}[bare]
            return name, f"swept {bare.split('-')[0]} ({unit})", 1.0
    if "frequency" in names:
        return "frequency", "frequency (Hz)", 1.0
    return None


def plot_vectors(result: SpiceResult, names: Sequence[str], out: str | Path) -> Path:
    """One panel per vector against the run's scale: time (ns), or the swept value of a DC sweep."""
    scale = scale_vector(result)
    if scale is None:
        raise ValueError("--plot: this run has no time, sweep or frequency vector to plot against; "
                         f"vectors: {sorted(result.vectors)[:20]}")
    x_name, x_label, x_mult = scale
    if not names:
        raise ValueError(f"--plot: no vectors to plot; name some with --vectors (available: {sorted(result.vectors)[:20]})")
    missing = [n for n in names if n.lower() not in result.vectors]
    if missing:
        raise ValueError(f"--vectors: no vector(s) {missing} in this run; available: {sorted(result.vectors)[:20]}")
    x = np.real(result[x_name]) * x_mult
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 1.8 * len(names) + 0.6), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        ax.plot(x, np.real(result[name]), lw=0.8)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(x_label)
    return save_figure(fig, out)


def plot_trng(result: SpiceResult, bits: np.ndarray, cycle_time_s: float, out: str | Path) -> Path:
    """TRNG cycles: magnetisation, cell voltage, sense-amplifier output and latched bit."""
    t_ns = result["time"] * 1e9
    fig, ax = plt.subplots(4, 1, figsize=(10, 8), sharex=True)
    ax[0].plot(t_ns, result["v(xmtj.mz)"], lw=0.8)
    ax[0].set_ylabel("m_z")
    ax[1].plot(t_ns, result["v(bl)"] - result["v(mid)"], lw=0.8)
    ax[1].set_ylabel("V(MTJ) (V)")
    ax[2].plot(t_ns, result["v(bl)"], lw=0.8, label="bit line")
    ax[2].plot(t_ns, result["v(ref)"], lw=0.8, label="reference")
    ax[2].plot(t_ns, result["v(op)"], lw=0.8, label="SA out")
    ax[2].legend(loc="upper right", fontsize=7)
    ax[2].set_ylabel("sense (V)")
    ax[3].plot(t_ns, result["v(q)"], lw=0.8)
    ax[3].set_ylim(-0.1, 1.1)
    for k, b in enumerate(bits):
        ax[3].text((k + 0.5) * cycle_time_s * 1e9, 0.5, str(b), ha="center", transform=ax[3].get_xaxis_transform())
    ax[3].set_ylabel("latched bit q")
    ax[3].set_xlabel("time (ns)")
    for a in ax:
        a.grid(alpha=0.3)
    return save_figure(fig, out)


def plot_switching_curve(x: Sequence[float], probs: Sequence[Proportion], xlabel: str, out: str | Path,
                         marker: float | None = None, marker_label: str = "") -> Path:
    """Switching probability with its binomial confidence band."""
    p = np.array([q.p for q in probs])
    lo, hi = np.array([q.ci for q in probs]).T
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.fill_between(x, lo, hi, alpha=0.25, label=f"{probs[0].level:.0%} CI")
    ax.plot(x, p, "o-", label="P(switch)")
    if marker is not None:
        ax.axvline(marker, ls="--", color="gray", label=marker_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("switching probability")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, out)


POSITION_MAPS = {
    "read": [("i_read_P_A", 1e6, "I_read P (uA)"), ("i_read_AP_A", 1e6, "I_read AP (uA)"),
             ("margin_V", 1e3, "margin (mV)"), ("sense_error_rate", 1.0, "sense error rate (fit)"),
             ("sense_error_ci_high", 1.0, "sense error 95 % upper bound")],
    "write": [("v_cell_fraction", 1.0, "v_cell / drive"), ("v_half_row_V", 1.0, "half-select (row) V"),
              ("p_switch", 1.0, "P(switch) selected"), ("p_half_select_disturb_ci_high", 1.0,
                                                          "half-select disturb 95 % upper bound")],
}


def plot_position_lut(lut, out: str | Path) -> Path:
    """A read or write LUT: one heat map per variable over (row, col) of the simulated array."""
    panels = [p for p in POSITION_MAPS[lut.kind] if p[0] in lut.variables]
    r, c = lut.axis("row"), lut.axis("col")
    fig, ax = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for a, (name, scale, label) in zip(ax[0], panels):
        im = a.pcolormesh(c, r, lut.variables[name][2] * scale, shading="nearest", cmap="viridis")
        fig.colorbar(im, ax=a, label=label)
        a.invert_yaxis()
        a.set_xlabel("column")
        a.set_ylabel("row")
        a.set_title(name, fontsize=9)
    prov = lut.provenance
    fig.suptitle(f"{lut.kind} LUT: corner {prov.get('corner')}, {prov.get('temp_C')} C, array {prov.get('array')}"
                 + (f", scheme {prov['scheme']} at {prov.get('v_drive_V')} V" if lut.kind == "write" else ""))
    return save_figure(fig, out)


def plot_lut(lut, out: str | Path) -> Path:
    """A trng LUT: switching curves with confidence bands per pulse width, a heat map, and energy; with a
    fit (:func:`cosim.luts.fit.add_fit`), one small panel per width below: the raw counts with their 95 %
    Clopper-Pearson bars, the fitted curve and its 95 % band.
    A read or write LUT: heat maps over array position (:func:`plot_position_lut`)."""
    if lut.kind in POSITION_MAPS:
        return plot_position_lut(lut, out)
    v = lut.axis("v_write_V")
    t = lut.axis("t_pulse_s")
    p = lut.variables["p_switch"][2]
    fitted = "p_switch_fit" in lut.variables
    n_rows = 1 + (-(-len(t) // FIT_PANELS_PER_ROW) if fitted else 0)
    fig = plt.figure(figsize=(15, 4 + 2.4 * (n_rows - 1)))
    grid = fig.add_gridspec(n_rows, 1, height_ratios=[4] + [2.4] * (n_rows - 1), hspace=0.45)
    ax = grid[0].subgridspec(1, 3, wspace=0.3).subplots()
    has_ci = "p_switch_ci_low" in lut.variables and "p_switch_ci_high" in lut.variables
    for j, tj in enumerate(t):
        ax[0].plot(v, p[:, j], "o-", ms=3, label=f"{tj * 1e9:.2f} ns")
        if has_ci:
            ax[0].fill_between(v, lut.variables["p_switch_ci_low"][2][:, j], lut.variables["p_switch_ci_high"][2][:, j],
                               alpha=0.15)
    ax[0].set_xlabel("write amplitude (V)")
    ax[0].set_ylabel("P(switch), 95 % CI")
    ax[0].legend(fontsize=7)
    im = ax[1].pcolormesh(t * 1e9, v, p, shading="nearest", vmin=0, vmax=1, cmap="viridis")
    fig.colorbar(im, ax=ax[1], label="P(switch)")
    ax[1].set_xlabel("pulse width (ns)")
    ax[1].set_ylabel("write amplitude (V)")
    if "energy_per_bit_J" in lut.variables and "v_energy_V" in lut.axes:
        ax[2].plot(lut.axis("v_energy_V"), lut.variables["energy_per_bit_J"][2] * 1e15, "o-")
    ax[2].set_xlabel("write amplitude (V)")
    ax[2].set_ylabel("TRNG cell energy per bit (fJ)")
    for a in ax:
        a.grid(alpha=0.3)
    if fitted:
        _plot_fit_panels(lut, grid[1:].subgridspec(n_rows - 1, FIT_PANELS_PER_ROW, hspace=0.5, wspace=0.08))
    fig.suptitle(f"trng LUT: corner {lut.provenance.get('corner')}, {lut.provenance.get('temp_C')} C")
    return save_figure(fig, out)


FIT_PANELS_PER_ROW = 5


def _plot_fit_panels(lut, grid) -> None:
    """Per pulse width: raw k/n with 95 % Clopper-Pearson bars, the fitted P(switch) and its 95 % band."""
    from cosim.luts.fit import clopper_pearson, fit_table

    v, t = lut.axis("v_write_V"), lut.axis("t_pulse_s")
    p, n = lut.variables["p_switch"][2], lut.variables["trials"][2]
    k = np.round(p * n)
    fit, lo, hi = (lut.variables[name][2] for name in ("p_switch_fit", "p_switch_fit_low", "p_switch_fit_high"))
    reports = {round(r["t_pulse_s"], 15): r for r in fit_table(lut)}
    axes = grid.subplots(sharex=True, sharey=True, squeeze=False).ravel()
    for j, a in enumerate(axes):
        if j >= len(t):
            a.set_visible(False)
            continue
        c_lo, c_hi = clopper_pearson(k[:, j], n[:, j])
        a.errorbar(v, p[:, j], yerr=[p[:, j] - c_lo, c_hi - p[:, j]], fmt="o", ms=2.5, lw=0.8, color="k",
                   label="SPICE k/n, 95 % CP")
        a.fill_between(v, lo[:, j], hi[:, j], alpha=0.3, color="C1", label="fit, 95 % band")
        a.plot(v, fit[:, j], color="C1", lw=1.2)
        r = reports.get(round(float(t[j]), 15), {})
        what = f"{r.get('link')}-{r.get('degree')}" if r.get("method") == "glm" else r.get("method", "?")
        a.set_title(f"{t[j] * 1e9:.3f} ns: {what}", fontsize=8)
        a.set_ylim(-0.03, 1.03)
        a.grid(alpha=0.3)
        a.tick_params(labelsize=7)
    axes[0].legend(fontsize=6, loc="upper left")


def plot_emulation(bits: np.ndarray, p_one: np.ndarray, gauss: np.ndarray, out: str | Path) -> Path:
    """Emulated array: one cycle's bit map, P(1) per cell, and Gaussian samples against N(0, 1)."""
    from scipy.stats import norm

    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    ax[0].imshow(bits[0], cmap="gray_r", interpolation="nearest")
    ax[0].set_title("bits, first cycle")
    im = ax[1].imshow(p_one, cmap="coolwarm", vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax[1], label="P(1)")
    ax[1].set_title("P(1) per cell (variation, calibration)")
    x = np.linspace(-4, 4, 200)
    ax[2].hist(gauss, bins=80, density=True, alpha=0.6, label="emulated samples")
    ax[2].plot(x, norm.pdf(x), "k", label="N(0, 1)")
    ax[2].legend()
    ax[2].set_title("bits -> Gaussian")
    return save_figure(fig, out)
