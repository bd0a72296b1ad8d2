"""The main job: device switching, the SPICE TRNG cell, and digits generated with its noise.

Writes figures, ``report.md`` and ``report.json`` to one folder. Image generation compares
noise sources, each sampled with several seeds (FID with a Student-t interval over seeds):

* ``software`` -- ``torch.randn``;
* ``ideal-trng`` -- fair independent bits through ``word:12``, charged at the SPICE cell's energy per bit;
* ``mtj`` -- the LUT-driven emulator of a 64 x 64 array at TT 27 C with the corner's cell-to-cell
  variation, one calibrated driver amplitude per column, and per-cell von Neumann whitening
  (``word:12+vn``); shipped ``write``/``read`` LUTs add array position and sense errors when present;
* ``mtj-raw`` -- the same chip with one nominal amplitude and no whitening (``word:12``);
* ``biased-0.3`` -- a variation-free array driven to P(1) = 0.3, no whitening: the strongly biased case.

TRNG sources are charged the cell's SPICE energy per raw bit; the report's energy section charges the
whole macro (:mod:`cosim.circuit.macro`: SPICE cell shares plus cited periphery), compares it with
published TRNGs and gives the energy of one generated image (:mod:`cosim.app.macro_table`).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from compact_models import mtj_card
from compact_models.render import write_atomic

from cosim.luts.lut import Lut, LutError, shipped_lut_path
from cosim.circuit.render_trng import TRNG_T_PULSE_S
from cosim.noise.defaults import ARRAY_COLS, ARRAY_ROWS

WIDTHS_S = [0.2e-9, 0.4e-9, 0.6e-9, 0.8e-9, 1.0e-9, 1.2e-9]
DEMO_SOURCES = ("software", "ideal-trng", "mtj", "mtj-raw", "biased-0.3")
MTJ_SOURCES = ("mtj", "mtj-raw", "biased-0.3")

# --------------------------------------------------------------------------- shared scoring


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


class Scorer:
    """Samples images with a noise source over seeds and scores them against the held-out digits."""

    def __init__(self, ddpm_path=None, classifier_path=None, steps: int = 50, eta: float = 1.0,
                 batch_size: int = 256) -> None:
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
        self.steps, self.eta, self.batch_size = steps, eta, batch_size

    def run(self, make_source: Callable[[], object], n_images: int, seeds: list[int], grid_path: Path | None = None,
            title: str = "", progress: bool = False) -> dict:
        """FID per seed (fresh source per seed), recognisability, counters, time; t-interval over seeds."""
        from diffusion.classifier import extract_features, recognisability
        from diffusion.metrics import fid_from_features, seed_interval
        from diffusion.train import sample

        fids, maxp, classes, bits, energy, secs, samples = [], [], [], [], [], [], []
        source = None
        for i, seed in enumerate(seeds):
            source = make_source()
            start = time.perf_counter()
            images = sample(self.loaded, n_images, noise_source=source, seed=seed, sampler="ddim", steps=self.steps,
                            eta=self.eta, batch_size=self.batch_size, progress=progress)
            secs.append(time.perf_counter() - start)
            if i == 0 and grid_path is not None:
                from diffusion.grid import save_grid

                save_grid(images[:64], grid_path, title=title)
            fids.append(fid_from_features(extract_features(self.classifier, images), self.ref_features)
                        if n_images >= 2 else float("nan"))
            rec = recognisability(self.classifier, images)
            maxp.append(rec["mean_max_prob"])
            classes.append(int(sum(c > 0 for c in rec["class_histogram"])))
            bits.append(getattr(source, "bits_used", 0))
            energy.append(getattr(source, "energy_J", 0.0))
            samples.append(getattr(source, "samples_drawn", 0))
        row = {"n_images": n_images, "seeds": list(seeds), "fid_values": fids,
               "fid_mean": float(np.mean(fids)),
               "fid_ci95": None, "mean_max_prob": float(np.mean(maxp)), "classes_seen_min": int(min(classes)),
               "classes_seen": classes, "random_bits_per_image": float(np.sum(bits) / (n_images * len(seeds))),
               "energy_per_image_J": float(np.sum(energy) / (n_images * len(seeds))),
               "sampling_seconds": float(np.mean(secs)), "images_per_s": float(n_images / np.mean(secs)),
               "noise_samples_per_image": float(np.sum(samples) / (n_images * len(seeds)))}
        if len(seeds) >= 2 and all(np.isfinite(fids)):
            ci = seed_interval(fids)
            row["fid_ci95"] = [ci["low"], ci["high"]]
            row["fid_std"] = ci["std"]
        if source is not None and hasattr(source, "energy_per_bit_J"):
            row["energy_per_raw_bit_J"] = source.energy_per_bit_J
            fair = row["noise_samples_per_image"] * source.transform.bits_per_sample
            row["energy_per_fair_bit_J"] = row["energy_per_image_J"] / fair if fair else None
            row["raw_bits_per_fair_bit"] = row["random_bits_per_image"] / fair if fair else None
            row["transform"] = source.transform.name
        if source is not None and hasattr(source, "emulator"):
            row["calibration_report"] = source.emulator.calibration_report()
        return row


def welch_difference(a: list[float], b: list[float], level: float = 0.95) -> dict:
    """mean(a) - mean(b) with a Welch t-interval (unequal variances)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    d = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return {"difference": d, "ci95": None}
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return {"difference": d, "ci95": [d, d], "relative": d / b.mean()}
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = float(stats.t.ppf((1 + level) / 2, df)) * se
    return {"difference": d, "ci95": [d - half, d + half], "df": df, "relative": d / float(b.mean()),
            "relative_ci95": [(d - half) / float(b.mean()), (d + half) / float(b.mean())]}


