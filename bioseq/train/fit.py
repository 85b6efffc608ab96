"""``train(config)``: read the data, fit a model, keep the best weights as a bundle.

A run directory (``config.out``) ends up holding::

    bundle/              the model bundle (safetensors weights + config.json + metrics.json)
    checkpoints/         Lightning checkpoints (best.ckpt, last.ckpt) for resuming
    logs/metrics.csv     per-step and per-epoch losses, learning rate and validation metrics
    tensorboard/         the same for TensorBoard (when tensorboardX is installed)
    metrics.json, metrics.tsv     validation (and test) metrics of the best weights
    plots/               ROC, PR, confusion matrix and training curves (PNG)
    config.yaml          the validated configuration that produced the run
    members/<i>/         with ``ensemble: n``: the run of each member (seed + i), the same
                         validation split for all; bundle/ then averages them (save_ensemble)

Only rank 0 writes the bundle, metrics and plots; in a DDP run every rank
trains and the others return ``None``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

import torch
import yaml

from bioseq.bundle.format import data_hash
from bioseq.errors import InputError
from bioseq.io.labels import LabelledSequences
from bioseq.train.config import TrainConfig
from bioseq.train.data import SequenceSet, make_loader, split_validation

__all__ = ["TrainResult", "train", "read_split"]


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a finished run produced."""

    run_dir: Path
    bundle_dir: Path
    metrics: dict
    seconds: float


def read_split(path: Path, config: TrainConfig, classes: tuple[str, ...] | None = None) -> LabelledSequences:
    """Read one labelled file with the column options when it is a table."""
    from bioseq.io.tables import read_labelled

    options: dict = {} if classes is None else {"classes": list(classes)}
    columns = {"sequence_column": config.sequence_column, "label_column": config.label_column}
    return read_labelled(path, table_options=columns, **options)


def _datasets(config: TrainConfig) -> tuple[SequenceSet, SequenceSet, SequenceSet | None, str]:
    train = read_split(config.train, config)
    valid = read_split(config.valid, config, train.classes) if config.valid else None
    test = read_split(config.test, config, train.classes) if config.test else None
    if valid is not None and valid.task != train.task:
        raise InputError(f"the validation set is {valid.task} but the training set is {train.task}",
                         path=str(config.valid))
    longest = max(len(s) for part in (train, valid, test) if part is not None for s in part.sequences)
    length = config.length or longest
    encode = lambda part: SequenceSet.from_labelled(part, length=length)  # noqa: E731
    train_set = encode(train)
    if valid is None:
        train_set, valid_set, how = split_validation(
            train_set, fraction=config.valid_fraction, by=config.split_by,
            seed=config.seed if config.split_seed is None else config.split_seed)
    else:
        valid_set, how = encode(valid), f"validation = {config.valid}"
    return train_set, valid_set, None if test is None else encode(test), how


def _precision(config: TrainConfig) -> str:
    if config.precision != "auto":
        return config.precision
    if torch.cuda.is_available() and config.accelerator in ("auto", "gpu", "cuda"):
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "32-true"


def _loggers(run: Path) -> list:
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    loggers = [CSVLogger(save_dir=str(run), name="logs", version="")]
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        return loggers
    loggers.append(TensorBoardLogger(save_dir=str(run), name="tensorboard", version="", default_hp_metric=False))
    return loggers


def ema_decay(ema_epochs: float, steps_per_epoch: int) -> float:
    """The per-step decay of a weight average whose time constant is ``ema_epochs`` epochs.

    Given in epochs, one setting suits a set of 1,000 sequences and one of
    50,000: ``1 - 1 / (ema_epochs * steps_per_epoch)``, and 0 (keep the last
    weights) when that is under one step.
    """
    steps = ema_epochs * steps_per_epoch
    return 1.0 - 1.0 / steps if steps > 1 else 0.0


def _weight_average(config: TrainConfig, steps_per_epoch: int) -> list:
    """Lightning's EMA callback for ``config.ema_epochs`` (none when 0).

    Validation, the checkpoints and so the bundle see the averaged weights
    (``EMAWeightAveraging`` swaps them in; ``last.ckpt`` keeps the raw ones
    for resuming).
    """
    from lightning.pytorch.callbacks import EMAWeightAveraging

    if config.ema_epochs == 0:
        return []
    return [EMAWeightAveraging(decay=ema_decay(config.ema_epochs, steps_per_epoch))]


