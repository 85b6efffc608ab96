"""The Lightning module that trains any bioseq classifier.

It wraps a model that maps ``(B, L)`` uint8 codes to ``(B, n_outputs)``
logits (see :mod:`bioseq.models.registry`), or to ``(B, W, n_outputs)`` for a
per-position model (task ``"per_position"``, labels ``(B, W)``: a cross-entropy
over every position, validated by :func:`bioseq.evaluate.per_base.per_base_metrics`), and adds what training needs and
the model must not know: the loss for the task, class weights, label
smoothing, reverse-complement and shift augmentation on the device, AdamW
with linear warm-up and cosine decay, and validation metrics gathered across
processes (DDP) once per epoch.
"""

from __future__ import annotations

import math

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bioseq.models.outputs import probabilities
from bioseq.train.augment import augment

__all__ = ["ClassifierModule"]

LOGGED_METRICS = ("accuracy", "balanced_accuracy", "mcc", "f1", "auroc", "auprc", "topk_accuracy")


class ClassifierModule(pl.LightningModule):
    """Training and validation steps for a sequence classifier.

    Parameters
    ----------
    model : nn.Module
        Codes ``(B, L)`` uint8 -> logits ``(B, n_outputs)``.
    task : {"binary", "multiclass", "multilabel"}
    classes : sequence of str
    lr, weight_decay, warmup_fraction : float
        AdamW settings; the learning rate rises linearly over the first
        ``warmup_fraction`` of the steps, then follows a cosine to 0.
    class_weights : sequence of float, optional
        Per-class loss weights (binary: ``[w_negative, w_positive]``;
        multi-label: ``pos_weight`` per class).
    label_smoothing : float
    rc_augment : bool
        Reverse-complement a random half of each training batch.
    shift_augment : int
        Random shifts of up to this many bases.
    total_steps : int, optional
        Optimiser steps of the whole run, for the learning-rate schedule;
        default Lightning's ``estimated_stepping_batches``. bioseq's training
        passes it: Lightning's estimate builds the training loader before a
        checkpoint is restored, which would lose the loader's position.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        task: str,
        classes: tuple[str, ...],
        lr: float = 1e-3,
        weight_decay: float = 0.01,
        warmup_fraction: float = 0.05,
        class_weights: list[float] | None = None,
        label_smoothing: float = 0.0,
        rc_augment: bool = True,
        shift_augment: int = 0,
        total_steps: int | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.task, self.classes = task, tuple(classes)
        self.lr, self.weight_decay, self.warmup_fraction = lr, weight_decay, warmup_fraction
        self.label_smoothing = label_smoothing
        self.rc_augment, self.shift_augment = rc_augment, shift_augment
        self.total_steps = total_steps
        weights = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float32)
        self.register_buffer("class_weights", weights, persistent=False)
        self._outputs: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.last_metrics: dict = {}

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model(codes)  # (B, n_outputs)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The task's loss, with class weights and label smoothing."""
        weights, smooth = self.class_weights, self.label_smoothing
        if self.task == "multiclass":
            return F.cross_entropy(logits, labels.long(), weight=weights, label_smoothing=smooth)
        if self.task == "per_position":  # (B, W, C) against (B, W)
            flat = logits.reshape(-1, logits.shape[-1])
            return F.cross_entropy(flat, labels.reshape(-1).long(), weight=weights, label_smoothing=smooth)
        if self.task == "binary":
            target = labels.float()
            sample_weight = None if weights is None else weights[labels.long()]
            target = target * (1 - smooth) + 0.5 * smooth
            return F.binary_cross_entropy_with_logits(logits[:, 0], target, weight=sample_weight)
        target = labels.float() * (1 - smooth) + 0.5 * smooth
        return F.binary_cross_entropy_with_logits(logits, target, pos_weight=weights)

    def training_step(self, batch, batch_index: int) -> torch.Tensor:
        codes, labels = batch
        codes = augment(codes, rc=self.rc_augment, max_shift=self.shift_augment)
        loss = self.loss(self(codes), labels)
        self.log("train_loss", loss, on_step=True, on_epoch=True, batch_size=len(codes), sync_dist=True)
        return loss

    def validation_step(self, batch, batch_index: int) -> None:
        codes, labels = batch
        logits = self(codes)
        self.log("val_loss", self.loss(logits, labels), on_epoch=True, batch_size=len(codes), sync_dist=True)
        self._outputs.append((probabilities(logits.float(), self.task).detach(), labels.detach()))

    def on_validation_epoch_end(self) -> None:
        if not self._outputs:
            return
        scores = torch.cat([s for s, _ in self._outputs])
        labels = torch.cat([y for _, y in self._outputs])
        self._outputs.clear()
        if self.trainer.world_size > 1:  # the same (padded) number of rows on every rank
            scores = self.all_gather(scores).flatten(0, 1)
            labels = self.all_gather(labels).flatten(0, 1)
        metrics = self.compute_metrics(labels.cpu().numpy(), scores.cpu().float().numpy())
        self.last_metrics = metrics
        for key in LOGGED_METRICS:
            value = metrics.get(key)
            if value is not None and math.isfinite(value):
                self.log(f"val_{key}", float(value), sync_dist=False, rank_zero_only=False)

    def compute_metrics(self, labels: np.ndarray, scores: np.ndarray) -> dict:
        from bioseq.evaluate.metrics import classification_metrics

        if self.task == "per_position":
            from bioseq.evaluate.per_base import per_base_metrics

            return per_base_metrics(labels.astype(np.uint8), scores, classes=self.classes)
        if self.task != "multilabel":
            labels = labels.astype(np.int64)
        return classification_metrics(labels, scores, task=self.task, classes=self.classes)

    def configure_optimizers(self):
        decay, no_decay = [], []
        for name, parameter in self.model.named_parameters():
            if parameter.requires_grad:
                (no_decay if parameter.ndim < 2 or "norm" in name.lower() else decay).append(parameter)
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.lr,
        )
        total = max(int(self.total_steps or self.trainer.estimated_stepping_batches), 1)
        warmup = int(self.warmup_fraction * total)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_cosine(warmup, total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


def _warmup_cosine(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        progress = (step - warmup) / max(total - warmup, 1)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return factor
