"""Shared image scoring for ``vcma demo`` and ``vcma diffusion compare``.

A :class:`Scorer` samples digits with a noise source over seeds and scores every seed against
the held-out real digits on the project classifier's features: FID (Frechet distance) and KID
(unbiased kernel distance, :mod:`diffusion.kid`, with a bootstrap interval per seed). Sources are
compared with :func:`welch_difference`, which states each difference with its 95 % interval and
the smallest difference the run could have detected (5 % two-sided, 80 % power).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from cosim.circuit.render_trng import TRNG_T_PULSE_S
from cosim.luts.lut import Lut, LutError, shipped_lut_path
from cosim.noise.defaults import ARRAY_COLS, ARRAY_ROWS

__all__ = ["DEMO_SOURCES", "MTJ_SOURCES", "Scorer", "welch_difference", "differences_vs", "load_trng_lut", "optional_array_luts", "demo_source_factories",
           "min_images"]

DEMO_SOURCES = ("software", "ideal-trng", "mtj", "mtj-raw", "biased-0.3")
MTJ_SOURCES = ("mtj", "mtj-raw", "biased-0.3")

KID_BOOTSTRAP = 500
"""Bootstrap resamples for each seed's KID interval."""


def load_trng_lut(path: str | os.PathLike | None = None, corner: str = "tt", temp_C: float = 27.0) -> Lut:
    """A trng LUT: ``path``, or the shipped one for the corner/temperature (LutError names the problem)."""
    return Lut.load(path if path is not None else shipped_lut_path("trng", corner, temp_C), kind="trng")


def optional_array_luts(corner: str = "tt", temp_C: float = 27.0) -> tuple[dict, dict]:
    """Shipped ``write``/``read`` LUTs as emulator keyword arguments where they ship and load; and notes."""
    kw, notes = {}, {}
    for kind in ("write", "read"):
        try:
            kw[f"{kind}_lut"] = Lut.load(shipped_lut_path(kind, corner, temp_C), kind=kind)
            notes[kind] = str(shipped_lut_path(kind, corner, temp_C).name)
        except LutError as err:
            notes[kind] = f"not used: {err}"
    return kw, notes


def demo_source_factories(lut: Lut | None, chip_seed: int, energy_per_bit_J: float, time_per_bit_s: float,
                          t_pulse_s: float = TRNG_T_PULSE_S, array_luts: dict | None = None) -> dict:
    """name -> zero-argument factory of a fresh noise source (fresh counters) for each demo source.

    Every source comes from the registry (:mod:`cosim.noise.presets`). Each mtj source's chip is
    built once; its factory makes a fresh source on that same chip (``emulator=``).
    """
    from cosim.noise.sources import make_noise_source

    out: dict[str, Callable] = {
        "software": lambda: make_noise_source("software"),
        "ideal-trng": lambda: make_noise_source("ideal-trng", transform="word:12", energy_per_bit_J=energy_per_bit_J,
                                                time_per_bit_s=time_per_bit_s)}
    if lut is None:
        return out
    kw = dict(array_luts or {})
    size = dict(lut=lut, rows=ARRAY_ROWS, cols=ARRAY_COLS, t_pulse_s=t_pulse_s)
    chips = {  # name -> (transform, the chip's settings)
        "mtj": ("word:12+vn", dict(size, chip_seed=chip_seed, calibration="column", **kw)),
        "mtj-raw": ("word:12", dict(size, chip_seed=chip_seed, calibration="nominal", **kw)),
        "biased-0.3": ("word:12", size)}
    for name, (transform, settings) in chips.items():
        emulator = make_noise_source(name, transform=transform, **settings).emulator
        out[name] = (lambda name=name, transform=transform, emulator=emulator:
                     make_noise_source(name, emulator=emulator, transform=transform))
    return out


def min_images(feature_dim: int) -> int:
    """Fewest images per seed for a comparison: feature_dim + 1.

    FID fits a full covariance to the features; with N <= D images it is singular (rank N - 1) and
    the Frechet distance is dominated by the regularisation, not by the images. KID alone would
    need only 2.
    """
    return int(feature_dim) + 1


