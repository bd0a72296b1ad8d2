"""The switching-trials netlist (``netlists/mtj_switching.cir``): N independent cells under one pulse.

The rendered default lives in ``netlists/`` so a designer can open it in plain ``ngspice -b``;
a test checks the committed file equals what this module renders.
"""

from __future__ import annotations

from pathlib import Path

from compact_models.render import NETLIST_DIR, write_atomic


SWITCHING_FILE = "mtj_switching.cir"
DEFAULT_SWITCHING_TRIALS = 32


def render_switching(n_trials: int = DEFAULT_SWITCHING_TRIALS, lib: str = "vcma_mtj_va.lib") -> str:
    """N independent MTJs under one ideal write pulse; each reports its final m_z.

    One transient gives N Bernoulli trials, because every instance draws its own thermal
    field: this batching is what makes SPICE switching statistics affordable.
    ``lib`` is the include path of the model library (absolute for decks written elsewhere).
    """
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    lines = [
        f"* VCMA-MTJ switching trials: {n_trials} independent cells under one write pulse",
        "* Rendered by cosim.circuit.render_switching.render_switching; run with: ngspice -b netlists/mtj_switching.cir",
        "* t_pulse is the full width at half maximum; m_z is averaged over the last 0.5 ns of the settle time.",
        "* Every cell starts in P (mz = +1), rests in thermal equilibrium (reached during t_therm, see vcma_mtj_va.lib),",
        "* then sees the pulse at t_delay; mz_k < 0 at the end means cell k switched.",
        f".include {lib}",
        ".param v_write=1.3 t_pulse=0.55n t_rise=20p t_therm=0.3n t_delay={t_therm + 0.1n} t_settle=3n",
        ".param noise=1 mz0=1 theta0=-1",
        ".param t_stop={t_delay + t_pulse + t_rise + t_settle}",
        "Vw w 0 DC 0 PULSE(0 {v_write} {t_delay} {t_rise} {t_rise} {t_pulse - t_rise} 1)",
    ]
    lines += [f"X{k} w 0 VCMA_MTJ noise={{noise}} mz0={{mz0}} theta0={{theta0}} t_therm={{t_therm}} nid={k + 1}" for k in range(n_trials)]
    lines += [".tran 1p {t_stop} 0 {mtj_dt_th}"]
    lines += [f".meas tran mz_{k} avg v(x{k}.mz) from={{t_stop - 0.5n}} to={{t_stop}}" for k in range(n_trials)]
    lines += [".options seed=1", ".end"]
    return "\n".join(lines) + "\n"


def write_switching(path: Path | None = None, n_trials: int = DEFAULT_SWITCHING_TRIALS) -> Path:
    path = path or NETLIST_DIR / SWITCHING_FILE
    write_atomic(path, render_switching(n_trials))
    return path
