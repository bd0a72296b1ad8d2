"""Binomial statistics for switching trials and bit streams."""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest


@dataclass(frozen=True)
class Proportion:
    """k successes in n Bernoulli trials, with an exact (Clopper-Pearson) confidence interval."""

    k: int
    n: int
    level: float = 0.95

    @property
    def p(self) -> float:
        return self.k / self.n

    @property
    def ci(self) -> tuple[float, float]:
        interval = binomtest(self.k, self.n).proportion_ci(confidence_level=self.level, method="exact")
        return float(interval.low), float(interval.high)

    def __str__(self) -> str:
        lo, hi = self.ci
        return f"{self.p:.3f} [{lo:.3f}, {hi:.3f}] ({self.k}/{self.n}, {self.level:.0%} CI)"
