"""``train(config)``: read the data, fit a model, keep the best weights as a bundle.

A run directory (``config.out``) ends up holding::

    bundle/              the model bundle (safetensors weights + config.json + metrics.json)
    checkpoints/         Lightning checkpoints (best.ckpt, last.ckpt) for resuming
    logs/metrics.csv     per-step and per-epoch losses, learning rate and validation metrics
    tensorboard/         the same for TensorBoard (when tensorboardX is installed)
    metrics.json, metrics.tsv     validation (and test) metrics of the best weights
    plots/               ROC, PR, confusion matrix and training curves (PNG)
    config.yaml          the validated configuration (absolute paths), written first
    complete.json        written last, atomically: the run finished (:mod:`bioseq.rundir`)
    members/<i>/         with ``ensemble: n``: the run of each member (seed + i), the same
                         validation split for all; bundle/ then averages them (save_ensemble)

Only rank 0 writes the bundle, metrics and plots; in a DDP run every rank
trains and the others return ``None``.

A run can be stopped at any moment. SIGTERM or SIGINT stops training after
the step in flight, writes ``checkpoints/last.ckpt`` and raises
:class:`bioseq.interrupt.Interrupted` (the CLI exits 143 or 130); after a
SIGKILL the last checkpoint of an epoch (or of ``checkpoint_steps``) is
there. ``resume="last"`` (or ``"auto"``) then ends with the same weights and
metrics as an uninterrupted run of the same seed (:mod:`bioseq.train.checkpoints`,
:mod:`bioseq.train.resume`).
"""

from __future__ import annotations

import logging
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from bioseq import interrupt
from bioseq.errors import InputError, option
from bioseq.io.labels import LabelledSequences
from bioseq.train.config import TrainConfig
from bioseq.train.data import SequenceSet, make_loader, split_validation
from bioseq.train.outputs import (
    Run,
    RunData,
    TrainResult,
    completed,
    data_summary,
    evaluate_run,
    hyperparameters,
    save_and_evaluate,
)
from bioseq.train.progress import merge_log, read_log

__all__ = ["TrainResult", "train", "read_split"]

log = logging.getLogger(__name__)


def read_split(path: Path, config: TrainConfig, classes: tuple[str, ...] | None = None) -> LabelledSequences:
    """Read one labelled file with the column options when it is a table."""
    from bioseq.io.tables import read_labelled

    options: dict = {} if classes is None else {"classes": list(classes)}
    columns = {"sequence_column": config.sequence_column, "label_column": config.label_column}
    return read_labelled(path, table_options=columns, **options)


def _per_base_datasets(config: TrainConfig) -> tuple[SequenceSet, SequenceSet, SequenceSet | None, str]:
    """The splits of a per-base dataset, cropped to the context the model reads."""
    from bioseq.datasets.per_base_store import open_per_base

    dataset = open_per_base(config.train)
    kind = config.kind
    options = kind.check_options({**config.model_options, "n_outputs": len(dataset.classes)})
    flank, stored = kind.flank(options), dataset.context // 2
    if flank > stored or (dataset.context - 2 * flank) % 2:
        raise InputError(
            f"model {config.model!r} reads {2 * flank} bases of context ({flank} per side), but the dataset "
            f"stores {dataset.context}",
            path=str(config.train),
            fix=f"Set the model option context to {dataset.context} or less (an even number), or build the "
            f"dataset again with a context of {2 * flank} or more",
        )
    if "valid" not in dataset.splits or "train" not in dataset.splits:
        raise InputError(
            "the per-base dataset has no train or valid split",
            path=str(config.train),
            fix="Build it again with bioseq dataset splice-sites --per-base",
        )
    crop = stored - flank
    parts = {
        name: SequenceSet.from_per_base(split, classes=dataset.classes, crop=crop)
        for name, split in dataset.splits.items()
    }
    how = f"validation = the valid split of {config.train} ({len(parts['valid'])} windows)"
    return parts["train"], parts["valid"], parts.get("test"), how


def _datasets(config: TrainConfig) -> tuple[SequenceSet, SequenceSet, SequenceSet | None, str]:
    if config.kind.per_position:
        return _per_base_datasets(config)
    train = read_split(config.train, config)
    valid = read_split(config.valid, config, train.classes) if config.valid else None
    test = read_split(config.test, config, train.classes) if config.test else None
    if valid is not None and valid.task != train.task:
        raise InputError(
            f"the validation set is {valid.task} but the training set is {train.task}", path=str(config.valid)
        )
    longest = max(len(s) for part in (train, valid, test) if part is not None for s in part.sequences)
    length = config.length or longest
    encode = lambda part: SequenceSet.from_labelled(part, length=length)  # noqa: E731
    train_set = encode(train)
    if valid is None:
        train_set, valid_set, how = split_validation(
            train_set,
            fraction=config.valid_fraction,
            by=config.split_by,
            seed=config.seed if config.split_seed is None else config.split_seed,
        )
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


