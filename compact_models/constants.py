"""Physical constants (SI), CODATA 2018. Read them through the module, never copy them."""

MU0 = 1.25663706212e-6
"""Vacuum permeability, T m / A."""
KB = 1.380649e-23
"""Boltzmann constant, J / K."""
HBAR = 1.054571817e-34
"""Reduced Planck constant, J s."""
Q_E = 1.602176634e-19
"""Elementary charge, C."""
EPS0 = 8.8541878128e-12
"""Vacuum permittivity, F / m."""
GAMMA = 1.76e11
"""Electron gyromagnetic ratio used by the LLG equation, rad / (s T) (docs/physics.md)."""
T_REF_K = 300.0
"""Temperature at which model-card values are quoted, K."""
