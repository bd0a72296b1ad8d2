"""Small synthetic LUTs for the demo and sensitivity tests (independent of the shipped LUT files)."""

import numpy as np
import pytest

from cosim.luts.lut import Lut


def synthetic_trng_lut(corner: str = "tt", temp_C: float = 27.0, centre_V: float = 0.8) -> Lut:
    """P(switch) rises linearly over 0.2 V of MTJ voltage around ``centre_V``, at every pulse width."""
    v = np.linspace(0.4, 1.2, 17)
    t = np.array([0.4e-9, 0.6e-9])
    p = np.clip((v[:, None] - centre_V + 0.1) / 0.2, 0, 1) * np.ones((1, 2))
    ve = np.array([0.4, 1.6])
    prov = {"corner": corner, "temp_C": temp_C, "cycle_time_s": 3e-9}
    return Lut("trng", {"v_write_V": ("V", v), "t_pulse_s": ("s", t), "v_energy_V": ("V", ve)},
               {"p_switch": ("1", ("v_write_V", "t_pulse_s"), p),
                "energy_per_bit_J": ("J", ("v_energy_V",), ve * 3e-14),
                "v_mtj_fraction": ("1", ("v_energy_V",), np.full(2, 0.97))}, prov)


def synthetic_write_lut() -> Lut:
    return Lut("write", {"row": ("1", np.arange(2.0)), "col": ("1", np.arange(2.0))},
               {"v_cell_fraction": ("1", ("row", "col"), np.ones((2, 2)))}, {"corner": "tt", "temp_C": 27.0})


@pytest.fixture(scope="module")
def tiny_model():
    """An untrained small UNet and a 10-step schedule: fast sampler tests (import it into a test module)."""
    import torch

    from diffusion.ddpm import Schedule, ScheduleConfig
    from diffusion.unet import UNet, UNetConfig

    torch.manual_seed(0)
    model = UNet(UNetConfig(base_channels=8, channel_mult=(1, 2), time_dim=32, groups=4))
    torch.nn.init.normal_(model.conv_out.weight, std=0.1)
    return model.eval(), Schedule(ScheduleConfig(timesteps=10))
