"""What a training run writes once its weights are final: bundle, metrics, plots, then the marker.

Every file goes through :func:`bioseq.io.handles.atomic_output` (or the
bundle's atomic directory); ``complete.json`` (:func:`bioseq.rundir.mark_complete`)
is written last, so a run killed anywhere in here is incomplete and a rerun
with ``resume`` writes it all again from the best checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from bioseq.train.config import TrainConfig
from bioseq.train.data import SequenceSet

__all__ = [
    "TrainResult",
    "RunData",
    "Run",
    "evaluate_split",
    "save_and_evaluate",
    "evaluate_run",
    "data_summary",
    "write_outputs",
    "hyperparameters",
    "completed",
]


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a finished run produced."""

    run_dir: Path
    bundle_dir: Path
    metrics: dict
    seconds: float


@dataclasses.dataclass(frozen=True)
class RunData:
    """The data of a run: its splits, how validation was chosen, and its signature
    (:func:`bioseq.train.resume.run_signature`)."""

    train: SequenceSet
    valid: SequenceSet
    test: SequenceSet | None
    how: str
    signature: dict


@dataclasses.dataclass(frozen=True, kw_only=True)
class Run:
    """One training run in progress: its settings, directory, data and start time (``time.perf_counter()``)."""

    config: TrainConfig
    path: Path
    data: RunData
    started: float


def evaluate_split(bundle, data: SequenceSet | None, *, scores=None) -> dict | None:
    """Classification metrics of ``bundle`` on ``data`` (None when there is no such split).

    Per position: :func:`bioseq.evaluate.per_base.per_base_metrics` over every labelled position.
    ``scores``: the bundle's ``predict_proba`` of ``data`` when the caller has it already.
    """
    from bioseq.evaluate.metrics import classification_metrics

    if data is None:
        return None
    if scores is None:
        scores = bundle.predict_proba(data.codes)
    if data.task == "per_position":
        from bioseq.evaluate.per_base import per_base_metrics

        return per_base_metrics(data.labels, scores, classes=data.classes)
    return classification_metrics(data.labels, scores, task=data.task, classes=data.classes)


def save_and_evaluate(run: Run, model, *, options: dict, training: dict) -> TrainResult:
    """Save ``model`` (of ``run.config.model`` with ``options``) as the run's bundle, evaluate it, write the run.

    The bundle records the training width as its fixed input length, unless
    the model's kind reads sequences of any length.
    """
    from bioseq.bundle import save_bundle

    train = run.data.train
    length = None if run.config.kind.any_length else int(train.codes.shape[1])
    bundle_dir = run.path / "bundle"
    save_bundle(
        bundle_dir,
        model=model,
        model_name=run.config.model,
        model_options=options,
        task=train.task,
        classes=list(train.classes),
        length=length,
        training=training,
        data=data_summary(run.data),
    )
    return evaluate_run(run, bundle_dir)


def data_summary(parts: RunData) -> dict:
    """The bundle's ``data`` record: a hash of the training data and the split sizes."""
    return {
        "sha256": parts.signature["train_sha256"],
        "n_train": len(parts.train),
        "n_valid": len(parts.valid),
        "n_test": None if parts.test is None else len(parts.test),
    }


def evaluate_run(run: Run, bundle_dir: Path) -> TrainResult:
    """Evaluate the saved bundle on the validation (and test) set; write metrics and plots, then the marker."""
    from bioseq.bundle import load_bundle
    from bioseq.rundir import mark_complete

    loaded = load_bundle(bundle_dir, complete_run=False)
    splits = {"valid": run.data.valid, "test": run.data.test}
    scores = {name: loaded.predict_proba(data.codes) for name, data in splits.items() if data is not None}
    metrics = {name: evaluate_split(loaded, splits[name], scores=proba) for name, proba in scores.items()}
    if loaded.per_position:
        metrics["calibration"] = _calibration(scores, run.data)
        pairing = _site_pairing(loaded, run.data, scores)
        if pairing is not None:
            metrics["site_pairing"] = pairing
    write_outputs(run, bundle_dir, metrics, scores["valid"])
    mark_complete(run.path, run.data.signature)
    return TrainResult(run.path, bundle_dir, metrics, time.perf_counter() - run.started)


