"""UNet, schedule, loss and data split: shapes and sanity."""

import torch

from diffusion.data import load_mnist
from diffusion.ddpm import Schedule, ScheduleConfig, diffusion_loss
from diffusion.unet import UNet, UNetConfig, count_parameters, timestep_embedding

torch.set_num_threads(1)


def test_unet_output_shape_and_size():
    model = UNet()
    x = torch.randn(3, 1, 28, 28)
    out = model(x, torch.tensor([0, 10, 999]))
    assert out.shape == x.shape
    assert count_parameters(model) < 500_000  # "a few hundred k": checkpoint stays a few MB


def test_unet_config_round_trip():
    cfg = UNetConfig(base_channels=8, channel_mult=(1, 2), time_dim=32, groups=4)
    assert UNetConfig.from_dict(cfg.to_dict()) == cfg
    assert UNet(cfg)(torch.zeros(2, 1, 28, 28), torch.tensor([1, 2])).shape == (2, 1, 28, 28)


def test_timestep_embedding_distinguishes_steps():
    e = timestep_embedding(torch.tensor([0, 1, 500]), 16)
    assert e.shape == (3, 16)
    assert not torch.allclose(e[0], e[1]) and not torch.allclose(e[1], e[2])


def test_schedule_and_q_sample():
    for kind in ("linear", "cosine"):
        s = Schedule(ScheduleConfig(kind=kind))
        assert s.betas.shape == (1000,)
        assert torch.all(s.alpha_bars[1:] < s.alpha_bars[:-1])
        assert s.alpha_bars[0] > 0.99 and s.alpha_bars[-1] < 1e-3
    s = Schedule()
    x0 = torch.rand(4, 1, 28, 28) * 2 - 1
    noise = torch.randn(4, 1, 28, 28)
    assert torch.allclose(s.q_sample(x0, torch.zeros(4, dtype=torch.long), noise), x0, atol=0.06)  # sqrt(beta_1) = 0.01
    xT = s.q_sample(x0, torch.full((4,), 999), noise)
    assert torch.allclose(xT, noise, atol=0.01)
    t = torch.tensor([0, 100, 500, 999])
    assert torch.allclose(s.predict_x0(s.q_sample(x0, t, noise), t, noise), x0, atol=1e-3)


def test_loss_of_untrained_model_is_noise_variance():
    # the output conv is zero-initialised, so eps_hat = 0 and the loss is E[eps^2] = 1
    g = torch.Generator().manual_seed(0)
    loss = diffusion_loss(UNet(UNetConfig(base_channels=8, groups=4)), Schedule(), torch.zeros(64, 1, 28, 28), g)
    assert abs(loss.item() - 1.0) < 0.02


def test_mnist_split_is_seeded_and_disjoint():
    a, b = load_mnist(0), load_mnist(0)
    assert a.x_train.shape == (4000, 1, 28, 28) and a.x_heldout.shape == (1000, 1, 28, 28)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_heldout, b.y_heldout)
    assert a.x_train.min() == -1 and a.x_train.max() == 1
    c = load_mnist(1)
    assert not torch.equal(a.y_heldout, c.y_heldout)
    # disjoint: no held-out image appears in the training split
    train = {tuple(r) for r in (a.x_train.flatten(1) > 0).numpy().astype("u1")}
    assert sum(tuple(r) in train for r in (a.x_heldout.flatten(1) > 0).numpy().astype("u1")) < 5
