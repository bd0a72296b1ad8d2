"""Stage 1, circuits: netlist rendering, the ngspice runner, switching trials, the TRNG cell, crossbars, sweeps."""
