"""``vcma diffusion compare``: image quality of noise sources against software noise, at any size.

Each source samples ``n_images`` digits for each of ``n_seeds`` seeds (DDIM, eta = 1) and every seed
is scored on the project classifier's features against the held-out digits: FID and KID (KID with
a bootstrap interval per seed). Each source's FID and KID minus software's is stated with its Welch
95 % interval over seeds *and* with the smallest difference the run could detect (5 % two-sided,
80 % power), so a "no difference" reads as "none larger than X". The mtj sources use the shipped
TT 27 C trng LUT and the shipped array LUTs exactly as ``vcma demo`` builds them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from compact_models.render import write_atomic
from cosim.app.scoring import (DEMO_SOURCES, MTJ_SOURCES, Scorer, demo_source_factories, differences_vs,
                               load_trng_lut, min_images, optional_array_luts)

__all__ = ["run_compare", "compare_markdown", "MIN_SEEDS", "TARGET_RELATIVE"]

MIN_SEEDS = 2
"""Fewest seeds per source: a t-interval over seeds needs two values."""

TARGET_RELATIVE = 0.10
"""The question asked: does the 95 % interval of (source - software) FID lie within +-10 % of software's FID?"""


def check_compare_inputs(sources: list[str], n_images: int, n_seeds: int, steps: int, feature_dim: int) -> None:
    """One clear ``ValueError`` per bad input, before anything is sampled."""
    from cosim.app import checks

    unknown = [s for s in sources if s not in DEMO_SOURCES]
    if unknown or not sources:
        raise ValueError(f"--sources: unknown source(s) {', '.join(unknown) or '(none given)'}; choose from "
                         f"{', '.join(DEMO_SOURCES)}")
    if "software" not in sources or len(set(sources)) < 2:
        raise ValueError(f"--sources must list software (the reference) and at least one other source, got "
                         f"{','.join(sources)}")
    for flag, value, low, why in (
            ("--seeds", n_seeds, MIN_SEEDS, "a 95 % interval over seeds needs two values per source"),
            ("--images", n_images, min_images(feature_dim), f"FID fits a covariance to {feature_dim} classifier "
                                                            f"features, singular with fewer images than that + 1")):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise checks.InputError(f"{flag} must be an integer >= {low} ({why}), got {value!r}")
    checks.count("--steps", steps, 1)


