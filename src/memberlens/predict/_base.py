"""What the CLV estimators share: validation, maximum likelihood, the inverse Hessian.

Both models are fitted the same way: the mean negative log-likelihood (plus an
optional L2 penalty on the natural parameters, as in the ``lifetimes`` package) is
minimised by L-BFGS-B over the *logarithms* of the parameters, with the analytic
gradient. Rows with identical inputs are collapsed into one row with a weight first,
which leaves the likelihood unchanged and shortens every evaluation.

Standard errors come from the inverse of the observed information (the Hessian of
the total negative log-likelihood, by central differences of the analytic gradient
over the log-parameters); 95% intervals are ``exp(θ ± 1.96·se(θ))`` on the log scale,
so they stay positive, and natural-scale standard errors follow by the delta method.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from memberlens.core.errors import InputError, MemberlensError

FloatArray = NDArray[np.float64]
# Objective over log-parameters: (log-params, data columns, weights) -> (value, gradient)
# of the *per-row* log-likelihood summed with weights.
LogLik = Callable[[FloatArray, tuple[FloatArray, ...], FloatArray], tuple[float, FloatArray]]

Z95 = 1.959963984540054
# Log-parameters stay within e^±15: wide enough for any time unit, and it keeps the
# optimiser away from overflow while it explores.
LOG_BOUND = 15.0


class NotFittedError(MemberlensError, AttributeError):
    """A model was asked for predictions before it was fitted."""

    code = "NOT_FITTED"


def check_fitted(model: object, attribute: str = "params_") -> None:
    if getattr(model, attribute, None) is None:
        raise NotFittedError(
            f"{type(model).__name__} is not fitted yet — call fit first "
            f"(or load a fitted one with {type(model).__name__}.from_dict)"
        )


def as_column(values: ArrayLike, name: str) -> FloatArray:
    """A one-dimensional float array of finite, non-negative values, or an error naming it."""
    column = np.asarray(values, dtype=np.float64)
    if column.ndim == 0:
        column = column.reshape(1)
    if column.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {column.shape}")
    if not np.isfinite(column).all():
        raise InputError(f"{name} holds missing or infinite values; drop or fill those rows")
    if (column < 0).any():
        raise InputError(f"{name} holds negative values; it counts purchases or time")
    return column


def check_rfm(frequency: FloatArray, recency: FloatArray, t_age: FloatArray) -> None:
    """The invariants of a (frequency, recency, T) summary (FHL 2005, section 3)."""
    if not len(frequency) == len(recency) == len(t_age):
        raise InputError(
            f"frequency, recency and T differ in length ({len(frequency)}, "
            f"{len(recency)}, {len(t_age)}); pass one value per member in each"
        )
    if (frequency != np.round(frequency)).any():
        raise InputError("frequency must hold whole numbers of repeat purchases")
    if (recency > t_age + 1e-9).any():
        raise InputError("recency exceeds T for some members: the last purchase is after the end")
    if ((frequency == 0) & (recency > 0)).any():
        raise InputError("members with no repeat purchase must have recency 0")


def collapse(*columns: FloatArray) -> tuple[tuple[FloatArray, ...], FloatArray]:
    """Unique rows of ``columns`` and how many times each occurs (the weights)."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return tuple(np.ascontiguousarray(unique[:, i]) for i in range(len(columns))), counts.astype(
        np.float64
    )


def maximise(
    loglik: LogLik,
    start: FloatArray,
    data: tuple[FloatArray, ...],
    weights: FloatArray,
    *,
    penalizer: float,
) -> dict[str, Any]:
    """Maximum likelihood over log-parameters with L-BFGS-B and the analytic gradient.

    Returns the natural parameters, the log-likelihood at them (without the penalty),
    the covariance of the log-parameters (inverse Hessian), the fit time and the
    optimiser's report.
    """
    began = time.perf_counter()
    total = float(weights.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        value, grad = loglik(theta, data, weights)
        params = np.exp(theta)
        penalty = penalizer * float(params @ params)
        # d/dθ of penalizer·Σp² is 2·penalizer·p² (p = e^θ).
        return -value / total + penalty, -grad / total + 2 * penalizer * params**2

    from scipy import optimize  # here, not at import: the CLI starts without it

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    # Four parameters: L-BFGS-B's BLAS calls are tiny, and a threaded BLAS spends
    # five times the work waking its threads for each (measured on CDNOW: 0.2 s vs 0.04 s).
    with threadpool_limits(limits=1, user_api="blas"):
        result = optimize.minimize(
            objective,
            np.log(start),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
    theta = result.x
    value, _ = loglik(theta, data, weights)
    cov = _covariance(objective, theta, total)
    return {
        "params": np.exp(theta),
        "loglik": float(value),
        "cov_log": cov,
        "seconds": time.perf_counter() - began,
        "converged": bool(result.success),
        "iterations": int(result.nit),
        "message": str(result.message),
    }


def _covariance(
    objective: Callable[[FloatArray], tuple[float, FloatArray]], theta: FloatArray, total: float
) -> FloatArray:
    """Inverse Hessian of the total objective by central differences of its gradient."""
    k = len(theta)
    hessian = np.empty((k, k))
    for j in range(k):
        step = 1e-5 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += step
        down[j] -= step
        hessian[:, j] = (objective(up)[1] - objective(down)[1]) * total / (2 * step)
    hessian = (hessian + hessian.T) / 2
    try:
        cov: FloatArray = np.asarray(np.linalg.inv(hessian), dtype=np.float64)
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    return cov


def intervals(
    names: tuple[str, ...], params: FloatArray, cov_log: FloatArray
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Standard errors (delta method) and 95% intervals (log scale) per parameter."""
    # Capped so that a flat likelihood (tiny samples) gives wide intervals, not overflow.
    se_log = np.minimum(np.sqrt(np.clip(np.diag(cov_log), 0.0, None)), 300.0)
    errors = {n: float(p * s) for n, p, s in zip(names, params, se_log, strict=True)}
    cis = {
        n: (float(p * np.exp(-Z95 * s)), float(p * np.exp(Z95 * s)))
        for n, p, s in zip(names, params, se_log, strict=True)
    }
    return errors, cis


def not_converged(model: str, report: dict[str, Any]) -> MemberlensError:
    return MemberlensError(
        f"{model} did not converge ({report['message']}); try a small penalizer "
        "(e.g. 0.001) or check the summary for members with implausible histories",
        code="NOT_CONVERGED",
    )
