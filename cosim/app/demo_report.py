"""The demo's Markdown report (``report.md``), written from the report dictionary of :func:`cosim.app.demo.run_demo`."""

from __future__ import annotations

from pathlib import Path

__all__ = ["demo_markdown"]


def _fmt_ci(ci, fmt="{:.1f}") -> str:
    return "n/a" if ci is None else f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


def demo_markdown(r: dict) -> str:
    """``report.md`` of :func:`cosim.app.demo.run_demo` from its report dictionary."""
    t = r["trng_cell"]
    lines = ["# vcma demo report", "",
             "## Device: precessional switching at 1.3 V (SPICE trials, 95 % Clopper-Pearson CI)", "",
             "| t_pulse (ns) | P(switch) | 95 % CI | trials |", "| --- | --- | --- | --- |"]
    for row in r["switching_vs_width_1p3V"]:
        lo, hi = row["ci95"]
        lines.append(f"| {row['t_pulse_s'] * 1e9:.1f} | {row['p']:.3f} | [{lo:.3f}, {hi:.3f}] | {row['n']} |")
    lo, hi = t["p_one_ci95"]
    lines += ["", "## TRNG cell (SPICE, 1T-1MTJ, StrongARM read)", "",
              f"bits `{t['bits']}`; P(1) = {t['p_one']:.3f} [{lo:.3f}, {hi:.3f}]; "
              f"energy/bit {t['energy_per_bit_J'] * 1e15:.1f} fJ; time/bit {t['time_per_bit_s'] * 1e9:.2f} ns", ""]
    s = r["sampler"]
    lines += [f"## Digits (DDIM, {s['steps']} steps, eta = {s['eta']:g}; {r['n_images']} images x seeds "
              f"{r['seeds']} per source)", "",
              "FID on the features of the project's own digit classifier (held-out accuracy "
              f"{r['classifier_heldout_accuracy']:.3f}) against the held-out real digits; mean over seeds with a "
              "95 % Student-t interval over seeds. Energy per image here is the raw bits drawn times the TRNG *cell's* "
              "SPICE energy per raw bit (the LUT's, for the mtj sources): a bound; the whole macro's figure per "
              "source is in the energy section below (software noise is not charged).", "",
              "| noise | FID | 95 % CI (seeds) | mean max-prob | classes (min) | raw bits/image | cell energy/image (J) "
              "| cell energy/raw bit (J) | s/seed | images/s |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in r["images"].items():
        if "skipped" in row:
            lines.append(f"| {name} | skipped: {row['skipped']} |||||||||")
            continue
        lines.append(f"| {name} | {row['fid_mean']:.1f} | {_fmt_ci(row['fid_ci95'])} | {row['mean_max_prob']:.3f} | "
                     f"{row['classes_seen_min']} | {row['random_bits_per_image']:.4g} | "
                     f"{row['energy_per_image_J']:.3g} | {row.get('energy_per_raw_bit_J', 0):.3g} | "
                     f"{row['sampling_seconds']:.1f} | {row['images_per_s']:.1f} |")
    if r.get("fid_difference_vs_software"):
        lines += ["", "### FID minus software FID (Welch 95 % t-interval)", "",
                  "| noise | difference | 95 % CI | relative | relative 95 % CI |", "| --- | --- | --- | --- | --- |"]
        for name, d in r["fid_difference_vs_software"].items():
            rel = d.get("relative")
            lines.append(f"| {name} | {d['difference']:+.1f} | {_fmt_ci(d['ci95'])} | "
                         f"{'n/a' if rel is None else f'{rel:+.1%}'} | "
                         f"{_fmt_ci(d.get('relative_ci95'), '{:+.1%}')} |")
    cal = {n: row["calibration_report"] for n, row in r["images"].items() if "calibration_report" in row}
    if cal:
        lines += ["", "### Emulated arrays after calibration", "",
                  f"{r['mtj_setup']['array']} cells, t_pulse {r['mtj_setup']['t_pulse_s'] * 1e9:.2f} ns, LUT "
                  f"{Path(r['mtj_setup']['lut']).name}; write LUT: {r['mtj_setup']['array_luts'].get('write', 'n/a')}; "
                  f"read LUT: {r['mtj_setup']['array_luts'].get('read', 'n/a')}.", "",
                  "| noise | calibration | mean V_write (V) | array P(1) | worst column bias | cell P(1) std "
                  "| stuck cells | von Neumann yield |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, c in cal.items():
            lines.append(f"| {name} | {c['calibration']} | {c['v_write_V_mean']:.4f} | {c['p_one_array_mean']:.4f} | "
                         f"{c['column_bias_max_abs']:.2g} | {c['cell_p_std']:.3f} | {c['stuck_fraction']:.3f} | "
                         f"{c['von_neumann_yield']:.3f} |")
    if r.get("energy"):
        from cosim.app.macro_table import energy_markdown

        lines += energy_markdown(r["energy"])
    lines += ["", f"Total time: {r['seconds']:.0f} s (SPICE part {r['spice_seconds']:.0f} s, torch threads "
              f"{r['threads']}).", ""]
    return "\n".join(lines)
