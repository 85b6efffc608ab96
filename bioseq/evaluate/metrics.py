"""Classification metrics for binary, multi-class and multi-label predictions.

Data contract
-------------
y_true
    ``task == "binary"``: shape ``(N,)`` (or ``(N, 1)``), integers 0/1, where
    1 is the positive class ``classes[1]``. ``"multiclass"``: shape ``(N,)``,
    class indices ``0 <= y < C``. ``"multilabel"``: shape ``(N, C)``, 0/1.
    Any integer, bool or integral float dtype; a CPU or CUDA tensor works too.
y_score
    Probabilities, not logits. ``"binary"``: shape ``(N,)`` (or ``(N, 1)``),
    the probability of the positive class (a sigmoid). ``"multiclass"``:
    shape ``(N, C)``, rows summing to 1 (a softmax). ``"multilabel"``: shape
    ``(N, C)``, one independent probability per class (sigmoids).
classes : sequence of str, length ``C``
    Class names in index order (2 for binary, the negative class first).

The predicted class is ``y_score > threshold`` (binary, and per class for
multi-label, as torchmetrics does) or the arg-max (multi-class). Rows are
examples; nothing here has genomic coordinates (where predictions carry them,
:func:`bioseq.evaluate.report.write_predictions` keeps them 0-based,
half-open).

Undefined values
----------------
A value that would be 0/0 is ``None`` (JSON ``null``), never 0 or NaN: the
AUROC of a class that no example has (or that every example has), the AUPRC
and recall of a class without examples, the precision of a class nothing was
predicted as, the F1 of a class neither present nor predicted. Macro averages
use the defined values only, and each such case adds a sentence to the
``warnings`` list of the result. MCC of constant predictions is 0, as in
scikit-learn, again with a warning.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence

import numpy as np
from sklearn import metrics as skm

from bioseq.checks import check_threshold
from bioseq.errors import InputError

__all__ = [
    "TASKS",
    "check_predictions",
    "classification_metrics",
    "one_vs_rest",
    "predicted",
    "trivial_baseline",
]

TASKS = ("binary", "multiclass", "multilabel")
_SUM_TOLERANCE = 1e-3


def _as_array(values, what: str) -> np.ndarray:
    if values is None:
        raise InputError(f"{what} is missing", fix=f"Pass {what} as an array")
    if hasattr(values, "detach"):  # a torch tensor, on any device
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise InputError(
            f"{what} must hold numbers, got dtype {array.dtype}",
            fix="Pass class indices (not class names) and probabilities as numeric arrays",
        )
    return array


def _check_classes(task: str, classes) -> tuple[str, ...]:
    if task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise InputError(
            f"classes must be a sequence of class names, got {type(classes).__name__}",
            fix="Pass a list such as ['neg', 'pos']",
        )
    names = tuple(str(c) for c in classes)
    if any(not name for name in names) or len(set(names)) != len(names):
        raise InputError(f"class names must be distinct and non-empty, got {list(names)}")
    least = {"binary": 2, "multiclass": 2, "multilabel": 1}[task]
    if len(names) < least or (task == "binary" and len(names) != 2):
        raise InputError(
            f"task {task!r} needs {'exactly 2' if task == 'binary' else f'at least {least}'} classes, got {len(names)}",
            fix="Use task='multiclass' for three or more classes" if task == "binary" else None,
        )
    return names


def _squeeze_binary(array: np.ndarray, task: str) -> np.ndarray:
    if task == "binary" and array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    return array


def _check_shape(array: np.ndarray, what: str, task: str, n_classes: int) -> None:
    wide = task == "multilabel" or (task == "multiclass" and what == "y_score")
    expected = f"(N, {n_classes})" if wide else "(N,)"
    if (array.ndim != 2 or array.shape[1] != n_classes) if wide else array.ndim != 1:
        fix = None
        if task == "binary" and what == "y_score" and array.ndim == 2:
            fix = "Pass the probability of the positive class only, e.g. y_score[:, 1]"
        raise InputError(
            f"{what} for task {task!r} with {n_classes} classes must have shape {expected}, got {array.shape}",
            fix=fix,
        )
    if array.shape[0] == 0:
        raise InputError(f"{what} is empty: there is nothing to evaluate")


def _check_labels(y_true, task: str, n_classes: int) -> np.ndarray:
    y = _squeeze_binary(_as_array(y_true, "y_true"), task)
    _check_shape(y, "y_true", task, n_classes)
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise InputError(
                f"y_true holds {int(bad.sum())} values that are not whole numbers "
                f"(first at index {int(np.flatnonzero(bad.ravel())[0])})",
                fix="Pass class indices or 0/1 labels",
            )
    y = y.astype(np.int64)
    high = 1 if task != "multiclass" else n_classes - 1
    bad = (y < 0) | (y > high)
    if bad.any():
        raise InputError(
            f"y_true holds {int(bad.sum())} values outside 0..{high} "
            f"(first: {int(y.ravel()[bad.ravel()][0])} at flat index {int(np.flatnonzero(bad.ravel())[0])})",
            fix="Labels must be class indices into classes (0/1 for binary and multi-label)",
        )
    return y


def _check_scores(y_score, task: str, n_classes: int) -> np.ndarray:
    s = _squeeze_binary(_as_array(y_score, "y_score"), task).astype(np.float64)
    _check_shape(s, "y_score", task, n_classes)
    finite = np.isfinite(s)
    if not finite.all():
        raise InputError(
            f"y_score holds {int((~finite).sum())} NaN or infinite values "
            f"(first at flat index {int(np.flatnonzero(~finite.ravel())[0])})",
            fix="Check the model for a diverged (NaN) loss and the inputs for bad values",
        )
    if s.min() < 0.0 or s.max() > 1.0:
        squash = "a softmax over classes" if task == "multiclass" else "a sigmoid"
        raise InputError(
            f"y_score holds values outside [0, 1] (min {s.min():.4g}, max {s.max():.4g}); "
            "these look like logits, not probabilities",
            fix=f"Apply {squash} to the model outputs first",
        )
    if task == "multiclass":
        off = np.abs(s.sum(axis=1) - 1.0) > _SUM_TOLERANCE
        if off.any():
            row = int(np.flatnonzero(off)[0])
            raise InputError(
                f"{int(off.sum())} rows of y_score do not sum to 1 (row {row} sums to {s[row].sum():.4g})",
                fix="Apply a softmax over classes, or use task='multilabel' for independent classes",
            )
    return s


def check_predictions(y_true, y_score, *, task: str, classes) -> tuple[np.ndarray | None, np.ndarray, tuple[str, ...]]:
    """Check labels and probabilities against the task and classes.

    Parameters
    ----------
    y_true : array-like, shape ``(N,)`` or ``(N, C)``, int, or None
        Labels as in the module docstring; ``None`` checks the scores alone.
    y_score : array-like, shape ``(N,)`` or ``(N, C)``, float
        Probabilities as in the module docstring.
    task : {"binary", "multiclass", "multilabel"}
    classes : sequence of str, length ``C``

    Returns
    -------
    y_true : numpy.ndarray, int64, or None
    y_score : numpy.ndarray, float64
        Binary inputs of shape ``(N, 1)`` come back as ``(N,)``.
    classes : tuple of str

    Raises
    ------
    InputError
        Unknown task; wrong number of classes or duplicate names; wrong
        shapes, or ``y_true`` and ``y_score`` of different lengths; labels out
        of range; NaN or infinite scores (the message gives the count);
        scores outside [0, 1] (logits); multi-class rows not summing to 1.
    """
    classes = _check_classes(task, classes)
    scores = _check_scores(y_score, task, len(classes))
    if y_true is None:
        return None, scores, classes
    labels = _check_labels(y_true, task, len(classes))
    if labels.shape[0] != scores.shape[0]:
        raise InputError(
            f"y_true has {labels.shape[0]} rows but y_score has {scores.shape[0]}",
            fix="Pass one score row per labelled example, in the same order",
        )
    return labels, scores, classes


def predicted(y_score: np.ndarray, task: str, threshold: float) -> np.ndarray:
    """Predicted labels from checked scores: ``> threshold`` or the arg-max.

    Returns an int64 array shaped like ``y_true`` for the task.
    """
    if task == "multiclass":
        return y_score.argmax(axis=1).astype(np.int64)
    return (y_score > threshold).astype(np.int64)


def one_vs_rest(y: np.ndarray, y_score: np.ndarray, task: str, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Indicator matrix and per-class scores, both ``(N, C)``, for any task.

    Binary inputs become two columns: the negative class scored ``1 - p``.
    """
    if task == "binary":
        return np.stack([1 - y, y], axis=1), np.stack([1.0 - y_score, y_score], axis=1)
    if task == "multiclass":
        return np.eye(n_classes, dtype=np.int64)[y], y_score
    return y, y_score