def run_compare(out_dir: str | Path, sources: list[str], n_images: int, n_seeds: int, steps: int = 50,
                seed: int = 1, threads: int = 2, quiet: bool = False, lut_path=None, ddpm_path=None,
                classifier_path=None, device: str = "cpu") -> dict:
    """Sample and score every source over seeds ``seed .. seed + n_seeds - 1``; write report.md/.json and a plot.
    One stage line per step on stdout and progress bars on stderr unless ``quiet``."""
    from cosim.app.stages import Stages
    from diffusion.classifier import ClassifierConfig

    sources = list(dict.fromkeys(sources))
    # cheap checks before loading anything (the default classifier's D), then with the loaded classifier's D
    check_compare_inputs(sources, n_images, n_seeds, steps, ClassifierConfig().feature_dim)
    stages = Stages(len(sources) + 2, quiet=quiet)
    with stages.stage("loading the DDPM, the classifier and the LUTs"):
        import torch

        torch.set_num_threads(threads)
        scorer = Scorer(ddpm_path, classifier_path, steps=steps, device=device)
        check_compare_inputs(sources, n_images, n_seeds, steps, scorer.feature_dim)
        lut = load_trng_lut(lut_path) if any(s in MTJ_SOURCES for s in sources) else None
        array_luts, notes = optional_array_luts() if lut is not None else ({}, {})
        factories = demo_source_factories(lut, seed, 0.0, 0.0, array_luts=array_luts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [seed + i for i in range(n_seeds)]
    start = time.perf_counter()
    report = {"sources": sources, "n_images": n_images, "seeds": seeds,
              "sampler": {"kind": "ddim", "steps": steps, "eta": scorer.eta}, "threads": threads,
              "ddpm": str(scorer.ddpm_path), "classifier": str(scorer.classifier_path),
              "classifier_heldout_accuracy": scorer.classifier_accuracy, "reference_images": len(scorer.ref_features),
              "lut": str(lut_path) if lut_path else "shipped TT 27 C" if lut is not None else None,
              "array_luts": notes, "chip_seed": seed, "target_relative": TARGET_RELATIVE, "images": {}}
    for name in sources:
        with stages.stage(f"digits with {name} noise ({n_seeds} seeds x {n_images} images)"):
            t0 = time.perf_counter()
            row = scorer.run(factories[name], n_images, seeds, out / f"digits_{name}.png", f"{name} noise",
                             stages.progress)
            row["wall_seconds"] = time.perf_counter() - t0
            report["images"][name] = row
    with stages.stage("differences and report"):
        for metric in ("fid", "kid"):
            report[f"{metric}_difference_vs_software"] = differences_vs(report["images"], metric)
        report["seconds"] = time.perf_counter() - start
        plot_compare(report, out / "compare.png")
        write_atomic(out / "report.json", json.dumps(report, indent=2, default=float))
        write_atomic(out / "report.md", compare_markdown(report))
    return report


def within_target(d: dict) -> bool | None:
    """Whether the difference's 95 % relative interval lies inside +-TARGET_RELATIVE (None without one)."""
    ci = d.get("relative_ci95")
    return None if ci is None else bool(-TARGET_RELATIVE <= ci[0] and ci[1] <= TARGET_RELATIVE)


def _ci(ci, fmt: str) -> str:
    return "n/a" if ci is None else f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


def difference_lines(report: dict, metric: str, fmt: str) -> list[str]:
    """Markdown table rows of one metric's differences against software (shared with the demo report)."""
    lines = []
    for name, d in report.get(f"{metric}_difference_vs_software", {}).items():
        rel = "n/a" if d.get("relative") is None else f"{d['relative']:+.1%}"
        mdd = d.get("detectable")
        mdd_s = "n/a" if mdd is None else fmt.replace("+", "").format(mdd)
        rel_mdd = "n/a" if d.get("relative_detectable") is None else f"{d['relative_detectable']:.1%}"
        lines.append(f"| {name} | {metric.upper()} | {fmt.format(d['difference'])} | {_ci(d['ci95'], fmt)} | {rel} | "
                     f"{_ci(d.get('relative_ci95'), '{:+.1%}')} | {mdd_s} | {rel_mdd} |")
    return lines


DIFF_HEADER = ["| noise | metric | minus software | 95 % CI (Welch) | relative | relative 95 % CI "
               "| detectable difference | relative to software |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
"""Header of the differences table; 'detectable' is the smallest true difference found with 80 % power."""


def compare_markdown(r: dict) -> str:
    """``report.md`` of :func:`run_compare`."""
    s = r["sampler"]
    lines = ["# vcma diffusion compare", "",
             f"{r['n_images']} images x seeds {r['seeds'][0]}..{r['seeds'][-1]} ({len(r['seeds'])}) per source; DDIM "
             f"{s['steps']} steps, eta = {s['eta']:g}; scored on the project classifier's features (held-out "
             f"accuracy {r['classifier_heldout_accuracy']:.3f}) against {r['reference_images']} held-out digits. "
             f"FID and KID: mean over seeds with a 95 % Student-t interval over seeds.", "",
             "| noise | FID | 95 % CI | FID std (seeds) | KID | 95 % CI | mean max-prob | classes (min) "
             "| images/s | wall (s) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in r["images"].items():
        lines.append(f"| {name} | {row['fid_mean']:.2f} | {_ci(row['fid_ci95'], '{:.2f}')} | "
                     f"{row.get('fid_std', float('nan')):.2f} | {row['kid_mean']:.2f} | {_ci(row['kid_ci95'], '{:.2f}')} | "
                     f"{row['mean_max_prob']:.3f} | {row['classes_seen_min']} | {row['images_per_s']:.1f} | "
                     f"{row['wall_seconds']:.0f} |")
    lines += ["", "## Differences against software", "",
              "Welch 95 % interval over seeds; *detectable difference*: the smallest true difference this run "
              "finds with 80 % power at the 5 % two-sided level (from its standard error).", ""] + DIFF_HEADER
    lines += difference_lines(r, "fid", "{:+.2f}") + difference_lines(r, "kid", "{:+.2f}")
    lines += [""]
    for name, d in r.get("fid_difference_vs_software", {}).items():
        ok = within_target(d)
        verdict = ("n/a" if ok is None else
                   "inside" if ok else "not inside")
        lines.append(f"* {name}: the 95 % interval of (FID - software FID) is {verdict} +-{TARGET_RELATIVE:.0%} of "
                     f"the software FID; measured {d['difference']:+.2f} ({_pct(d.get('relative'))}).")
    lines += ["", f"Total time {r['seconds']:.0f} s, torch threads {r['threads']}. Plot: compare.png.", ""]
    return "\n".join(lines)


def _pct(v) -> str:
    return "n/a" if v is None else f"{v:+.1%}"


def plot_compare(r: dict, out: Path) -> Path:
    """Per-seed FID and KID (KID with its bootstrap interval) per source, with each source's t-interval band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from cosim.app.plots import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for j, (name, row) in enumerate(r["images"].items()):
        x = np.arange(len(row["seeds"])) + 0.12 * j
        color = f"C{j}"
        axes[0].plot(x, row["fid_values"], "o", color=color, label=name)
        kid = np.array(row["kid_values"])
        ci = np.array([c if c is not None else [np.nan, np.nan] for c in row["kid_bootstrap_ci95"]])
        axes[1].errorbar(x, kid, yerr=[kid - ci[:, 0], ci[:, 1] - kid], fmt="o", color=color, capsize=3, label=name)
        for ax, key in ((axes[0], "fid"), (axes[1], "kid")):
            if row[f"{key}_ci95"] is not None:
                lo, hi = row[f"{key}_ci95"]
                ax.axhspan(lo, hi, color=color, alpha=0.15)
    for ax, label in ((axes[0], "FID per seed (band: 95 % t-interval of the mean)"),
                      (axes[1], "KID per seed (bars: bootstrap 95 %)")):
        ax.set_xticks(range(len(r["seeds"])), [str(v) for v in r["seeds"]])
        ax.set_xlabel("sampling seed")
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle(f"{r['n_images']} images per seed, DDIM {r['sampler']['steps']} steps", fontsize=10)
    return save_figure(fig, out)
