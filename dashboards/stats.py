"""The statistics every view shares: NPS with its interval, means, proportions and
correlations with theirs, and when a change between two periods is more than noise. Pure
functions."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959964  # two-sided 95 %
MIN_N = 30  # below this many answers a figure is shown greyed, with its n, never bare


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95 % interval and the number of observations behind it."""

    value: float | None
    low: float | None
    high: float | None
    se: float | None
    n: int

    @property
    def enough(self) -> bool:
        return self.n >= MIN_N


EMPTY = Estimate(None, None, None, None, 0)


def nps(promoters: int, passives: int, detractors: int) -> Estimate:
    """NPS in points (−100..100) with the normal-approximation interval:
    se = sqrt((p + d − (p − d)²) / n) × 100, p and d the promoter and detractor shares."""
    n = promoters + passives + detractors
    if n == 0:
        return EMPTY
    p, d = promoters / n, detractors / n
    value = 100 * (p - d)
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return Estimate(value, max(value - Z95 * se, -100.0), min(value + Z95 * se, 100.0), se, n)


def mean(n: int, total: float, total_sq: float, bounds: tuple[float, float] | None = None):
    """Mean with a normal interval from n, Σx and Σx² (what SQL hands back); `bounds` clips
    the interval to the scale (CSI is 0–100)."""
    if n == 0:
        return EMPTY
    value = total / n
    variance = max(total_sq / n - value**2, 0.0) * n / (n - 1) if n > 1 else 0.0
    se = math.sqrt(variance / n)
    low, high = value - Z95 * se, value + Z95 * se
    if bounds:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(value, low, high, se, n)


def proportion(hits: int, n: int) -> Estimate:
    """A share in per cent with the Wilson interval (sound for small n and shares near 0)."""
    if n == 0:
        return EMPTY
    p = hits / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    se = math.sqrt(p * (1 - p) / n)
    return Estimate(100 * p, 100 * (centre - half), 100 * (centre + half), 100 * se, n)


def correlation(n: int, sx: float, sy: float, sxy: float, sxx: float, syy: float) -> Estimate:
    """Pearson r from sums, with Fisher's z interval (se = 1 / sqrt(n − 3) on the z scale).
    No value when either side has no spread; no interval below four pairs."""
    vx, vy = n * sxx - sx * sx, n * syy - sy * sy
    if n < 2 or vx <= 0 or vy <= 1e-9 * max(n * syy, 1.0):
        return Estimate(None, None, None, None, n)
    r = max(-1.0, min(1.0, (n * sxy - sx * sy) / math.sqrt(vx * vy)))
    if n <= 3:
        return Estimate(r, None, None, None, n)
    se = 1 / math.sqrt(n - 3)
    z = math.atanh(max(-0.9999999, min(0.9999999, r)))
    return Estimate(r, math.tanh(z - Z95 * se), math.tanh(z + Z95 * se), se, n)


def change_significant(before: Estimate, after: Estimate) -> bool | None:
    """|after − before| / sqrt(se₁² + se₂²) > 1.96. None when either side has fewer than
    MIN_N observations: the normal approximation says nothing there."""
    if not (before.enough and after.enough):
        return None
    spread = math.sqrt(before.se**2 + after.se**2)
    if spread == 0:
        return after.value != before.value
    return abs(after.value - before.value) / spread > Z95