# --------------------------------------------------------------------------- demo


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


def check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _switching_part(out: Path, report: dict, switching_trials: int, seed: int, progress: bool = False) -> None:
    """SPICE: switching probability against pulse width at 1.3 V; plot and report entry."""
    from cosim.app.plots import plot_switching_curve
    from cosim.app.stages import progress_bar
    from cosim.circuit.switching import switching_probability

    probs = []
    with progress_bar(len(WIDTHS_S), "switching (SPICE)", "width", progress) as bar:
        for w in WIDTHS_S:
            probs.append(switching_probability(1.3, w, switching_trials, seed=seed, n_jobs=os.cpu_count() or 1))
            bar.update(1)
    half = mtj_card().precession_period_s() / 2
    plot_switching_curve([w * 1e9 for w in WIDTHS_S], probs, "pulse width (ns) at 1.3 V", out / "switching.png",
                         marker=half * 1e9, marker_label="half precession period")
    report["switching_vs_width_1p3V"] = [{"t_pulse_s": w, "p": q.p, "ci95": q.ci, "n": q.n}
                                         for w, q in zip(WIDTHS_S, probs)]


def _trng_part(out: Path, report: dict, trng_cycles: int, seed: int):
    """SPICE: the TRNG cell for ``trng_cycles`` cycles; plot, bits and report entry."""
    from cosim.app.plots import plot_trng
    from cosim.circuit.trng import run_trng
    from cosim.circuit.trng_energy import phase_energies

    trng = run_trng(trng_cycles, seed=seed)
    plot_trng(trng.result, trng.bits, trng.cycle_time_s, out / "trng_cell.png")
    np.save(out / "trng_bits.npy", trng.bits)
    report["trng_cell"] = {"bits": "".join(map(str, trng.bits)), "p_one": trng.p_one.p, "p_one_ci95": trng.p_one.ci,
                           "energy_per_bit_J": trng.energy_per_bit_J, "time_per_bit_s": trng.cycle_time_s,
                           "energy_shares_J": phase_energies(trng.result, trng_cycles).mean_J()}
    return trng


def _check_demo_inputs(n_images, trng_cycles, switching_trials, n_seeds, steps, threads, sources) -> None:
    for name, value in (("n_images", n_images), ("trng_cycles", trng_cycles), ("switching_trials", switching_trials),
                        ("n_seeds", n_seeds), ("steps", steps), ("threads", threads)):
        check_count(name, value)
    unknown = [s for s in sources if s not in DEMO_SOURCES]
    if unknown or not sources:
        raise ValueError(f"unknown demo source(s) {unknown}; choose from {', '.join(DEMO_SOURCES)}")


def _demo_lut(sources, lut_path) -> tuple[Lut | None, str | None]:
    """The trng LUT for the mtj sources (None without mtj sources), or None and why the shipped one is unusable."""
    if not any(s in MTJ_SOURCES for s in sources):
        return None, None
    if lut_path is not None:
        return load_trng_lut(lut_path), None
    try:
        return load_trng_lut(), None
    except LutError as err:
        return None, f"mtj sources skipped: the shipped TT 27 C trng LUT cannot be used ({err})"


