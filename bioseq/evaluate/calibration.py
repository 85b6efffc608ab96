"""Calibration of per-position probabilities: temperature scaling and expected calibration error.

Data contract
-------------
Inputs follow :mod:`bioseq.evaluate.per_base`: ``proba`` of shape
``(N, W, C)`` or ``(P, C)``, float32 or float64 probabilities (rows sum to 1,
not logits), and ``labels`` of shape ``(N, W)`` or ``(P,)``, integer class
indices (uint8). Positions are pooled over windows.

Temperature scaling (Guo et al. 2017) divides the model's log-probabilities
by one number ``T > 0`` before the softmax: ``softmax(log(p) / T)``, which
for a softmax model equals dividing its logits by ``T``. ``T > 1`` softens
over-confident probabilities, ``T < 1`` sharpens them; the ranking of
positions within a class, and so top-k accuracy, AUROC and (up to ties) AUPRC,
hardly changes. ``T`` is fitted on validation data and reported with the
calibration error before and after on held-out data.

Probabilities of exactly 0 are clipped to the smallest normal float32
(about 1.2e-38) before taking logs.
"""

from __future__ import annotations

import math

import numpy as np

from bioseq.checks import positive_integer, positive_number
from bioseq.evaluate.per_base import check_per_base

__all__ = [
    "TEMPERATURE_BOUNDS",
    "apply_temperature",
    "calibration_report",
    "expected_calibration_error",
    "fit_temperature",
    "log_loss",
]

TEMPERATURE_BOUNDS = (0.02, 50.0)
"""The range :func:`fit_temperature` searches."""
_TINY = np.finfo(np.float32).tiny
_CHUNK = 1 << 20  # positions per block of apply_temperature and log_loss
_SEED = 0  # of the subsample that fit_temperature draws


