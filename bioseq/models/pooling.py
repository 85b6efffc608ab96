"""Pooling a padded sequence of feature vectors into one vector per sequence.

Data contract
-------------
Input: features ``(B, T, D)`` (floating) and a mask ``(B, T)`` bool, True at
real positions (0-based along axis 1), False at padding. Output ``(B, D')``:
only real positions contribute, so a sequence pools to the same vector
whatever padding follows it. A row without a real position pools to zeros
(never NaN).

:class:`SequencePool` picks one of

``"mean"``      masked mean, ``D' = D``
``"max"``       masked max, ``D' = D``
``"meanmax"``   mean and max concatenated, ``D' = 2 D``
``"attention"`` softmax-weighted sum with a learned query (:class:`AttentionPool`), ``D' = D``
``"cls"``       the vector at position 0, where the caller put a ``[CLS]`` token, ``D' = D``
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from bioseq.errors import InputError

__all__ = ["POOLINGS", "masked_mean", "masked_max", "AttentionPool", "SequencePool"]

POOLINGS = ("mean", "max", "meanmax", "attention", "cls")


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over real positions: ``(B, T, D)``, ``(B, T)`` bool -> ``(B, D)``; 0 for an empty row."""
    keep = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
    total = (x * keep).sum(1)  # (B, D)
    return total / keep.sum(1).clamp(min=1)  # (B, D)


def masked_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over real positions: ``(B, T, D)``, ``(B, T)`` bool -> ``(B, D)``; 0 for an empty row."""
    if x.shape[1] == 0:
        return x.new_zeros(x.shape[0], x.shape[2])
    best = torch.where(mask.unsqueeze(-1), x, float("-inf")).amax(1)  # (B, D); faster than masked_fill
    return best.masked_fill(~mask.any(1, keepdim=True), 0)  # (B, D)


class AttentionPool(nn.Module):
    """Weighted sum of real positions, weights a masked softmax of ``x @ query / sqrt(D)``.

    Parameters
    ----------
    dim : int
        Feature size ``D``.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.query = nn.Parameter(torch.randn(dim) / math.sqrt(dim))  # (D,)
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)``, ``(B, T)`` bool -> ``(B, D)``."""
        scores = (x @ self.query.to(x.dtype)) * self.scale  # (B, T)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)  # finite: an empty row stays finite
        weights = torch.softmax(scores, dim=1) * mask  # (B, T); zero everywhere in an empty row
        return (weights.unsqueeze(1) @ x).squeeze(1)  # (B, 1, T) @ (B, T, D) -> (B, D)


class SequencePool(nn.Module):
    """Pool ``(B, T, D)`` features over their real positions (see the module docstring).

    Parameters
    ----------
    kind : {"mean", "max", "meanmax", "attention", "cls"}
    dim : int
        Feature size ``D``.

    Attributes
    ----------
    out_features : int
        ``D'``: ``2 * dim`` for "meanmax", else ``dim``.

    Raises
    ------
    InputError
        On an unknown kind.
    """

    def __init__(self, kind: Literal["mean", "max", "meanmax", "attention", "cls"], dim: int) -> None:
        super().__init__()
        if kind not in POOLINGS:
            raise InputError(f"pooling must be one of {', '.join(map(repr, POOLINGS))}, got {kind!r}")
        self.kind = kind
        self.attention = AttentionPool(dim) if kind == "attention" else None
        self.out_features = 2 * dim if kind == "meanmax" else dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)``, ``(B, T)`` bool -> ``(B, D')``."""
        if self.kind == "mean":
            return masked_mean(x, mask)
        if self.kind == "max":
            return masked_max(x, mask)
        if self.kind == "meanmax":
            return torch.cat([masked_mean(x, mask), masked_max(x, mask)], dim=-1)  # (B, 2D)
        if self.kind == "attention":
            return self.attention(x, mask)
        return x[:, 0]  # (B, D): the [CLS] position

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
