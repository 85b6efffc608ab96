"""From logits to probabilities, the one place that knows how each task reads its logits.

Models return logits ``(B, n_outputs)``: one per example for a binary task
(the positive class), one per class otherwise. Multi-class logits go through
a softmax, binary and multi-label logits through independent sigmoids.
"""

from __future__ import annotations

import torch

__all__ = ["probabilities"]


def probabilities(logits: torch.Tensor, task: str) -> torch.Tensor:
    """Probabilities from logits ``(B, n_outputs)``.

    Returns
    -------
    torch.Tensor
        ``(B,)`` probability of the positive class for ``"binary"``, ``(B, C)``
        softmax for ``"multiclass"``, ``(B, C)`` sigmoids for ``"multilabel"``.
    """
    if task == "binary":
        return torch.sigmoid(logits[:, 0])
    if task == "multiclass":
        return torch.softmax(logits, dim=-1)
    return torch.sigmoid(logits)
