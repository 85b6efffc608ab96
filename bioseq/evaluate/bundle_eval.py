"""Evaluate a trained bundle on labelled data: metrics, predictions and plots in one call.

:func:`evaluate_bundle` is what ``bioseq evaluate RUN --data test.csv`` runs:
it reads the data with the bundle's class order, scores it
(:meth:`bioseq.bundle.Bundle.predict_proba`), and writes ``metrics.json``
(flat keys: ``accuracy``, ``balanced_accuracy``, ``mcc``, ``f1``, ``auroc``,
``auprc``, ``per_class``, ``confusion_matrix`` ...), ``metrics.tsv``,
``predictions.tsv`` and PNG plots into the output directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bioseq.errors import InputError
from bioseq.inference import InferenceOptions, as_options

__all__ = ["evaluate_bundle", "evaluate_per_base", "per_base_figures", "per_base_scores", "read_for_bundle"]


def evaluate_bundle(
    bundle,
    data: str | os.PathLike,
    *,
    out: str | os.PathLike,
    options: InferenceOptions | None = None,
    sequence_column: str = "sequence",
    label_column: str = "label",
    plots: bool = True,
) -> dict:
    """Score labelled sequences with a bundle and write the evaluation.

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A loaded bundle, a bundle directory or a training run directory
        (loaded onto ``options.device``).
    data : str or os.PathLike
        Labelled sequences in any format :func:`bioseq.io.tables.read_labelled`
        reads; labels must be classes the bundle knows.
    out : str or os.PathLike
        Directory for ``metrics.json``, ``metrics.tsv``, ``predictions.tsv``
        and (with ``plots``) ``roc.png``, ``pr.png``, ``confusion.png``.
    options : InferenceOptions, optional
        Batch size, device, ``rc_average`` and ``threshold``
        (:class:`~bioseq.inference.InferenceOptions`). ``p > threshold``
        predicts the class (binary and multi-label): it sets the
        threshold-dependent metrics (accuracy, MCC, F1, the confusion
        matrix), the ``predicted`` column and the confusion plot. AUROC and
        AUPRC do not depend on it.
    sequence_column, label_column : str
        The columns of a table (ignored for FASTA and folders).
    plots : bool, default True

    Returns
    -------
    dict
        The metrics (see :func:`bioseq.evaluate.metrics.classification_metrics`);
        a per-position bundle is evaluated on the test split of a per-base
        dataset instead (:func:`evaluate_per_base`).

    Raises
    ------
    InputError
        On unreadable data, labels the bundle does not know, sequences the
        bundle cannot take (longer than its input length), or options that
        are not :class:`~bioseq.inference.InferenceOptions`.
    """
    from bioseq.bundle.resolve import as_bundle
    from bioseq.evaluate.metrics import classification_metrics
    from bioseq.evaluate.plots import plot_all
    from bioseq.evaluate.report import write_metrics, write_predictions

    options = as_options(options)
    bundle = as_bundle(bundle, device=options.device)
    if bundle.per_position:
        return evaluate_per_base(bundle, data, out=out, options=options, plots=plots)
    labelled = read_for_bundle(bundle, data, sequence_column=sequence_column, label_column=label_column)
    codes, _ = labelled.codes(bundle.length)
    scores = options.predict_proba(bundle, codes)
    labels = np.asarray(labelled.labels)
    metrics = classification_metrics(
        labels, scores, task=bundle.task, classes=list(bundle.classes), threshold=options.threshold
    )
    directory = Path(out)
    write_metrics(metrics, directory)
    write_predictions(
        directory / "predictions.tsv",
        list(labelled.names),
        scores,
        list(bundle.classes),
        task=bundle.task,
        y_true=labels,
        threshold=options.threshold,
    )
    if plots:
        plot_all(labels, scores, bundle.task, list(bundle.classes), directory, metrics=metrics)
    return metrics


def evaluate_per_base(
    bundle,
    data: str | os.PathLike,
    *,
    out: str | os.PathLike,
    split: str = "test",
    options: InferenceOptions | None = None,
    plots: bool = True,
) -> dict:
    """Score one split of a per-base dataset with a per-position bundle and write the evaluation.

    Parameters
    ----------
    bundle : Bundle
        A per-position bundle whose context is at most the dataset's.
    data : str or os.PathLike
        A per-base dataset directory (``bioseq dataset splice-sites --per-base``)
        with the bundle's classes.
    out : str or os.PathLike
        Directory for ``metrics.json`` / ``metrics.tsv``
        (:func:`bioseq.evaluate.per_base.per_base_metrics` plus ``calibration``:
        the expected calibration error; and ``site_pairing``, the same
        figures after the bundle's second stage when it has one) and, with
        ``plots``, ``pr.png`` and ``reliability.png``.
    split : str, default "test"
    options : InferenceOptions, optional
        Batch size and device.
    plots : bool, default True

    Returns
    -------
    dict

    Raises
    ------
    InputError
        When ``data`` is not a per-base dataset, lacks ``split``, has other
        classes, or stores less context than the model reads.
    """
    from bioseq.evaluate.plots import plot_per_base_pr, plot_reliability
    from bioseq.evaluate.report import write_metrics

    part, proba = per_base_scores(bundle, data, split=split, options=options)
    labels = np.asarray(part.labels)
    metrics = per_base_figures(part, proba, classes=bundle.classes, pairing=getattr(bundle, "site_pairing", None))
    directory = Path(out)
    write_metrics(metrics, directory)
    if plots:
        plot_per_base_pr(labels, proba, bundle.classes, directory / "pr.png")
        plot_reliability(metrics["calibration"], directory / "reliability.png")
    return metrics


def per_base_scores(bundle, data: str | os.PathLike, *, split: str = "test", options: InferenceOptions | None = None):
    """One split of a per-base dataset and a per-position bundle's probabilities of it.

    Parameters
    ----------
    bundle : Bundle
        A per-position bundle (or ensemble) whose context is at most the dataset's.
    data : str or os.PathLike
        A per-base dataset directory with the bundle's classes.
    split : str, default "test"
    options : InferenceOptions, optional

    Returns
    -------
    part : bioseq.datasets.per_base_store.PerBaseSplit
    proba : numpy.ndarray, shape ``(N, W, C)``, float32
        The bundle's probabilities of the split's labelled positions, the
        stored context cropped to the model's.

    Raises
    ------
    InputError
        When ``data`` is not a per-base dataset, lacks ``split``, has other
        classes, or stores less context than the model reads.
    """
    from bioseq.datasets.per_base_store import is_per_base, open_per_base

    options = as_options(options)
    if not is_per_base(data):
        raise InputError(
            "a per-position model is evaluated on a per-base dataset, and this is not one",
            path=data,
            fix="Build one with bioseq dataset splice-sites --per-base",
        )
    dataset = open_per_base(data)
    if split not in dataset.splits:
        raise InputError(f"the dataset has no {split!r} split (it has {', '.join(dataset.splits)})", path=data)
    if dataset.classes != bundle.classes:
        raise InputError(
            f"the dataset's classes {list(dataset.classes)} are not the model's {list(bundle.classes)}", path=data
        )
    crop = dataset.context // 2 - bundle.flank
    if crop < 0:
        raise InputError(
            f"the model reads {bundle.flank} bases of context per side, but the dataset stores {dataset.context // 2}",
            path=data,
            fix="Build the dataset again with at least the model's context",
        )
    part = dataset.splits[split]
    codes = part.codes[:, crop : part.codes.shape[1] - crop]
    return part, options.predict_proba(bundle, np.ascontiguousarray(codes))


def per_base_figures(part, proba: np.ndarray, *, classes, pairing=None) -> dict:
    """The figures of a per-base split: per-position metrics, calibration error, and after ``pairing`` when given.

    Parameters
    ----------
    part : bioseq.datasets.per_base_store.PerBaseSplit
    proba : numpy.ndarray, shape ``(N, W, C)``, float
        Probabilities of the split's labelled positions (:func:`per_base_scores`).
    classes : sequence of str
    pairing : bioseq.models.site_pairing.SitePairing, optional

    Returns
    -------
    dict
        :func:`bioseq.evaluate.per_base.per_base_metrics` plus ``calibration``
        (expected calibration error) and, with ``pairing``, ``site_pairing``:
        the same metrics over the split's tiles joined into runs and rescored.
    """
    from bioseq.evaluate.calibration import expected_calibration_error
    from bioseq.evaluate.per_base import paired_metrics, per_base_metrics

    labels = np.asarray(part.labels)
    metrics = per_base_metrics(labels, proba, classes=classes)
    metrics["calibration"] = expected_calibration_error(proba, labels, classes=classes)
    if pairing is not None:
        metrics["site_pairing"] = paired_metrics(pairing, part.regions, proba, labels, classes=classes)
    return metrics


def read_for_bundle(bundle, data: str | os.PathLike, *, sequence_column: str = "sequence", label_column: str = "label"):
    """Read labelled sequences in the class order of ``bundle`` (a loaded :class:`~bioseq.bundle.Bundle`).

    Returns
    -------
    bioseq.io.labels.LabelledSequences

    Raises
    ------
    InputError
        On unreadable data, labels the bundle does not know, or another task.
    """
    from bioseq.io.sniff import sniff_format
    from bioseq.io.tables import read_labelled

    options: dict = {"classes": list(bundle.classes)}
    if Path(data).is_file() and sniff_format(data) == "table":
        options.update(sequence_column=sequence_column, label_column=label_column)
    labelled = read_labelled(data, **options)
    if labelled.task != bundle.task:
        raise InputError(f"the data are {labelled.task} but the model was trained for {bundle.task}", path=str(data))
    return labelled
