"""VCMA-MTJ co-simulation, one subpackage per stage, each importing only the stages below it:

``circuit`` (decks, ngspice, switching, TRNG cell, crossbar, sweeps) -> ``luts`` (the lookup-table
format, its builders and queries) -> ``noise`` (bits-to-Gaussian transforms, NIST tests, noise
sources, the array emulator) -> ``app`` (CLI, demo, sensitivity study, plots). See docs/design.md.
"""
