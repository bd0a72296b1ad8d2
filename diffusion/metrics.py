"""Image-quality metrics: FID on the shipped classifier's features, its floor, and intervals.

FID here is the Frechet distance between Gaussians fitted to the *penultimate
features of ``diffusion.classifier``* (a small MNIST CNN), not to Inception-v3
pool features. Numbers are therefore comparable with each other inside this
toolkit (software vs hardware noise, one circuit corner vs another) but not
with FIDs printed in papers. The *floor* -- held-out real digits against
training digits -- is the value a perfect generator would reach with the same
sample sizes; report it beside every FID. Standard Inception FID is available
through ``inception_fid`` only when the user supplies a local weights file
(nothing is downloaded).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.linalg
import torch


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of (N, D) features, float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"need (N >= 2, D) features, got shape {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray, eps: float = 1e-6) -> float:
    """||mu1 - mu2||^2 + Tr(C1 + C2 - 2 sqrt(C1 C2)), with sqrtm via scipy.linalg.sqrtm.

    A near-singular product gets ``eps`` added to both diagonals (as in the
    reference implementation); tiny imaginary parts from numerical error are
    dropped, large ones raise.
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    cov1, cov2 = np.atleast_2d(cov1), np.atleast_2d(cov2)
    diff = mu1 - mu2
    with warnings.catch_warnings():
        warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
        try:
            covmean = scipy.linalg.sqrtm(cov1 @ cov2)
            singular = not np.isfinite(covmean).all()
        except (scipy.linalg.LinAlgWarning, np.linalg.LinAlgError):
            singular = True
    if singular:  # e.g. dead ReLU features with zero variance
        off = np.eye(cov1.shape[0]) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            covmean = scipy.linalg.sqrtm((cov1 + off) @ (cov2 + off))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"sqrtm has a large imaginary component {np.max(np.abs(covmean.imag)):.3g}")
        covmean = covmean.real
    return float(max(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(covmean), 0.0))