def _value(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _mean(values) -> float | None:
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def _per_class(truth: np.ndarray, scores: np.ndarray, pred: np.ndarray, classes) -> dict:
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        truth, pred, average=None, labels=list(range(len(classes))), zero_division=np.nan
    )
    n = truth.shape[0]
    table = {}
    for c, name in enumerate(classes):
        column, positives = truth[:, c], int(support[c])
        auroc = skm.roc_auc_score(column, scores[:, c]) if 0 < positives < n else None
        auprc = skm.average_precision_score(column, scores[:, c]) if positives > 0 else None
        table[name] = {
            "precision": _value(precision[c]),
            "recall": _value(recall[c]),
            "f1": _value(f1[c]),
            "auroc": _value(auroc),
            "auprc": _value(auprc),
            "support": positives,
        }
    return table


def _warnings_for(table: dict, n: int, task: str, y_score, pred: np.ndarray, classes) -> list[str]:
    notes = []
    for name, row in table.items():
        if row["support"] == 0:
            notes.append(
                f"class {name!r} has no examples: its recall, AUROC and AUPRC are "
                "undefined (null) and left out of the macro averages"
            )
        elif row["support"] == n:
            carries = "carries" if task == "multilabel" else "is of"
            notes.append(
                f"every example {carries} class {name!r}: its AUROC is undefined (null) "
                "and left out of the macro average"
            )
        if row["precision"] is None:
            notes.append(f"no example was predicted as class {name!r}: its precision is undefined (null)")
    if task != "multilabel" and n > 1 and np.unique(pred).size == 1:
        notes.append(f"every prediction is class {classes[int(pred[0])]!r} (constant predictions): MCC is 0")
    elif task == "multilabel":
        constant = [classes[c] for c in range(len(classes)) if np.unique(pred[:, c]).size == 1]
        if constant and n > 1:
            notes.append(f"the predictions for {', '.join(map(repr, constant))} are constant: their MCC is 0")
    if n > 1 and np.ptp(y_score, axis=0).max() == 0.0:
        notes.append("y_score is constant: every AUROC is 0.5 and every AUPRC the class frequency")
    return notes


