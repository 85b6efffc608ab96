"""Evaluation plots: ROC and precision-recall curves, confusion matrices, training curves.

Inputs follow :mod:`bioseq.evaluate.metrics` (``y_true`` labels, ``y_score``
probabilities, ``task``, ``classes``); rows are examples, with no genomic
coordinates. Each function writes one figure (PNG at 120 dpi; ``.pdf`` and
``.svg`` paths work too) atomically, so a failed plot leaves no file.

Figures are drawn with :mod:`bioseq.evaluate.figures`: on matplotlib's Agg
canvas directly (no ``pyplot``), so plotting works without a display, never
changes the user's matplotlib backend, and keeps no figure alive after the
call. Importing this module does not import matplotlib.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from bioseq.errors import InputError
from bioseq.evaluate.figures import colour, image_format, new_figure, save_figure
from bioseq.evaluate.metrics import check_predictions, classification_metrics, one_vs_rest
from bioseq.evaluate.per_base import check_per_base, per_base_metrics
from bioseq.io.handles import input_name, open_input

__all__ = [
    "plot_roc",
    "plot_pr",
    "plot_confusion",
    "plot_training_curves",
    "plot_all",
    "plot_per_base_pr",
    "plot_reliability",
]


def _curves(y_true, y_score, task, classes, path, kind: str) -> Path:
    """Shared body of :func:`plot_roc` and :func:`plot_pr`."""
    from sklearn import metrics as skm

    fmt = image_format(path)
    y, scores, classes = check_predictions(y_true, y_score, task=task, classes=classes)
    truth, class_scores = one_vs_rest(y, scores, task, len(classes))
    n = truth.shape[0]
    shown = [1] if task == "binary" else range(len(classes))
    figure = new_figure(6.0, 5.5)
    ax = figure.add_subplot()
    values = []
    for c in shown:
        column, positives = truth[:, c], int(truth[:, c].sum())
        tint = colour(c, len(classes))
        if kind == "roc" and 0 < positives < n:
            fpr, tpr, _ = skm.roc_curve(column, class_scores[:, c])
            values.append(skm.roc_auc_score(column, class_scores[:, c]))
            ax.plot(fpr, tpr, color=tint, label=f"{classes[c]} (AUROC {values[-1]:.3f})")
        elif kind == "pr" and positives > 0:
            precision, recall, _ = skm.precision_recall_curve(column, class_scores[:, c], drop_intermediate=True)
            values.append(skm.average_precision_score(column, class_scores[:, c]))
            ax.plot(
                recall, precision, color=tint, drawstyle="steps-post", label=f"{classes[c]} (AUPRC {values[-1]:.3f})"
            )
        else:
            why = "no examples" if positives == 0 else "every example"
            ax.plot(
                [], [], color=tint, label=f"{classes[c]} ({'AUROC' if kind == 'roc' else 'AUPRC'} undefined: {why})"
            )
    _finish_curves(ax, kind, task, classes, values, truth)
    return save_figure(figure, path, fmt)


def _finish_curves(ax, kind, task, classes, values, truth) -> None:
    name = "AUROC" if kind == "roc" else "AUPRC"
    if kind == "roc":
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance (AUROC 0.500)")
        ax.set(xlabel="False positive rate", ylabel="True positive rate")
    else:
        if task == "binary":
            prevalence = float(truth[:, 1].mean())
            ax.axhline(prevalence, linestyle="--", color="grey", label=f"chance (AUPRC {prevalence:.3f})")
        ax.set(xlabel="Recall", ylabel="Precision")
    what = "ROC curve" if kind == "roc" else "Precision-recall curve"
    if task == "binary":
        title = f"{what}: {classes[1]} vs {classes[0]}"
    else:
        macro = f"macro {name} {np.mean(values):.3f}" if values else f"{name} undefined"
        title = f"{what}, one-vs-rest ({macro})"
    ax.set(title=title, xlim=(-0.01, 1.01), ylim=(-0.01, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(
        loc="lower right" if kind == "roc" else "lower left", fontsize="small" if len(classes) <= 8 else "x-small"
    )


def plot_roc(y_true, y_score, task, classes, path) -> Path:
    """Plot ROC curves (one-vs-rest per class; binary: the positive class).

    Parameters
    ----------
    y_true : array-like, shape ``(N,)`` or ``(N, C)``, int
    y_score : array-like, shape ``(N,)`` or ``(N, C)``, float
        Probabilities (see :mod:`bioseq.evaluate.metrics`).
    task : {"binary", "multiclass", "multilabel"}
    classes : sequence of str, length ``C``
    path : str or os.PathLike
        Output image; ``.png``, ``.pdf`` or ``.svg``.

    Returns
    -------
    pathlib.Path
        ``path``. The legend gives each class's AUROC; a class without
        examples (or present in every example) is listed as undefined.

    Raises
    ------
    InputError
        As :func:`~bioseq.evaluate.metrics.check_predictions`, or an
        unknown image extension.
    """
    return _curves(y_true, y_score, task, classes, path, "roc")


def plot_pr(y_true, y_score, task, classes, path) -> Path:
    """Plot precision-recall curves; the legend gives each class's AUPRC.

    Parameters and errors as :func:`plot_roc`. The binary plot also shows
    the chance level, the frequency of the positive class.
    """
    return _curves(y_true, y_score, task, classes, path, "pr")


def _confusion_array(confusion, classes) -> tuple[np.ndarray, tuple[str, ...]]:
    if isinstance(confusion, Mapping):
        if "confusion_matrix" not in confusion:
            raise InputError(
                "the metrics dict has no 'confusion_matrix'",
                fix="Pass the dict of classification_metrics or the matrix itself",
            )
        if "classes" in confusion and list(map(str, classes)) != list(confusion["classes"]):
            raise InputError(f"classes {list(classes)} differ from the metrics' classes {confusion['classes']}")
        confusion = confusion["confusion_matrix"]
    names = tuple(str(c) for c in classes)
    try:
        matrix = np.asarray(confusion, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the confusion matrix is not a numeric array ({exc})") from exc
    k = len(names)
    if matrix.shape not in ((k, k), (k, 2, 2)) or k == 0:
        raise InputError(
            f"the confusion matrix has shape {matrix.shape}, but {k} classes need "
            f"({k}, {k}) or, for multi-label, ({k}, 2, 2)"
        )
    if not np.isfinite(matrix).all() or (matrix < 0).any() or (matrix != np.round(matrix)).any():
        raise InputError("the confusion matrix must hold counts (whole numbers >= 0)")
    return matrix.astype(np.int64), names


def _draw_matrix(ax, matrix: np.ndarray, labels, *, annotate: bool):
    totals = matrix.sum(axis=1, keepdims=True)
    fraction = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    image = ax.imshow(fraction, cmap="Blues", vmin=0.0, vmax=1.0)
    ticks = range(len(labels))
    tilt = len(labels) > 3
    ax.set_xticks(ticks, labels, rotation=45 if tilt else 0, ha="right" if tilt else "center")
    ax.set_yticks(ticks, labels)
    if annotate:
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(
                j,
                i,
                f"{count}\n{fraction[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize="small",
                color="white" if fraction[i, j] > 0.5 else "black",
            )
    return image


def plot_confusion(confusion, classes, path) -> Path:
    """Plot a confusion matrix: counts and the fraction of each true class.

    Parameters
    ----------
    confusion : mapping or array-like, shape ``(C, C)`` or ``(C, 2, 2)``, int
        The dict of :func:`~bioseq.evaluate.metrics.classification_metrics`
        or its ``confusion_matrix`` (rows = true class, columns = predicted;
        multi-label: one ``[[tn, fp], [fn, tp]]`` per class, drawn as a grid).
    classes : sequence of str, length ``C``
    path : str or os.PathLike
        Output image; ``.png``, ``.pdf`` or ``.svg``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        A matrix of the wrong shape for ``classes``, not of whole counts
        >= 0, classes that differ from the metrics' classes, or an unknown
        image extension.
    """
    fmt = image_format(path)
    matrix, names = _confusion_array(confusion, classes)
    if matrix.ndim == 2:
        side = min(4.0 + 0.45 * len(names), 14.0)
        figure = new_figure(side + 1.0, side)
        ax = figure.add_subplot()
        image = _draw_matrix(ax, matrix, names, annotate=len(names) <= 25)
        ax.set(xlabel="Predicted class", ylabel="True class", title=f"Confusion matrix (n = {int(matrix.sum())})")
        figure.colorbar(image, ax=ax, label="Fraction of the true class")
        return save_figure(figure, path, fmt)
    columns = math.ceil(math.sqrt(len(names)))
    rows = math.ceil(len(names) / columns)
    figure = new_figure(2.6 * columns + 1.0, 2.6 * rows + 0.5)
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax, name, square in zip(axes.ravel(), names, matrix):
        image = _draw_matrix(ax, square, ("no", "yes"), annotate=True)
        ax.set(title=name, xlabel="Predicted", ylabel="True")
    for ax in axes.ravel()[len(names) :]:
        ax.set_axis_off()
    figure.suptitle(f"Confusion matrix per class (multi-label, n = {int(matrix[0].sum())})")
    figure.colorbar(image, ax=axes, label="Fraction of the true value", shrink=0.8)
    return save_figure(figure, path, fmt)


def _read_log(source) -> tuple[dict[str, dict[float, list[float]]], str]:
    """Column -> epoch -> values from a Lightning CSVLogger ``metrics.csv``."""
    name = input_name(source)
    with open_input(source) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        try:
            reader = csv.reader(text)
            header = next(reader, None)
            if not header:
                raise InputError(
                    "the training log is empty", path=name, fix="Pass the metrics.csv that Lightning's CSVLogger writes"
                )
            if "epoch" not in header:
                raise InputError(
                    f"the training log has no 'epoch' column (columns: {', '.join(header)})",
                    path=name,
                    line=1,
                    fix="Pass the metrics.csv that Lightning's CSVLogger writes",
                )
            series = {c: {} for c in header if c not in ("epoch", "step")}
            for line, row in enumerate(reader, 2):
                _add_row(series, header, row, name, line)
        except UnicodeDecodeError as exc:
            raise InputError("the training log is not UTF-8 text", path=name) from exc
        finally:
            text.detach()
    return {c: v for c, v in series.items() if v}, name


def _add_row(series, header, row, name, line) -> None:
    if len(row) != len(header):
        raise InputError(
            f"the row has {len(row)} fields but the header has {len(header)}",
            path=name,
            line=line,
            fix="Pass a complete metrics.csv",
        )
    values = {}
    for column, cell in zip(header, row):
        if cell.strip():
            try:
                values[column] = float(cell)
            except ValueError:
                raise InputError(
                    f"column {column!r} holds {cell!r}, which is not a number", path=name, line=line
                ) from None
    epoch = values.get("epoch")
    if epoch is None:
        return
    for column, value in values.items():
        if column in series and math.isfinite(value):
            series[column].setdefault(epoch, []).append(value)


def plot_training_curves(csv_log_path, path) -> Path:
    """Plot losses, validation metrics and learning rates per epoch.

    Reads Lightning's CSVLogger ``metrics.csv``: columns ``epoch`` and
    ``step`` plus whatever was logged (``train_loss``, ``val_loss``,
    ``val_mcc``, ``lr-AdamW``, ...); each row fills only some of them.
    Values are averaged per epoch. Columns with ``loss`` in the name share
    one panel, ``lr*`` columns another (log scale), all other metrics a
    third; ``x_step`` is left out when ``x_epoch`` exists.

    Parameters
    ----------
    csv_log_path : str, os.PathLike or file object
        The CSV log (plain or gzip).
    path : str or os.PathLike
        Output image; ``.png``, ``.pdf`` or ``.svg``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MissingFileError
        The log does not exist.
    InputError
        An empty log, no ``epoch`` column, a ragged row or a non-numeric value
        (with the 1-based line), no column with values, or an unknown image
        extension.
    """
    from matplotlib.ticker import MaxNLocator

    fmt = image_format(path)
    series, name = _read_log(csv_log_path)
    series = {c: v for c, v in series.items() if not (c.endswith("_step") and c[:-5] + "_epoch" in series)}
    lowered = {c: c.lower() for c in series}
    panels = [
        ("Loss", "Loss", [c for c in series if "loss" in lowered[c]]),
        (
            "Validation and other metrics",
            "Value",
            [c for c in series if "loss" not in lowered[c] and not lowered[c].startswith("lr")],
        ),
        ("Learning rate", "Learning rate", [c for c in series if lowered[c].startswith("lr")]),
    ]
    panels = [panel for panel in panels if panel[2]]
    if not panels:
        raise InputError(
            "the training log has no metric column with values",
            path=name,
            fix="Log metrics with self.log(...) and a CSVLogger",
        )
    figure = new_figure(5.0 * len(panels), 4.2)
    for ax, (title, ylabel, columns) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for i, column in enumerate(sorted(columns)):
            epochs = sorted(series[column])
            ax.plot(
                epochs,
                [float(np.mean(series[column][e])) for e in epochs],
                marker="o",
                markersize=3,
                color=colour(i, len(columns)),
                label=column,
            )
        if title == "Learning rate" and all(min(v) > 0 for c in columns for v in series[c].values()):
            ax.set_yscale("log")
        ax.set(title=title, xlabel="Epoch", ylabel=ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    figure.suptitle("Training curves")
    return save_figure(figure, path, fmt)


def plot_all(
    y_true, y_score, task, classes, directory, *, threshold: float = 0.5, metrics=None, training_log=None
) -> dict[str, Path]:
    """Write ``roc.png``, ``pr.png``, ``confusion.png`` and ``training_curves.png``.

    Parameters
    ----------
    y_true, y_score, task, classes
        As for :func:`plot_roc`.
    directory : str or os.PathLike
        Created if needed.
    threshold : float, default 0.5
        For the confusion matrix (binary and multi-label) when ``metrics``
        is not given.
    metrics : dict, optional
        The result of :func:`~bioseq.evaluate.metrics.classification_metrics`
        for the same data, whose confusion matrix is drawn (saves computing
        it again); its classes must be ``classes``.
    training_log : str, os.PathLike or file object, optional
        Lightning's ``metrics.csv``; without it ``training_curves.png`` is
        not drawn.

    Returns
    -------
    dict of str to pathlib.Path
        ``"roc"``, ``"pr"``, ``"confusion"`` and, with a log, ``"training_curves"``.

    Raises
    ------
    InputError
        As the single plots, or ``directory`` is an existing file.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(
            "this is a file, not a directory", path=directory, fix="Pass the directory the plots should go to"
        )
    if metrics is None:
        metrics = classification_metrics(y_true, y_score, task=task, classes=classes, threshold=threshold)
    _confusion_array(metrics, classes)  # checked before any file is written
    written = {
        "roc": plot_roc(y_true, y_score, task, classes, directory / "roc.png"),
        "pr": plot_pr(y_true, y_score, task, classes, directory / "pr.png"),
        "confusion": plot_confusion(metrics, classes, directory / "confusion.png"),
    }
    if training_log is not None:
        written["training_curves"] = plot_training_curves(training_log, directory / "training_curves.png")
    return written