def _trainer(config: TrainConfig, run: Path, extra_callbacks=(), *, steps_per_epoch: int = 1):
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint

    from bioseq.train.progress import EpochLog

    monitor = f"val_{config.monitor}"
    callbacks = [
        *_weight_average(config, steps_per_epoch),
        EpochLog(monitor, config.monitor_mode),
        EarlyStopping(monitor=monitor, mode=config.monitor_mode, patience=config.patience),
        ModelCheckpoint(dirpath=str(run / "checkpoints"), filename="best", monitor=monitor,
                        mode=config.monitor_mode, save_last=True, enable_version_counter=False),
        LearningRateMonitor(logging_interval="step"),
        *extra_callbacks,
    ]
    strategy = config.strategy
    if strategy == "auto" and (config.num_nodes > 1 or (isinstance(config.devices, int) and config.devices > 1)):
        strategy = "ddp"
    return pl.Trainer(
        accelerator=config.accelerator, devices=config.devices, num_nodes=config.num_nodes,
        strategy=strategy, precision=_precision(config), max_epochs=config.epochs,
        max_time=config.max_time, gradient_clip_val=config.gradient_clip, callbacks=callbacks,
        logger=_loggers(run), enable_progress_bar=sys.stderr.isatty(), enable_model_summary=False,
        deterministic=not torch.cuda.is_available(), log_every_n_steps=10, default_root_dir=str(run),
    )


