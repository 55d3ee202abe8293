"""Statistics for the clinic dashboard: proportions with intervals, and survival curves.

Pure numpy/scipy over plain numbers; no Django. The dashboard shows a clinic's response
rate with a Wilson interval next to the published benchmark, and how long response lasts
after induction as a Kaplan–Meier curve (durations from
:func:`ketaclinic.outcomes.scoring.durability`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.stats import norm


class Interval(NamedTuple):
    low: float
    high: float


def _check_proportion(successes: int, n: int, confidence: float) -> None:
    """Raise ValueError unless ``0 <= successes <= n`` are whole numbers and 0 < confidence < 1."""
    for name, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval for a binomial proportion.

    Unlike the Wald interval it stays inside [0, 1] and keeps its coverage for small
    clinics and for rates near 0 or 1, which is where a new clinic's numbers sit.

    Parameters
    ----------
    successes
        Number of patients with the outcome (e.g. responders), ``0 <= successes <= n``.
    n
        Number of patients.
    confidence
        Two-sided confidence level, strictly between 0 and 1.

    Returns
    -------
    Interval or None
        ``(low, high)``; None when ``n == 0`` (no patients, no proportion). With no
        successes the lower limit is exactly 0, with all successes the upper limit is 1.

    Raises
    ------
    ValueError
        If the counts are not whole numbers with ``0 <= successes <= n``, or the confidence
        level is outside (0, 1).

    Notes
    -----
    With :math:`\\hat p = x/n` and :math:`z` the :math:`1-\\alpha/2` normal quantile,

    .. math::

        \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    References
    ----------
    .. [1] Wilson EB. Probable inference, the law of succession, and statistical
       inference. J Am Stat Assoc 1927;22:209-212.
    .. [2] Newcombe RG. Two-sided confidence intervals for the single proportion:
       comparison of seven methods. Stat Med 1998;17:857-872.

    Examples
    --------
    >>> low, high = wilson_interval(81, 263)
    >>> round(low, 4), round(high, 4)
    (0.2553, 0.3662)
    """
    _check_proportion(successes, n, confidence)
    if n == 0:
        return None
    return _wilson_bounds(successes, n, float(norm.ppf(0.5 + confidence / 2)))


def _wilson_bounds(successes: int, n: int, z: float) -> Interval:
    """The Wilson interval's formula (see :func:`wilson_interval`), for ``n > 0``."""
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At 0/n and n/n the formula gives 0 and 1 exactly in theory; pin them so round-off
    # never shows a clinic "-0.0000" or "1.0000000002".
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


@dataclass(frozen=True, eq=False)
class KaplanMeierCurve:
    """A Kaplan–Meier step curve, one row per distinct observed time.

    Attributes
    ----------
    times
        Distinct times at which an event or a censoring happened, ascending.
    survival
        Estimated survival just after each time (the curve is right-continuous).
    at_risk
        Number still under observation just before each time.
    events
        Events observed at each time.
    censored
        Observations censored at each time (still at risk at that time).
    """

    times: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray

    def survival_at(self, t: float) -> float:
        """Survival at time ``t``: 1 before the first time, the step value afterwards."""
        index = int(np.searchsorted(self.times, t, side="right"))
        return 1.0 if index == 0 else float(self.survival[index - 1])


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def kaplan_meier(observations: Iterable[tuple[float, bool]]) -> KaplanMeierCurve:
    """Kaplan–Meier product-limit estimate of the survival function.

    Parameters
    ----------
    observations
        ``(duration, event_observed)`` pairs: ``event_observed`` is True when the event
        (e.g. relapse) happened at ``duration``, False when follow-up stopped then
        (censored). Durations must be finite and non-negative.

    Returns
    -------
    KaplanMeierCurve
        Empty arrays when there are no observations.

    Notes
    -----
    :math:`\\hat S(t) = \\prod_{t_i \\le t} (1 - d_i / n_i)`, with :math:`d_i` events at
    :math:`t_i` and :math:`n_i` at risk just before it. An observation censored at the
    same time as an event is counted as at risk for that event, the usual convention.

    References
    ----------
    .. [1] Kaplan EL, Meier P. Nonparametric estimation from incomplete observations.
       J Am Stat Assoc 1958;53:457-481.
    .. [2] Kleinbaum DG, Klein M. Survival Analysis: A Self-Learning Text, 3rd ed.
       Springer, 2012, chapter 2 (the Freireich leukaemia remission data).
    """
    pairs = list(observations)
    durations = np.array([d for d, _ in pairs], dtype=float)
    flags = [e for _, e in pairs]
    if any(not isinstance(e, bool | np.bool_) and e not in (0, 1) for e in flags):
        raise ValueError("event_observed must be True/False (or 1/0)")
    observed = np.array(flags, dtype=bool)
    if durations.size and (not np.all(np.isfinite(durations)) or durations.min() < 0):
        raise ValueError("durations must be finite and non-negative")

    times, index = np.unique(durations, return_inverse=True)
    events = np.bincount(index, weights=observed, minlength=times.size).astype(int)
    removed = np.bincount(index, minlength=times.size)
    # Everyone with a time at or after t_i is at risk at t_i.
    at_risk = durations.size - (np.cumsum(removed) - removed)
    survival = np.cumprod(1.0 - events / at_risk)
    return KaplanMeierCurve(
        times=_frozen(times),
        survival=_frozen(survival),
        at_risk=_frozen(at_risk),
        events=_frozen(events),
        censored=_frozen(removed - events),
    )
