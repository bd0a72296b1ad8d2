"""The TRNG macro's block table, its comparison with published TRNGs, and the energy of a generated image.

Used by ``vcma trng macro`` and by the demo report. The headline is the whole macro
(:mod:`cosim.circuit.macro`); the cell-only figure appears only as a labelled lower bound.
Energy x area is per bit (J m^2, shown as pJ um^2); lower is better.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from compact_models import published_trngs as pub
from compact_models.macro import MACRO, MacroCard, load_macro_card
from compact_models.render import write_atomic
from cosim.circuit.macro import cell_bound, macro_blocks, macro_summary

E_MAC = pub.E_FMULT32.value + pub.E_FADD32.value
E_MAC_SOURCE = f"{pub.HOROWITZ}: 32-bit FP multiply 3.7 pJ + add 0.9 pJ = 4.6 pJ per MAC"
BYTES_PER_SRAM_READ = 8


def macro_report(shares_J: dict[str, float], macro: MacroCard = MACRO, raw_bits_per_fair_bit: float = 4.0,
                 p_one_note: str = "P(1) = 0.5 after calibration") -> dict:
    """Blocks, totals, the cell-only bound and the comparison rows, from the cell's SPICE energy shares."""
    blocks = macro_blocks(shares_J, macro)
    summary = macro_summary(blocks, macro, raw_bits_per_fair_bit=raw_bits_per_fair_bit)
    bound = cell_bound(shares_J)
    return {"blocks": blocks, "summary": summary, "cell_bound": bound, "von_neumann": p_one_note,
            "comparison": comparison_rows(summary, bound)}


def _row(name, kind, e, a, rate, node, source, note="") -> dict:
    ea = e * a if e is not None and a is not None else None
    return {"name": name, "kind": kind, "energy_per_bit_J": e, "area_m2": a, "energy_area_J_m2": ea,
            "throughput_per_s": rate, "node": node, "note": note, "source": source}


def comparison_rows(summary: dict, bound: dict) -> list[dict]:
    """This macro per raw bit, fair bit and sample; the cell-only bound; the paper's claim; published TRNGs."""
    s = summary
    here = "this work: cosim.circuit.macro (SPICE cell shares + cited periphery)"
    rows = [
        _row("this macro, per fair bit (headline)", "VCMA-MTJ macro", s["energy_per_fair_bit_J"],
             s["area_bit_macro_m2"], s["fair_bit_per_s"], "45 nm", here, "von Neumann whitened"),
        _row("this macro, per raw bit", "VCMA-MTJ macro", s["energy_per_raw_bit_J"], s["area_bit_macro_m2"],
             s["raw_bit_per_s"], "45 nm", here, "before whitening"),
        _row("this macro, per Gaussian sample", "VCMA-MTJ macro", s["energy_per_sample_J"], s["area_macro_m2"],
             s["sample_per_s"], "45 nm", here, "per sample, with the conversion unit (not per bit)"),
        _row("bound: one cell, no periphery", "VCMA-MTJ cell", bound["energy_per_raw_bit_J"], bound["area_m2"],
             None, "45 nm", "SPICE netlists/trng_cell.cir supply energy x one cell's footprint",
             "a lower bound only, not comparable with a macro"),
        _row(pub.PAPER_CLAIM["name"], "claim", None, None, None, "n/a", pub.PAPER_CLAIM["source"],
             f"{pub.PAPER_CLAIM['claim']}; {pub.PAPER_CLAIM['note']}")]
    for t in pub.PUBLISHED_TRNGS:
        rows.append(_row(t["name"], t["kind"], t["energy_per_bit_J"], t["area_m2"], t["throughput_bit_per_s"],
                         t["node"], t["source"], t["note"]))
    ref = rows[0]["energy_area_J_m2"]
    for r in rows:  # per-bit rows only: a sample is not a bit
        per_bit = "Gaussian sample" not in r["name"]
        r["energy_area_vs_macro"] = r["energy_area_J_m2"] / ref if per_bit and r["energy_area_J_m2"] and ref else None
    return rows


def _num(x, scale=1.0, fmt="{:.3g}", missing="not published") -> str:
    return missing if x is None else fmt.format(x * scale)


