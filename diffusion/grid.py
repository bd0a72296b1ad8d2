"""Save a batch of images as one PNG grid (matplotlib, no display needed)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch


def make_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile (N, 1, H, W) images in [-1, 1] into one (rows*H', cols*W') array in [0, 1]."""
    x = ((torch.as_tensor(images).detach().float().clamp(-1, 1) + 1) / 2).cpu().numpy()
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"expected (N, 1, H, W) images, got shape {x.shape}")
    n, _, h, w = x.shape
    cols = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad), dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = x[k, 0]
    return grid


def save_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int | None = None, title: str | None = None,
              scale: float = 0.35) -> Path:
    """Write the grid as a PNG (grey levels, white gaps); returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    grid = make_grid(images, nrow)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = grid.shape
    fig = plt.figure(figsize=(max(w * scale / 10, 1), max(h * scale / 10, 1) + (0.4 if title else 0)))
    ax = fig.add_axes([0, 0, 1, h * scale / 10 / fig.get_figheight()])
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9, y=0.99)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