def train(config: TrainConfig, *, callbacks=()) -> TrainResult | None:
    """Train the configured model and write the run directory (see the module docstring).

    Parameters
    ----------
    config : TrainConfig
    callbacks : sequence of lightning.pytorch.Callback, optional
        Added to bioseq's own (early stopping, checkpoints, logs); e.g. the
        pruning callback of :func:`bioseq.train.tune.tune`. Ignored by the
        k-mer baseline, which has no epochs.

    Returns
    -------
    TrainResult or None
        None on DDP ranks other than 0.

    Raises
    ------
    InputError
        On unreadable data, inconsistent splits or a bad model option.
    """
    import lightning.pytorch as pl

    from bioseq.train.cluster import check_ranks
    from bioseq.train.progress import quiet_lightning

    started = time.perf_counter()
    if config.model != "kmer_logistic":
        check_ranks(config.devices, config.num_nodes)  # before any data is read
    if config.ensemble > 1:
        return _train_ensemble(config, callbacks, started)
    pl.seed_everything(config.seed, workers=True, verbose=False)
    run = Path(config.out)
    train_set, valid_set, test_set, how = _datasets(config)
    if config.model == "kmer_logistic":
        return _train_baseline(config, run, train_set, valid_set, test_set, how, started)
    model = _build(config, train_set)
    module = _module(config, model, train_set)
    resume = _resume_path(config, run)
    loaders = [make_loader(part, batch_size=config.batch_size_for(len(train_set)), shuffle=shuffle, seed=config.seed,
                           num_workers=config.num_workers)
               for part, shuffle in ((train_set, True), (valid_set, False))]
    log_path = run / "logs" / "metrics.csv"
    earlier = _read_log(log_path) if resume else None  # Lightning's CSV logger clears the file
    with quiet_lightning(not sys.stderr.isatty()), warnings.catch_warnings():
        if earlier:  # the earlier rows are put back after training (_merge_log)
            warnings.filterwarnings("ignore", message=r".*Previous log files in this directory will be deleted.*")
        ranks = config.devices * config.num_nodes if isinstance(config.devices, int) else 1
        trainer = _trainer(config, run, callbacks, steps_per_epoch=-(-len(loaders[0]) // ranks))  # per rank
        trainer.fit(module, *loaders, ckpt_path=resume)
    if not trainer.is_global_zero:
        return None
    if earlier:
        _merge_log(log_path, earlier)
    best = trainer.checkpoint_callback.best_model_path
    if best:
        state = torch.load(best, map_location="cpu", weights_only=False)["state_dict"]  # our own file
        module.load_state_dict(state)
    model = module.model.cpu().eval()
    info = {"split": how, "epochs_run": trainer.current_epoch, "best_checkpoint": best or None,
            "world_size": trainer.world_size}
    return _finish(config, run, model, train_set, valid_set, test_set, info, started)


def _train_ensemble(config: TrainConfig, callbacks, started: float) -> TrainResult | None:
    """Train ``config.ensemble`` members (seeds seed, seed+1, ...) on one validation split; bundle their mean.

    Members train in ``out/members/<i>`` without the test set; the ensemble
    bundle in ``out/bundle`` is evaluated on the validation and test sets.
    With ``resume``, members that finished are kept and the others resume
    from their last checkpoint (or start).
    """
    from bioseq.bundle import save_ensemble

    run = Path(config.out)
    split_seed = config.seed if config.split_seed is None else config.split_seed
    train_set, valid_set, test_set, how = _datasets(config)
    length = int(train_set.codes.shape[1])  # members see no test set: give them the ensemble's width
    members = []
    for i in range(config.ensemble):
        out = run / "members" / str(i)
        done = (out / "bundle" / "metrics.json").is_file() and config.resume is not None
        if done:
            members.append(out / "bundle")
            continue
        resume = "last" if config.resume is not None and (out / "checkpoints" / "last.ckpt").is_file() else None
        member = config.model_copy(update={"ensemble": 1, "seed": config.seed + i, "split_seed": split_seed,
                                           "out": out, "test": None, "resume": resume, "length": length})
        result = train(member, callbacks=callbacks)
        members.append(None if result is None else result.bundle_dir)
    if any(m is None for m in members):  # a DDP rank other than 0
        return None
    bundle_dir = save_ensemble(
        run / "bundle", members,
        training={**_hyperparameters(config, len(train_set)), "split": how, "member_seeds": [config.seed + i for i in range(len(members))]},
        data=_data_summary(train_set, valid_set, test_set))
    return _evaluate_run(config, run, bundle_dir, valid_set, test_set, started)


def _build(config: TrainConfig, train_set: SequenceSet):
    from bioseq.models.registry import build_model

    options = {**config.model_options, "n_outputs": train_set.n_outputs}
    model = build_model(config.model, options)
    return torch.compile(model) if config.compile else model


def _module(config: TrainConfig, model, train_set: SequenceSet):
    from bioseq.train.module import ClassifierModule

    weights = None
    if config.class_weights == "balanced":
        weights = train_set.class_weights().tolist()
    return ClassifierModule(
        model, task=train_set.task, classes=train_set.classes, lr=config.learning_rate,
        weight_decay=config.weight_decay, warmup_fraction=config.warmup_fraction, class_weights=weights,
        label_smoothing=config.label_smoothing, rc_augment=config.rc_augment,
        shift_augment=config.shift_augment,
    )


def _read_log(path: Path) -> list[dict] | None:
    """Rows of a CSV metrics log, or None when there is none."""
    import csv

    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _merge_log(path: Path, earlier: list[dict]) -> None:
    """Put the rows logged before a resume back in front of the new ones (atomically).

    Earlier rows at or past the first step of the resumed run (logged after the
    checkpoint it resumed from) are dropped, so every step appears once.
    """
    import csv

    from bioseq.io.handles import atomic_output

    now = _read_log(path) or []
    steps = [int(float(row["step"])) for row in now if row.get("step")]
    first = min(steps) if steps else None
    kept = [row for row in earlier if first is None or not row.get("step") or int(float(row["step"])) < first]
    columns = sorted(set().union(*(row.keys() for row in kept + now)))
    with atomic_output(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept + now)


def _resume_path(config: TrainConfig, run: Path) -> str | None:
    if config.resume is None:
        return None
    path = run / "checkpoints" / "last.ckpt" if config.resume == "last" else Path(config.resume)
    if not path.is_file():
        raise InputError("there is no checkpoint to resume from", path=str(path),
                         fix="Train without --resume first, or point --resume at a .ckpt file")
    return str(path)


def _evaluate(bundle, data: SequenceSet | None) -> dict | None:
    from bioseq.evaluate.metrics import classification_metrics

    if data is None:
        return None
    scores = bundle.predict_proba(data.codes)
    return classification_metrics(data.labels, scores, task=data.task, classes=data.classes)


def _finish(config, run, model, train_set, valid_set, test_set, info, started) -> TrainResult:
    """Rank 0: save the bundle, evaluate the best weights, write metrics, plots and the config."""
    return _save_and_evaluate(
        config, run, train_set, valid_set, test_set, started, model=model, model_name=config.model,
        model_options={**config.model_options, "n_outputs": train_set.n_outputs},
        length=int(train_set.codes.shape[1]), training={**_hyperparameters(config, len(train_set)), **info})


def _save_and_evaluate(config, run, train_set, valid_set, test_set, started, **bundle) -> TrainResult:
    """Save the bundle (``bundle``: model, name, options, length, training), evaluate it, write the run."""
    from bioseq.bundle import save_bundle

    bundle_dir = run / "bundle"
    save_bundle(
        bundle_dir, task=train_set.task, classes=list(train_set.classes), **bundle,
        data=_data_summary(train_set, valid_set, test_set),
    )
    return _evaluate_run(config, run, bundle_dir, valid_set, test_set, started)


def _data_summary(train_set, valid_set, test_set) -> dict:
    """The bundle's ``data`` record: a hash of the training data and the split sizes."""
    return {"sha256": data_hash(train_set.codes, train_set.labels), "n_train": len(train_set),
            "n_valid": len(valid_set), "n_test": None if test_set is None else len(test_set)}


def _evaluate_run(config, run: Path, bundle_dir: Path, valid_set, test_set, started: float) -> TrainResult:
    """Evaluate the saved bundle on the validation (and test) set; write metrics, plots and the config."""
    from bioseq.bundle import load_bundle

    loaded = load_bundle(bundle_dir)
    metrics = {"valid": _evaluate(loaded, valid_set), "test": _evaluate(loaded, test_set)}
    metrics = {k: v for k, v in metrics.items() if v is not None}
    _write_outputs(run, bundle_dir, metrics, loaded, valid_set, config)
    return TrainResult(run, bundle_dir, metrics, time.perf_counter() - started)


def _write_outputs(run: Path, bundle_dir: Path, metrics: dict, bundle, valid_set, config) -> None:
    from bioseq.evaluate.plots import plot_all
    from bioseq.evaluate.report import write_metrics
    from bioseq.io.handles import atomic_output

    write_metrics(metrics, run)
    with atomic_output(bundle_dir / "metrics.json", "w") as handle:
        json.dump(metrics, handle, indent=2, sort_keys=True)
    with atomic_output(run / "config.yaml", "w") as handle:
        yaml.safe_dump(json.loads(config.model_dump_json()), handle, sort_keys=False)
    scores = bundle.predict_proba(valid_set.codes)
    log = run / "logs" / "metrics.csv"
    plot_all(valid_set.labels, scores, task=valid_set.task, classes=list(valid_set.classes),
             metrics=metrics["valid"], directory=run / "plots", training_log=log if log.is_file() else None)


def _hyperparameters(config: TrainConfig, n_train: int) -> dict:
    keep = ("epochs", "batch_size", "lr", "weight_decay", "warmup_fraction", "gradient_clip",
            "class_weights", "label_smoothing", "rc_augment", "shift_augment", "ema_epochs", "monitor", "patience",
            "seed", "split_seed", "ensemble", "precision", "devices", "num_nodes")
    values = json.loads(config.model_dump_json())
    return {**{key: values[key] for key in keep}, "lr": config.learning_rate,
            "batch_size": config.batch_size_for(n_train)}


def _train_baseline(config, run, train_set, valid_set, test_set, how, started) -> TrainResult:
    """The k-mer logistic regression reference point: fit, bundle, evaluate."""
    from bioseq.models.kmer_baseline import KmerLogisticBaseline

    baseline = KmerLogisticBaseline(seed=config.seed, **config.model_options)
    baseline.fit(train_set.codes, train_set.labels, train_set.task, n_classes=len(train_set.classes))
    return _save_and_evaluate(
        config, run, train_set, valid_set, test_set, started, model=baseline, model_name="kmer_logistic",
        model_options=dict(config.model_options), length=None, training={"split": how, "seed": config.seed})
