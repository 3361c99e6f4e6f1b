"""Scores of a probabilistic classifier, and the population stability index.

Plain NumPy so that every number in a model card can be checked by hand:

- ``roc_auc`` — the Mann-Whitney form: the probability that a random positive scores
  above a random negative (ties count one half);
- ``pr_auc`` — average precision, ``Σ (R_k - R_{k-1}) · P_k`` over the ranks where a
  positive sits (scikit-learn's ``average_precision_score``);
- ``brier`` — mean squared error of the probabilities;
- ``top_decile_lift`` — positives among the top 10% by score over positives overall;
- ``calibration_bins`` — observed against predicted rate in equal-width probability
  bins (the reliability diagram of a model card);
- ``psi`` — population stability index of a variable between a reference sample and
  now, ``Σ (a - e) · ln(a / e)`` over the reference's decile bins (missing values
  are a bin of their own).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

# Shares below this are raised to it in PSI, so an empty bin costs a finite amount.
_PSI_FLOOR = 1e-4


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve; NaN when only one class is present.

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, s = _pair(labels, scores)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(s)  # ties get their average rank
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def pr_auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Average precision (area under the precision-recall curve, step-wise).

    >>> round(pr_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    y, s = _pair(labels, scores)
    positives = int(y.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    y_sorted, s_sorted = y[order], s[order]
    # One threshold per distinct score: the last index of each run of ties.
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s_sorted) - 1]
    hits = np.cumsum(y_sorted)[last]
    precision = hits / (last + 1)
    recall = hits / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    y, p = _pair(labels, probabilities)
    return float(np.mean((p - y) ** 2))


def top_decile_lift(labels: ArrayLike, scores: ArrayLike) -> float:
    """Positive rate among the 10% highest scores divided by the overall positive rate."""
    y, s = _pair(labels, scores)
    base = y.mean()
    if base == 0:
        return float("nan")
    top = max(1, int(np.ceil(0.1 * len(y))))
    order = np.argsort(-s, kind="stable")
    return float(y[order[:top]].mean() / base)


def calibration_bins(
    labels: ArrayLike, probabilities: ArrayLike, bins: int = 10
) -> list[dict[str, float]]:
    """Per non-empty equal-width bin: mean predicted, observed rate, count."""
    y, p = _pair(labels, probabilities)
    which = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            out.append(
                {
                    "predicted": round(float(p[inside].mean()), 4),
                    "observed": round(float(y[inside].mean()), 4),
                    "count": int(inside.sum()),
                }
            )
    return out


def classification_metrics(labels: ArrayLike, probabilities: ArrayLike) -> dict[str, Any]:
    """The figures a churn model card shows, for one labelled sample."""
    y, p = _pair(labels, probabilities)
    return {
        "rows": len(y),
        "positive_rate": round(float(y.mean()), 4) if len(y) else None,
        "roc_auc": round(roc_auc(y, p), 4),
        "pr_auc": round(pr_auc(y, p), 4),
        "brier": round(brier(y, p), 4),
        "top_decile_lift": round(top_decile_lift(y, p), 4),
        "calibration": calibration_bins(y, p),
    }


def reference_bins(values: ArrayLike, bins: int = 10) -> dict[str, Any]:
    """The reference distribution PSI compares with: decile edges and shares."""
    v = np.asarray(values, dtype=np.float64)
    present = v[~np.isnan(v)]
    if len(present) == 0:
        return {"edges": [], "shares": [], "missing": 1.0 if len(v) else 0.0}
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
    return {
        "edges": [float(e) for e in edges],
        "shares": [float(c) / len(v) for c in counts],
        "missing": float(np.isnan(v).mean()),
    }


def psi(reference: dict[str, Any], values: ArrayLike) -> float:
    """Population stability index of ``values`` against a :func:`reference_bins` result.

    Rule of thumb (Siddiqi 2006): below 0.1 stable, 0.1-0.2 some shift, above 0.2 a
    shift worth retraining for.

    >>> ref = reference_bins(np.arange(1000.0))
    >>> psi(ref, np.arange(1000.0)) < 1e-9
    True
    >>> psi(ref, np.arange(500.0, 1500.0)) > 0.2
    True
    """
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return float("nan")
    edges = np.asarray(reference["edges"], dtype=np.float64)
    present = v[~np.isnan(v)]
    counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
    actual = np.r_[counts / len(v), np.isnan(v).mean()]
    expected = np.r_[np.asarray(reference["shares"], dtype=np.float64), reference["missing"]]
    if len(expected) != len(actual):  # an all-missing reference has no value bins
        expected = np.r_[np.zeros(len(actual) - 1), reference["missing"]]
    a, e = np.maximum(actual, _PSI_FLOOR), np.maximum(expected, _PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _pair(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"labels {y.shape} and scores {s.shape} differ in shape")
    return y, s
