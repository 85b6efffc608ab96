"""Checkpoints that a killed job resumes from exactly, and that cannot run code when read.

A run directory's ``checkpoints/`` holds two Lightning checkpoints, always at
these two paths (nothing read from a checkpoint ever names a file):

``last.ckpt``
    Written at the end of every epoch (after validation, early stopping and
    ``best.ckpt``), every ``checkpoint_steps`` training steps when set, and
    when SIGTERM or SIGINT stops training (after the step in flight).
    ``bioseq train --resume last`` continues from it.
``best.ckpt``
    The weights that scored best on the validation set so far; the bundle
    is made from it.

Both are written atomically (a temporary file renamed into place, with the
usual file mode), so a SIGKILL while saving leaves the previous file whole.
Each carries a ``"bioseq"`` record: the format, the *signature* of the run
(everything that shapes the numbers: model, options, optimiser settings,
seed, hardware layout, hashes of the training and validation data) and
whether training had stopped. :func:`read_checkpoint` loads a checkpoint
with ``weights_only=True`` (no pickled code runs) and refuses one without
that record or with another signature, in one line.

Exact resumption also needs the randomness to be a function of where the
run is, not of what ran before in this process: :class:`StepSeeds` seeds
torch from ``(seed, global step, rank)`` before every training step, and
the training loader (:class:`bioseq.train.data.ResumableLoader`) draws each
epoch's order from ``(seed, epoch)`` and skips the batches already trained.
"""

from __future__ import annotations

import json
import math
import pickle
import zipfile
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

from bioseq import interrupt
from bioseq.errors import InputError, option
from bioseq.io.handles import atomic_path
from bioseq.rundir import resume_command

__all__ = [
    "CHECKPOINT_FORMAT",
    "RunCheckpoints",
    "StepSeeds",
    "StopOnSignal",
    "read_checkpoint",
    "check_signature",
    "step_seed",
    "CONTINUABLE",
    "normalised",
]

CHECKPOINT_FORMAT = "bioseq-checkpoint-v1"
CONTINUABLE = ("epochs", "patience")
"""Signature fields an explicit ``--resume last`` may change (train longer, wait longer); ``--resume auto``
continues only a run of exactly the same settings."""

LAST, BEST = "last.ckpt", "best.ckpt"


def step_seed(seed: int, step: int, rank: int = 0) -> int:
    """A 63-bit seed that depends only on ``(seed, step, rank)``."""
    entropy = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF, step, rank]
    return int(np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1)


