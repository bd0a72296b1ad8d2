"""Devices (issue #15, item 7): the emulator, the noise sources, the sampler and the demo take a torch
device; a device this machine lacks is one clear line. CUDA tests skip without CUDA."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from diffusion_fixture import synthetic_trng_lut, tiny_model  # noqa: E402,F401 (tiny_model: a fixture)

from cosim.app.cli import main as vcma_main  # noqa: E402
from cosim.noise.emulator import TrngArrayEmulator  # noqa: E402
from cosim.noise.sources import make_noise_source, torch_device  # noqa: E402
from diffusion.train import sample, sampling_device  # noqa: E402

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device on this machine (torch.cuda.is_available() "
                                                     "is False)")
no_cuda = pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA: the no-CUDA message cannot be provoked")



def _one_error_line(capsys, argv) -> str:
    assert vcma_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("vcma: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("command", [["demo"], ["emulate", "--cycles", "10"]])
def test_unknown_device_is_one_line(capsys, tmp_path, command):
    err = _one_error_line(capsys, [*command, "--device", "gpu7"])
    assert "--device gpu7: unknown device (use cpu, cuda or cuda:N)" in err
    err = _one_error_line(capsys, [*command, "--device", "meta"])
    assert "--device meta: unsupported device type 'meta'" in err


@no_cuda
@pytest.mark.parametrize("command", [["demo"], ["emulate", "--cycles", "10"]])
def test_cuda_without_cuda_is_one_line(capsys, command):
    for dev in ("cuda", "cuda:1"):
        err = _one_error_line(capsys, [*command, "--device", dev])
        assert f"vcma: error: --device {dev}: no CUDA device on this machine (torch.cuda.is_available() is False)" \
            in err


@no_cuda
def test_python_api_refuses_cuda_without_cuda(tiny_model):
    for call in (lambda: torch_device("cuda"), lambda: sampling_device("cuda:0"),
                 lambda: sample(tiny_model, 1, steps=2, progress=False, device="cuda"),
                 lambda: make_noise_source("software", device="cuda"),
                 lambda: TrngArrayEmulator(synthetic_trng_lut(), 2, 2, t_pulse_s=0.5e-9, device="cuda")):
        with pytest.raises(ValueError, match="no CUDA device on this machine"):
            call()


def test_cpu_device_everywhere(tiny_model):
    assert torch_device(None) == torch_device("cpu") == torch.device("cpu")
    images = sample(tiny_model, 2, seed=3, steps=2, eta=1.0, progress=False, device="cpu")
    assert images.device.type == "cpu" and torch.equal(images, sample(tiny_model, 2, seed=3, steps=2, eta=1.0,
                                                                       progress=False))
    for name in ("software", "ideal-trng"):
        z = make_noise_source(name, device="cpu").randn((3, 4), generator=torch.Generator().manual_seed(1))
        assert z.device.type == "cpu" and z.shape == (3, 4)
    src = make_noise_source("mtj", lut=synthetic_trng_lut(), rows=4, cols=4, t_pulse_s=0.5e-9, device="cpu")
    assert src.device.type == "cpu" and src.emulator.device.type == "cpu"


@needs_cuda
def test_noise_sources_deliver_on_cuda_with_the_cpu_generators_numbers():
    for name, kw in (("software", {}), ("ideal-trng", {}),
                     ("mtj", dict(lut=synthetic_trng_lut(), rows=4, cols=4, t_pulse_s=0.5e-9, exact_bits=True))):
        on_cpu = make_noise_source(name, **kw).randn((64,), generator=torch.Generator().manual_seed(2))
        on_gpu = make_noise_source(name, device="cuda", **kw).randn((64,), generator=torch.Generator().manual_seed(2))
        assert on_gpu.device.type == "cuda" and torch.equal(on_gpu.cpu(), on_cpu), name


@needs_cuda
def test_emulator_on_cuda():
    emu = TrngArrayEmulator(synthetic_trng_lut(), 8, 8, t_pulse_s=0.5e-9, device="cuda")
    bits = emu.cycles(2000, torch.Generator(device="cuda").manual_seed(1))
    assert bits.device.type == "cuda" and bits.shape == (2000, 8, 8)
    assert abs(bits.float().mean().item() - emu.p_one.mean().item()) < 0.01
    cpu_bits = TrngArrayEmulator(synthetic_trng_lut(), 8, 8, t_pulse_s=0.5e-9).cycles(
        50, torch.Generator().manual_seed(4))
    assert torch.equal(emu.cycles(50, torch.Generator().manual_seed(4)).cpu(), cpu_bits)  # CPU generator: same bits


@needs_cuda
def test_sampler_on_cuda_matches_cpu(tiny_model):
    model, schedule = tiny_model
    a = sample((model, schedule), 3, seed=5, steps=4, eta=1.0, progress=False, device="cpu")
    b = sample((model, schedule), 3, seed=5, steps=4, eta=1.0, progress=False, device="cuda")
    model.to("cpu")
    assert b.device.type == "cpu" and torch.allclose(a, b, atol=1e-3)
