"""Defaults of the noise stage that other stages and the CLI name (light: imports nothing heavy).

Each is defined here once: the transforms, the emulator, the demo, the sensitivity study and the
CLI's option defaults import them, so changing one changes every user.
"""

from __future__ import annotations

from compact_models.macro import MACRO

DEFAULT_TRANSFORM = "word:12"
"""Default for TRNG noise sources: a 12-bit word through the inverse normal CDF (KS distance 1.2e-4,
tails to |x| = 3.67; see ``cosim/noise/transforms.py``)."""

MTJ_TRANSFORM = DEFAULT_TRANSFORM + "+vn"
"""The mtj source's default: per-cell von Neumann first, because cell-to-cell variation leaves cells biased."""

ARRAY_ROWS = int(MACRO.rows)
ARRAY_COLS = int(MACRO.cols)
"""Size of the emulated TRNG array (rows x columns) that the mtj noise source, the demo and the
sensitivity study use: the macro card's array (``compact_models/macro.py``), one column sense
amplifier shared by ``ARRAY_ROWS`` cells."""