def _per_label(function, y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean([function(y[:, c], pred[:, c]) for c in range(y.shape[1])]))


def classification_metrics(y_true, y_score, *, task: str, classes, threshold: float = 0.5) -> dict:
    """Accuracy, balanced accuracy, MCC, F1, AUROC, AUPRC and per-class figures.

    Parameters
    ----------
    y_true : array-like, shape ``(N,)`` or ``(N, C)``, int
        Labels (see the module docstring).
    y_score : array-like, shape ``(N,)`` or ``(N, C)``, float
        Probabilities, not logits.
    task : {"binary", "multiclass", "multilabel"}
    classes : sequence of str, length ``C``
    threshold : float, default 0.5
        ``y_score > threshold`` predicts the class (binary and multi-label;
        ignored by multi-class, which takes the arg-max).

    Returns
    -------
    dict
        JSON-ready: ``n``, ``task``, ``classes`` and ``threshold`` (binary and
        multi-label only); ``accuracy`` (multi-label: exact match of all
        labels); ``balanced_accuracy`` (mean recall over the classes present;
        multi-label: its mean over labels); ``mcc`` (multi-label: mean of the
        per-label MCCs); ``f1``, ``auroc``, ``auprc`` (binary: the positive
        class; otherwise the macro, one-vs-rest mean over defined classes);
        ``per_class`` (class -> ``precision``, ``recall``, ``f1``, ``auroc``,
        ``auprc``, ``support``); ``confusion_matrix`` (rows = true class,
        columns = predicted; multi-label: one ``[[tn, fp], [fn, tp]]`` per
        class); ``warnings`` (list of str). Undefined values are ``None``.

    Raises
    ------
    InputError
        As :func:`check_predictions`, or a threshold outside (0, 1).

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1], [0.2, 0.7, 0.4], task="binary", classes=["neg", "pos"])
    >>> m["accuracy"], m["auroc"], m["confusion_matrix"]
    (0.6666666666666666, 1.0, [[1, 0], [1, 1]])
    """
    y, scores, classes = check_predictions(y_true, y_score, task=task, classes=classes)
    threshold = check_threshold(threshold)
    pred = predicted(scores, task, threshold)
    truth, class_scores = one_vs_rest(y, scores, task, len(classes))
    if task == "binary":  # rank the negative class by -p: 1 - p rounds distinct tiny p to ties
        class_scores = np.stack([-scores, scores], axis=1)
    pred_matrix = one_vs_rest(pred, scores, task, len(classes))[0]
    n = y.shape[0]
    with _warnings.catch_warnings():  # undefined cases are reported in "warnings" instead
        _warnings.simplefilter("ignore")
        table = _per_class(truth, class_scores, pred_matrix, classes)
        if task == "multilabel":
            accuracy = skm.accuracy_score(y, pred)
            balanced = _per_label(skm.balanced_accuracy_score, y, pred)
            mcc = _per_label(skm.matthews_corrcoef, y, pred)
            confusion = skm.multilabel_confusion_matrix(y, pred)
        else:
            accuracy = skm.accuracy_score(y, pred)
            balanced = skm.balanced_accuracy_score(y, pred)
            mcc = skm.matthews_corrcoef(y, pred)
            confusion = skm.confusion_matrix(y, pred, labels=list(range(len(classes))))
    rows = list(table.values())
    summary = (lambda key: rows[1][key]) if task == "binary" else (lambda key: _mean(r[key] for r in rows))
    result = {
        "n": int(n),
        "task": task,
        "classes": list(classes),
        "accuracy": float(accuracy),
        "balanced_accuracy": float(balanced),
        "mcc": float(mcc),
        "f1": summary("f1"),
        "auroc": summary("auroc"),
        "auprc": summary("auprc"),
        "per_class": table,
        "confusion_matrix": confusion.tolist(),
        "warnings": _warnings_for(table, n, task, scores, pred, classes),
    }
    if task != "multiclass":
        result["threshold"] = threshold
    return result


