"""Crossbar figures: margin heat map, read-current histograms, disturb vs position."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cosim.app.plots import save_figure, plt


def plot_margin_map(margin_V: np.ndarray, out: str | Path, title: str = "") -> Path:
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(margin_V * 1e3, origin="upper", cmap="viridis")
    fig.colorbar(im, ax=ax, label="margin at SA input (mV)")
    ax.set_xlabel("column (word/source-line driver at 0)")
    ax.set_ylabel("row (bit-line driver / SA at 0)")
    ax.set_title(title or "read margin over the array")
    return save_figure(fig, out)


def plot_read_current_hist(i_p_A: np.ndarray, i_ap_A: np.ndarray, out: str | Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(i_p_A.ravel() * 1e6, bins=30, alpha=0.6, label="P")
    ax.hist(i_ap_A.ravel() * 1e6, bins=30, alpha=0.6, label="AP")
    ax.set_xlabel("read current (uA)")
    ax.set_ylabel("cells")
    ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(fig, out)


def plot_disturb_vs_position(positions: list[str], probs, out: str | Path, v_mtj=None) -> Path:
    p = np.array([q.p for q in probs])
    lo, hi = np.array([q.ci for q in probs]).T
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(positions))
    ax.errorbar(x, p, yerr=[p - lo, hi - p], fmt="o", capsize=4)
    ax.set_xticks(x, positions, rotation=20, fontsize=8)
    ax.set_ylabel("P(switch) per pulse (95 % CI)")
    ax.set_ylim(-0.02, 1.02)
    if v_mtj is not None:
        for xi, v in zip(x, v_mtj):
            ax.annotate(f"{v:.2f} V", (xi, 0.05), ha="center", fontsize=7)
    ax.grid(alpha=0.3)
    return save_figure(fig, out)
