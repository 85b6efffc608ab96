"""From logits to probabilities, the one place that knows how each task reads its logits.

Models return logits ``(B, n_outputs)``: one per example for a binary task
(the positive class), one per class otherwise. Multi-class logits go through
a softmax, binary and multi-label logits through independent sigmoids. A
per-position model returns ``(B, W, n_outputs)``: a softmax over the classes
at each position.
"""

from __future__ import annotations

import torch

__all__ = ["probabilities"]


def probabilities(logits: torch.Tensor, task: str) -> torch.Tensor:
    """Probabilities from logits ``(B, n_outputs)`` (``(B, W, n_outputs)`` for ``"per_position"``).

    Returns
    -------
    torch.Tensor
        ``(B,)`` probability of the positive class for ``"binary"``, ``(B, C)``
        softmax for ``"multiclass"``, ``(B, C)`` sigmoids for ``"multilabel"``,
        ``(B, W, C)`` softmax per position for ``"per_position"``.
    """
    if task == "binary":
        return torch.sigmoid(logits[:, 0])
    if task in ("multiclass", "per_position"):
        return torch.softmax(logits, dim=-1)
    return torch.sigmoid(logits)
