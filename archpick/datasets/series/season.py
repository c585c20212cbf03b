"""The seasonal period of a series, from the peaks of its autocorrelation and the frequency's calendar prior."""

from __future__ import annotations

import math

import numpy as np

MAX_SEASON_LAG = 400
"""Longest seasonal period looked for."""

MIN_SEASON_ACF = 0.3
"""Weakest autocorrelation peak taken for a season (noise of a few hundred steps reaches about 0.2)."""


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation of x at lags 0..max_lag (FFT, biased estimator)."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    n = len(x)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    return acov / acov[0] if acov[0] > 0 else np.zeros(max_lag + 1)


def seasonal_period(y: np.ndarray, prior: int | None = None) -> tuple[int | None, float | None, str]:
    """The seasonal period from the autocorrelation (ACF) of the detrended and the differenced series.

    Candidate lags are 2..min(n/3, MAX_SEASON_LAG). A candidate is a local peak of the ACF of the linearly
    detrended series above max(MIN_SEASON_ACF, 3/sqrt(n)) where the differenced series' ACF also exceeds
    that threshold within one lag (detrending keeps smooth seasons sharp; differencing rejects the slow
    wander of random walks). The highest candidate wins, except that a divisor candidate at least 0.8 as
    high wins over its multiple (12 over 24), and the frequency prior (monthly -> 12) wins when it is such
    a candidate too.

    Args:
        y: The target series.
        prior: A season suggested by the frequency, or None.

    Returns:
        (period or None, its ACF value or None, a human-readable reason).
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    max_lag = min(n // 3, MAX_SEASON_LAG)
    if max_lag < 3 or n < 8:
        return None, None, f"no season: {n} steps are too few for an autocorrelation"
    steps = np.arange(n, dtype=np.float64)
    detrended = y - np.polyval(np.polyfit(steps, y, 1), steps)
    diff = np.diff(y)
    if not (np.std(detrended) > 0 and np.std(diff) > 0):
        return None, None, "no season: the series is a straight line"
    acf = autocorrelation(detrended, max_lag)
    acf_diff = autocorrelation(diff, max_lag)
    threshold = max(MIN_SEASON_ACF, 3.0 / math.sqrt(n))
    peaks = [
        k
        for k in range(2, max_lag)
        if acf[k] > threshold
        and acf[k] >= acf[k - 1]
        and acf[k] >= acf[k + 1]
        and acf_diff[k - 1 : k + 2].max() > threshold
    ]
    if not peaks:
        return None, None, f"no season: no autocorrelation peak above {threshold:.2f} at lags 2-{max_lag}"
    best = max(peaks, key=lambda k: acf[k])
    for k in peaks:
        if k < best and best % k == 0 and acf[k] >= 0.8 * acf[best]:
            best = k
            break
    reason = (
        f"highest autocorrelation peak at lag {best} (ACF {acf[best]:.2f} detrended, "
        f"{acf_diff[best - 1 : best + 2].max():.2f} differenced)"
    )
    if prior is not None and prior != best and prior in peaks and acf[prior] >= 0.8 * acf[best]:
        reason = (
            f"frequency prior {prior} is an autocorrelation peak (ACF {acf[prior]:.2f}) close to the "
            f"highest at lag {best} (ACF {acf[best]:.2f})"
        )
        best = prior
    elif prior is not None and prior == best:
        reason += f", matching the frequency prior {prior}"
    return best, round(float(acf[best]), 4), reason