class Scorer:
    """Samples images with a noise source over seeds and scores them against the held-out digits."""

    def __init__(self, ddpm_path=None, classifier_path=None, steps: int = 50, eta: float = 1.0,
                 batch_size: int = 256, device: str = "cpu") -> None:
        from diffusion.classifier import DEFAULT_CLASSIFIER_PATH, extract_features, load_classifier
        from diffusion.data import load_mnist
        from diffusion.train import DEFAULT_DDPM_PATH, load_ddpm

        self.ddpm_path = Path(ddpm_path or DEFAULT_DDPM_PATH)
        self.classifier_path = Path(classifier_path or DEFAULT_CLASSIFIER_PATH)
        model, schedule, ck = load_ddpm(self.ddpm_path)
        self.loaded = (model, schedule)
        self.classifier, clf_ck = load_classifier(self.classifier_path)
        if clf_ck.get("split_seed") != ck.get("split_seed"):
            raise ValueError(f"classifier {self.classifier_path} used split seed {clf_ck.get('split_seed')}, DDPM "
                             f"{self.ddpm_path} used {ck.get('split_seed')}: the held-out digits would differ")
        self.classifier_accuracy = clf_ck.get("heldout_accuracy")
        self.ref_features = extract_features(self.classifier, load_mnist(ck["split_seed"], ck["n_heldout"]).x_heldout)
        self.feature_dim = int(self.ref_features.shape[1])
        self.steps, self.eta, self.batch_size, self.device = steps, eta, batch_size, device

    def _score(self, images) -> dict:
        """FID and KID (with its bootstrap interval) of one seed's images against the held-out digits."""
        from diffusion.classifier import extract_features, recognisability
        from diffusion.kid import kid_bootstrap
        from diffusion.metrics import fid_from_features

        feats = extract_features(self.classifier, images)
        n = len(images)
        k = kid_bootstrap(feats, self.ref_features, n_boot=KID_BOOTSTRAP) if n >= 2 else None
        rec = recognisability(self.classifier, images)
        return {"fid": fid_from_features(feats, self.ref_features) if n >= 2 else float("nan"),
                "kid": k["kid"] if k else float("nan"), "kid_ci95": [k["low"], k["high"]] if k else None,
                "maxp": rec["mean_max_prob"], "classes": int(sum(c > 0 for c in rec["class_histogram"]))}

    def run(self, make_source: Callable[[], object], n_images: int, seeds: list[int], grid_path: Path | None = None,
            title: str = "", progress: bool = False) -> dict:
        """FID and KID per seed (fresh source per seed), recognisability, counters, time; t-intervals over seeds."""
        from diffusion.train import sample

        scores, bits, energy, secs, samples = [], [], [], [], []
        source = None
        for i, seed in enumerate(seeds):
            source = make_source()
            start = time.perf_counter()
            images = sample(self.loaded, n_images, noise_source=source, seed=seed, sampler="ddim", steps=self.steps,
                            eta=self.eta, batch_size=self.batch_size, progress=progress, device=self.device)
            secs.append(time.perf_counter() - start)
            if i == 0 and grid_path is not None:
                from diffusion.grid import save_grid

                save_grid(images[:64], grid_path, title=title)
            scores.append(self._score(images))
            bits.append(getattr(source, "bits_used", 0))
            energy.append(getattr(source, "energy_J", 0.0))
            samples.append(getattr(source, "samples_drawn", 0))
        fids, kids = [s["fid"] for s in scores], [s["kid"] for s in scores]
        row = {"n_images": n_images, "seeds": list(seeds), "fid_values": fids, "fid_mean": float(np.mean(fids)),
               "fid_ci95": None, "kid_values": kids, "kid_mean": float(np.mean(kids)), "kid_ci95": None,
               "kid_bootstrap_ci95": [s["kid_ci95"] for s in scores],
               "mean_max_prob": float(np.mean([s["maxp"] for s in scores])),
               "classes_seen_min": int(min(s["classes"] for s in scores)), "classes_seen": [s["classes"] for s in scores],
               "random_bits_per_image": float(np.sum(bits) / (n_images * len(seeds))),
               "energy_per_image_J": float(np.sum(energy) / (n_images * len(seeds))),
               "sampling_seconds": float(np.mean(secs)), "images_per_s": float(n_images / np.mean(secs)),
               "noise_samples_per_image": float(np.sum(samples) / (n_images * len(seeds)))}
        _seed_intervals(row)
        if source is not None and hasattr(source, "energy_per_bit_J"):
            row["energy_per_raw_bit_J"] = source.energy_per_bit_J
            fair = row["noise_samples_per_image"] * source.transform.bits_per_sample
            row["energy_per_fair_bit_J"] = row["energy_per_image_J"] / fair if fair else None
            row["raw_bits_per_fair_bit"] = row["random_bits_per_image"] / fair if fair else None
            row["transform"] = source.transform.name
        if source is not None and hasattr(source, "emulator"):
            row["calibration_report"] = source.emulator.calibration_report()
        return row


def _seed_intervals(row: dict) -> None:
    """Student-t intervals over seeds for FID and KID, where there are >= 2 finite values."""
    from diffusion.metrics import seed_interval

    for metric in ("fid", "kid"):
        values = row[f"{metric}_values"]
        if len(values) >= 2 and all(np.isfinite(values)):
            ci = seed_interval(values)
            row[f"{metric}_ci95"] = [ci["low"], ci["high"]]
            row[f"{metric}_std"] = ci["std"]


def welch_difference(a: list[float], b: list[float], level: float = 0.95, power: float = 0.8) -> dict:
    """mean(a) - mean(b) with a Welch t-interval, and the smallest difference the run could detect.

    ``detectable`` is the true difference a two-sided Welch test at ``1 - level`` would find with
    probability ``power``, from this run's standard error and Welch degrees of freedom
    (:func:`diffusion.metrics.detectable_difference`). ``relative*`` fields divide by mean(b).
    """
    from scipy import stats

    from diffusion.metrics import detectable_difference

    a, b = np.asarray(a, float), np.asarray(b, float)
    d, ref = float(a.mean() - b.mean()), float(b.mean())
    rel = (lambda v: v / ref if ref else None)
    if a.size < 2 or b.size < 2:
        return {"difference": d, "ci95": None, "relative": rel(d)}
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return {"difference": d, "ci95": [d, d], "se": 0.0, "detectable": 0.0, "relative": rel(d),
                "relative_ci95": [rel(d), rel(d)], "relative_detectable": 0.0}
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = float(stats.t.ppf((1 + level) / 2, df)) * se
    mdd = detectable_difference(se, df, level, power)
    out = {"difference": d, "ci95": [d - half, d + half], "se": se, "df": df, "detectable": mdd, "relative": rel(d)}
    if ref:
        out.update(relative_ci95=[(d - half) / ref, (d + half) / ref], relative_detectable=mdd / abs(ref))
    return out


def differences_vs(rows: dict, metric: str, reference: str = "software") -> dict:
    """name -> :func:`welch_difference` of each scored source's ``metric`` ("fid"/"kid") minus the reference's."""
    ref = rows.get(reference, {})
    key = f"{metric}_values"
    return {name: welch_difference(r[key], ref[key]) for name, r in rows.items()
            if name != reference and key in r and key in ref}
