"""DDPM noise schedule, training loss, and samplers with a pluggable noise source.

The point of the project is to swap the sampler's Gaussian noise for noise made
by VCMA-MTJ true random number generators, so the samplers here take every
random draw -- the initial x_T included -- from a ``noise_source`` object with
``randn(shape, generator=None) -> Tensor`` (``cosim.noise.sources.SoftwareNoise``
is plain ``torch.randn``). Nothing in a sampler calls torch's RNG directly, so a
hardware noise model sees exactly the draws a software run would make:

* ancestral DDPM (``ddpm_sample``): one draw for x_T, then one per step except
  the last (t = 0 adds no noise): ``T`` draws of the batch shape per batch.
* DDIM (``ddim_sample``): one draw for x_T, plus, when ``eta > 0``, one per step
  except the last. With ``eta = 0`` it is deterministic after x_T.

Same seed + same noise source + same batch size gives bit-identical images: the
``torch.Generator`` is seeded once and handed to the noise source for every
draw, batch after batch, in a fixed order.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import nn
import torch.nn.functional as F
from tqdm.auto import tqdm


@runtime_checkable
class NoiseSourceLike(Protocol):
    """What a sampler needs from a noise source (see ``cosim/noise/sources.py``)."""

    def randn(self, shape, generator: torch.Generator | None = None) -> torch.Tensor: ...


class TorchNoise:
    """Fallback noise source: ``torch.randn`` (same as ``cosim``'s ``SoftwareNoise``)."""

    def randn(self, shape, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(tuple(shape), generator=generator)


@dataclass(frozen=True)
class ScheduleConfig:
    """Beta schedule description, stored in checkpoints."""

    kind: str = "linear"  # "linear" (Ho et al. 2020) or "cosine" (Nichol & Dhariwal 2021)
    timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ScheduleConfig":
        return cls(**d)


class Schedule:
    """Precomputed float64 schedule tensors (cast to float32 where used)."""

    def __init__(self, config: ScheduleConfig | None = None):
        cfg = config or ScheduleConfig()
        self.config = cfg
        T = cfg.timesteps
        if cfg.kind == "linear":
            betas = torch.linspace(cfg.beta_start, cfg.beta_end, T, dtype=torch.float64)
        elif cfg.kind == "cosine":
            s = 0.008
            steps = torch.arange(T + 1, dtype=torch.float64) / T
            f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
            betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
        else:
            raise ValueError(f"unknown schedule kind {cfg.kind!r} (use 'linear' or 'cosine')")
        self.T = T
        self.betas = betas
        self.alphas = 1.0 - betas
        self.alpha_bars = torch.cumprod(self.alphas, dim=0)
        ab_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bars[:-1]])
        self.alpha_bars_prev = ab_prev
        # q(x_{t-1} | x_t, x_0): mean = c0 * x0 + ct * x_t, variance = beta_tilde
        self.posterior_var = betas * (1 - ab_prev) / (1 - self.alpha_bars)
        self.posterior_c0 = betas * ab_prev.sqrt() / (1 - self.alpha_bars)
        self.posterior_ct = (1 - ab_prev) * self.alphas.sqrt() / (1 - self.alpha_bars)

    @staticmethod
    def _gather(v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return v.to(device=t.device, dtype=torch.float32)[t][:, None, None, None]

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Diffuse clean images to step ``t``: sqrt(abar_t) x0 + sqrt(1 - abar_t) noise."""
        ab = self._gather(self.alpha_bars, t)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        ab = self._gather(self.alpha_bars, t)
        return (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()


def diffusion_loss(
    model: nn.Module, schedule: Schedule, x0: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Simple DDPM loss: MSE between true and predicted noise at a uniform random step.

    Training noise is ordinary software noise (seeded by ``generator``); only
    sampling takes a pluggable noise source.
    """
    b = x0.shape[0]
    t = torch.randint(0, schedule.T, (b,), generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    return F.mse_loss(model(schedule.q_sample(x0, t, noise), t), noise)


def _draw(noise_source, shape, generator, device: torch.device | None = None) -> torch.Tensor:
    """One draw from the noise source, checked, as float32 on ``device`` (the model's)."""
    z = noise_source.randn(tuple(shape), generator=generator)
    z = torch.as_tensor(z)
    if tuple(z.shape) != tuple(shape):
        raise ValueError(
            f"noise source {type(noise_source).__name__} returned shape {tuple(z.shape)}, wanted {tuple(shape)}"
        )
    return z.to(device=device, dtype=torch.float32)


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def progress_bar(total: int, desc: str, enabled: bool) -> tqdm:
    """A sampling progress bar on stderr: redrawn at most every 30 s when stderr is not a terminal (a log
    gets a few lines, not one per step), cleared when done."""
    import sys

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=False,
                mininterval=0.5 if sys.stderr.isatty() else 30.0)


def _batches(n: int, batch_size: int):
    if n < 0 or batch_size <= 0:
        raise ValueError(f"need n >= 0 and batch_size > 0, got n={n}, batch_size={batch_size}")
    for start in range(0, n, batch_size):
        yield min(batch_size, n - start)


@torch.inference_mode()
def ddpm_sample(
    model: nn.Module,
    schedule: Schedule,
    n: int,
    noise_source=None,
    generator: torch.Generator | None = None,
    batch_size: int = 256,
    image_shape: tuple[int, ...] = (1, 28, 28),
    clip_denoised: bool = True,
    progress: bool = True,
) -> torch.Tensor:
    """Ancestral DDPM sampling over all ``T`` steps; returns (n, *image_shape) in [-1, 1].

    Uses the posterior variance beta_tilde_t; x0 estimates are clipped to
    [-1, 1] when ``clip_denoised``.
    """
    ns = noise_source if noise_source is not None else TorchNoise()
    model.eval()
    device = _model_device(model)
    T = schedule.T
    sizes = list(_batches(n, batch_size))
    out = []
    bar = progress_bar(len(sizes) * T, "DDPM sampling", progress)
    for b in sizes:
        shape = (b, *image_shape)
        x = _draw(ns, shape, generator, device)
        for i in reversed(range(T)):
            t = torch.full((b,), i, dtype=torch.long, device=device)
            eps = model(x, t)
            x0 = schedule.predict_x0(x, t, eps)
            if clip_denoised:
                x0 = x0.clamp(-1, 1)
            mean = schedule._gather(schedule.posterior_c0, t) * x0 + schedule._gather(schedule.posterior_ct, t) * x
            if i > 0:
                x = mean + schedule._gather(schedule.posterior_var, t).sqrt() * _draw(ns, shape, generator, device)
            else:
                x = mean
            bar.update(1)
        out.append(x.clamp(-1, 1))
    bar.close()
    return torch.cat(out) if out else torch.empty((0, *image_shape))


def ddim_timesteps(T: int, steps: int) -> list[int]:
    """Evenly spaced timesteps, descending, from T-1 down to 0 (``steps`` of them)."""
    if not 1 <= steps <= T:
        raise ValueError(f"DDIM steps must be in [1, {T}], got {steps}")
    ts = torch.linspace(0, T - 1, steps).round().long().unique().tolist()
    return sorted(ts, reverse=True)


@torch.inference_mode()
def ddim_sample(
    model: nn.Module,
    schedule: Schedule,
    n: int,
    noise_source=None,
    generator: torch.Generator | None = None,
    steps: int = 50,
    eta: float = 0.0,
    batch_size: int = 256,
    image_shape: tuple[int, ...] = (1, 28, 28),
    clip_denoised: bool = True,
    progress: bool = True,
) -> torch.Tensor:
    """DDIM sampling (Song et al. 2021) on ``steps`` strided timesteps; eta=1 ~ ancestral."""
    ns = noise_source if noise_source is not None else TorchNoise()
    model.eval()
    device = _model_device(model)
    ts = ddim_timesteps(schedule.T, steps)
    ab = schedule.alpha_bars
    sizes = list(_batches(n, batch_size))
    out = []
    bar = progress_bar(len(sizes) * len(ts), f"DDIM sampling (eta={eta:g})", progress)
    for b in sizes:
        shape = (b, *image_shape)
        x = _draw(ns, shape, generator, device)
        for k, i in enumerate(ts):
            t = torch.full((b,), i, dtype=torch.long, device=device)
            eps = model(x, t)
            x0 = schedule.predict_x0(x, t, eps)
            if clip_denoised:
                x0 = x0.clamp(-1, 1)
                # keep eps consistent with the clipped x0
                a_t = ab[i].item()
                eps = (x - math.sqrt(a_t) * x0) / math.sqrt(1 - a_t)
            last = k == len(ts) - 1
            a_t = ab[i].item()
            a_prev = 1.0 if last else ab[ts[k + 1]].item()
            sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)) if not last else 0.0
            x = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma**2, 0.0)) * eps
            if sigma > 0:
                x = x + sigma * _draw(ns, shape, generator, device)
            bar.update(1)
        out.append(x.clamp(-1, 1))
    bar.close()
    return torch.cat(out) if out else torch.empty((0, *image_shape))
