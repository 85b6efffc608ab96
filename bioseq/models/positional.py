"""Positional encodings for the Transformer: sinusoidal, learned and rotary.

Data contract
-------------
Token features are ``(B, T, D)``; token ``t`` (0-based) has position ``t``.
Padding follows the real tokens, so the real tokens' positions do not depend
on how much padding there is.

- :class:`SinusoidalPositions` adds the fixed sin/cos table of "Attention is
  all you need" (any length).
- :class:`LearnedPositions` adds a learned vector per position, up to
  ``max_positions`` (longer inputs raise :class:`~bioseq.errors.InputError`).
- :class:`RotaryEmbedding` (RoPE, Su et al. 2021) rotates query and key
  vectors inside attention by an angle proportional to their position, so
  attention scores depend on relative positions only and a model runs on
  inputs longer than it was trained on. :func:`apply_rotary` applies it.

Tables are computed in float32 on the features' device and cast to their
dtype.
"""

from __future__ import annotations

import torch
from torch import nn

from bioseq.errors import InputError

__all__ = ["SinusoidalPositions", "LearnedPositions", "RotaryEmbedding", "apply_rotary"]


def _angles(length: int, dim: int, base: float, device: torch.device) -> torch.Tensor:
    """``(length, dim // 2)`` float32: ``position * base ** (-2 i / dim)``."""
    inv_freq = base ** (-torch.arange(0, dim, 2, device=device, dtype=torch.float32) / dim)  # (dim/2,)
    position = torch.arange(length, device=device, dtype=torch.float32)  # (T,)
    return torch.outer(position, inv_freq)  # (T, dim/2)


class SinusoidalPositions(nn.Module):
    """Add fixed sinusoidal encodings: ``x + PE[:T]``, ``PE[t, 2i] = sin(t w_i)``, ``PE[t, 2i+1] = cos(t w_i)``.

    Parameters
    ----------
    dim : int
        Feature size ``D`` (even).
    base : float, default 10000.0

    Raises
    ------
    InputError
        On an odd ``dim``.
    """

    def __init__(self, dim: int, *, base: float = 10000.0) -> None:
        super().__init__()
        if dim % 2:
            raise InputError(f"sinusoidal positions need an even feature size, got {dim}")
        self.dim, self.base = dim, base

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)`` -> ``(B, T, D)``."""
        angles = _angles(x.shape[1], self.dim, self.base, x.device)  # (T, D/2)
        table = torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)  # (T, D): sin, cos interleaved
        return x + table.to(x.dtype)


class LearnedPositions(nn.Module):
    """Add a learned vector per absolute position: ``x + P[:T]``.

    Parameters
    ----------
    max_positions : int
        Number of positions the table covers.
    dim : int
        Feature size ``D``.
    """

    def __init__(self, max_positions: int, dim: int) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(max_positions, dim) * 0.02)  # (P, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)`` -> ``(B, T, D)``.

        Raises
        ------
        InputError
            When ``T`` exceeds the table.
        """
        if x.shape[1] > self.table.shape[0]:
            raise InputError(
                f"{x.shape[1]} tokens exceed the {self.table.shape[0]} learned positions",
                fix="Use shorter inputs, or rotary/sinusoidal positions",
            )
        return x + self.table[: x.shape[1]]  # (B, T, D)


class RotaryEmbedding(nn.Module):
    """The cos/sin tables of rotary position embedding for a head size.

    Parameters
    ----------
    head_dim : int
        Size of each attention head's query/key vectors (even).
    base : float, default 10000.0

    Raises
    ------
    InputError
        On an odd ``head_dim``.
    """

    def __init__(self, head_dim: int, *, base: float = 10000.0) -> None:
        super().__init__()
        if head_dim % 2:
            raise InputError(
                f"rotary positions need an even head size (d_model / n_heads), got {head_dim}",
                fix="Choose d_model and n_heads so that d_model / n_heads is even",
            )
        self.head_dim, self.base = head_dim, base

    def forward(self, length: int, *, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """``cos`` and ``sin``, each ``(length, head_dim // 2)`` in ``dtype``, for positions 0..length-1."""
        angles = _angles(length, self.head_dim, self.base, device)  # (T, hd/2)
        return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair ``(x[..., i], x[..., i + hd/2])`` of ``x`` ``(B, H, T, hd)`` by position angle.

    ``cos`` and ``sin`` are ``(T, hd/2)`` from :class:`RotaryEmbedding`. The
    rotation keeps vector norms, and ``apply_rotary(q)[m] . apply_rotary(k)[n]``
    depends on ``q``, ``k`` and ``m - n`` only.
    """
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]  # (B, H, T, hd/2) each
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)  # (B, H, T, hd)
