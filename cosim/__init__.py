"""Co-simulation: run ngspice netlists, sweep them, distil lookup tables, emulate the TRNG array."""