def plot_per_base_pr(labels, proba, classes, path) -> Path:
    """Plot the precision-recall curve of each site class of a per-position model.

    Parameters
    ----------
    labels : array-like, shape ``(N, W)`` or ``(P,)``, integer
    proba : array-like, shape ``(N, W, C)`` or ``(P, C)``, float
        As :func:`~bioseq.evaluate.per_base.per_base_metrics`; the background
        class ``classes[0]`` is not drawn.
    classes : sequence of str, length ``C``
    path : str or os.PathLike
        Output image; ``.png``, ``.pdf`` or ``.svg``.

    Returns
    -------
    pathlib.Path
        ``path``. The legend gives each class's AUPRC and top-k accuracy; a
        dot marks the top-k point (precision = recall there) and a dashed
        line the class's prevalence (chance).

    Raises
    ------
    InputError
        As :func:`~bioseq.evaluate.per_base.check_per_base`, or an unknown image extension.
    """
    from sklearn import metrics as skm

    fmt = image_format(path)
    y, p, names = check_per_base(labels, proba, classes=classes)
    table = per_base_metrics(y, p, classes=names, thresholds=())["per_class"]
    figure = new_figure(6.0, 5.5)
    ax = figure.add_subplot()
    for c, name in enumerate(names[1:], start=1):
        row, tint = table[name], colour(c - 1, len(names) - 1)
        if row["n_sites"] == 0:
            ax.plot([], [], color=tint, label=f"{name} (no sites)")
            continue
        precision, recall, _ = skm.precision_recall_curve(y == c, p[:, c], drop_intermediate=True)
        figures = f"AUPRC {row['auprc']:.3f}, top-k {row['topk_accuracy']:.3f}, n = {row['n_sites']:,}"
        ax.plot(recall, precision, color=tint, drawstyle="steps-post", label=f"{name} ({figures})")
        ax.plot([row["topk_accuracy"]], [row["topk_accuracy"]], "o", color=tint)
        ax.axhline(row["prevalence"], linestyle="--", color=tint, alpha=0.5)
    title = f"Per-position precision-recall ({y.size:,} positions)"
    ax.set(xlabel="Recall", ylabel="Precision", xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    return save_figure(figure, path, fmt)


def _calibration_series(calibration) -> list[tuple[str, Mapping]]:
    """(series label, expected_calibration_error dict) pairs of an ECE result or of a calibration report."""
    if isinstance(calibration, Mapping) and "bins" in calibration and "per_class" in calibration:
        return [("", calibration)]
    if isinstance(calibration, Mapping) and "temperature" in calibration and "test" in calibration:
        t = calibration["temperature"]
        return [("before", calibration["test"]["before"]), (f"after (T = {t:.3g})", calibration["test"]["after"])]
    raise InputError(
        "the calibration dict is neither a result of expected_calibration_error nor of calibration_report",
        fix="Pass the dict that one of those functions returned",
    )


def plot_reliability(calibration, path) -> Path:
    """Plot reliability diagrams: top-label and one per site class.

    Parameters
    ----------
    calibration : mapping
        The dict of :func:`~bioseq.evaluate.calibration.expected_calibration_error`,
        or of :func:`~bioseq.evaluate.calibration.calibration_report`, whose test
        split is drawn before and after temperature scaling.
    path : str or os.PathLike
        Output image; ``.png``, ``.pdf`` or ``.svg``.

    Returns
    -------
    pathlib.Path
        ``path``. Each panel plots the bins' accuracy (classwise: the fraction
        of the bin's positions of that class) against their mean confidence,
        empty bins left out; the diagonal is perfect calibration.

    Raises
    ------
    InputError
        A dict of another kind, or an unknown image extension.
    """
    fmt = image_format(path)
    series = _calibration_series(calibration)
    first = series[0][1]
    panels = [("top label", lambda e: e)] + [(n, lambda e, n=n: e["per_class"][n]) for n in first["per_class"]]
    figure = new_figure(3.6 * len(panels), 3.9)
    for ax, (title, pick) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
        for k, (label, result) in enumerate(series):
            part = pick(result)
            filled = [b for b in part["bins"] if b["count"]]
            x, y = [b["confidence"] for b in filled], [b["accuracy"] for b in filled]
            ax.plot(x, y, "o-", color=colour(k, len(series)), label=f"{label} ECE {part['ece']:.4f}".strip())
        ylabel = "Accuracy" if title == "top label" else "Frequency of the class"
        ax.set(title=title, xlabel="Mean confidence", ylabel=ylabel, xlim=(0, 1), ylim=(0, 1))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    figure.suptitle(f"Reliability ({first['n_positions']:,} positions, {first['n_bins']} bins)")
    return save_figure(figure, path, fmt)
