"""Stage 3, noise: bits-to-Gaussian transforms, NIST SP 800-22 tests, noise sources and the TRNG-array emulator."""
