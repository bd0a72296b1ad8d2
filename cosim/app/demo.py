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
import os
import time
from pathlib import Path

import numpy as np

from compact_models import mtj_card
from compact_models.render import write_atomic

from cosim.luts.lut import Lut, LutError, shipped_lut_path
from cosim.app.scoring import (  # noqa: F401  (shared with vcma diffusion compare; re-exported)
    DEMO_SOURCES, MTJ_SOURCES, Scorer, demo_source_factories, differences_vs, load_trng_lut, optional_array_luts,
    welch_difference)
from cosim.circuit.render_trng import TRNG_T_PULSE_S
from cosim.noise.defaults import ARRAY_COLS, ARRAY_ROWS

WIDTHS_S = [0.2e-9, 0.4e-9, 0.6e-9, 0.8e-9, 1.0e-9, 1.2e-9]


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
        scorer = Scorer(ddpm_path, classifier_path, steps=steps, device=device)  # checkpoints first: fail before SPICE
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
    for metric in ("fid", "kid"):
        report[f"{metric}_difference_vs_software"] = differences_vs(rows, metric)
    from cosim.app.macro_table import demo_energy

    report["energy"] = demo_energy(report["trng_cell"]["energy_shares_J"], rows, denoiser, report["sampler"]["steps"])
    report["seconds"] = time.perf_counter() - start
    write_atomic(out / "report.json", json.dumps(report, indent=2, default=float))
    from cosim.app.demo_report import demo_markdown

    write_atomic(out / "report.md", demo_markdown(report))
