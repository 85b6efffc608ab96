"""Quiet, useful progress for batch jobs: one log line per epoch, Lightning's chatter off.

On a terminal Lightning shows its progress bar; elsewhere (SLURM logs,
Snakemake) :class:`EpochLog` writes one line per epoch through the
``bioseq`` logger and :func:`quiet_lightning` hides Lightning's start-up
notices, tips and known deprecation warnings for the duration of a run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import lightning.pytorch as pl

__all__ = ["EpochLog", "quiet_lightning", "read_log", "merge_log"]

log = logging.getLogger("bioseq.train")


class EpochLog(pl.Callback):
    """Log ``epoch e/E: train_loss ... val_loss ... val_<metric> ... [best]`` on rank 0."""

    def __init__(self, monitor: str, mode: str) -> None:
        self.monitor, self.mode = monitor, mode
        self.best: float | None = None

    def state_dict(self) -> dict:
        return {"best": self.best}  # saved in checkpoints, so "(best)" stays right after a resume

    def load_state_dict(self, state_dict: dict) -> None:
        best = state_dict.get("best")
        self.best = float(best) if isinstance(best, (int, float)) else None

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        # Validation runs at the end of each training epoch, before this hook.
        if not trainer.is_global_zero:
            return
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        value = metrics.get(self.monitor)
        improved = (
            value is not None
            and math.isfinite(value)
            and (self.best is None or (value < self.best if self.mode == "min" else value > self.best))
        )
        if improved:
            self.best = value
        keys = ["train_loss_epoch", "val_loss", "val_accuracy", "val_mcc", "val_auroc", "val_topk_accuracy"]
        keys += [] if self.monitor in keys else [self.monitor]
        shown = [f"{key} {metrics[key]:.4f}" for key in keys if key in metrics]
        log.info(
            "epoch %d/%d: %s%s",
            trainer.current_epoch + 1,
            trainer.max_epochs,
            ", ".join(shown),
            " (best)" if improved else "",
        )


@contextlib.contextmanager
def quiet_lightning(enabled: bool = True) -> Iterator[None]:
    """Silence Lightning's INFO notices and known harmless warnings inside the block."""
    if not enabled:
        yield
        return
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric", "lightning")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*LeafSpec.*")
            warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=r".*litlogger.*")
            # On a machine with SLURM installed (a login node) Lightning hints at `srun python ...`
            # for every run; bioseq.train.ranks.check_ranks says what to do when ranks mismatch.
            warnings.filterwarnings("ignore", message=r".*`srun` command is available on your system.*")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def read_log(path: Path) -> list[dict] | None:
    """Rows of a CSV metrics log, or None when there is none."""
    import csv

    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def merge_log(path: Path, earlier: list[dict]) -> None:
    """Put the rows logged before a resume back in front of the new ones (atomically).

    Earlier rows at or past the first step of the resumed run (logged after the
    checkpoint it resumed from) are dropped, so every step appears once.
    """
    import csv

    from bioseq.io.handles import atomic_output

    now = read_log(path) or []
    steps = [int(float(row["step"])) for row in now if row.get("step")]
    first = min(steps) if steps else None
    kept = [row for row in earlier if first is None or not row.get("step") or int(float(row["step"])) < first]
    columns = sorted(set().union(*(row.keys() for row in kept + now)))
    with atomic_output(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept + now)
