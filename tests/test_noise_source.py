"""Noise sources: one contract every source must meet, plus the error cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cosim.luts.lut import Lut
from cosim.noise import sources as ns
from cosim.noise.sources import BitNoiseSource, BitsExhaustedError, available_noise_sources, make_noise_source

N_STATS = 20_000
SHAPE = (2, 3, 8, 8)
E_BIT_J, T_BIT_S = 2.5e-13, 4e-9


@pytest.fixture(scope="module")
def fair_bits() -> np.ndarray:
    return np.random.default_rng(123).integers(0, 2, size=1_200_000, dtype=np.uint8)


def _recorded_npy(tmp_path, bits, **kw):
    path = tmp_path / "bits.npy"
    if not path.exists():
        np.save(path, bits.reshape(-1, 1000))  # 2-D on purpose: read in C order
    return make_noise_source("recorded", path_or_bits=path, **kw)


def _recorded_txt(tmp_path, bits, **kw):
    path = tmp_path / "bits.txt"
    if not path.exists():
        lines = ["".join(map(str, row)) for row in bits[:600_000].reshape(-1, 100)]
        path.write_text("\n".join(lines) + "\n")
    return make_noise_source("recorded", path_or_bits=str(path), **kw)


def tiny_trng_lut() -> Lut:
    """In-memory trng LUT (independent of the shipped files): P(switch) linear from 0.7 V to 0.9 V across the MTJ."""
    v = np.linspace(0.4, 1.2, 17)
    t = np.array([0.4e-9, 0.6e-9])
    p = np.clip((v[:, None] - 0.7) / 0.2, 0, 1) * np.ones((1, 2))
    ve = np.array([0.4, 1.6])
    return Lut("trng", {"v_write_V": ("V", v), "t_pulse_s": ("s", t), "v_energy_V": ("V", ve)},
               {"p_switch": ("1", ("v_write_V", "t_pulse_s"), p), "energy_per_bit_J": ("J", ("v_energy_V",), ve * 1e-14),
                "v_mtj_fraction": ("1", ("v_energy_V",), np.full(2, 0.97))},
               {"corner": "tt", "temp_C": 27.0, "cycle_time_s": 3e-9})


MTJ_KW = dict(rows=8, cols=8, t_pulse_s=0.5e-9, chip_seed=3)

# registered name/variant -> factory(tmp_path, fair_bits) building a fresh source
SOURCES = {
    "software/": lambda tmp, bits: make_noise_source("software"),
    "ideal-trng/word12": lambda tmp, bits: make_noise_source(
        "ideal-trng", transform="word:12", energy_per_bit_J=E_BIT_J, time_per_bit_s=T_BIT_S),
    "ideal-trng/sum16-xor": lambda tmp, bits: make_noise_source(
        "ideal-trng", transform="sum:16+xor", energy_per_bit_J=E_BIT_J),
    "ideal-trng/default": lambda tmp, bits: make_noise_source("ideal-trng"),
    "recorded/npy-word8": lambda tmp, bits: _recorded_npy(tmp, bits, transform="word:8", energy_per_bit_J=E_BIT_J,
                                                          time_per_bit_s=T_BIT_S),
    "recorded/txt-word12": lambda tmp, bits: _recorded_txt(tmp, bits, transform="word12"),
    "recorded/array-sum16": lambda tmp, bits: make_noise_source("recorded", path_or_bits=torch.from_numpy(bits),
                                                                transform="sum:16", energy_per_bit_J=E_BIT_J),
    "mtj/default": lambda tmp, bits: make_noise_source("mtj", lut=tiny_trng_lut(), **MTJ_KW),
    "mtj/exact-bits": lambda tmp, bits: make_noise_source("mtj", lut=tiny_trng_lut(), exact_bits=True, **MTJ_KW),
    "mtj-raw/no-variation": lambda tmp, bits: make_noise_source("mtj-raw", lut=tiny_trng_lut(), variation=0, **MTJ_KW),
    "biased-<p>/0.3": lambda tmp, bits: make_noise_source("biased-0.3", lut=tiny_trng_lut(), **MTJ_KW),
}
BIASED = {"biased-<p>/0.3": -0.5}  # sources that are biased on purpose: mean below this instead of ~0


def test_contract_covers_every_registered_source() -> None:
    covered = {kind.split("/")[0] for kind in SOURCES}
    assert set(available_noise_sources()) <= covered, set(available_noise_sources()) - covered


@pytest.mark.parametrize("kind", list(SOURCES))
def test_noise_source_contract(kind, tmp_path, fair_bits) -> None:
    make = lambda: SOURCES[kind](tmp_path, fair_bits)  # noqa: E731
    seeded = lambda s: torch.Generator().manual_seed(s)  # noqa: E731
    src = make()
    deterministic = isinstance(src, ns.RecordedNoise)

    # shape and dtype
    x = src.randn(SHAPE, generator=seeded(0))
    assert x.shape == SHAPE and x.dtype == torch.float32 and torch.isfinite(x).all()
    assert src.randn(5).shape == (5,) and src.randn(torch.Size([0, 3])).shape == (0, 3)

    # seeded reproducibility: fresh sources, same seed -> bit-identical
    a = make().randn(SHAPE, generator=seeded(7))
    b = make().randn(SHAPE, generator=seeded(7))
    assert torch.equal(a, b)
    if deterministic:  # no seed: the stream moves on, so consecutive draws differ
        s = make()
        assert not torch.equal(s.randn(SHAPE), s.randn(SHAPE))
    else:
        assert not torch.equal(a, make().randn(SHAPE, generator=seeded(8)))

    # statistics: mean ~0, std ~1 within 5 sigma of the sampling error (+ transform's exact error)
    src = make()
    x = src.randn(N_STATS, generator=seeded(1)).double()
    var_err = 0.0 if kind.startswith("software") else abs(src.transform.error_vs_normal().variance - 1.0)
    if kind in BIASED:
        assert x.mean().item() < BIASED[kind]
    else:
        assert abs(x.mean().item()) < 5.0 / math.sqrt(N_STATS)
        assert abs(x.std().item() - 1.0) < 5.0 / math.sqrt(2 * N_STATS) + var_err

    # counters: energy per sample == bits per sample * energy per bit (an expected bit count is rounded)
    assert src.samples_drawn == N_STATS
    if getattr(src, "fast", False):  # charged at the expected count, rounded
        assert src.bits_used == pytest.approx(N_STATS * src.bits_per_sample, abs=0.5)
    elif getattr(getattr(src, "transform", None), "whitening", None) == "vn":  # random count vs its expectation
        assert src.bits_used == pytest.approx(N_STATS * src.bits_per_sample, rel=0.03)
    else:
        assert src.bits_used == pytest.approx(N_STATS * src.bits_per_sample, abs=0)
    e_bit = getattr(src, "energy_per_bit_J", 0.0)
    t_bit = getattr(src, "time_per_bit_s", 0.0)
    assert src.energy_J == pytest.approx(src.bits_used * e_bit, rel=1e-12, abs=0)
    assert src.time_s == pytest.approx(src.bits_used * t_bit, rel=1e-12, abs=0)
    src.randn(10, generator=seeded(2))
    assert src.samples_drawn == N_STATS + 10
    src.reset_counters()
    assert (src.bits_used, src.samples_drawn, src.energy_J, src.time_s) == (0, 0, 0.0, 0.0)


def test_software_costs_nothing_and_matches_torch() -> None:
    src = make_noise_source("software")
    x = src.randn((3, 4), generator=torch.Generator().manual_seed(3))
    assert torch.equal(x, torch.randn(12, generator=torch.Generator().manual_seed(3)).reshape(3, 4))
    assert (src.bits_used, src.energy_J, src.time_s, src.bits_per_sample) == (0, 0.0, 0.0, 0.0)


def test_same_seed_same_values_whatever_the_shape() -> None:
    src = make_noise_source("ideal-trng", transform="word:12")
    a = src.randn((4, 6), generator=torch.Generator().manual_seed(9))
    b = src.randn(24, generator=torch.Generator().manual_seed(9))
    assert torch.equal(a.reshape(-1), b)


def test_von_neumann_source_counts_raw_bits() -> None:
    src = make_noise_source("ideal-trng", transform="word:12+vn", energy_per_bit_J=1e-12)
    src.randn(10_000, generator=torch.Generator().manual_seed(0))
    per_sample = src.bits_used / src.samples_drawn
    assert 48.0 <= per_sample < 48.0 * 1.03  # 4 raw bits per whitened bit, small overshoot
    assert src.energy_J == pytest.approx(src.bits_used * 1e-12, rel=1e-12)


def test_recorded_reads_bits_in_order(tmp_path) -> None:
    bits = np.tile(np.array([1, 0, 0, 0, 0, 0, 0, 0], dtype=np.uint8), 4)  # words 128 -> ndtri(128.5/256)
    src = make_noise_source("recorded", path_or_bits=bits, transform="word:8")
    x = src.randn(4)
    assert torch.allclose(x, torch.full((4,), torch.special.ndtri(torch.tensor(128.5 / 256)).item()))
    assert src.remaining_bits == 0
    path = tmp_path / "spaced.txt"
    path.write_text("1 0 0 0, 0 0 0 0\n1,0,0,0,0,0,0,0\n")
    assert torch.equal(make_noise_source("recorded", path_or_bits=path, transform="word:8").randn(2), x[:2])
    src = make_noise_source("recorded", path_or_bits=bits, transform="word:8", offset_bits=8)
    assert src.randn(3).shape == (3,) and src.remaining_bits == 0
    src.rewind()
    assert src.remaining_bits == 24


def test_recorded_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        make_noise_source("recorded", path_or_bits=tmp_path / "nope.npy")


@pytest.mark.parametrize("fname, content, needle", [
    ("bad.npy", np.array([0, 1, 2, 1]), r"bad\.npy.*only 0 and 1"),
    ("bad.npy", np.array([0.0, 0.5]), r"only 0 and 1"),
    ("bad.txt", "0101\n01x1\n", r"bad\.txt.*'x' at bit 6"),
    ("bad.txt", "0 1 2\n", r"'2'"),
])
def test_recorded_non_binary_file(tmp_path, fname, content, needle) -> None:
    path = tmp_path / fname
    if isinstance(content, str):
        path.write_text(content)
    else:
        np.save(path, content)
    with pytest.raises(ValueError, match=needle):
        make_noise_source("recorded", path_or_bits=path)


def test_recorded_non_binary_array() -> None:
    with pytest.raises(ValueError, match="only 0 and 1"):
        make_noise_source("recorded", path_or_bits=np.array([0, 1, 3]))


@pytest.mark.parametrize("transform", ["word:8", "word:8+vn"])
def test_recorded_runs_out(transform) -> None:
    bits = np.random.default_rng(0).integers(0, 2, size=1000, dtype=np.uint8)
    src = make_noise_source("recorded", path_or_bits=bits, transform=transform, energy_per_bit_J=1.0)
    src.randn(10)
    position, used = src.position_bits, src.bits_used
    with pytest.raises(BitsExhaustedError, match=r"bits requested but only \d+ of 1000 remain"):
        src.randn(200)
    assert (src.position_bits, src.bits_used, src.samples_drawn) == (position, used, 10)
    src.randn(5)  # a smaller draw still works from where it was


def test_mtj_style_subclass_fills_only_the_bit_hook(monkeypatch) -> None:
    """A later MtjNoise only implements _bits and inherits transform, counters and registry use."""

    class BiasedEmulator(BitNoiseSource):
        name = "test-emulator"

        def __init__(self, p_switch: float = 0.5, **kw) -> None:
            super().__init__(**kw)
            self.p_switch = p_switch

        def _bits(self, n, generator):
            return (torch.rand(n, generator=generator) < self.p_switch).to(torch.uint8)

    available_noise_sources()  # loads the presets, so that they land in the real registry, not the copy
    monkeypatch.setattr(ns, "_REGISTRY", dict(ns._REGISTRY))
    ns.register_noise_source("test-mtj", BiasedEmulator)
    assert "test-mtj" in ns.available_noise_sources()
    with pytest.raises(ValueError, match="already registered"):
        ns.register_noise_source("test-mtj", BiasedEmulator)
    src = make_noise_source("test-mtj", p_switch=0.5, transform="sum:16", energy_per_bit_J=1e-12, time_per_bit_s=1e-9)
    x = src.randn((100, 10), generator=torch.Generator().manual_seed(0))
    assert x.shape == (100, 10) and src.bits_used == 16_000
    assert src.energy_J == pytest.approx(16e-9) and src.time_s == pytest.approx(16e-6)
    biased = make_noise_source("test-mtj", p_switch=0.6, transform="sum:16").randn(20_000,
                                                                               torch.Generator().manual_seed(0))
    assert biased.mean().item() == pytest.approx(0.8, abs=0.05)  # (2*16*0.6 - 16)/4
    unbiased = make_noise_source("test-mtj", p_switch=0.6, transform="sum:16+vn").randn(20_000,
                                                                                   torch.Generator().manual_seed(0))
    assert abs(unbiased.mean().item()) < 0.05


def test_bad_bit_hook_is_caught() -> None:
    class Broken(BitNoiseSource):
        def _bits(self, n, generator):
            return torch.ones(n, dtype=torch.int64)

    with pytest.raises(RuntimeError, match="uint8"):
        Broken(transform="sum:4").randn(3)


def test_factory_errors() -> None:
    with pytest.raises(ValueError, match="unknown noise source 'quantum'.*ideal-trng.*mtj.*recorded.*software"):
        make_noise_source("quantum")
    with pytest.raises(ValueError, match="biased-<p> needs a number"):
        make_noise_source("biased-high", lut=tiny_trng_lut())
    with pytest.raises(ValueError, match="trng LUT"):
        make_noise_source("mtj")
    with pytest.raises(ValueError, match="either emulator= or lut="):
        make_noise_source("mtj", lut=tiny_trng_lut(), emulator=make_noise_source("mtj", lut=tiny_trng_lut()).emulator)
    with pytest.raises(ValueError, match="unknown transform"):
        make_noise_source("ideal-trng", transform="gauss")
    with pytest.raises(ValueError, match="energy_per_bit_J"):
        make_noise_source("ideal-trng", energy_per_bit_J=-1.0)
    with pytest.raises(ValueError, match="shape"):
        make_noise_source("software").randn((2, -1))
    with pytest.raises(ValueError, match="offset_bits"):
        make_noise_source("recorded", path_or_bits=[0, 1], offset_bits=3)