def blocks_markdown(report: dict) -> str:
    """The block table: energy per raw bit or per sample, area, source."""
    lines = ["| block | count | energy | per | area (um^2) | source |", "| --- | --- | --- | --- | --- | --- |"]
    for b in report["blocks"]:
        count = "share" if b["count"] is None else f"{b['count']:g}"
        lines.append(f"| {b['block']} | {count} | {b['energy_J'] * 1e15:.3g} fJ | {b['energy_per']} | "
                     f"{b['area_m2'] * 1e12:.4g} | {b['source']} |")
    s = report["summary"]
    lines += ["", f"Bit macro: {s['energy_per_raw_bit_J'] * 1e15:.3g} fJ per raw bit, "
                  f"{s['energy_per_fair_bit_J'] * 1e15:.3g} fJ per fair bit ({s['raw_bits_per_fair_bit']:.3g} raw bits "
                  f"per fair bit: {report['von_neumann']}), {s['area_bit_macro_m2'] * 1e12:.4g} um^2. With the "
                  f"conversion unit: {s['energy_per_sample_J'] * 1e12:.3g} pJ per Gaussian sample, "
                  f"{s['area_macro_m2'] * 1e12:.4g} um^2. Throughput at the {s['cycle_time_s'] * 1e9:.3g} ns cycle: "
                  f"{s['raw_bit_per_s'] / 1e9:.3g} Gbit/s raw, {s['fair_bit_per_s'] / 1e9:.3g} Gbit/s fair, "
                  f"{s['sample_per_s'] / 1e6:.3g} M samples/s.", "",
              "References: " + "; ".join(f"{k}: {v}" for k, v in pub.REFERENCES.items()) + "."]
    return "\n".join(lines)


def comparison_markdown(rows: list[dict]) -> str:
    """The comparison table (energy x area relative to the macro's fair bit: > 1 means worse than the macro)."""
    lines = ["| TRNG | kind | energy/bit | area (um^2) | energy x area (pJ um^2) | vs this macro | throughput (/s) "
             "| node | note | source |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        miss = "not published" if r["kind"] in ("CMOS", "MTJ") else "n/a"
        rel = "n/a" if r["energy_area_vs_macro"] is None else f"{r['energy_area_vs_macro']:.3g}x"
        lines.append(f"| {r['name']} | {r['kind']} | {_num(r['energy_per_bit_J'], 1e12, '{:.3g} pJ', miss)} | "
                     f"{_num(r['area_m2'], 1e12, '{:.4g}', miss)} | {_num(r['energy_area_J_m2'], 1e24, '{:.3g}', miss)} | "
                     f"{rel} | {_num(r['throughput_per_s'], missing=miss)} | "
                     f"{r['node']} | {r['note']} | {r['source']} |")
    return "\n".join(lines)


def image_energy(macs_per_step: int, steps: int, noise_samples_per_image: float, energy_per_sample_J: float,
                 n_params: int | None = None) -> dict:
    """Energy of one generated image: denoiser MACs x steps at the cited 45 nm FP32 MAC energy, weight reads
    (batch 1, each weight once per step from SRAM at the cited 8 KB-SRAM energy) and the macro's noise."""
    compute = macs_per_step * steps * E_MAC
    weights = (n_params * 4 / BYTES_PER_SRAM_READ * pub.E_SRAM8K_READ64.value * steps) if n_params else 0.0
    noise = noise_samples_per_image * energy_per_sample_J
    total = compute + weights + noise
    return {"macs_per_step": macs_per_step, "steps": steps, "compute_J": compute, "weights_J": weights,
            "noise_J": noise, "total_J": total, "trng_share": noise / total if total else 0.0,
            "noise_samples_per_image": noise_samples_per_image, "energy_per_sample_J": energy_per_sample_J,
            "sources": {"mac": E_MAC_SOURCE, "weights": f"fp32 weights, {pub.E_SRAM8K_READ64.source} per 8 bytes, "
                        "batch 1 (a lower bound for memory: activations and larger arrays not counted)",
                        "noise": "this macro's energy per Gaussian sample (cosim.circuit.macro)"}}


def image_energy_markdown(e: dict) -> str:
    return "\n".join([
        "| part | energy per image | source |", "| --- | --- | --- |",
        f"| denoiser: {e['macs_per_step'] / 1e6:.4g} M MACs x {e['steps']} steps | {e['compute_J'] * 1e3:.4g} mJ | "
        f"{e['sources']['mac']} |",
        f"| weight reads | {e['weights_J'] * 1e3:.4g} mJ | {e['sources']['weights']} |",
        f"| noise: {e['noise_samples_per_image']:.0f} samples | {e['noise_J'] * 1e6:.4g} uJ | {e['sources']['noise']} |",
        f"| total | {e['total_J'] * 1e3:.4g} mJ | TRNG share {e['trng_share']:.2e} |"])


def measure_shares(n_cycles: int = 16, seed: int = 1) -> tuple[dict[str, float], object]:
    """Run the shipped TRNG cell for ``n_cycles`` and return its mean per-phase energies (and the run)."""
    from cosim.circuit.trng import run_trng
    from cosim.circuit.trng_energy import phase_energies

    run = run_trng(n_cycles, seed=seed)
    return phase_energies(run.result, n_cycles).mean_J(), run


def cmd_trng_macro(args) -> None:
    """``vcma trng macro``: the SPICE cell, then the block and comparison tables (and JSON)."""
    from cosim.app import checks

    macro = load_macro_card(args.card) if args.card else MACRO
    checks.count("--cycles", args.cycles)
    checks.seed("--seed", args.seed)
    if args.json is not None:
        checks.output_file("--json", args.json)
    print(f"TRNG cell in SPICE: {args.cycles} cycles (about 5 s each) ...", file=sys.stderr, flush=True)
    shares, run = measure_shares(args.cycles, args.seed)
    report = macro_report(shares, macro)
    report["cell_run"] = {"n_cycles": args.cycles, "seed": args.seed, "p_one": run.p_one.p,
                          "energy_per_bit_J": run.energy_per_bit_J}
    print(f"TRNG cell in SPICE: {args.cycles} cycles, P(1) = {run.p_one.p:.3f}, {run.energy_per_bit_J * 1e15:.1f} fJ "
          f"per cycle\n\n## Blocks\n\n{blocks_markdown(report)}\n\n## Comparison\n\n"
          f"{comparison_markdown(report['comparison'])}")
    if args.json is not None:
        write_atomic(Path(args.json), json.dumps(report, indent=2, default=float))


def add_macro_parser(trng_sub) -> None:
    """``vcma trng macro`` under the ``trng`` command."""
    p = trng_sub.add_parser("macro", help="energy, area and throughput of a whole TRNG macro, and published TRNGs")
    p.add_argument("--card", type=Path, help="TOML card file with a [macro] table (default: the shipped macro)")
    p.add_argument("--cycles", type=int, default=16, help="TRNG-cell cycles simulated for the energy shares")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, help="write the blocks, totals and comparison as JSON")
    p.set_defaults(func=cmd_trng_macro)