def trivial_baseline(y_true, task: str, *, classes=None) -> dict:
    """Metrics of a model that ignores its input and predicts the class priors.

    Every example gets the class frequencies of ``y_true`` as its scores, so
    the prediction is the majority class (binary, multi-class) or each
    label's majority value (multi-label), MCC is 0 and every defined AUROC is
    0.5. The margin of a model over these figures is what it learned.

    Parameters
    ----------
    y_true : array-like, shape ``(N,)`` or ``(N, C)``, int
        Labels as for :func:`classification_metrics`.
    task : {"binary", "multiclass", "multilabel"}
    classes : sequence of str, optional
        Class names; default ``"0"``, ``"1"``, ... (multi-class: up to the
        largest label in ``y_true``).

    Returns
    -------
    dict
        As :func:`classification_metrics` with ``threshold=0.5``.

    Raises
    ------
    InputError
        As :func:`classification_metrics`.
    """
    if classes is None:
        labels = _as_array(y_true, "y_true")
        if task == "multilabel":
            count = labels.shape[1] if labels.ndim == 2 else 0
        elif task == "multiclass":
            count = int(labels.max()) + 1 if labels.size else 0
        else:
            count = 2
        classes = [str(i) for i in range(max(count, 0))]
    names = _check_classes(task, classes)
    y = _check_labels(y_true, task, len(names))
    if task == "binary":
        scores = np.full(y.shape[0], y.mean())
    elif task == "multiclass":
        scores = np.tile(np.bincount(y, minlength=len(names)) / y.shape[0], (y.shape[0], 1))
    else:
        scores = np.tile(y.mean(axis=0), (y.shape[0], 1))
    return classification_metrics(y, scores, task=task, classes=names, threshold=0.5)
