"""Multiply-accumulates of one denoiser evaluation, counted from the layers a forward pass runs.

Why: the energy of a generated image is dominated by the denoiser, so it is counted, not guessed.
Forward hooks on every ``Conv2d``, ``ConvTranspose2d`` and ``Linear`` read the shapes of what the
layer actually computed: a convolution does ``(C_in / groups) x k_h x k_w`` MACs per output
element, a linear layer ``in_features`` per output element. Normalisation, activations, additions
and resampling are not MACs and are left out (a few per element, far fewer than the convolutions).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def macs_per_sample(model: nn.Module, *inputs: torch.Tensor) -> dict:
    """MACs of one forward pass per sample (batch element): total and per layer type.

    ``inputs`` are the forward's arguments with batch size B; the counts are divided by B.
    """
    counts: dict[str, int] = {"conv": 0, "linear": 0}

    def conv_hook(module: nn.Conv2d | nn.ConvTranspose2d, args, out: torch.Tensor) -> None:
        c_in = module.in_channels
        per_out = c_in // module.groups * math.prod(module.kernel_size)
        if isinstance(module, nn.ConvTranspose2d):  # each input element scatters into k x k x C_out / groups
            counts["conv"] += args[0].numel() * module.out_channels // module.groups * math.prod(module.kernel_size)
        else:
            counts["conv"] += out.numel() * per_out

    def linear_hook(module: nn.Linear, args, out: torch.Tensor) -> None:
        counts["linear"] += out.numel() * module.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    batch = inputs[0].shape[0]
    out = {k: v // batch for k, v in counts.items()}
    out["total"] = out["conv"] + out["linear"]
    return out


def denoiser_macs(model: nn.Module, image_shape: tuple[int, ...] = (1, 28, 28)) -> dict:
    """MACs per image per denoiser step of a ``forward(x_t, t)`` model (the project's UNet)."""
    x = torch.zeros(1, *image_shape)
    t = torch.zeros(1, dtype=torch.long)
    return macs_per_sample(model, x, t)
