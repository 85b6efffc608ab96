"""Data augmentation on the device, on uint8 code batches.

Input and output: codes ``(B, L)`` uint8 (PAD = 15 after the end of shorter
sequences, which must sit at the right end of each row). Both functions run
as a few tensor operations on whatever device the batch is on.
"""

from __future__ import annotations

import torch

from bioseq.alphabet import COMPLEMENT, PAD, N

__all__ = ["reverse_complement_batch", "random_shift", "augment"]


def reverse_complement_batch(codes: torch.Tensor) -> torch.Tensor:
    """Reverse complement each row of ``(B, L)`` codes; padding stays at the right.

    Examples
    --------
    >>> x = torch.tensor([[0, 1, 2, 15]], dtype=torch.uint8)   # ACG + PAD
    >>> reverse_complement_batch(x).tolist()                   # CGT + PAD
    [[1, 2, 3, 15]]
    """
    table = torch.tensor(COMPLEMENT.tolist(), dtype=torch.uint8, device=codes.device)
    complemented = table[codes.long()]  # (B, L)
    length = codes.shape[1]
    lengths = (codes != PAD).sum(dim=1, keepdim=True)  # (B, 1)
    positions = torch.arange(length, device=codes.device).expand_as(codes)  # (B, L)
    source = lengths - 1 - positions  # (B, L): where each base comes from
    source = torch.where(source >= 0, source, positions)  # padding keeps its place
    return complemented.gather(1, source)


def random_shift(codes: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each row by a random offset in ``[-max_shift, max_shift]`` bases.

    Bases shifted in from outside the window are N; padding keeps its place.
    """
    if max_shift <= 0:
        return codes
    batch, length = codes.shape
    offsets = torch.randint(-max_shift, max_shift + 1, (batch, 1), device=codes.device, generator=generator)
    positions = torch.arange(length, device=codes.device).expand(batch, length)  # (B, L)
    source = positions - offsets  # (B, L)
    inside = (source >= 0) & (source < length)
    shifted = codes.gather(1, source.clamp(0, length - 1))
    shifted = torch.where(inside & (shifted != PAD), shifted, torch.full_like(shifted, N))
    return torch.where(codes == PAD, codes, shifted)


def augment(codes: torch.Tensor, *, rc: bool, max_shift: int) -> torch.Tensor:
    """Reverse-complement a random half of the rows (when ``rc``) and shift every row."""
    if rc:
        flip = torch.rand(codes.shape[0], 1, device=codes.device) < 0.5  # (B, 1)
        codes = torch.where(flip, reverse_complement_batch(codes), codes)
    return random_shift(codes, max_shift)
