"""Stage 2, lookup tables: the LUT file format, the trng/read/write builders and the queries later stages need."""