def run_demo(out_dir: str | Path = "out/demo", n_images: int = 256, trng_cycles: int = 16,
             switching_trials: int = 32, seed: int = 1, n_seeds: int = 3, steps: int = 50,
             sources: list[str] | tuple[str, ...] = DEMO_SOURCES, lut_path: str | os.PathLike | None = None,
             ddpm_path: str | os.PathLike | None = None, classifier_path: str | os.PathLike | None = None,
             threads: int = 2, quiet: bool = False, device: str = "cpu") -> dict:
    """Run the whole chain; returns the report dictionary (also written as report.json / report.md).

    Talks while it works: one ``[k/N] stage ... time`` line per stage on stdout (the first before any
    checkpoint is read) and progress bars on stderr; ``quiet`` silences both. Inputs are checked before
    any simulation: counts must be positive, the checkpoints must exist and be of the right kind, a given
    ``lut_path`` must be a trng LUT. Without ``lut_path`` the shipped TT 27 C LUT is used; if it cannot be
    used the mtj sources are skipped and the report says why. ``device`` (``cpu``, ``cuda``, ``cuda:N``) is
    checked first and recorded in the report.
    """
    from cosim.app.stages import Stages

    _check_demo_inputs(n_images, trng_cycles, switching_trials, n_seeds, steps, threads, sources)
    if str(device) != "cpu":  # the default needs no check: no torch import before the first stage line
        from cosim.noise.sources import torch_device

        device = str(torch_device(device, "device"))
    stages = Stages(4 + len(sources), quiet=quiet)
    with stages.stage("checkpoints, held-out digit features and the trng LUT"):
        import torch

        torch.set_num_threads(threads)
        # TODO(device): Scorer -- load the DDPM/classifier on `device` and sample there (Scorer(..., device=device))
        scorer = Scorer(ddpm_path, classifier_path, steps=steps)  # checkpoints first: fail before SPICE
        lut, lut_note = _demo_lut(sources, lut_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    report: dict = {"seed": seed, "n_images": n_images, "seeds": [seed + i for i in range(n_seeds)],
                    "sampler": {"kind": "ddim", "steps": steps, "eta": 1.0},
                    "ddpm": str(scorer.ddpm_path), "classifier": str(scorer.classifier_path),
                    "classifier_heldout_accuracy": scorer.classifier_accuracy, "threads": threads, "device": device}
    with stages.stage(f"switching probability in SPICE ({len(WIDTHS_S)} widths x {switching_trials} trial(s))"):
        _switching_part(out, report, switching_trials, seed, stages.progress)
    with stages.stage(f"TRNG cell in SPICE ({trng_cycles} cycle(s))"):
        trng = _trng_part(out, report, trng_cycles, seed)
    report["spice_seconds"] = time.perf_counter() - start
    lut_desc = lut_note or str(lut_path or shipped_lut_path("trng", "tt", 27.0))
    report["images"] = _image_part(out, report, stages, scorer, sources, lut, lut_desc, trng)
    with stages.stage("report"):
        _finish_report(out, report, start, scorer.loaded[0])
    return report


def _image_part(out: Path, report: dict, stages, scorer: Scorer, sources, lut: Lut | None, lut_desc: str,
                trng) -> dict:
    """Digits with each noise source, one stage per source; the rows of the report's image table."""
    array_luts, array_notes = optional_array_luts() if lut is not None else ({}, {})
    # TODO(device): Scorer -- demo_source_factories(..., device=) once the factories take a device
    factories = demo_source_factories(lut, report["seed"], trng.energy_per_bit_J, trng.cycle_time_s,
                                      array_luts=array_luts)
    report["mtj_setup"] = {"lut": lut_desc, "array": f"{ARRAY_ROWS} x {ARRAY_COLS}", "t_pulse_s": TRNG_T_PULSE_S,
                           "chip_seed": report["seed"], "array_luts": array_notes}
    rows = {}
    n_images, seeds = report["n_images"], report["seeds"]
    for name in sources:
        with stages.stage(f"digits with {name} noise ({len(seeds)} seed(s) x {n_images} images)"):
            if name not in factories:
                rows[name] = {"skipped": lut_desc}
                continue
            t0 = time.perf_counter()
            rows[name] = scorer.run(factories[name], n_images, seeds, out / f"digits_{name}.png", f"{name} noise",
                                    stages.progress)
            rows[name]["grid"] = f"digits_{name}.png"
            rows[name]["wall_seconds"] = time.perf_counter() - t0
    return rows


def _finish_report(out: Path, report: dict, start: float, denoiser) -> None:
    """FID differences, the macro energy and energy per image of ``denoiser``; report.json and report.md, atomic."""
    rows = report["images"]
    soft = rows.get("software", {})
    report["fid_difference_vs_software"] = {
        name: welch_difference(r["fid_values"], soft["fid_values"])
        for name, r in rows.items() if name != "software" and "fid_values" in r and "fid_values" in soft}
    from cosim.app.macro_table import demo_energy

    report["energy"] = demo_energy(report["trng_cell"]["energy_shares_J"], rows, denoiser, report["sampler"]["steps"])
    report["seconds"] = time.perf_counter() - start
    write_atomic(out / "report.json", json.dumps(report, indent=2, default=float))
    from cosim.app.demo_report import demo_markdown

    write_atomic(out / "report.md", demo_markdown(report))
