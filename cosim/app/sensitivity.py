"""Design-margin study: image quality (FID) against each non-ideality of the TRNG array.

``vcma diffusion sensitivity`` samples digits with noise from an emulated 64 x 64 array in which
one non-ideality is varied at a time, everything else ideal (no cell-to-cell variation, P(1) = 0.5
for a nominal cell, no sense errors, no correlation, no whitening: ``word:12``):

* ``bias`` -- the driver amplitude set for a target P(1) (``calibrate_v_write``);
* ``correlation`` -- lag-1 correlation of each cell's successive bits (Markov chain);
* ``sense_error`` -- probability that the read flips a latched bit (symmetric flips). On fair
  independent bits a symmetric flip changes nothing (P(1) stays 0.5), so this sweep runs on the
  nominally calibrated chip with the corner's cell-to-cell variation, where flips pull biased
  cells towards 0.5;
* ``variation`` -- cell-to-cell variation as a multiple of the corner's device spreads, one
  nominal driver amplitude (no per-column calibration);
* ``corner`` -- shipped trng LUTs (TT/SS/FF at 27 C, TT at 85 C), each driven either at its own
  calibrated amplitude or at the TT 27 C calibrated amplitude (a chip calibrated once, at TT).

Software and ideal-TRNG noise are the references (mean and 95 % t-band over ``ref_seeds`` seeds).
Every level uses the same sampling seed, so differences between levels are the noise's.
Writes ``sensitivity.png`` (a panel per non-ideality), ``sensitivity.csv`` and ``sensitivity.json``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from compact_models.render import write_atomic

from cosim.luts.lut import Lut, LutError, lut_file_name
from cosim.circuit.render_trng import TRNG_T_PULSE_S
from cosim.noise.defaults import ARRAY_COLS as COLS, ARRAY_ROWS as ROWS, DEFAULT_TRANSFORM
SWEEPS: dict[str, dict] = {
    "bias": {"levels": [0.3, 0.4, 0.45, 0.48, 0.49, 0.495, 0.5], "label": "target P(1) of a cell"},
    "correlation": {"levels": [0.0, 0.1, 0.3, 0.5], "label": "lag-1 bit correlation per cell"},
    "sense_error": {"levels": [0.0, 1e-3, 1e-2, 0.05, 0.1], "label": "sense error rate"},
    "variation": {"levels": [0.0, 0.5, 1.0, 2.0], "label": "cell variation (x corner spreads), nominal calibration"},
    "corner": {"levels": [("tt", 27.0), ("ss", 27.0), ("ff", 27.0), ("tt", 85.0)], "label": "corner / temperature"},
}
QUICK_LEVELS = {"bias": [0.3, 0.5], "correlation": [0.0, 0.5], "sense_error": [0.0, 0.1], "variation": [0.0, 1.0],
                "corner": [("tt", 27.0)]}


def _lut(lut_dir: Path | None, corner: str, temp_C: float) -> Lut:
    from cosim.luts.lut import shipped_lut_path

    name = lut_file_name("trng", corner, temp_C)
    path = Path(lut_dir) / name if lut_dir else shipped_lut_path("trng", corner, temp_C)
    return Lut.load(path, kind="trng")


def level_factories(sweep: str, level, lut_dir: Path | None, chip_seed: int, t_pulse_s: float = TRNG_T_PULSE_S):
    """[(series, factory)] for one level of one sweep; factories build a fresh ``mtj-raw`` source (a fresh chip)."""
    from cosim.noise.emulator import calibrate_v_write
    from cosim.noise.sources import make_noise_source

    ideal = dict(variation=0, sense_error_rate=0.0, correlation=0.0, t_pulse_s=t_pulse_s, chip_seed=chip_seed)

    def make(lut, **kw):
        emu_args = {**ideal, **kw}
        factory = lambda: make_noise_source("mtj-raw", lut=lut, rows=ROWS, cols=COLS,  # noqa: E731
                                            transform=DEFAULT_TRANSFORM, **emu_args)
        factory.key = (lut.provenance.get("corner"), lut.provenance.get("temp_C"),
                       tuple(sorted((k, float(v) if not isinstance(v, str) else v) for k, v in emu_args.items())))
        return factory

    if sweep == "corner":
        corner, temp_C = level
        lut = _lut(lut_dir, corner, temp_C)
        tt = _lut(lut_dir, "tt", 27.0)
        out = [("calibrated at its corner", make(lut, calibration="nominal"))]
        if (corner, temp_C) != ("tt", 27.0):
            out.append(("driven at the TT 27 C amplitude", make(lut, v_write_V=calibrate_v_write(tt, t_pulse_s))))
        return out
    lut = _lut(lut_dir, "tt", 27.0)
    if sweep == "bias":
        return [("", make(lut, v_write_V=calibrate_v_write(lut, t_pulse_s, float(level))))]
    if sweep == "correlation":
        return [("", make(lut, calibration="nominal", correlation=float(level)))]
    if sweep == "sense_error":  # on the nominally calibrated chip with variation (biased cells): see module doc
        return [("", make(lut, calibration="nominal", variation=1.0, sense_error_rate=float(level)))]
    if sweep == "variation":
        return [("", make(lut, calibration="nominal", variation=float(level)))]
    raise ValueError(f"unknown sweep {sweep!r}; choose from {', '.join(SWEEPS)}")


def _level_text(sweep: str, level) -> str:
    return f"{level[0].upper()} {level[1]:g} C" if sweep == "corner" else f"{level:g}"


def run_sensitivity(out_dir: str | os.PathLike = "out/sensitivity", n_images: int = 128, steps: int = 50,
                    seed: int = 1, ref_seeds: int = 3, quick: bool = False, lut_dir: str | os.PathLike | None = None,
                    ddpm_path=None, classifier_path=None, threads: int = 2, progress: bool = True,
                    sweeps: list[str] | None = None, levels: dict[str, list] | None = None) -> dict:
    """Run the sweeps (all, or ``sweeps``); returns the result dictionary (rows, references, summary, files).

    ``levels`` replaces the levels of named sweeps (numbers; corner levels are (corner, temp_C) pairs).
    """
    from cosim.app.demo import Scorer, check_count

    for name, value in (("n_images", n_images), ("steps", steps), ("ref_seeds", ref_seeds), ("threads", threads)):
        check_count(name, value)
    if n_images < 2:
        raise ValueError(f"n_images must be >= 2 for an FID, got {n_images}")
    chosen = dict(QUICK_LEVELS if quick else {k: v["levels"] for k, v in SWEEPS.items()})
    for name in list(sweeps or []) + list(levels or {}):
        if name not in SWEEPS:
            raise ValueError(f"unknown sweep {name!r}; choose from {', '.join(SWEEPS)}")
    chosen.update(levels or {})
    levels = {k: v for k, v in chosen.items() if not sweeps or k in sweeps}
    import torch
    from tqdm.auto import tqdm

    from cosim.noise.sources import make_noise_source

    torch.set_num_threads(threads)
    lut_dir = Path(lut_dir) if lut_dir is not None else None
    _lut(lut_dir, "tt", 27.0)  # fail early on a missing or unusable TT LUT
    scorer = Scorer(ddpm_path, classifier_path, steps=steps)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(s, lv) for s, lvs in levels.items() for lv in lvs]
    start = time.perf_counter()
    seeds = [seed + i for i in range(ref_seeds)]
    bar = tqdm(total=2 * len(seeds) + sum(1 + (s == "corner" and lv != ("tt", 27.0)) for s, lv in jobs),
               desc="sensitivity", unit="run", disable=not progress)
    refs = {}
    for name, kw in (("software", {}), ("ideal-trng", {"transform": DEFAULT_TRANSFORM})):
        r = scorer.run(lambda name=name, kw=kw: make_noise_source(name, **kw), n_images, seeds)
        refs[name] = {k: r[k] for k in ("fid_values", "fid_mean", "fid_ci95", "mean_max_prob", "images_per_s")}
        bar.update(len(seeds))
    rows, cache = [], {}  # identical configurations (e.g. the ideal point of several sweeps) run once
    for sweep, level in jobs:
        try:
            pairs = level_factories(sweep, level, lut_dir, seed)
        except (LutError, ValueError) as err:
            rows.append({"sweep": sweep, "level": _level_text(sweep, level), "x": level, "series": "",
                         "fid": math.nan, "error": str(err)})
            bar.update(1)
            continue
        for series, factory in pairs:
            row = {"sweep": sweep, "level": _level_text(sweep, level), "x": level, "series": series}
            try:
                key = getattr(factory, "key", None)
                r = cache[key] if key in cache else scorer.run(factory, n_images, [seed])
                cache[key] = r
                src = factory()
                cal = src.emulator.calibration_report()
                row.update(fid=r["fid_values"][0], mean_max_prob=r["mean_max_prob"], classes_seen=r["classes_seen"][0],
                           p_one_array_mean=cal["p_one_array_mean"], cell_p_std=cal["cell_p_std"],
                           v_write_V=cal["v_write_V_mean"], energy_per_image_J=r["energy_per_image_J"])
            except (LutError, ValueError) as err:
                row.update(fid=math.nan, error=str(err))
            rows.append(row)
            bar.update(1)
    bar.close()
    result = {"n_images": n_images, "steps": steps, "eta": 1.0, "seed": seed, "ref_seeds": seeds, "quick": quick,
              "array": f"{ROWS} x {COLS}", "transform": DEFAULT_TRANSFORM, "t_pulse_s": TRNG_T_PULSE_S,
              "references": refs, "rows": rows}
    result["summary"] = _summary(result)
    _plot(result, out / "sensitivity.png")
    write_atomic(out / "sensitivity.csv", _csv(rows))
    result["seconds"] = time.perf_counter() - start
    write_atomic(out / "sensitivity.json", json.dumps(result, indent=2, default=_json))
    result["files"] = [str(out / n) for n in ("sensitivity.png", "sensitivity.csv", "sensitivity.json")]
    return result


def _json(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, tuple):
        return list(x)
    return str(x)


def _csv(rows: list[dict]) -> str:
    cols = ["sweep", "level", "series", "fid", "mean_max_prob", "classes_seen", "p_one_array_mean", "cell_p_std",
            "v_write_V", "energy_per_image_J", "error"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def _summary(result: dict) -> str:
    soft = result["references"]["software"]
    ci = soft["fid_ci95"]
    band = f" (95 % CI {ci[0]:.1f}-{ci[1]:.1f})" if ci else ""
    lines = [f"software FID {soft['fid_mean']:.1f}{band}; ideal-trng "
             f"{result['references']['ideal-trng']['fid_mean']:.1f}  ({result['n_images']} images, "
             f"DDIM {result['steps']})"]
    for r in result["rows"]:
        fid = "error: " + r["error"] if "error" in r else f"FID {r['fid']:.1f}  P(1) {r['p_one_array_mean']:.3f}"
        lines.append(f"{r['sweep']:12s} {r['level']:>10s} {r['series']:34s} {fid}")
    return "\n".join(lines)


def _plot(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = list(dict.fromkeys(r["sweep"] for r in result["rows"]))
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.2 * len(sweeps), 3.8), squeeze=False)
    refs = result["references"]
    for ax, sweep in zip(axes[0], sweeps):
        rows = [r for r in result["rows"] if r["sweep"] == sweep]
        for colour, (name, ref) in zip(("tab:grey", "tab:green"), refs.items()):
            ax.axhline(ref["fid_mean"], color=colour, lw=1, ls="--", label=f"{name}")
            if ref["fid_ci95"]:
                ax.axhspan(*ref["fid_ci95"], color=colour, alpha=0.15)
        labels = [r["level"] for r in rows if r["series"] in ("", "calibrated at its corner")]
        for series, marker in zip(dict.fromkeys(r["series"] for r in rows), ("o", "s")):
            pts = [r for r in rows if r["series"] == series]
            if sweep == "corner":
                xs = [labels.index(r["level"]) for r in pts]
            else:
                xs = [float(r["x"]) for r in pts]
            ys = [r["fid"] for r in pts]
            ax.plot(xs, ys, marker=marker, label=series or "mtj array")
        if sweep == "corner":
            ax.set_xticks(range(len(labels)), labels)
        elif sweep == "sense_error":
            ax.set_xscale("symlog", linthresh=1e-3)
        ax.set_yscale("log")
        ax.set_xlabel(SWEEPS[sweep]["label"])
        ax.set_ylabel("FID (classifier features)")
        ax.set_title(sweep.replace("_", " "))
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(f"FID vs TRNG non-ideality ({result['array']} array, {result['transform']}, "
                 f"{result['n_images']} images, DDIM {result['steps']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