def _trainer(config: TrainConfig, run: Path, extra_callbacks=(), *, steps_per_epoch: int = 1, signature: dict):
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor

    from bioseq.train.checkpoints import RunCheckpoints, StepSeeds, StopOnSignal
    from bioseq.train.progress import EpochLog

    monitor = f"val_{config.monitor}"
    callbacks = [
        *_weight_average(config, steps_per_epoch),
        StepSeeds(config.seed),
        StopOnSignal(),
        EpochLog(monitor, config.monitor_mode),
        LearningRateMonitor(logging_interval="step"),
        *extra_callbacks,
        EarlyStopping(monitor=monitor, mode=config.monitor_mode, patience=config.patience),
        # last: its checkpoints record the early-stopping decision of the epoch
        RunCheckpoints(
            run.resolve() / "checkpoints",
            monitor=monitor,
            mode=config.monitor_mode,
            signature=signature,
            every_steps=config.checkpoint_steps,
        ),
    ]
    strategy = config.strategy
    if strategy == "auto" and (config.num_nodes > 1 or (isinstance(config.devices, int) and config.devices > 1)):
        strategy = "ddp"
    return pl.Trainer(
        accelerator=config.accelerator,
        devices=config.devices,
        num_nodes=config.num_nodes,
        strategy=strategy,
        precision=_precision(config),
        max_epochs=config.epochs,
        max_time=config.max_time,
        gradient_clip_val=config.gradient_clip,
        callbacks=callbacks,
        logger=_loggers(run),
        enable_progress_bar=sys.stderr.isatty(),
        enable_model_summary=False,
        enable_checkpointing=False,  # RunCheckpoints writes them, atomically, at fixed paths
        use_distributed_sampler=False,  # the loaders shard by rank themselves (EpochOrder)
        plugins=_cluster_plugins(),
        deterministic=not torch.cuda.is_available(),
        log_every_n_steps=10,
        default_root_dir=str(run),
    )


def _cluster_plugins() -> list:
    """Under SLURM, Lightning's environment without its auto-requeue (which writes and later loads
    ``hpc_ckpt_*.ckpt`` files of its own); bioseq's checkpoints and ``--resume auto`` do that job."""
    from lightning.fabric.plugins.environments import SLURMEnvironment

    return [SLURMEnvironment(auto_requeue=False)] if SLURMEnvironment.detect() else []


def train(config: TrainConfig, *, callbacks=()) -> TrainResult | None:
    """Train the configured model and write the run directory (see the module docstring).

    Parameters
    ----------
    config : TrainConfig
    callbacks : sequence of lightning.pytorch.Callback, optional
        Added to bioseq's own (early stopping, checkpoints, logs); e.g. the
        pruning callback of :func:`bioseq.train.tune.tune`. Ignored by kinds
        of model fitted in one call (``trainer = "fit"``), which have no epochs.

    Returns
    -------
    TrainResult or None
        None on DDP ranks other than 0.

    Raises
    ------
    InputError
        On unreadable data, inconsistent splits, a bad model option, a run
        directory that holds another run (see :mod:`bioseq.train.resume`),
        or a checkpoint that is not this run's.
    bioseq.interrupt.Interrupted
        On SIGTERM or SIGINT, after ``checkpoints/last.ckpt`` was written.
    """
    from bioseq.rundir import resume_command
    from bioseq.train.ranks import check_ranks, launch_rank
    from bioseq.train.resume import plan_run, refuse_existing, run_signature, start_run

    started = time.perf_counter()
    kind = config.kind
    if kind.distributed:
        check_ranks(config.devices, config.num_nodes)  # before any data is read
    if config.ensemble > 1:
        return _train_ensemble(config, callbacks, started)
    first = launch_rank(config.devices) == 0  # ranks started after rank 0 find the directory it prepared
    if first:
        refuse_existing(config)  # before any data is read
    run = Path(config.out)
    _seed(config.seed)
    train_set, valid_set, test_set, how = _datasets(config)
    signature = run_signature(config, train_set, valid_set)
    plan = plan_run(config, signature)
    if plan.action == "done":
        log.info("%s is complete (same settings and data): nothing to do", run)
        return completed(run, started)
    if first:
        start_run(config, run, plan)
    job = Run(config=config, path=run, data=RunData(train_set, valid_set, test_set, how, signature), started=started)
    try:
        if kind.trainer == "fit":
            return _fit_in_one_call(job)
        module = _module(config, _build(config, train_set), train_set)
        info = {"split": how}
        if plan.action == "finish":
            info.update(epochs_run=plan.epochs_run, world_size=_world_size(config))
        else:
            info.update(_fit(job, module, plan, callbacks))
            if info["rank"] != 0:
                return None
        return _finish(job, module, info)
    except interrupt.Interrupted as stop:
        if stop.note is None:  # stopped outside the training loop: no new checkpoint, but the command holds
            stop.note = f"continue with: {resume_command(run.resolve())}"
        raise