def _calibration(scores: dict, parts: RunData) -> dict:
    """Temperature scaling fitted on the validation split; expected calibration error before and after."""
    from bioseq.evaluate.calibration import calibration_report

    test = "test" if parts.test is not None else "valid"
    return calibration_report(
        scores["valid"], parts.valid.labels, scores[test], getattr(parts, test).labels, classes=parts.valid.classes
    )


def _site_pairing(bundle, parts: RunData, scores: dict) -> dict | None:
    """Fit the splice second stage on the validation genes, keep it in the bundle; its figures.

    Only for a model with ``acceptor`` and ``donor`` outputs whose validation
    split is tiles of held-out genes (a per-base dataset's); the figures are
    :func:`bioseq.evaluate.per_base.per_base_metrics` over the positions of
    the validation and test tiles, rescored by the second stage
    (:mod:`bioseq.models.site_pairing`). ``config.json`` is rewritten
    atomically with the fitted weights under ``site_pairing``. ``scores``: the
    bundle's predictions of each split.
    """
    import numpy as np

    from bioseq.evaluate.per_base import paired_metrics
    from bioseq.io.handles import atomic_output
    from bioseq.models.site_pairing import fit_on_tiles

    classes = tuple(bundle.classes)
    pairing = fit_on_tiles(parts.valid.names, scores["valid"], np.asarray(parts.valid.labels), classes=classes)
    if pairing is None:
        return None
    figures = {"fitted_on": "valid", "reach": pairing.reach}
    for name, split in (("valid", parts.valid), ("test", parts.test)):
        if split is not None and len(split):
            figures[name] = paired_metrics(
                pairing, split.names, scores[name], np.asarray(split.labels), classes=classes
            )
    config = dict(bundle.config, site_pairing=pairing.to_dict())
    with atomic_output(bundle.path / "config.json", "w") as handle:
        json.dump(config, handle, indent=2, allow_nan=False)
        handle.write("\n")
    return figures


def write_outputs(run: Run, bundle_dir: Path, metrics: dict, scores) -> None:
    """metrics.json/.tsv of the run and the bundle, and the validation plots of ``scores`` (its predictions)."""
    from bioseq.evaluate.plots import plot_all
    from bioseq.evaluate.report import write_metrics
    from bioseq.io.handles import atomic_output

    write_metrics(metrics, run.path)
    with atomic_output(bundle_dir / "metrics.json", "w") as handle:
        json.dump(metrics, handle, indent=2, sort_keys=True)
    valid = run.data.valid
    if valid.task == "per_position":  # per-class precision-recall over every position, and reliability
        from bioseq.evaluate.plots import plot_per_base_pr, plot_reliability

        (run.path / "plots").mkdir(parents=True, exist_ok=True)
        plot_per_base_pr(valid.labels, scores, valid.classes, run.path / "plots" / "pr.png")
        plot_reliability(metrics["calibration"], run.path / "plots" / "reliability.png")
        return
    log_file = run.path / "logs" / "metrics.csv"
    plot_all(
        valid.labels,
        scores,
        task=valid.task,
        classes=list(valid.classes),
        metrics=metrics["valid"],
        directory=run.path / "plots",
        training_log=log_file if log_file.is_file() else None,
    )


def hyperparameters(config: TrainConfig, n_train: int) -> dict:
    """The bundle's ``training`` record: the settings as resolved for ``n_train`` training sequences."""
    keep = (
        "epochs",
        "batch_size",
        "lr",
        "weight_decay",
        "warmup_fraction",
        "gradient_clip",
        "class_weights",
        "label_smoothing",
        "rc_augment",
        "shift_augment",
        "ema_epochs",
        "monitor",
        "patience",
        "seed",
        "split_seed",
        "ensemble",
        "precision",
        "devices",
        "num_nodes",
    )
    values = json.loads(config.model_dump_json())
    return {
        **{key: values[key] for key in keep},
        "lr": config.learning_rate,
        "batch_size": config.batch_size_for(n_train),
    }


def completed(run: Path, started: float) -> TrainResult:
    """The result of a run that was already complete."""
    from bioseq.evaluate.report import read_metrics

    return TrainResult(run, run / "bundle", read_metrics(run / "metrics.json"), time.perf_counter() - started)
