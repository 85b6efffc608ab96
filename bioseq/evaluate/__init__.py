"""Evaluation: classification metrics, metric reports, prediction tables and plots.

Labels are ``(N,)`` class indices or ``(N, C)`` 0/1 matrices and scores are
probabilities (see :mod:`bioseq.evaluate.metrics`); per-position models are
scored over pooled positions, labels ``(N, W)`` against probabilities
``(N, W, C)`` (:mod:`bioseq.evaluate.per_base`, calibration in
:mod:`bioseq.evaluate.calibration`); prediction tables keep
genomic coordinates 0-based and half-open. Names are imported lazily
(scikit-learn and matplotlib only when a name that needs them is used).
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "classification_metrics": "metrics",
    "trivial_baseline": "metrics",
    "check_predictions": "metrics",
    "write_metrics": "report",
    "read_metrics": "report",
    "write_predictions": "report",
    "plot_roc": "plots",
    "plot_pr": "plots",
    "plot_confusion": "plots",
    "plot_training_curves": "plots",
    "plot_all": "plots",
    "plot_per_base_pr": "plots",
    "plot_reliability": "plots",
    "evaluate_bundle": "bundle_eval",
    "per_base_metrics": "per_base",
    "check_per_base": "per_base",
    "fit_temperature": "calibration",
    "apply_temperature": "calibration",
    "expected_calibration_error": "calibration",
    "calibration_report": "calibration",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
