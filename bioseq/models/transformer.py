"""Transformer encoder classifier over bases or k-mer tokens.

Data contract: ``(B, L)`` uint8 or int64 base codes (rows right-padded with
``PAD`` = 15, positions 0-based) -> ``(B, n_outputs)`` logits; see
:mod:`bioseq.models.registry`.

Tokens are either the bases (each code, including N and the other IUPAC
codes, has a learned vector) or k-mer windows (:class:`KmerEmbedding`, the
ids of :class:`bioseq.encode.kmer.KmerTokenizer`), optionally followed by a
conv stem (:class:`ConvBlock` over the token vectors). A learned ``[CLS]``
token may lead. Pre-norm blocks of multi-head self-attention
(:func:`torch.nn.functional.scaled_dot_product_attention`, so fused kernels
run on GPU) and a GELU MLP follow, with sinusoidal, learned or rotary
positions. Padded tokens are never attended to and never pooled, so the
logits of a sequence do not depend on the padding after it or on the rest of
the batch (in eval mode; learned positions need ``L <= max_length``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from bioseq.alphabet import N_CODES, PAD, N
from bioseq.encode.kmer import MAX_K, n_windows
from bioseq.errors import InputError, option
from bioseq.models.layers import (
    ClassificationHead,
    CodesToOneHot,
    ConvBlock,
    KmerEmbedding,
    check_codes_input,
    check_minimum,
    padding_mask,
)
from bioseq.models.pooling import SequencePool
from bioseq.models.positional import LearnedPositions, RotaryEmbedding, SinusoidalPositions, apply_rotary
from bioseq.models.registry import (
    MAX_FF_MULT,
    MAX_HEADS,
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_LENGTH,
    MAX_WIDTH,
    ModelConfig,
    check_maximum,
    register,
)

__all__ = ["TransformerConfig", "TransformerClassifier", "SelfAttention", "TransformerBlock"]


@dataclasses.dataclass(kw_only=True)
class TransformerConfig(ModelConfig):
    """Options of the Transformer classifier (and :class:`~bioseq.models.registry.ModelConfig`'s).

    Parameters
    ----------
    input : {"nucleotide", "kmer"}, default "nucleotide"
        Tokens: one per base, or one per k-mer window.
    k, stride : int, default 6, 1
        K-mer width and step between windows (``input="kmer"`` only).
    stem_kernel : int, default 9
        Width of a conv stem over the token vectors (``d_model`` -> ``d_model``
        channels); 0 = no stem.
    stem_pool : int, default 1
        Max-pooling width after the stem (1 = none).
    d_model : int, default 64
        Token vector size; a multiple of ``n_heads``.
    n_heads : int, default 4
    n_layers : int, default 3
    ff_mult : int, default 4
        MLP hidden size = ``ff_mult * d_model``.
    positional : {"sinusoidal", "learned", "rotary"}, default "rotary"
        Rotary positions are relative and work on any length.
    max_length : int, default 512
        Longest input (in bases) learned positions cover; unused by the others.
    pooling : {"cls", "mean"}, default "cls"
        A leading ``[CLS]`` token, or the mean of the real tokens.
    head_hidden : int, default 64
        Hidden size of the classification head.

    Raises
    ------
    InputError
        On a size that is not positive or above its bound (``k`` <= 8; the
        others :mod:`bioseq.models.registry`'s ``MAX_WIDTH`` for
        ``d_model`` and ``head_hidden``, ``MAX_HEADS``, ``MAX_LAYERS``,
        ``MAX_FF_MULT``, ``MAX_KERNEL``, ``MAX_LENGTH`` for ``stride``,
        ``stem_pool`` and ``max_length``), a ``d_model`` that ``n_heads`` does
        not divide, an odd head size with rotary positions, an odd
        ``d_model`` with sinusoidal ones, or ``max_length < k`` with k-mers.
    """

    input: Literal["nucleotide", "kmer"] = "nucleotide"
    k: int = 6
    stride: int = 1
    stem_kernel: int = 9
    stem_pool: int = 1
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 3
    ff_mult: int = 4
    positional: Literal["sinusoidal", "learned", "rotary"] = "rotary"
    max_length: int = 512
    pooling: Literal["cls", "mean"] = "cls"
    head_hidden: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        check_minimum(
            "transformer",
            1,
            k=self.k,
            stride=self.stride,
            stem_pool=self.stem_pool,
            d_model=self.d_model,
            n_heads=self.n_heads,
            n_layers=self.n_layers,
            ff_mult=self.ff_mult,
            max_length=self.max_length,
            head_hidden=self.head_hidden,
        )
        check_minimum("transformer", 0, stem_kernel=self.stem_kernel)
        check_maximum("transformer", MAX_K, k=self.k)
        check_maximum("transformer", MAX_WIDTH, d_model=self.d_model, head_hidden=self.head_hidden)
        check_maximum("transformer", MAX_HEADS, n_heads=self.n_heads)
        check_maximum("transformer", MAX_LAYERS, n_layers=self.n_layers)
        check_maximum("transformer", MAX_FF_MULT, ff_mult=self.ff_mult)
        check_maximum("transformer", MAX_KERNEL, stem_kernel=self.stem_kernel)
        check_maximum(
            "transformer", MAX_LENGTH, stride=self.stride, stem_pool=self.stem_pool, max_length=self.max_length
        )
        if self.d_model % self.n_heads:
            fit = math.ceil(self.d_model / self.n_heads) * self.n_heads
            raise InputError(
                f"model 'transformer' option 'd_model' ({self.d_model}) must be a multiple of "
                f"'n_heads' ({self.n_heads})",
                fix=f"Use e.g. d_model={fit}, or another n_heads",
            )
        if self.positional == "rotary" and (self.d_model // self.n_heads) % 2:
            raise InputError(
                f"rotary positions need an even head size, but d_model / n_heads = "
                f"{self.d_model} / {self.n_heads} is odd",
                fix="Change d_model or n_heads",
            )
        if self.input == "kmer" and self.max_length < self.k:
            raise InputError(
                f"model 'transformer' option 'max_length' ({self.max_length}) is shorter than one k-mer (k={self.k})"
            )
        if self.positional == "sinusoidal" and self.d_model % 2:
            raise InputError(f"sinusoidal positions need an even d_model, got {self.d_model}")

    def n_tokens(self, length: int) -> int:
        """Tokens the blocks see for an input of ``length`` bases (``[CLS]`` included)."""
        tokens = n_windows(length, k=self.k, stride=self.stride) if self.input == "kmer" else length
        if self.stem_kernel:
            tokens = math.ceil(tokens / self.stem_pool)
        return tokens + (self.pooling == "cls")


class SelfAttention(nn.Module):
    """Multi-head self-attention with an optional key mask and rotary positions.

    Dropout applies to the output projection, not to the attention weights
    (dropping attention weights forces the slow unfused kernel and costs a
    fifth of a CPU training step).
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.resid_dropout = nn.Dropout(dropout)
        self.n_heads = n_heads

    def forward(
        self, x: torch.Tensor, attn_mask: torch.Tensor | None, rotary: tuple[torch.Tensor, torch.Tensor] | None
    ) -> torch.Tensor:
        """``x`` ``(B, T, D)``; ``attn_mask`` ``(B, 1, 1, T)`` bool, True = may be attended to, or None."""
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)  # (B, H, T, hd)
        if rotary is not None:
            q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)  # (B, H, T, hd)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)  # (B, H, T, hd)
        y = y.transpose(1, 2).reshape(b, t, d)  # (B, T, D)
        return self.resid_dropout(self.proj(y))  # (B, T, D)


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(LN(x))``, then ``x + MLP(LN(x))``."""

    def __init__(self, d_model: int, n_heads: int, ff_mult: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, ff_mult * d_model),
            nn.GELU(),
            nn.Linear(ff_mult * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(
        self, x: torch.Tensor, attn_mask: torch.Tensor | None, rotary: tuple[torch.Tensor, torch.Tensor] | None
    ) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), attn_mask, rotary)  # (B, T, D)
        return x + self.mlp(self.norm2(x))  # (B, T, D)


@register("transformer", TransformerConfig)
class TransformerClassifier(nn.Module):
    """Tokens -> [conv stem] -> [CLS] + positions -> pre-norm blocks -> LN -> pooling -> head.

    Parameters
    ----------
    config : TransformerConfig
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        if config.input == "kmer":
            self.tokens = KmerEmbedding(k=config.k, stride=config.stride, dim=d)
        else:
            self.tokens = nn.Embedding(N_CODES, d, padding_idx=PAD)
            self.one_hot = CodesToOneHot(iupac="zeros")  # the input of forward_one_hot; no state_dict entry
        self.stem = (
            ConvBlock(d, d, kernel_size=config.stem_kernel, pool=config.stem_pool, activation="gelu")
            if config.stem_kernel
            else None
        )
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02) if config.pooling == "cls" else None
        self.positions = self.rotary = None
        if config.positional == "sinusoidal":
            self.positions = SinusoidalPositions(d)
        elif config.positional == "learned":
            self.positions = LearnedPositions(config.n_tokens(config.max_length), d)
        else:
            self.rotary = RotaryEmbedding(d // config.n_heads)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(d, config.n_heads, config.ff_mult, config.dropout) for _ in range(config.n_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.pool = SequencePool(config.pooling, d)
        self.head = ClassificationHead(d, hidden=config.head_hidden, n_outputs=config.n_outputs, dropout=config.dropout)

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes ``(B, L)`` -> token vectors ``(B, T, D)`` and mask ``(B, T)`` (True = real), [CLS] first."""
        if self.config.input == "kmer":
            if x.shape[1] < self.config.k:  # no window at all: one all-[PAD] window instead
                x = F.pad(x, (0, self.config.k - x.shape[1]), value=PAD)  # (B, k)
            ids = self.tokens.tokenize(x)  # (B, T)
            mask = ids != 0  # [PAD] id is 0
            h = self.tokens.embed(ids)  # (B, T, D)
        else:
            mask = padding_mask(x)  # (B, L)
            h = self.tokens(x.long())  # (B, L, D)
        return self._stem_and_cls(h, mask)

    def _stem_and_cls(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Token vectors ``(B, T, D)`` and mask -> after the conv stem, with [CLS] first."""
        if self.stem is not None:
            h, mask = self.stem(h.transpose(1, 2), mask)  # (B, D, T'), (B, T')
            h = h.transpose(1, 2)  # (B, T', D)
        if self.cls is not None:
            h = torch.cat([self.cls.expand(h.shape[0], 1, -1).to(h.dtype), h], dim=1)  # (B, 1 + T, D)
            mask = torch.cat([mask.new_ones(mask.shape[0], 1), mask], dim=1)  # (B, 1 + T)
        return h, mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of base codes.

        Parameters
        ----------
        x : torch.Tensor, shape ``(B, L)``, dtype uint8 or int64
            Base codes, rows right-padded with ``PAD``.

        Returns
        -------
        torch.Tensor, shape ``(B, n_outputs)``, float

        Raises
        ------
        InputError
            On input of the wrong type, shape or dtype, or (learned
            positions) wider than ``max_length``.
        """
        check_codes_input(x, model="transformer")
        self._check_width(x.shape[1])
        return self._encode(*self.embed(x))  # (B, T, D), (B, T) -> (B, n_outputs)

    def forward_one_hot(self, one_hot: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits of a float one-hot input (what gradient attributions differentiate); nucleotide input only.

        A token's vector is ``one_hot[:, :, i] @ E[:4] + (1 - one_hot[:, :, i].sum()) * E[N]``
        (``E`` the embedding table): a base's own vector for a one-hot column, N's
        vector for an all-zero column (N, and the other IUPAC codes, which
        :meth:`forward` gives their own vectors), the zero ``PAD`` vector where
        ``mask`` is False.

        Parameters
        ----------
        one_hot : torch.Tensor, shape ``(B, 4, L)``, floating
            Channels A, C, G, T (``self.one_hot(codes)`` gives it).
        mask : torch.Tensor, shape ``(B, L)``, dtype bool
            True at real positions, False at padding (right-padded rows).

        Returns
        -------
        torch.Tensor, shape ``(B, n_outputs)``, float
            Equal to ``forward(codes)`` for codes of A, C, G, T, N and ``PAD``.

        Raises
        ------
        InputError
            For a k-mer model (its tokens are not a function of a one-hot input),
            or (learned positions) an input wider than ``max_length``.
        """
        if self.config.input == "kmer":
            raise InputError(
                "a k-mer Transformer reads k-mer tokens, not a one-hot input, so it has no gradient per base",
                fix=option("method", "ism", clause="Explain it by in-silico mutagenesis ({})"),
            )
        self._check_width(one_hot.shape[2])
        table = self.tokens.weight  # (N_CODES, D)
        unknown = 1 - one_hot.sum(1, keepdim=True).transpose(1, 2)  # (B, L, 1): 1 at an all-zero column
        h = one_hot.transpose(1, 2) @ table[:4] + unknown * table[N]  # (B, L, 4) @ (4, D) -> (B, L, D)
        h = torch.where(mask.unsqueeze(-1), h, table[PAD])  # (B, L, D)
        return self._encode(*self._stem_and_cls(h, mask))

    def _check_width(self, width: int) -> None:
        if self.config.positional == "learned" and width > self.config.max_length:
            raise InputError(
                f"model 'transformer' got inputs {width} positions wide, but its learned positions "
                f"cover max_length={self.config.max_length}",
                fix="Trim the inputs (and their padding), or build the model with a larger max_length "
                "or positional='rotary'",
            )

    def _encode(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token vectors ``(B, T, D)`` and mask ``(B, T)`` -> positions, blocks, pooling, head -> logits."""
        if self.positions is not None:
            h = self.positions(h)  # (B, T, D)
        h = self.dropout(h)
        rotary = None
        if self.rotary is not None:
            rotary = self.rotary(h.shape[1], device=h.device, dtype=h.dtype)  # 2 x (T, hd/2)
        attn_mask = None  # no padding: let SDPA pick its fastest kernel
        if not bool(mask.all()):
            keys = mask | ~mask.any(1, keepdim=True)  # (B, T): an all-padding row attends everywhere (no NaN)
            attn_mask = keys[:, None, None, :]  # (B, 1, 1, T)
        for block in self.blocks:
            h = block(h, attn_mask, rotary)  # (B, T, D)
        return self.head(self.pool(self.norm(h), mask))  # (B, n_outputs)
