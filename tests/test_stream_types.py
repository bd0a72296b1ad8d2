"""Raw array bits against per-cell whitened bits: the von Neumann stream, its metadata, and what
``vcma trng report`` says about each (issue #15, item 5)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from diffusion_fixture import synthetic_trng_lut  # noqa: E402

from cosim.app.cli import main as vcma_main  # noqa: E402
from cosim.noise.emulator import MtjNoise, TrngArrayEmulator, per_cell_von_neumann  # noqa: E402
from cosim.noise.nist import dft, frequency, runs  # noqa: E402
from cosim.noise.transforms import von_neumann  # noqa: E402


def test_per_cell_von_neumann_of_a_hand_made_sequence():
    # cycles x (1 row x 3 cells); cell 0: 0 1 1 0 1, cell 1: 1 1 0 0 1, cell 2: 1 0 0 1 0
    bits = torch.tensor([[0, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 1], [1, 1, 0]], dtype=torch.uint8).reshape(5, 1, 3)
    # pair 0: cell 0 (0,1) -> 0, cell 1 (1,1) dropped, cell 2 (1,0) -> 1; pair 1: (1,0) -> 1, (0,0) dropped,
    # (0,1) -> 0; the odd fifth cycle is dropped
    assert per_cell_von_neumann(bits).tolist() == [0, 1, 1, 0]
    # the same cells as 3 rows x 1 column: row-major order is the same order
    assert per_cell_von_neumann(bits.reshape(5, 3, 1)).tolist() == [0, 1, 1, 0]
    with pytest.raises(ValueError, match=r"shape \(cycles, rows, cols\)"):
        per_cell_von_neumann(bits.reshape(-1))


def test_the_documented_order_is_the_noise_sources_whitened_stream():
    emu = TrngArrayEmulator(synthetic_trng_lut(), 4, 5, t_pulse_s=0.5e-9, variation=1.0, sense_error_rate=0.0,
                            correlation=0.0)
    source = MtjNoise(emu, "word:12+vn", exact_bits=True)
    raw = source._bits(2 * 20 * 30, torch.Generator().manual_seed(3))  # 30 pairs of cycles of 20 cells
    expected = per_cell_von_neumann(emu.cycles(60, torch.Generator().manual_seed(3)))
    assert torch.equal(von_neumann(raw), expected)


def _biased_chip() -> TrngArrayEmulator:
    """16 x 16 cells, twice the corner's spread, one fixed amplitude: array P(1) about 0.7."""
    return TrngArrayEmulator(synthetic_trng_lut(), 16, 16, v_write_V=0.866, t_pulse_s=0.5e-9, chip_seed=1,
                             variation=2.0, sense_error_rate=0.0, correlation=0.0)


def test_whitened_stream_of_a_biased_variation_chip_passes_where_the_raw_one_fails():
    emu = _biased_chip()
    p = emu.p_one.numpy()
    assert 0.6 < p.mean() < 0.8 and p.std() > 0.1  # biased on average, and cell to cell
    bits = emu.cycles(200, torch.Generator().manual_seed(2))
    raw, white = bits.reshape(-1).numpy(), per_cell_von_neumann(bits).numpy()
    for test in (frequency, runs, dft):
        assert not test(raw).passed, test.__name__
        assert test(white).passed, test.__name__
    assert white.size == pytest.approx(raw.size * np.mean(p * (1 - p)), rel=0.05)  # the von Neumann yield


def _emulate(tmp_path, name, *extra):
    lut = synthetic_trng_lut().save(tmp_path / "syn.lut.npz")
    out = tmp_path / name
    argv = ["emulate", "--lut", str(lut), "--no-array-luts", "--rows", "8", "--cols", "8", "--cycles", "200",
            "--t-pulse", "0.5n", "--out", str(out), *extra]
    assert vcma_main(argv) == 0
    return out


def test_metadata_round_trip(tmp_path, capsys):
    out = _emulate(tmp_path, "vn.npy", "--whiten", "vn", "--variation", "2")
    stdout = capsys.readouterr().out
    meta = json.loads((tmp_path / "vn.npy.json").read_text())
    bits = np.load(out)
    assert meta["stream"] == "vn" and meta["format"] == "vcma-bits" and bits.ndim == 1
    assert meta["bits"] == bits.size and (meta["rows"], meta["cols"], meta["cycles"]) == (8, 8, 200)
    assert meta["variation"] == 2.0 and "row-major" in meta["order"]
    assert f"({bits.size} bits, per-cell von Neumann output; metadata" in stdout
    out = _emulate(tmp_path, "raw.npy")
    meta = json.loads((tmp_path / "raw.npy.json").read_text())
    assert meta["stream"] == "raw" and np.load(out).shape == (200, 8, 8) and meta["bits"] == 200 * 64
    # the sidecar follows the name np.save writes: a name without .npy gets .npy appended
    _emulate(tmp_path, "plain")
    assert (tmp_path / "plain.npy").is_file() and (tmp_path / "plain.npy.json").is_file()


def _report(capsys, path) -> str:
    capsys.readouterr()
    assert vcma_main(["trng", "report", str(path)]) == 0
    return capsys.readouterr().out


def test_report_names_the_stream_and_explains_raw_failures(tmp_path, capsys):
    raw = _report(capsys, _emulate(tmp_path, "raw.npy", "--variation", "2"))
    assert "stream: raw array bits of a 8 x 8 array (column calibration, variation 2" in raw
    note = [ln for ln in raw.splitlines() if ln.startswith("note: raw array bits are not i.i.d.")]
    assert len(note) == 1 and "recurs once per array read-out (64 bits)" in note[0] and "DFT and runs" in note[0]
    white = _report(capsys, _emulate(tmp_path, "vn.npy", "--variation", "2", "--whiten", "vn"))
    assert "stream: per-cell von Neumann output of a 8 x 8 array" in white and "note:" not in white
    uniform = _report(capsys, _emulate(tmp_path, "flat.npy", "--variation", "0"))
    assert "stream: raw array bits" in uniform and "note:" not in uniform  # no variation: nothing to explain


def test_bare_and_old_files_still_read_as_unknown(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "bare.npy", rng.integers(0, 2, 2000).astype(np.uint8))
    assert "stream: unknown (no metadata file bare.npy.json)" in _report(capsys, tmp_path / "bare.npy")
    (tmp_path / "bits.txt").write_text(" ".join(map(str, rng.integers(0, 2, 2000))))
    assert "stream: unknown (no metadata file bits.txt.json)" in _report(capsys, tmp_path / "bits.txt")
    (tmp_path / "bare.npy.json").write_text("{not json")
    assert "stream: unknown (bare.npy.json is not vcma-bits metadata)" in _report(capsys, tmp_path / "bare.npy")
    out = _emulate(tmp_path, "vn.npy", "--whiten", "vn")
    np.save(out, np.load(out)[:1500])  # the bits changed behind the metadata's back
    assert "describes" in _report(capsys, out) and "the file holds 1500" in _report(capsys, out)
