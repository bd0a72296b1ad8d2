"""A small UNet noise predictor for 1x28x28 images.

Sized for CPU: three resolutions (28, 14, 7), residual blocks with GroupNorm,
and a sinusoidal time embedding added inside every block. With the default
``base_channels=24`` it has about 0.4 million parameters (1.6 MB of float32
weights) and trains to recognisable digits on two CPU cores in ~20 minutes.
The constructor arguments are the whole configuration, so a checkpoint can
store them as a plain dict (``UNetConfig``) and rebuild the same network.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
import torch.nn.functional as F


@dataclass(frozen=True)
class UNetConfig:
    """Everything needed to rebuild the network (stored in checkpoints)."""

    in_channels: int = 1
    base_channels: int = 24
    channel_mult: tuple[int, ...] = (1, 2, 2)
    time_dim: int = 128
    groups: int = 8

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channel_mult"] = list(self.channel_mult)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "UNetConfig":
        d = dict(d)
        d["channel_mult"] = tuple(d["channel_mult"])
        return cls(**d)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Transformer-style sinusoidal embedding of (possibly fractional) timesteps, shape (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, with the time embedding added in between."""

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.temb = nn.Linear(time_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """eps-prediction UNet: ``forward(x_t, t) -> eps_hat`` with the shape of ``x_t``."""

    def __init__(self, config: UNetConfig | None = None):
        super().__init__()
        cfg = config or UNetConfig()
        self.config = cfg
        td, g = cfg.time_dim, cfg.groups
        chans = [cfg.base_channels * m for m in cfg.channel_mult]
        self.time_mlp = nn.Sequential(nn.Linear(td, td), nn.SiLU(), nn.Linear(td, td))
        self.conv_in = nn.Conv2d(cfg.in_channels, chans[0], 3, padding=1)

        self.down_blocks = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        c_prev = chans[0]
        for i, c in enumerate(chans):
            self.down_blocks.append(ResBlock(c_prev, c, td, g))
            c_prev = c
            if i < len(chans) - 1:
                self.downsamples.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        self.mid = ResBlock(c_prev, c_prev, td, g)

        self.up_blocks = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for i, c in reversed(list(enumerate(chans))):
            self.up_blocks.append(ResBlock(c_prev + c, c, td, g))
            c_prev = c
            if i > 0:
                self.upsamples.append(nn.Conv2d(c, chans[i - 1], 3, padding=1))
                c_prev = chans[i - 1]
        self.norm_out = nn.GroupNorm(g, c_prev)
        self.conv_out = nn.Conv2d(c_prev, cfg.in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        temb = self.time_mlp(timestep_embedding(t, self.config.time_dim))
        h = self.conv_in(x)
        skips = []
        for i, block in enumerate(self.down_blocks):
            h = block(h, temb)
            skips.append(h)
            if i < len(self.downsamples):
                h = self.downsamples[i](h)
        h = self.mid(h, temb)
        for j, block in enumerate(self.up_blocks):
            h = block(torch.cat([h, skips.pop()], dim=1), temb)
            if j < len(self.upsamples):
                h = F.interpolate(h, scale_factor=2, mode="nearest")
                h = self.upsamples[j](h)
        return self.conv_out(F.silu(self.norm_out(h)))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