def _nll(log_proba: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(log_proba / temperature)``."""
    z = log_proba / temperature  # (m, C) float64
    top = z.max(axis=1)
    log_norm = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return float(np.mean(log_norm - np.take_along_axis(z, labels[:, None], axis=1)[:, 0]))


def fit_temperature(proba, labels, *, max_iter: int = 100, max_positions: int = 2_000_000) -> float:
    """Fit the temperature that minimises the negative log-likelihood of ``labels``.

    Minimises the mean NLL of ``softmax(log(proba) / T)`` over ``log T`` in
    :data:`TEMPERATURE_BOUNDS` with bounded Brent search
    (:func:`scipy.optimize.minimize_scalar`); the NLL is convex in ``1 / T``,
    so the search finds the single minimum. Fit on validation data, never on
    the data you report.

    Parameters
    ----------
    proba : array-like, shape ``(N, W, C)`` or ``(P, C)``, float
        Probabilities (not logits), rows summing to 1.
    labels : array-like, shape ``(N, W)`` or ``(P,)``, integer
        Class indices.
    max_iter : int, default 100
        Most iterations of the search.
    max_positions : int, default 2,000,000
        When there are more positions, the fit uses this many drawn uniformly
        without replacement by a generator with a fixed seed (the same inputs
        give the same temperature). The fit holds a few float64 arrays of
        ``max_positions * C`` values (about 200 MB at the default with 3
        classes) and takes seconds; a site class of 1 in 1,000 positions still
        contributes some 2,000 sites.

    Returns
    -------
    float
        ``T``; a value at either bound of :data:`TEMPERATURE_BOUNDS` means the
        optimum lies beyond it (:func:`calibration_report` warns).

    Raises
    ------
    InputError
        As :func:`~bioseq.evaluate.per_base.check_per_base`, or a
        ``max_iter``/``max_positions`` that is not a positive integer.
    """
    from scipy.optimize import minimize_scalar

    y, p, _ = check_per_base(labels, proba)
    max_iter = positive_integer(max_iter, "max_iter")
    max_positions = positive_integer(max_positions, "max_positions")
    if y.size > max_positions:
        rows = np.sort(np.random.default_rng(_SEED).choice(y.size, size=max_positions, replace=False))
        y, p = y[rows], p[rows]
    log_p = np.log(np.maximum(p, _TINY), dtype=np.float64)
    y = y.astype(np.intp)
    low, high = (math.log(b) for b in TEMPERATURE_BOUNDS)
    result = minimize_scalar(
        lambda u: _nll(log_p, y, math.exp(u)),
        bounds=(low, high),
        method="bounded",
        options={"maxiter": max_iter, "xatol": 1e-5},
    )
    return float(math.exp(result.x))


def apply_temperature(proba, temperature: float) -> np.ndarray:
    """Rescale probabilities by a temperature: ``softmax(log(proba) / temperature)``.

    Parameters
    ----------
    proba : array-like, shape ``(N, W, C)`` or ``(P, C)``, float
        Probabilities (not logits), rows summing to 1.
    temperature : float
        ``T > 0``, e.g. from :func:`fit_temperature`; ``T = 1`` returns the
        probabilities unchanged (up to float32 rounding).

    Returns
    -------
    numpy.ndarray, the shape of ``proba``, float32
        Rows summing to 1. Computed in blocks of about a million positions, so
        the only full-size allocation is the result.

    Raises
    ------
    InputError
        As :func:`~bioseq.evaluate.per_base.check_per_base`, or a temperature
        that is not a positive finite number.
    """
    _, p, _ = check_per_base(None, proba)
    temperature = positive_number(temperature, "temperature")
    out = np.empty(p.shape, dtype=np.float32)
    for start in range(0, p.shape[0], _CHUNK):
        z = np.log(np.maximum(p[start : start + _CHUNK], _TINY), dtype=np.float32) / np.float32(temperature)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        out[start : start + _CHUNK] = z
    return out.reshape(np.shape(proba))


def log_loss(proba, labels) -> float:
    """Mean negative log-likelihood (natural log) of ``labels`` under ``proba``, over all positions.

    Parameters and errors as :func:`fit_temperature`; zeros are clipped as the module docstring says.
    """
    y, p, _ = check_per_base(labels, proba)
    total = 0.0
    for start in range(0, y.size, _CHUNK):
        rows = y[start : start + _CHUNK].astype(np.intp)[:, None]
        chosen = np.take_along_axis(p[start : start + _CHUNK], rows, axis=1)[:, 0]
        total -= float(np.log(np.maximum(chosen, _TINY), dtype=np.float64).sum())
    return total / y.size


def _reliability(confidence: np.ndarray, outcome: np.ndarray, n_bins: int) -> tuple[float, float | None, list]:
    """ECE, MCE and the bin table of ``confidence`` (P,) against 0/1 ``outcome`` (P,)."""
    index = np.minimum((confidence * n_bins).astype(np.intp), n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    confidence_sum = np.bincount(index, weights=confidence, minlength=n_bins)
    outcome_sum = np.bincount(index, weights=outcome, minlength=n_bins)
    ece = float(np.abs(confidence_sum - outcome_sum).sum() / confidence.size)
    table, gaps = [], []
    for b in range(n_bins):
        n = int(count[b])
        mean, observed = (confidence_sum[b] / n, outcome_sum[b] / n) if n else (None, None)
        if n:
            gaps.append(abs(mean - observed))
        table.append(
            {
                "lower": b / n_bins,
                "upper": (b + 1) / n_bins,
                "count": n,
                "confidence": None if mean is None else float(mean),
                "accuracy": None if observed is None else float(observed),
            }
        )
    return ece, float(max(gaps)) if gaps else None, table


def expected_calibration_error(proba, labels, *, n_bins: int = 15, classes=None) -> dict:
    """Top-label and classwise expected calibration error, with the bin tables of a reliability diagram.

    Bins are equal-width: bin ``b`` holds confidences in ``[b / n_bins, (b + 1) / n_bins)``,
    the last bin including 1. A bin's gap is ``|accuracy - confidence|`` (its
    mean confidence against how often it was right); ECE is the mean gap
    weighted by the bin's share of positions, MCE the largest gap over non-empty bins.

    * **Top-label** (Guo et al. 2017): confidence = the highest probability of
      a position, right when its arg-max is the label. With splice sites
      about 1 in 1,000 positions, this is almost entirely the background
      class and says little about the sites.
    * **Classwise**, one-vs-rest for each site class (Kull et al. 2019):
      confidence = that class's probability, "accuracy" = the fraction of the
      bin's positions that are of that class. This is the figure that matters
      for rare sites. Its ECE is small in absolute terms (most positions sit
      in the lowest bin, near 0, and are right), so compare it before and
      after calibration or between models rather than with top-label ECE;
      the high bins of the table show how far a site call can be trusted.

    Parameters
    ----------
    proba : array-like, shape ``(N, W, C)`` or ``(P, C)``, float
        Probabilities (not logits), rows summing to 1.
    labels : array-like, shape ``(N, W)`` or ``(P,)``, integer
        Class indices.
    n_bins : int, default 15
    classes : sequence of str, length ``C``, optional
        Class names, background first; default ``"0"``, ``"1"``, ...

    Returns
    -------
    dict
        JSON-ready: ``n_positions``, ``n_bins``; top-label ``ece``, ``mce``
        and ``bins``; ``classwise_ece``: the mean classwise ECE over site
        classes; ``per_class``: site class -> ``n_sites``, ``ece``, ``mce``,
        ``bins``. Each ``bins`` is a list of ``n_bins`` dicts: ``lower``,
        ``upper``, ``count``, ``confidence``, ``accuracy`` (``None`` for an
        empty bin, as is ``mce`` when no bin is non-empty).

    Raises
    ------
    InputError
        As :func:`~bioseq.evaluate.per_base.check_per_base`, or ``n_bins``
        that is not a positive integer.
    """
    y, p, names = check_per_base(labels, proba, classes=classes)
    n_bins = positive_integer(n_bins, "n_bins")
    ece, mce, bins = _reliability(p.max(axis=1), p.argmax(axis=1) == y, n_bins)
    per_class = {}
    for c, name in enumerate(names[1:], start=1):
        hit = y == c
        class_ece, class_mce, class_bins = _reliability(np.ascontiguousarray(p[:, c]), hit, n_bins)
        per_class[name] = {
            "n_sites": int(np.count_nonzero(hit)),
            "ece": class_ece,
            "mce": class_mce,
            "bins": class_bins,
        }
    return {
        "n_positions": int(y.size),
        "n_bins": n_bins,
        "ece": ece,
        "mce": mce,
        "bins": bins,
        "classwise_ece": float(np.mean([row["ece"] for row in per_class.values()])),
        "per_class": per_class,
    }


def _before_after(proba, labels, temperature: float, before: dict, *, n_bins: int, classes) -> dict:
    scaled = apply_temperature(proba, temperature)
    return {
        "nll_before": log_loss(proba, labels),
        "nll_after": log_loss(scaled, labels),
        "before": before,
        "after": expected_calibration_error(scaled, labels, n_bins=n_bins, classes=classes),
    }


def calibration_report(
    valid_proba, valid_labels, test_proba, test_labels, *, classes, n_bins: int = 15, max_positions: int = 2_000_000
) -> dict:
    """Fit a temperature on validation data and report calibration before and after it.

    Parameters
    ----------
    valid_proba, test_proba : array-like, shape ``(N, W, C)`` or ``(P, C)``, float
        Probabilities (not logits) of the validation and test positions.
    valid_labels, test_labels : array-like, shape ``(N, W)`` or ``(P,)``, integer
        Their class indices.
    classes : sequence of str, length ``C``
        Class names, background first.
    n_bins : int, default 15
        As :func:`expected_calibration_error`.
    max_positions : int, default 2,000,000
        As :func:`fit_temperature`.

    Returns
    -------
    dict
        JSON-ready: ``temperature`` (float), ``classes`` (list); ``valid`` and
        ``test``, each with ``nll_before``, ``nll_after`` (:func:`log_loss`)
        and ``before``, ``after`` (:func:`expected_calibration_error`
        results); ``warnings`` (list of str: a temperature at a search bound).

    Raises
    ------
    InputError
        As :func:`expected_calibration_error` for either split.
    """
    before = expected_calibration_error(valid_proba, valid_labels, n_bins=n_bins, classes=classes)  # checks first
    temperature = fit_temperature(valid_proba, valid_labels, max_positions=max_positions)
    report = {"temperature": temperature, "classes": [str(c) for c in classes], "warnings": []}
    report["valid"] = _before_after(valid_proba, valid_labels, temperature, before, n_bins=n_bins, classes=classes)
    before = expected_calibration_error(test_proba, test_labels, n_bins=n_bins, classes=classes)
    report["test"] = _before_after(test_proba, test_labels, temperature, before, n_bins=n_bins, classes=classes)
    if any(math.isclose(temperature, bound, rel_tol=1e-3) for bound in TEMPERATURE_BOUNDS):
        low, high = TEMPERATURE_BOUNDS
        report["warnings"].append(
            f"the fitted temperature {temperature:.4g} lies at a bound of the search range [{low}, {high}]: "
            "the probabilities are far from calibrated, or the validation labels do not match them"
        )
    return report
