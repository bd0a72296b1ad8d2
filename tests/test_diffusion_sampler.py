"""Samplers take every random draw from the noise source, and are reproducible."""

import pytest
import torch

from diffusion.ddpm import Schedule, ScheduleConfig, ddim_sample, ddpm_sample
from diffusion.train import sample
from diffusion.unet import UNet, UNetConfig

torch.set_num_threads(1)
T = 12


class CountingNoise:
    """Stand-in NoiseSource: torch.randn, counting calls and elements."""

    def __init__(self):
        self.calls, self.elements = 0, 0

    def randn(self, shape, generator=None):
        self.calls += 1
        self.elements += int(torch.Size(shape).numel())
        return torch.randn(tuple(shape), generator=generator)


class ConstantNoise:
    def __init__(self, value):
        self.value = value

    def randn(self, shape, generator=None):
        return torch.full(tuple(shape), self.value)


@pytest.fixture(scope="module")
def model_and_schedule():
    torch.manual_seed(0)
    model = UNet(UNetConfig(base_channels=8, channel_mult=(1, 2), time_dim=32, groups=4))
    torch.nn.init.normal_(model.conv_out.weight, std=0.1)  # not the all-zero initial output
    return model.eval(), Schedule(ScheduleConfig(timesteps=T))


@pytest.fixture
def no_global_rng(monkeypatch):
    """Any draw that bypasses the noise source fails the test."""

    def forbid(*a, **k):
        raise AssertionError("sampler drew randomness outside the noise source")

    real_randn = torch.randn
    monkeypatch.setattr(torch, "randn", forbid)
    for name in ("rand", "randint", "normal", "randn_like", "rand_like", "bernoulli", "multinomial"):
        monkeypatch.setattr(torch, name, forbid)
    return real_randn


class _ForbiddenGlobalNoise(CountingNoise):
    def __init__(self, real_randn):
        super().__init__()
        self.real_randn = real_randn

    def randn(self, shape, generator=None):
        self.calls += 1
        self.elements += int(torch.Size(shape).numel())
        return self.real_randn(tuple(shape), generator=generator)


def test_ddpm_draws_xT_plus_one_per_step_except_last(model_and_schedule, no_global_rng):
    model, sched = model_and_schedule
    ns = _ForbiddenGlobalNoise(no_global_rng)
    x = ddpm_sample(model, sched, 5, ns, torch.Generator().manual_seed(0), batch_size=2, progress=False)
    assert x.shape == (5, 1, 28, 28)
    n_batches = 3
    assert ns.calls == n_batches * (1 + (T - 1))
    assert ns.elements == 5 * 784 * T


@pytest.mark.parametrize("eta, draws_per_batch", [(0.0, 1), (1.0, 4), (0.5, 4)])
def test_ddim_draws(model_and_schedule, no_global_rng, eta, draws_per_batch):
    model, sched = model_and_schedule
    ns = _ForbiddenGlobalNoise(no_global_rng)
    x = ddim_sample(model, sched, 3, ns, torch.Generator().manual_seed(0), steps=4, eta=eta, batch_size=3,
                    progress=False)
    assert x.shape == (3, 1, 28, 28)
    assert ns.calls == draws_per_batch  # x_T, plus one per step except the last when eta > 0
    assert ns.elements == draws_per_batch * 3 * 784


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_same_seed_bit_identical(model_and_schedule, sampler):
    kw = dict(n=5, sampler=sampler, batch_size=3, progress=False)
    if sampler == "ddim":
        kw.update(steps=5, eta=1.0)
    a = sample(model_and_schedule, noise_source=CountingNoise(), seed=7, **kw)
    b = sample(model_and_schedule, noise_source=CountingNoise(), seed=7, **kw)
    c = sample(model_and_schedule, noise_source=CountingNoise(), seed=8, **kw)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_output_depends_only_on_noise_source(model_and_schedule):
    # a constant noise source makes the seed irrelevant: the generator only feeds the source
    a = sample(model_and_schedule, 2, ConstantNoise(0.3), seed=1, sampler="ddpm", progress=False)
    b = sample(model_and_schedule, 2, ConstantNoise(0.3), seed=2, sampler="ddpm", progress=False)
    c = sample(model_and_schedule, 2, ConstantNoise(-0.3), seed=1, sampler="ddpm", progress=False)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_bad_noise_shape_and_bad_arguments(model_and_schedule):
    class Wrong:
        def randn(self, shape, generator=None):
            return torch.zeros(1)

    with pytest.raises(ValueError, match="shape"):
        sample(model_and_schedule, 2, Wrong(), sampler="ddim", steps=2, progress=False)
    with pytest.raises(ValueError, match="sampler"):
        sample(model_and_schedule, 2, CountingNoise(), sampler="euler", progress=False)
    with pytest.raises(ValueError, match="ancestral"):
        sample(model_and_schedule, 2, CountingNoise(), sampler="ddpm", steps=3, progress=False)
    with pytest.raises(ValueError, match="DDIM steps"):
        sample(model_and_schedule, 2, CountingNoise(), sampler="ddim", steps=T + 1, progress=False)