def _fit(job: Run, module, plan, callbacks) -> dict:
    """Run Lightning's fit (from scratch or from ``plan.checkpoint``) with signals deferred to step ends."""
    from bioseq.train.progress import quiet_lightning

    config, run, parts = job.config, job.path, job.data
    train_set = parts.train
    loaders = [
        make_loader(
            part,
            batch_size=config.batch_size_for(len(train_set)),
            shuffle=shuffle,
            seed=config.seed,
            num_workers=config.num_workers,
        )
        for part, shuffle in ((train_set, True), (parts.valid, False))
    ]
    resume = None if plan.action == "train" else str(plan.checkpoint)
    if resume:
        log.info("resuming %s from %s", run, resume)
    log_path = run / "logs" / "metrics.csv"
    earlier = read_log(log_path) if resume else None  # Lightning's CSV logger clears the file
    with quiet_lightning(not sys.stderr.isatty()), warnings.catch_warnings(), interrupt.deferred():
        if earlier:  # the earlier rows are put back after training (_merge_log)
            warnings.filterwarnings("ignore", message=r".*Previous log files in this directory will be deleted.*")
        trainer = _trainer(
            config, run, callbacks, steps_per_epoch=_steps_per_epoch(config, len(train_set)), signature=parts.signature
        )
        trainer.fit(module, *loaders, ckpt_path=resume, weights_only=True)
    if earlier and trainer.is_global_zero:
        merge_log(log_path, earlier)
    return {"epochs_run": trainer.current_epoch, "world_size": trainer.world_size, "rank": trainer.global_rank}


def _seed(seed: int) -> None:
    import lightning.pytorch as pl

    pl.seed_everything(seed, workers=True, verbose=False)


def _build(config: TrainConfig, train_set: SequenceSet):
    model = config.kind.build(config.model_options, n_outputs=train_set.n_outputs)
    if config.init is not None:
        _initialise(model, config, train_set)
    return torch.compile(model) if config.compile else model


def _initialise(model, config: TrainConfig, train_set: SequenceSet) -> None:
    """Copy the weights of the ``init`` bundle into ``model``: the same kind, options, task and classes."""
    from bioseq.bundle import as_bundle

    source = as_bundle(config.init)
    flag = option("init", "RUN")
    if not isinstance(source.model, torch.nn.Module) or not isinstance(model, torch.nn.Module):
        raise InputError(
            f"{flag} starts a network from another network's weights; {source.model_name!r} and {config.model!r} "
            "are not both networks",
            path=source.path,
            fix=f"Leave out {flag}, or pass the run of a neural network of kind {config.model!r}",
        )
    if source.model_name != config.model:
        raise InputError(
            f"the model there is {source.model_name!r}, not {config.model!r}",
            path=source.path,
            fix=f"Train {option('model', source.model_name)}, or leave out {option('model')} to take it from there",
        )
    if (source.task, source.classes) != (train_set.task, tuple(train_set.classes)):
        raise InputError(
            f"the model there is a {source.task} model of classes {list(source.classes)}; the training data is "
            f"{train_set.task} with classes {list(train_set.classes)}",
            path=source.path,
            fix="Start from a model trained on the same classes (relabel the data or train from scratch)",
        )
    try:
        model.load_state_dict(source.model.state_dict())
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise InputError(
            f"its weights do not fit {config.model!r} with options {config.model_options}: "
            f"{first[1].strip() if len(first) > 1 else first[0]}",
            path=source.path,
            fix=f"Leave out the model options that change the network's shape (its own: "
            f"{source.config['model'].get('options', {})})",
        ) from exc


