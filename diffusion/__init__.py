"""DDPM on MNIST with a pluggable noise source, its classifier judge, and metrics.

Entry points (all CPU, all seeded):

* ``train_ddpm(out, steps, ...)`` / ``train_classifier(out, ...)``: train, with atomic checkpoints.
* ``sample(checkpoint, n, noise_source, seed, sampler="ddim"|"ddpm", steps=...)``: images in [-1, 1].
* ``fid(images_a, images_b, classifier=None)``: FID on the classifier's features (not Inception).
* ``evaluate(...)``: sample + FID vs held-out digits + real-data floor + recognisability.

A noise source is any object with ``randn(shape, generator=None) -> Tensor``;
every random draw of the samplers comes from it.
"""

from .classifier import load_classifier, recognisability, train_classifier
from .ddpm import ddim_sample, ddpm_sample
from .evaluate import evaluate
from .metrics import fid, fid_vs_heldout, real_data_floor
from .train import load_ddpm, sample, train_ddpm

__all__ = [
    "train_ddpm", "train_classifier", "sample", "fid", "fid_vs_heldout", "real_data_floor", "evaluate",
    "load_ddpm", "load_classifier", "recognisability", "ddpm_sample", "ddim_sample",
]
