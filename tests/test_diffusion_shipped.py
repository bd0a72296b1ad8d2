"""The shipped checkpoints in diffusion/checkpoints/: classifier accuracy and DDPM sample quality.

Marked ``shipped``: these test the trained artefacts, not the code, so a
retrained checkpoint can fail them. They stay fast (64 DDIM samples, 25 steps, ~3 s).
"""

import pytest
import torch

from diffusion.classifier import DEFAULT_CLASSIFIER_PATH, accuracy, load_classifier, recognisability
from diffusion.data import load_mnist
from diffusion.train import DEFAULT_DDPM_PATH, load_ddpm, sample

pytestmark = pytest.mark.shipped
torch.set_num_threads(1)


class StandInNoise:
    """Software noise, as cosim.noise.sources.SoftwareNoise (not imported: no cosim dependency)."""

    def randn(self, shape, generator=None):
        return torch.randn(tuple(shape), generator=generator)


@pytest.fixture(scope="module")
def classifier():
    return load_classifier(DEFAULT_CLASSIFIER_PATH)


def test_classifier_heldout_accuracy(classifier):
    model, ck = classifier
    data = load_mnist(ck["split_seed"], ck["n_heldout"])
    acc = accuracy(model, data.x_heldout, data.y_heldout)
    assert acc > 0.97
    assert acc == pytest.approx(ck["heldout_accuracy"], abs=1e-6)


def test_ddpm_samples_are_recognisable(classifier):
    model, schedule, ck = load_ddpm(DEFAULT_DDPM_PATH)
    assert ck["split_seed"] == classifier[1]["split_seed"]
    # stochastic DDIM (eta = 1) is the better sampler for this model; on the build machine this gives
    # mean max-prob 0.922, 10 classes, entropy 0.97 (eta = 0 gives 0.909: too close to the bar)
    x = sample((model, schedule), 64, StandInNoise(), seed=0, sampler="ddim", steps=25, eta=1.0, progress=False)
    r = recognisability(classifier[0], x)
    assert r["mean_max_prob"] > 0.9, r
    # confident but collapsed onto a few classes would also be a failure
    assert r["class_entropy"] > 0.85 and sum(c > 0 for c in r["class_histogram"]) >= 8, r


def test_recognisability_criterion_rejects_noise(classifier):
    # the classifier is overconfident on noise, so the class spread is what rejects it
    noise = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    r = recognisability(classifier[0], noise)
    assert r["class_entropy"] < 0.85 or sum(c > 0 for c in r["class_histogram"]) < 8
