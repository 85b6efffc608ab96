"""What ``bioseq train`` does with the run directory it is given: start, resume, finish, or refuse.

The decision (:func:`plan_run`) depends on the directory's state
(:mod:`bioseq.rundir`: new, incomplete, complete), ``resume`` and
``overwrite``, and on the run's *signature* (:func:`run_signature`): the
settings and data hashes that shape the numbers. A checkpoint or finished run
of another signature is never continued silently.

============  ===========================  ==================================================
resume        directory                    action
============  ===========================  ==================================================
none          new                          train
none          incomplete or complete       refuse (``--resume last`` / ``--overwrite``)
                                           unless ``overwrite``: clear it, train
auto          complete, same signature     nothing to do
auto          last.ckpt, same signature    continue from it (or finish if training had ended)
auto          new, or no checkpoint yet    train (clearing what a killed start left)
auto          other signature              refuse, unless ``overwrite``: clear it, train
last / PATH   the checkpoint               continue (``epochs`` and ``patience`` may differ)
============  ===========================  ==================================================
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import yaml

from bioseq.bundle.format import data_hash
from bioseq.errors import InputError, option
from bioseq.rundir import read_marker, resume_command, run_state
from bioseq.train.checkpoints import CONTINUABLE, LAST, check_signature, finished, normalised, read_checkpoint
from bioseq.train.config import TrainConfig

__all__ = ["Plan", "plan_run", "refuse_existing", "run_signature", "start_run"]

log = logging.getLogger(__name__)

SIGNATURE_FIELDS = (
    "model",
    "model_options",
    "weight_decay",
    "warmup_fraction",
    "gradient_clip",
    "class_weights",
    "label_smoothing",
    "rc_augment",
    "shift_augment",
    "ema_epochs",
    "monitor",
    "seed",
    "devices",
    "num_nodes",
    "strategy",
    "precision",
    "compile",
    "ensemble",
    "epochs",
    "patience",
)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to do: ``"train"`` (from scratch), ``"resume"`` (from ``checkpoint``), ``"finish"`` (training had
    ended: only write the bundle and metrics) or ``"done"`` (the run is complete); ``clear``: remove the old
    outputs first; ``epochs_run``: the epochs the checkpoint had trained (``"finish"``)."""

    action: str
    checkpoint: Path | None = None
    clear: bool = False
    epochs_run: int | None = None


def run_signature(config: TrainConfig, train_set, valid_set) -> dict:
    """The settings and data that shape a run's numbers, as a JSON-ready dict (see the module docstring)."""
    values = json.loads(config.model_dump_json())
    signature = {key: values[key] for key in SIGNATURE_FIELDS}
    signature.update(
        batch_size=config.batch_size_for(len(train_set)),
        lr=config.learning_rate,
        length=int(train_set.codes.shape[1]),
        classes=list(train_set.classes),
        train_sha256=data_hash(train_set.codes, train_set.labels),
        valid_sha256=data_hash(valid_set.codes, valid_set.labels),
    )
    if config.init is not None:  # only then: the signatures of earlier runs stay as they were
        signature["init"] = str(Path(config.init).resolve())
    return signature


def refuse_existing(config: TrainConfig) -> bool:
    """Before any data is read: refuse training into a used run directory without resume or overwrite.

    Returns
    -------
    bool
        True when the directory must be cleared (``overwrite`` of a used directory).
    """
    run = Path(config.out)
    state = run_state(run)
    if config.resume is not None or state == "new":
        return False
    if config.overwrite:
        return True
    if state == "complete":
        raise InputError(
            "the directory holds a finished training run",
            path=run,
            fix=f"Pass {option('overwrite', 'True')} to replace it (its outputs are removed first), or "
            f"choose another {option('out', 'DIR')}; {option('resume', 'auto')} leaves a finished run "
            "of the same settings as it is",
        )
    has_checkpoint = (run / "checkpoints" / LAST).is_file()
    raise InputError(
        "the directory holds an interrupted training run",
        path=run,
        fix=(
            f"Continue it with: {resume_command(run)}, or pass {option('overwrite', 'True')} to start again"
            if has_checkpoint
            else f"Pass {option('overwrite', 'True')} to start again, or choose another {option('out', 'DIR')}"
        ),
    )


def plan_run(config: TrainConfig, signature: dict) -> Plan:
    """Decide what to do with ``config.out`` (see the module docstring)."""
    run = Path(config.out)
    state = run_state(run)
    if config.resume is None:
        return Plan("train", clear=state != "new")
    last = run / "checkpoints" / LAST
    if config.resume == "auto":
        return _plan_auto(config, run, state, last, signature)
    if config.kind.trainer != "lightning":
        raise InputError(
            f"model {config.model!r} is fitted in one call and has no checkpoints to resume from",
            path=run,
            fix=f"Train it again, with {option('overwrite', 'True')} or {option('resume', 'auto')}",
        )
    path = last if config.resume == "last" else Path(config.resume)
    checkpoint = read_checkpoint(path)
    check_signature(checkpoint, signature, path, allow=CONTINUABLE)
    if finished(checkpoint, signature):
        return Plan(
            "done" if state == "complete" and path == last else "finish", path, epochs_run=_epochs_run(checkpoint)
        )
    return Plan("resume", path)


def _plan_auto(config: TrainConfig, run: Path, state: str, last: Path, signature: dict) -> Plan:
    if state == "complete":
        marker = read_marker(run) or {}
        if marker.get("signature") == normalised(signature):
            return Plan("done")
        return _other_settings(config, run, "finished run")
    if config.kind.trainer == "lightning" and last.is_file():
        try:
            checkpoint = read_checkpoint(last)
            check_signature(checkpoint, signature, last)
        except InputError:
            if config.overwrite:
                return Plan("train", clear=True)
            raise
        if finished(checkpoint, signature):
            return Plan("finish", last, epochs_run=_epochs_run(checkpoint))
        return Plan("resume", last)
    return Plan("train", clear=state != "new")


def _epochs_run(checkpoint: dict) -> int:
    """Epochs trained when the checkpoint was written (it is written at the end of an epoch when training stops)."""
    return int(checkpoint["bioseq"]["epoch"]) + 1


def _other_settings(config: TrainConfig, run: Path, what: str) -> Plan:
    if config.overwrite:
        return Plan("train", clear=True)
    raise InputError(
        f"the directory holds a {what} of other settings or data",
        path=run,
        fix=f"Pass {option('overwrite', 'True')} to replace it, or choose another {option('out', 'DIR')}",
    )


def start_run(config: TrainConfig, run: Path, plan: Plan) -> None:
    """Clear old outputs when the plan says so, drop the completion marker, write config.yaml (absolute paths)."""
    from bioseq.io.handles import atomic_output
    from bioseq.rundir import clear_run, unmark

    if plan.clear:
        log.info("removing the earlier outputs in %s", run)
        clear_run(run)
    unmark(run)
    values = json.loads(config.model_dump_json())
    for key in ("train", "valid", "test", "out"):
        if values.get(key) is not None:
            values[key] = str(Path(values[key]).resolve())
    values.update(resume=None, overwrite=False)
    with atomic_output(run / "config.yaml", "w") as handle:
        yaml.safe_dump(values, handle, sort_keys=False)