def _module(config: TrainConfig, model, train_set: SequenceSet):
    from bioseq.train.module import ClassifierModule

    weights = None
    if config.class_weights != "none":
        weights = train_set.class_weights()
        weights = (np.sqrt(weights) if config.class_weights == "sqrt" else weights).tolist()
    return ClassifierModule(
        model,
        task=train_set.task,
        classes=train_set.classes,
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_fraction=config.warmup_fraction,
        class_weights=weights,
        label_smoothing=config.label_smoothing,
        rc_augment=config.rc_augment,
        shift_augment=config.shift_augment,
        total_steps=config.epochs * _steps_per_epoch(config, len(train_set)),
    )


def _world_size(config: TrainConfig) -> int:
    return config.devices * config.num_nodes if isinstance(config.devices, int) else 1


def _steps_per_epoch(config: TrainConfig, n_train: int) -> int:
    """Optimiser steps per epoch on each rank: every rank gets ceil(n / world) sequences (EpochOrder)."""
    per_rank = math.ceil(n_train / _world_size(config))
    return math.ceil(per_rank / config.batch_size_for(n_train))


def _train_ensemble(config: TrainConfig, callbacks, started: float) -> TrainResult | None:
    """Train ``config.ensemble`` members (seeds seed, seed+1, ...) on one validation split; bundle their mean.

    Members train in ``out/members/<i>`` without the test set; the ensemble
    bundle in ``out/bundle`` is evaluated on the validation and test sets.
    With ``resume``, members that finished are kept and the others resume
    from their last checkpoint (or start): each member runs with ``resume="auto"``.
    """
    from bioseq.bundle import save_ensemble
    from bioseq.train.ranks import launch_rank
    from bioseq.train.resume import plan_run, refuse_existing, run_signature, start_run

    run = Path(config.out)
    first = launch_rank(config.devices) == 0
    if first:
        refuse_existing(config)
    split_seed = config.seed if config.split_seed is None else config.split_seed
    train_set, valid_set, test_set, how = _datasets(config)
    parts = RunData(train_set, valid_set, test_set, how, run_signature(config, train_set, valid_set))
    job = Run(config=config, path=run, data=parts, started=started)
    plan = plan_run(config.model_copy(update={"resume": "auto" if config.resume else None}), parts.signature)
    if plan.action == "done":
        return completed(run, started)
    if first:
        start_run(config, run, plan)
    length = int(train_set.codes.shape[1])  # members see no test set: give them the ensemble's width
    members = []
    for i in range(config.ensemble):
        member = config.model_copy(
            update={
                "ensemble": 1,
                "seed": config.seed + i,
                "split_seed": split_seed,
                "out": run / "members" / str(i),
                "test": None,
                "resume": "auto" if config.resume is not None else None,
                "length": length,
            }
        )
        result = train(member, callbacks=callbacks)
        members.append(None if result is None else result.bundle_dir)
    if any(m is None for m in members):  # a DDP rank other than 0
        return None
    bundle_dir = save_ensemble(
        run / "bundle",
        members,
        training={
            **hyperparameters(config, len(train_set)),
            "split": how,
            "member_seeds": [config.seed + i for i in range(len(members))],
        },
        data=data_summary(parts),
    )
    return evaluate_run(job, bundle_dir)


def _finish(job: Run, module, info: dict) -> TrainResult:
    """Rank 0: take the best weights, save the bundle, evaluate it, write metrics, plots and the marker."""
    from bioseq.train.checkpoints import BEST, load_weights

    config, parts = job.config, job.data
    best = job.path / "checkpoints" / BEST  # from the run directory, never from inside a checkpoint
    if best.is_file():
        module.load_state_dict(load_weights(best))
    model = module.model.cpu().eval()
    info = {**{k: v for k, v in info.items() if k != "rank"}, "best_checkpoint": str(best) if best.is_file() else None}
    return save_and_evaluate(
        job,
        model,
        options={**config.model_options, "n_outputs": parts.train.n_outputs},
        training={**hyperparameters(config, len(parts.train)), **info},
    )


def _fit_in_one_call(job: Run) -> TrainResult:
    """A kind of model fitted in one call (``trainer = "fit"``): fit, bundle, evaluate."""
    config, train = job.config, job.data.train
    kind = config.kind
    options = kind.check_options(config.model_options)
    model = kind.fit(
        options, codes=train.codes, labels=train.labels, task=train.task, classes=train.classes, seed=config.seed
    )
    return save_and_evaluate(job, model, options=options, training={"split": job.data.how, "seed": config.seed})
