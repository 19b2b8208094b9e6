"""Small statistics for the evaluation: Wilson intervals and binned reliability."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["wilson", "rate", "reliability_table", "BINS"]

_Z95 = 1.959963984540054  # the two-sided 95 % quantile of the standard normal

BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
"""Edges of the reliability bins for the top cause's probability."""


def wilson(k: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval for ``k`` successes in ``n`` trials (95 % by default).

    Unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or n
    successes, which matters for the small counts per cause (Wilson 1927; Brown, Cai
    and DasGupta 2001, Statistical Science 16:101-133). NaN for ``n == 0``.

    >>> low, high = wilson(8, 10)
    >>> round(low, 3), round(high, 3)
    (0.49, 0.943)
    """
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # exact ends: rounding would otherwise leave 1e-17 above 0 at k == 0
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return (low, high)


def rate(hits: pd.Series) -> tuple[float, float, float, int]:
    """Share of True in ``hits`` with its Wilson interval: (value, low, high, n)."""
    n = int(len(hits))
    k = int(np.asarray(hits, dtype=bool).sum())
    low, high = wilson(k, n)
    return (k / n if n else math.nan, low, high, n)


def reliability_table(probability: pd.Series, correct: pd.Series,
                      edges: tuple[float, ...] = BINS) -> pd.DataFrame:
    """Bin the predicted probabilities; per bin the mean prediction and the observed share.

    The last bin includes its upper edge. Empty bins are kept (count 0, NaN) so that the
    table has the same rows whatever the cases.
    """
    probability = np.asarray(probability, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    inner = np.asarray(edges[1:-1])
    which = np.searchsorted(inner, probability, side="right")
    rows = []
    for i in range(len(edges) - 1):
        mask = which == i
        n = int(mask.sum())
        k = int(correct[mask].sum())
        low, high = wilson(k, n)
        rows.append({
            "bin": f"{edges[i]:.1f}-{edges[i + 1]:.1f}",
            "low_edge": edges[i], "high_edge": edges[i + 1], "count": n,
            "mean_probability": float(probability[mask].mean()) if n else math.nan,
            "observed": k / n if n else math.nan, "observed_low": low, "observed_high": high,
        })
    return pd.DataFrame(rows)
