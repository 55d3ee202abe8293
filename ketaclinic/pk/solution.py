"""Exact solution of linear mammillary compartment models by superposition of exponentials.

Units: amounts in mg, volumes in L, clearances in L/min, times in minutes. mg/L equals ug/mL,
so plasma concentrations are multiplied by 1000 to give ng/mL (``NG_PER_ML_PER_MG_PER_L``).

Method. A mammillary model with central volume V1, elimination clearance CL and peripheral
compartments (Qj, Vj) has an amount rate matrix A whose similarity transform
S^-1 A S with S = diag(sqrt(V)) is symmetric (its off-diagonal entries are Qj / sqrt(V1 Vj)).
Its eigen-decomposition S^-1 A S = U diag(-lambda) U^T therefore has real rates
lambda_i > 0, and the central amount after a unit dose into the central compartment is

    h(t) = sum_i a_i exp(-lambda_i t),   a_i = U[0, i]^2 >= 0,   sum_i a_i = 1.

Every input is a convolution of h with a simple input function, each with a closed form:

* bolus of D at t0:                 D h(t - t0)
* infusion of D over T from t0:     (D/T) sum_i a_i (1 - exp(-lambda_i tau1)) / lambda_i
                                    x exp(-lambda_i tau2),
                                    tau1 = clip(t - t0, 0, T), tau2 = max(t - t0 - T, 0)
* first-order absorption of F D at rate ka from t0:
                                    F D ka sum_i a_i exp(-lo_i s) (1 - exp(-(hi_i - lo_i) s))
                                    / (hi_i - lo_i),
                                    s = max(t - t0, 0), lo_i/hi_i = min/max(lambda_i, ka)

The last form is the textbook (exp(-lambda s) - exp(-ka s)) / (ka - lambda) rewritten so that
1 - exp(-x) is computed with expm1 (exact for small x, no cancellation) and the ka = lambda
limit, s exp(-lambda s), is taken explicitly instead of dividing 0 by 0. Every factor is
non-negative, so concentrations cannot go negative through rounding. The sum over doses is
exact by linearity (superposition); there is no time stepping.

References
----------
.. [1] Gibaldi M, Perrier D. Pharmacokinetics, 2nd ed. Marcel Dekker, 1982: multi-compartment
   models, superposition, first-order absorption.
.. [2] ../shared/domain/REFERENCE.md section 6 for every parameter the engine uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import exprel

from ketaclinic.pk.regimen import Dose

NG_PER_ML_PER_MG_PER_L = 1000.0
# exp() of anything below about -708 returns a subnormal or zero, which numpy computes 7-40x
# more slowly. Exponents are clamped at -700 (a fast, normal result) and the clamped entries
# then set to exactly 0: the only change from plain exp() is that values below 1e-304 of a
# dose's scale become 0 instead of a subnormal.
_EXPONENT_FLOOR = -700.0
_DECAY_FLOOR = float(np.exp(_EXPONENT_FLOOR))
# Bounds the working arrays (patients x exponentials x times) to about 32 MB of float64.
_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Disposition:
    """Central-compartment unit impulse response of N patients, in eigen form.

    Attributes
    ----------
    v1_l : ndarray, shape (N,)
        Central volume in litres.
    rates_per_min : ndarray, shape (N, n)
        Disposition rate constants lambda_i (per minute), all positive.
    fractions : ndarray, shape (N, n)
        Coefficients a_i of exp(-lambda_i t) in the central amount after a unit dose; each row
        sums to 1.
    """

    v1_l: np.ndarray
    rates_per_min: np.ndarray
    fractions: np.ndarray

    @property
    def clearance_l_per_min(self) -> np.ndarray:
        """Elimination clearance, V1 / sum_i(a_i / lambda_i): the inverse of the unit-dose AUC."""
        return self.v1_l / np.sum(self.fractions / self.rates_per_min, axis=1)


def disposition(
    v1_l: ArrayLike, cl_l_per_min: ArrayLike, q_l_per_min: ArrayLike, vp_l: ArrayLike
) -> Disposition:
    """Eigen-decompose mammillary models for N patients at once.

    Parameters
    ----------
    v1_l, cl_l_per_min : array_like, shape (N,)
        Central volume (L) and elimination clearance (L/min).
    q_l_per_min, vp_l : array_like, shape (N, p)
        Intercompartmental clearances (L/min) and peripheral volumes (L), p = 1 or 2.

    Returns
    -------
    Disposition

    References
    ----------
    .. [1] Gibaldi M, Perrier D. Pharmacokinetics, 2nd ed. 1982 (mammillary models).
    """
    v1 = np.atleast_1d(np.asarray(v1_l, dtype=float))
    cl = np.atleast_1d(np.asarray(cl_l_per_min, dtype=float))
    q = np.atleast_2d(np.asarray(q_l_per_min, dtype=float))
    vp = np.atleast_2d(np.asarray(vp_l, dtype=float))
    patients, peripherals = q.shape
    symmetric = np.zeros((patients, peripherals + 1, peripherals + 1))
    symmetric[:, 0, 0] = -(cl + q.sum(axis=1)) / v1
    for j in range(1, peripherals + 1):
        coupling = q[:, j - 1] / np.sqrt(v1 * vp[:, j - 1])
        symmetric[:, 0, j] = coupling
        symmetric[:, j, 0] = coupling
        symmetric[:, j, j] = -q[:, j - 1] / vp[:, j - 1]
    eigenvalues, vectors = np.linalg.eigh(symmetric)
    return Disposition(v1_l=v1, rates_per_min=-eigenvalues, fractions=vectors[:, 0, :] ** 2)


def concentrations_ng_per_ml(
    model: Disposition,
    doses: Sequence[Dose],
    times_min: ArrayLike,
    absorption_per_min: Mapping[str, float],
    bioavailability: Mapping[str, ArrayLike],
) -> np.ndarray:
    """Plasma (central) concentration of N patients at the requested times, by superposition.

    Parameters
    ----------
    model : Disposition
        N patients' disposition.
    doses : sequence of Dose
        Validated doses. A dose whose route is in ``absorption_per_min`` enters through
        first-order absorption; any other dose (IV) enters the central compartment directly, as a
        bolus or a constant-rate infusion.
    times_min : array_like, shape (T,)
        Output times in minutes; any order. A bolus given at t0 is counted at t0.
    absorption_per_min : mapping of str to float
        Absorption rate constant ka per extravascular route.
    bioavailability : mapping of str to scalar or array of shape (N,)
        Fraction F of each extravascular dose that reaches the circulation.

    Returns
    -------
    ndarray, shape (T, N)
        Concentrations in ng/mL, one row per time and one column per patient (time-major, so
        percentiles over patients read contiguous memory).
    """
    times = np.asarray(times_min, dtype=float)
    patients, exponentials = model.rates_per_min.shape
    result = np.empty((times.size, patients))
    step = max(1, _CHUNK_ELEMENTS // (patients * exponentials))
    for first in range(0, times.size, step):
        chunk = slice(first, first + step)
        result[chunk] = _chunk(model, doses, times[chunk], absorption_per_min, bioavailability)
    return result


def _chunk(
    model: Disposition,
    doses: Sequence[Dose],
    times: np.ndarray,
    absorption_per_min: Mapping[str, float],
    bioavailability: Mapping[str, ArrayLike],
) -> np.ndarray:
    # Working layout (exponential, time, patient): rates and fractions are (n, 1, N).
    rates = np.ascontiguousarray(model.rates_per_min.T)[:, None, :]
    fractions = np.ascontiguousarray(model.fractions.T)
    amount = np.zeros((times.size, model.rates_per_min.shape[0]))
    for dose in doses:
        elapsed = times - dose.start_min
        if dose.route in absorption_per_min:
            pieces = _absorbed(rates, elapsed, absorption_per_min[dose.route])
            reaching = dose.dose_mg * np.asarray(bioavailability[dose.route], dtype=float)
        elif dose.is_infusion:
            pieces = _infused(rates, elapsed, dose.duration_min)
            reaching = np.asarray(dose.dose_mg)
        else:
            pieces = _bolus(rates, elapsed)
            reaching = np.asarray(dose.dose_mg)
        for columns, response in pieces:
            central = np.einsum("ikn,in->kn", response, fractions)
            central *= reaching
            amount[columns] += central
    amount *= NG_PER_ML_PER_MG_PER_L / model.v1_l
    return amount


# Each response below returns (rows, values) pieces: the output rows (times) where the dose
# acts and the central amount per mg there per exponential, shape (n, len(rows), N).
# Evaluating only where a dose acts, and each phase of an infusion with its own single
# transcendental function, halves the work against evaluating every formula everywhere. The
# arithmetic is done in place: allocating a fresh large temporary per step cost more than the
# exponentials themselves in the benchmark.
_Pieces = list[tuple[slice | np.ndarray, np.ndarray]]


def _rows(mask: np.ndarray) -> slice | np.ndarray:
    """Indices where ``mask`` holds, as a slice when contiguous (sorted times: no copy)."""
    where = np.flatnonzero(mask)
    if where.size and where[-1] - where[0] + 1 == where.size:
        return slice(int(where[0]), int(where[-1]) + 1)
    return where


def _decay(rates: np.ndarray, since: np.ndarray) -> np.ndarray:
    """exp(-rates x since), shape (n, len(since), N), flushed to 0 below exp(_EXPONENT_FLOOR)."""
    values = np.multiply(rates, -since[:, None])
    if since.size == 0 or np.max(rates) * np.max(since) <= -_EXPONENT_FLOOR:
        return np.exp(values, out=values)  # nothing can underflow: skip two passes
    np.maximum(values, _EXPONENT_FLOOR, out=values)
    np.exp(values, out=values)
    values[values <= _DECAY_FLOOR] = 0.0
    return values


def _bolus(rates: np.ndarray, elapsed: np.ndarray) -> _Pieces:
    """Central amount per mg given at once into the central compartment."""
    started = _rows(elapsed >= 0)
    return [(started, _decay(rates, elapsed[started]))]


def _infused(rates: np.ndarray, elapsed: np.ndarray, duration_min: float) -> _Pieces:
    """Central amount per mg infused at a constant rate over ``duration_min``."""
    running = _rows((elapsed >= 0) & (elapsed < duration_min))
    stopped = _rows(elapsed >= duration_min)
    per_mg = -1.0 / (rates * duration_min)
    # (1 - exp(-lambda tau)) / lambda through expm1: exact for small lambda tau; lambda > 0.
    loading = np.multiply(rates, -elapsed[running][:, None])
    np.expm1(loading, out=loading)
    loading *= per_mg
    washout = _decay(rates, elapsed[stopped] - duration_min)
    washout *= np.expm1(-rates * duration_min) * per_mg
    return [(running, loading), (stopped, washout)]


def _absorbed(rates: np.ndarray, elapsed: np.ndarray, ka_per_min: float) -> _Pieces:
    """Central amount per mg absorbed with first-order rate ``ka_per_min``."""
    started = _rows(elapsed >= 0)
    return [(started, _absorption_curve(rates, elapsed[started], ka_per_min))]


def _absorption_curve(rates: np.ndarray, since: np.ndarray, ka_per_min: float) -> np.ndarray:
    curve = _decay(np.minimum(rates, ka_per_min), since)
    curve *= _rise(np.abs(rates - ka_per_min), since[:, None])
    curve *= ka_per_min
    return curve


def _rise(gap: np.ndarray, since: np.ndarray) -> np.ndarray:
    """(1 - exp(-gap s)) / gap, which tends to s as gap -> 0 (ka equal to a disposition rate)."""
    equal = gap == 0
    rise = np.multiply(gap, -since)
    np.expm1(rise, out=rise)
    rise /= -np.where(equal, 1.0, gap)
    if np.any(equal):
        rise = np.where(equal, since, rise)
    return rise


def unit_absorption_response(
    model: Disposition, ka_per_min: float, times_min: ArrayLike
) -> np.ndarray:
    """Central amount (mg) per mg absorbed at first-order rate ``ka_per_min``, shape (T, N)."""
    since = np.maximum(np.asarray(times_min, dtype=float), 0.0)
    rates = np.ascontiguousarray(model.rates_per_min.T)[:, None, :]
    response = _absorption_curve(rates, since, ka_per_min)
    return np.einsum("ikn,in->kn", response, model.fractions.T)


def absorbed_slope_sign(model: Disposition, ka_per_min: float, time_min: float) -> float:
    """Sign-carrying slope of the central amount after a first-order dose, at ``time_min``.

    Only the sign and the zero matter (the peak); the positive factor ka / V1 is dropped. Uses
    d/dt [(exp(-lo t) - exp(-hi t)) / (hi - lo)] = exp(-lo t) (1 - hi t exprel(-(hi - lo) t)),
    which stays finite when ka equals a disposition rate. ``model`` must hold one patient.
    """
    rates = model.rates_per_min[0]
    slower = np.minimum(rates, ka_per_min)
    faster = np.maximum(rates, ka_per_min)
    terms = np.exp(-slower * time_min) * (
        1.0 - faster * time_min * exprel(-(faster - slower) * time_min)
    )
    return float(np.dot(model.fractions[0], terms))