class StepSeeds(pl.Callback):
    """Seed torch (CPU and CUDA) from ``(seed, global step, rank)`` before each training step.

    Dropout and on-device augmentation then draw the same numbers for a step
    whether the run got there in one go or through a resume.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def on_train_batch_start(self, trainer: pl.Trainer, module: pl.LightningModule, batch: Any, batch_idx: int) -> None:
        torch.manual_seed(step_seed(self.seed, trainer.global_step, trainer.global_rank))


class RunCheckpoints(pl.Callback):
    """Write ``best.ckpt`` and ``last.ckpt`` into ``directory`` (see the module docstring).

    Parameters
    ----------
    directory : pathlib.Path
        ``RUN/checkpoints``.
    monitor : str
        The logged validation metric, e.g. ``"val_mcc"``.
    mode : {"max", "min"}
    signature : dict
        JSON-ready description of the run (see :func:`check_signature`).
    every_steps : int, optional
        Also write ``last.ckpt`` every this many training steps.

    Notes
    -----
    Put it after :class:`~lightning.pytorch.callbacks.EarlyStopping` in the
    callback list: ``last.ckpt``, written at the end of each training epoch
    (validation has run by then), records the early-stopping decision of the
    epoch it ends.
    """

    def __init__(
        self, directory: Path, *, monitor: str, mode: str, signature: dict, every_steps: int | None = None
    ) -> None:
        self.directory = Path(directory)
        self.monitor, self.mode = monitor, mode
        self.signature = signature
        self.every_steps = every_steps
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self._stopped = False

    @property
    def last_path(self) -> Path:
        return self.directory / LAST

    @property
    def best_path(self) -> Path:
        return self.directory / BEST

    def state_dict(self) -> dict:
        return {"best_score": self.best_score, "best_epoch": self.best_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        score = state_dict.get("best_score")
        epoch = state_dict.get("best_epoch")
        self.best_score = float(score) if isinstance(score, (int, float)) and math.isfinite(score) else None
        self.best_epoch = int(epoch) if isinstance(epoch, int) else None

    def on_save_checkpoint(self, trainer: pl.Trainer, module: pl.LightningModule, checkpoint: dict) -> None:
        checkpoint["bioseq"] = {
            "format": CHECKPOINT_FORMAT,
            "signature": self.signature,
            "stopped": bool(self._stopped),
            "epoch": int(trainer.current_epoch),
            "global_step": int(trainer.global_step),
        }

    def save(self, trainer: pl.Trainer, path: Path) -> None:
        """Save a checkpoint of ``trainer`` to ``path`` atomically (every rank calls this; rank 0 writes)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            trainer.save_checkpoint(tmp, weights_only=False)

    def on_train_batch_end(
        self, trainer: pl.Trainer, module: pl.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        stop = _any_rank(trainer, interrupt.pending() is not None)
        if stop or (self.every_steps and trainer.global_step % self.every_steps == 0):
            self.save(trainer, self.last_path)
        if stop:
            interrupt.raise_pending(self.resume_note(trainer))

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        # Validation ran at the end of the epoch's last batch; EarlyStopping decided in its own
        # on_train_epoch_end, earlier in the callback list (as Lightning's ModelCheckpoint does it).
        value = trainer.callback_metrics.get(self.monitor)
        score = float(value) if value is not None else float("nan")
        if math.isfinite(score) and (
            self.best_score is None or (score > self.best_score if self.mode == "max" else score < self.best_score)
        ):
            self.best_score, self.best_epoch = score, int(trainer.current_epoch)
            self.save(trainer, self.best_path)  # before last.ckpt, whose state says this file is the best
        self._stopped = bool(trainer.should_stop) or trainer.current_epoch + 1 >= (trainer.max_epochs or 0)
        self.save(trainer, self.last_path)
        self._stopped = False
        if _any_rank(trainer, interrupt.pending() is not None):
            interrupt.raise_pending(self.resume_note(trainer))

    def resume_note(self, trainer: pl.Trainer) -> str:
        """The sentence printed when a signal stops training."""
        return (
            f"checkpoint {self.last_path} (epoch {trainer.current_epoch + 1}, step {trainer.global_step}); "
            f"continue with: {resume_command(self.directory.parent)}"
        )


class StopOnSignal(pl.Callback):
    """Act on SIGTERM/SIGINT where no checkpoint is due: before training starts and after it ends.

    Lightning installs its own SIGTERM handler when a fit starts, which would
    stop a validation half-way; bioseq's handler is put back at the start of
    the sanity check and of training.
    """

    def on_sanity_check_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        interrupt.reinstall()

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        interrupt.reinstall()
        if _any_rank(trainer, interrupt.pending() is not None):
            interrupt.raise_pending("no checkpoint was written yet")

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if _any_rank(trainer, interrupt.pending() is not None):
            interrupt.raise_pending("training had finished; rerun the same command to write the bundle")


def _any_rank(trainer: pl.Trainer, flag: bool) -> bool:
    """``flag`` on any rank (one small all-reduce under DDP, so every rank stops at the same step)."""
    if trainer.world_size > 1:
        return bool(trainer.strategy.reduce_boolean_decision(flag, all=False))
    return flag


def read_checkpoint(path: str | Path) -> dict:
    """Load a bioseq training checkpoint safely (``weights_only=True``) and check its ``"bioseq"`` record.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    dict
        The checkpoint (tensors on the CPU).

    Raises
    ------
    InputError
        The file is missing, unreadable, holds pickled objects other than
        tensors and plain containers, or was not written by ``bioseq train``.
    """
    path = Path(path)
    fix = "Pass a last.ckpt written by bioseq train for this run, or start again without resuming"
    if not path.is_file():
        raise InputError(
            "there is no checkpoint to resume from",
            path=path,
            fix=f"Train without resuming first, or point {option('resume', 'PATH.ckpt')} at a checkpoint file",
        )
    try:
        # mmap: the tensors stay on disk until used, so checking the record of a large checkpoint reads little
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (
        pickle.UnpicklingError,
        RuntimeError,
        EOFError,
        OSError,
        ValueError,
        TypeError,
        AttributeError,
        zipfile.BadZipFile,
        KeyError,
        ImportError,
    ) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"this checkpoint cannot be loaded safely ({first[:200]})", path=path, fix=fix) from None
    record = checkpoint.get("bioseq") if isinstance(checkpoint, dict) else None
    if (
        not isinstance(record, dict)
        or record.get("format") != CHECKPOINT_FORMAT
        or not isinstance(record.get("signature"), dict)
    ):
        raise InputError(
            "this is not a checkpoint written by bioseq train (it has no bioseq record)", path=path, fix=fix
        )
    return checkpoint


def check_signature(checkpoint: dict, signature: dict, path: str | Path, *, allow: tuple[str, ...] = ()) -> None:
    """Refuse a checkpoint whose run signature differs from ``signature`` (except in the fields ``allow``).

    Raises
    ------
    InputError
        Naming the first field that differs and both values.
    """
    found = normalised(checkpoint["bioseq"]["signature"])
    expected = normalised(signature)
    for key in sorted(set(found) | set(expected)):
        if key in allow or found.get(key) == expected.get(key):
            continue
        shown = "the training data" if key.endswith("sha256") else key
        detail = (
            ""
            if key.endswith("sha256")
            else (f" (the checkpoint has {found.get(key)!r}, this run {expected.get(key)!r})")
        )
        raise InputError(
            f"this checkpoint belongs to a run with other settings: {shown} differs{detail}",
            path=path,
            fix="Resume with the run's own settings (bioseq train --config RUN/config.yaml "
            f"--resume last), or start again with {option('overwrite', 'True')}",
        )


def finished(checkpoint: dict, signature: dict) -> bool:
    """True when the checkpoint was written as training stopped (early stopping or the last epoch)
    and the epoch budget and patience are still the same: nothing is left to train."""
    record = checkpoint["bioseq"]
    found, expected = normalised(record["signature"]), normalised(signature)
    same = all(found.get(k) == expected.get(k) for k in CONTINUABLE)
    return bool(record.get("stopped")) and same


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of a checkpoint this run wrote (``weights_only=True``)."""
    checkpoint = read_checkpoint(path)
    state = checkpoint.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(
            "the checkpoint holds no model weights",
            path=path,
            fix=f"Train the run again with {option('overwrite', 'True')}",
        )
    return state


def normalised(value: Any) -> Any:
    """JSON round trip: tuples become lists, so a signature compares the way it was stored (checkpoint or
    ``complete.json``)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))
