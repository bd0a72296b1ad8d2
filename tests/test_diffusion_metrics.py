"""FID on features: zero for a set against itself, right for known Gaussians; intervals; grid PNG."""

import sys

import numpy as np
import pytest
import torch

from diffusion.classifier import Classifier, ClassifierConfig, extract_features, recognisability
from diffusion.grid import make_grid, save_grid
from diffusion.metrics import (
    bootstrap_fid_ci, fid, fid_from_features, frechet_distance, inception_fid, repeated_seed_fid, seed_interval,
)

torch.set_num_threads(1)


def test_fid_of_set_against_itself_is_zero():
    f = np.random.default_rng(0).normal(size=(500, 16))
    assert fid_from_features(f, f) == pytest.approx(0.0, abs=1e-6)


def test_fid_of_known_gaussians():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4000, 8))
    b = rng.normal(size=(4000, 8)) * 2.0 + 1.0
    # ||dmu||^2 + tr(I + 4I - 2*2I) = 8 + 8 = 16
    assert fid_from_features(a, b) == pytest.approx(16.0, rel=0.1)
    assert frechet_distance(np.zeros(3), np.eye(3), np.ones(3), np.eye(3)) == pytest.approx(3.0)
    assert fid_from_features(a, rng.normal(size=(4000, 8))) < 0.1 < fid_from_features(a, a + 0.5)


def test_fid_on_classifier_features_separates_distributions():
    torch.manual_seed(0)
    model = Classifier(ClassifierConfig(channels=4, feature_dim=16))
    g = torch.Generator().manual_seed(0)
    x = torch.rand(300, 1, 28, 28, generator=g) * 2 - 1
    y = torch.rand(300, 1, 28, 28, generator=g) * 2 - 1
    blobs = torch.zeros(300, 1, 28, 28) - 1
    blobs[:, :, 8:20, 8:20] = torch.rand(300, 1, 1, 1, generator=g)
    assert fid(x, x, model) == pytest.approx(0.0, abs=1e-6)
    assert fid(x, y, model) < fid(x, blobs, model)
    assert fid(x, blobs, model) > 0
    assert extract_features(model, x[:5]).shape == (5, 16)


def test_bootstrap_and_seed_intervals():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(300, 4)) + 1.0
    ci = bootstrap_fid_ci(a, b, n_boot=50)
    assert ci["low"] <= ci["fid"] <= ci["high"] and ci["low"] > 0
    s = seed_interval([1.0, 1.2, 0.9, 1.1])
    assert s["mean"] == pytest.approx(1.05) and s["low"] < 1.05 < s["high"]
    with pytest.raises(ValueError):
        seed_interval([1.0])


def test_repeated_seed_fid():
    torch.manual_seed(0)
    model = Classifier(ClassifierConfig(channels=4, feature_dim=8))
    ref = torch.rand(100, 1, 28, 28) * 2 - 1

    def make(seed):
        return torch.rand(100, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1

    r = repeated_seed_fid(make, ref, seeds=[0, 1, 2], classifier=model)
    assert len(r["values"]) == 3 and r["low"] <= r["mean"] <= r["high"]


def test_recognisability_flags_collapse():
    model = Classifier(ClassifierConfig(channels=4, feature_dim=8))
    r = recognisability(model, torch.zeros(20, 1, 28, 28))
    assert r["class_entropy"] == pytest.approx(0.0)  # identical images: one class
    assert sum(r["class_histogram"]) == 20


def test_inception_fid_needs_local_weights(tmp_path, monkeypatch):
    x = torch.zeros(2, 1, 28, 28)
    with pytest.raises(FileNotFoundError, match="never downloads"):
        inception_fid(x, x, tmp_path / "missing.pth")
    w = tmp_path / "w.pth"
    w.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "torchmetrics", None)  # simulate the optional package being absent
    monkeypatch.setitem(sys.modules, "torchmetrics.image", None)
    monkeypatch.setitem(sys.modules, "torchmetrics.image.fid", None)
    with pytest.raises(ImportError, match="pip install torchmetrics torch-fidelity"):
        inception_fid(x, x, w)


def test_grid(tmp_path):
    imgs = torch.linspace(-1, 1, 5 * 784).reshape(5, 1, 28, 28)
    g = make_grid(imgs, nrow=3, pad=2)
    assert g.shape == (2 * 30 + 2, 3 * 30 + 2) and g.min() >= 0 and g.max() <= 1
    p = save_grid(imgs, tmp_path / "sub" / "grid.png", title="t")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
