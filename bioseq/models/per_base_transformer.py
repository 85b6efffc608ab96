"""Transformer encoder that scores every base: conv stem, rotary self-attention, per-token head.

Data contract
-------------
Codes ``(B, L)`` uint8 or int64 (:mod:`bioseq.alphabet`; ``PAD`` reads as an
unknown base and is attended to like any token) -> logits ``(B, L - context,
n_outputs)`` float, channels last, ``L > context``. Output position ``j``
scores input position ``flank + j`` (0-based), ``flank = context // 2``.

One-hot ``(B, 4, L)`` -> a same-padded :class:`~bioseq.models.layers.ConvBlock`
to ``d_model`` channels (no pooling: one token per base) -> pre-norm
:class:`~bioseq.models.transformer.TransformerBlock` s (self-attention through
:func:`torch.nn.functional.scaled_dot_product_attention`, with rotary
positions, :class:`~bioseq.models.positional.RotaryEmbedding`, which are
relative and so work at any length) -> LayerNorm, dropout and a linear head
per token -> ``flank`` tokens cropped from each side. Attention is over all
``L`` tokens: memory and time grow as ``L ** 2``, so score long regions in
windows of a few thousand bases.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import nn

from bioseq.errors import InputError
from bioseq.models.layers import CodesToOneHot, ConvBlock, check_codes_input, check_minimum, padding_mask
from bioseq.models.per_position import check_context, check_input_width
from bioseq.models.positional import RotaryEmbedding
from bioseq.models.registry import (
    MAX_FF_MULT,
    MAX_HEADS,
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_WIDTH,
    ModelConfig,
    check_maximum,
    register,
)
from bioseq.models.transformer import TransformerBlock

__all__ = ["PerBaseTransformerConfig", "PerBaseTransformer"]


@dataclasses.dataclass(kw_only=True)
class PerBaseTransformerConfig(ModelConfig):
    """Options of the per-base Transformer (and :class:`~bioseq.models.registry.ModelConfig`'s).

    Parameters
    ----------
    n_outputs : int, default 3
        Classes scored at each position; at least 2.
    dropout : float, default 0.1
        Dropout after the stem, in each block and before the head.
    context : int, default 400
        Total input context cropped from the output (even; ``context // 2`` per side).
    stem_kernel : int, default 11
        Width of the conv stem (4 -> ``d_model`` channels).
    d_model : int, default 64
        Token vector size; a multiple of ``n_heads`` with an even head size (rotary positions).
    n_heads : int, default 4
    n_layers : int, default 2
    ff_mult : int, default 2
        MLP hidden size = ``ff_mult * d_model``.
    iupac : {"zeros", "uniform", "fractional"}, default "zeros"
        One-hot of N and the other ambiguous codes (:mod:`bioseq.encode.onehot`).

    Raises
    ------
    InputError
        On an odd or negative ``context``, fewer than 2 outputs, a size out
        of its bounds (:mod:`bioseq.models.registry`), a ``d_model`` that
        ``n_heads`` does not divide, or an odd head size.
    """

    n_outputs: int = 3
    context: int = 400
    stem_kernel: int = 11
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    ff_mult: int = 2
    iupac: Literal["zeros", "uniform", "fractional"] = "zeros"

    def __post_init__(self) -> None:
        super().__post_init__()
        name = "per_base_transformer"
        check_context(name, self.context, self.n_outputs)
        check_minimum(
            name,
            1,
            stem_kernel=self.stem_kernel,
            d_model=self.d_model,
            n_heads=self.n_heads,
            n_layers=self.n_layers,
            ff_mult=self.ff_mult,
        )
        check_maximum(name, MAX_WIDTH, d_model=self.d_model)
        check_maximum(name, MAX_KERNEL, stem_kernel=self.stem_kernel)
        check_maximum(name, MAX_HEADS, n_heads=self.n_heads)
        check_maximum(name, MAX_LAYERS, n_layers=self.n_layers)
        check_maximum(name, MAX_FF_MULT, ff_mult=self.ff_mult)
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            fit = math.ceil(self.d_model / (2 * self.n_heads)) * 2 * self.n_heads
            raise InputError(
                f"model {name!r} option 'd_model' ({self.d_model}) must be a multiple of 'n_heads' "
                f"({self.n_heads}) with an even head size (rotary positions)",
                fix=f"Use e.g. d_model={fit}, or another n_heads",
            )


@register("per_base_transformer", PerBaseTransformerConfig)
class PerBaseTransformer(nn.Module):
    """One-hot -> conv stem -> rotary pre-norm blocks -> LN -> per-token head -> crop ``flank`` per side.

    Parameters
    ----------
    config : PerBaseTransformerConfig
    """

    def __init__(self, config: PerBaseTransformerConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.one_hot = CodesToOneHot(iupac=config.iupac)
        self.stem = ConvBlock(4, d, kernel_size=config.stem_kernel, activation="gelu")
        self.rotary = RotaryEmbedding(d // config.n_heads)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(d, config.n_heads, config.ff_mult, config.dropout) for _ in range(config.n_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of every central position.

        Parameters
        ----------
        x : torch.Tensor, shape ``(B, L)``, dtype uint8 or int64
            Base codes, ``L > context``.

        Returns
        -------
        torch.Tensor, shape ``(B, L - context, n_outputs)``, float

        Raises
        ------
        InputError
            On input of the wrong type, shape or dtype, or not wider than ``context``.
        """
        check_codes_input(x, model="per_base_transformer")
        check_input_width("per_base_transformer", x.shape[1], self.config.context)
        return self.forward_one_hot(self.one_hot(x), padding_mask(x))  # (B, 4, L), (B, L)

    def forward_one_hot(self, one_hot: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits of every central position of a float one-hot input (what gradient attributions differentiate).

        Parameters
        ----------
        one_hot : torch.Tensor, shape ``(B, 4, L)``, floating
            Channels A, C, G, T (``self.one_hot(codes)`` gives it), ``L > context``.
        mask : torch.Tensor, shape ``(B, L)``, dtype bool
            True at real positions, False at padding.

        Returns
        -------
        torch.Tensor, shape ``(B, L - context, n_outputs)``, float
            ``forward(codes) == forward_one_hot(self.one_hot(codes), codes != PAD)``.
        """
        flank = self.config.context // 2
        h, _ = self.stem(one_hot, mask)  # (B, 4, L) -> (B, D, L)
        h = self.dropout(h.transpose(1, 2))  # (B, L, D)
        rotary = self.rotary(h.shape[1], device=h.device, dtype=h.dtype)  # 2 x (L, hd/2)
        for block in self.blocks:
            h = block(h, None, rotary)  # (B, L, D): every token attends to every token
        h = self.norm(h[:, flank : h.shape[1] - flank])  # (B, L - context, D)
        return self.head(self.dropout(h))  # (B, L - context, n_outputs)