def fid_from_features(feat_a: np.ndarray, feat_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets."""
    return frechet_distance(*gaussian_stats(feat_a), *gaussian_stats(feat_b))


def _classifier(classifier):
    from .classifier import DEFAULT_CLASSIFIER_PATH, load_classifier

    if classifier is None:
        classifier = DEFAULT_CLASSIFIER_PATH
    if isinstance(classifier, (str, os.PathLike)):
        classifier, _ = load_classifier(classifier)
    return classifier


def fid(images_a: torch.Tensor, images_b: torch.Tensor, classifier=None) -> float:
    """FID on classifier features between two image sets in [-1, 1], shape (N, 1, 28, 28).

    ``classifier`` is a loaded ``Classifier``, a checkpoint path, or None for
    the shipped ``diffusion/checkpoints/classifier_mnist.pt``.
    """
    from .classifier import extract_features

    model = _classifier(classifier)
    return fid_from_features(extract_features(model, images_a), extract_features(model, images_b))


def real_data_floor(classifier=None, split_seed: int | None = None, n: int | None = None, seed: int = 0) -> float:
    """FID of held-out real digits against training digits: what a perfect generator scores.

    ``n`` held-out digits (all 1,000 by default) against ``n`` training digits
    drawn without replacement with ``seed``; match ``n`` to the generated sample
    count, because FID is biased upwards at small N.
    """
    from .data import DEFAULT_SPLIT_SEED, load_mnist

    data = load_mnist(DEFAULT_SPLIT_SEED if split_seed is None else split_seed)
    n = len(data.x_heldout) if n is None else n
    g = torch.Generator().manual_seed(seed)
    held = data.x_heldout[torch.randperm(len(data.x_heldout), generator=g)[:n]]
    train = data.x_train[torch.randperm(len(data.x_train), generator=g)[:n]]
    return fid(held, train, classifier)


def bootstrap_fid_ci(
    feat_gen: np.ndarray, feat_ref: np.ndarray, n_boot: int = 200, level: float = 0.95, seed: int = 0
) -> dict:
    """Bias-corrected bootstrap interval for FID: resample both feature sets with replacement.

    Resampling with replacement duplicates points, which inflates FID (the
    bootstrap mean sits well above the estimate), so a plain percentile
    interval can miss the estimate altogether. We report the percentile
    interval shifted down by the bootstrap bias (``boot_mean - fid``); the raw
    percentiles are returned too. This measures the sampling error of the
    finite sets, not seed-to-seed variation of the sampler (``seed_interval``).
    """
    rng = np.random.default_rng(seed)
    a, b = np.asarray(feat_gen), np.asarray(feat_ref)
    est = fid_from_features(a, b)
    vals = np.array([
        fid_from_features(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))])
        for _ in range(n_boot)
    ])
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    bias = float(vals.mean() - est)
    return {"fid": est, "low": float(max(lo - bias, 0.0)), "high": float(hi - bias), "level": level,
            "bias": bias, "percentile_low": float(lo), "percentile_high": float(hi),
            "n_boot": n_boot, "boot_std": float(vals.std(ddof=1))}


def seed_interval(values: Sequence[float], level: float = 0.95) -> dict:
    """Mean and Student-t interval of a metric repeated over independent seeds."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        raise ValueError("need at least two repeated values for an interval")
    m, se = v.mean(), v.std(ddof=1) / np.sqrt(v.size)
    half = stats.t.ppf((1 + level) / 2, v.size - 1) * se
    return {"mean": float(m), "low": float(m - half), "high": float(m + half), "std": float(v.std(ddof=1)),
            "n": int(v.size), "level": level}


def repeated_seed_fid(
    make_images: Callable[[int], torch.Tensor], reference: torch.Tensor, seeds: Sequence[int], classifier=None,
    level: float = 0.95,
) -> dict:
    """FID for each seed of ``make_images(seed)`` against ``reference``, with a t interval."""
    from .classifier import extract_features

    model = _classifier(classifier)
    ref = extract_features(model, reference)
    vals = [fid_from_features(extract_features(model, make_images(s)), ref) for s in seeds]
    out = seed_interval(vals, level)
    out["values"] = vals
    out["seeds"] = list(seeds)
    return out


def inception_fid(images_a: torch.Tensor, images_b: torch.Tensor, weights_path: str | os.PathLike) -> float:
    """Standard Inception-v3 FID via torchmetrics, with weights from a local file only.

    ``weights_path`` is the FID Inception checkpoint torch-fidelity uses
    (``weights-inception-2015-12-05-6726825d.pth``). Images in [-1, 1] are
    converted to 3-channel uint8 (torchmetrics resizes to 299x299 itself).
    Needs ``pip install torchmetrics torch-fidelity``; nothing is downloaded.
    """
    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise FileNotFoundError(f"Inception weights {weights_path}: file not found (this toolkit never downloads them)")
    try:
        from torchmetrics.image.fid import FrechetInceptionDistance
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "Inception FID needs the optional packages torchmetrics and torch-fidelity "
            "(pip install torchmetrics torch-fidelity); FID on classifier features "
            "(diffusion.metrics.fid) needs neither"
        ) from exc
    metric = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=str(weights_path))

    def to_uint8_rgb(x: torch.Tensor) -> torch.Tensor:
        x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    for i in range(0, len(images_a), 100):
        metric.update(to_uint8_rgb(images_a[i:i + 100]), real=True)
    for i in range(0, len(images_b), 100):
        metric.update(to_uint8_rgb(images_b[i:i + 100]), real=False)
    return float(metric.compute())


def fid_vs_heldout(images: torch.Tensor, classifier=None, split_seed: int | None = None) -> float:
    """FID (classifier features) of generated images against the held-out real digits."""
    from .data import DEFAULT_SPLIT_SEED, load_mnist

    held = load_mnist(DEFAULT_SPLIT_SEED if split_seed is None else split_seed).x_heldout
    return fid(images, held, classifier)


def detectable_difference(se: float, df: float, level: float = 0.95, power: float = 0.8) -> float:
    """Smallest true difference a two-sided t-test at ``1 - level`` detects with probability ``power``.

    Solves P(|T| > t_crit) = power for T ~ noncentral t(df, delta / se), so it is exact for the
    t-test (the textbook shortcut ``(t_{(1+level)/2} + t_{power}) * se`` is within a few per cent).
    ``se`` is the standard error of the difference; with an estimated ``se`` the result is itself an
    estimate, as good as the run's standard error.
    """
    from scipy import optimize, stats

    if not (se >= 0 and df > 0):
        raise ValueError(f"need se >= 0 and df > 0, got se={se!r}, df={df!r}")
    if se == 0:
        return 0.0
    crit = stats.t.ppf((1 + level) / 2, df)

    def shortfall(nc: float) -> float:
        lower = stats.nct.cdf(-crit, df, nc)  # negligible, and NaN far out in scipy: count it as 0
        return stats.nct.sf(crit, df, nc) + np.nan_to_num(lower) - power

    guess = crit + stats.t.ppf(power, df)
    return float(optimize.brentq(shortfall, 0.0, 2 * guess) * se)