def demo_energy(shares_J: dict[str, float], rows: dict, model, steps: int) -> dict:
    """The demo's energy section: the macro (von Neumann yield of the emulated ``mtj`` chip where it ran) and
    the energy of one image (the denoiser's MACs counted on ``model``; noise samples as the sampler drew them)."""
    from diffusion.macs import denoiser_macs
    from diffusion.unet import count_parameters

    mtj = rows.get("mtj", {})
    per_fair = mtj.get("raw_bits_per_fair_bit")
    note = "the emulated mtj chip's von Neumann yield" if per_fair else "P(1) = 0.5 after calibration"
    report = macro_report(shares_J, raw_bits_per_fair_bit=per_fair or 4.0, p_one_note=note)
    drawn = [r["noise_samples_per_image"] for r in rows.values() if r.get("noise_samples_per_image")]
    pixels = 28 * 28
    samples = drawn[0] if drawn else (steps + 1) * pixels
    image = image_energy(denoiser_macs(model)["total"], steps, samples, report["summary"]["energy_per_sample_J"],
                         count_parameters(model))
    per_source = {name: r["random_bits_per_image"] * report["summary"]["energy_per_raw_bit_J"]
                  for name, r in rows.items() if r.get("random_bits_per_image")}
    return {"macro": report, "image": image, "macro_energy_per_image_J": per_source}


def energy_markdown(energy: dict) -> list[str]:
    """The demo report's energy section (lines)."""
    return ["", "## Energy and area of the whole TRNG macro", "", blocks_markdown(energy["macro"]), "",
            "### Against published TRNGs (energy x area per bit, lower is better; the headline is the macro per fair "
            "bit, the cell-only row is a bound)", "", comparison_markdown(energy["macro"]["comparison"]), "",
            "### Energy per generated image", "", image_energy_markdown(energy["image"]), "",
            "Per noise source, the raw bits it drew times the bit macro's energy per raw bit (the table above "
            "charges the cell alone): " + ", ".join(f"{k} {v:.3g} J" for k, v in
                                                     energy["macro_energy_per_image_J"].items()) + "."]
