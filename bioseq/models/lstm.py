"""Bidirectional LSTM classifier with an optional convolutional stem.

Data contract: ``(B, L)`` uint8 or int64 base codes (rows right-padded with
``PAD`` = 15, positions 0-based) -> ``(B, n_outputs)`` logits; see
:mod:`bioseq.models.registry`.

Codes are one-hot encoded on their device, optionally passed through a
:class:`~bioseq.models.layers.ConvBlock` (local motif features; its pooling
shortens the sequence the LSTM walks), read by a stacked (bi)directional
:class:`MaskedLSTM`, pooled over real positions and classified. The logits
of a sequence do not depend on the padding that follows it or on the other
sequences of the batch (in eval mode).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import nn

from bioseq.models.layers import (
    ClassificationHead,
    CodesToOneHot,
    ConvBlock,
    check_codes_input,
    check_minimum,
    padding_mask,
)
from bioseq.models.pooling import SequencePool
from bioseq.models.registry import (
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_LENGTH,
    MAX_WIDTH,
    ModelConfig,
    check_maximum,
    register,
)

__all__ = ["LSTMConfig", "LSTMClassifier", "MaskedLSTM", "reverse_within_lengths"]


@dataclasses.dataclass(kw_only=True)
class LSTMConfig(ModelConfig):
    """Options of the LSTM classifier (and :class:`~bioseq.models.registry.ModelConfig`'s).

    Parameters
    ----------
    stem_channels : int, default 64
        Output channels of the conv stem; 0 = no stem (the LSTM reads the one-hot bases).
    stem_kernel : int, default 9
        Width of the stem's convolution.
    stem_pool : int, default 2
        Max-pooling width after the stem (1 = none); the LSTM walks ``ceil(L / stem_pool)`` steps.
    hidden_size : int, default 64
        LSTM state size per direction.
    n_layers : int, default 2
        Stacked LSTM layers (dropout between them).
    bidirectional : bool, default True
    pooling : {"attention", "meanmax"}, default "attention"
        How LSTM outputs are pooled over real positions (:mod:`bioseq.models.pooling`).
    head_hidden : int, default 64
        Hidden size of the classification head.
    iupac : {"zeros", "uniform", "fractional"}, default "zeros"
        One-hot of N and the other ambiguous codes (:mod:`bioseq.encode.onehot`).

    Raises
    ------
    InputError
        On a size that is not positive (``stem_channels`` may be 0) or above
        its bound (:mod:`bioseq.models.registry`: ``MAX_WIDTH`` for sizes and
        channels, ``MAX_KERNEL``, ``MAX_LENGTH`` for ``stem_pool``,
        ``MAX_LAYERS``).
    """

    stem_channels: int = 64
    stem_kernel: int = 9
    stem_pool: int = 2
    hidden_size: int = 64
    n_layers: int = 2
    bidirectional: bool = True
    pooling: Literal["attention", "meanmax"] = "attention"
    head_hidden: int = 64
    iupac: Literal["zeros", "uniform", "fractional"] = "zeros"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_minimum(
            "lstm",
            1,
            stem_kernel=self.stem_kernel,
            stem_pool=self.stem_pool,
            hidden_size=self.hidden_size,
            n_layers=self.n_layers,
            head_hidden=self.head_hidden,
        )
        check_minimum("lstm", 0, stem_channels=self.stem_channels)  # 0: no stem
        check_maximum(
            "lstm",
            MAX_WIDTH,
            stem_channels=self.stem_channels,
            hidden_size=self.hidden_size,
            head_hidden=self.head_hidden,
        )
        check_maximum("lstm", MAX_KERNEL, stem_kernel=self.stem_kernel)
        check_maximum("lstm", MAX_LENGTH, stem_pool=self.stem_pool)
        check_maximum("lstm", MAX_LAYERS, n_layers=self.n_layers)


def reverse_within_lengths(mask: torch.Tensor) -> torch.Tensor:
    """Gather index ``(B, T)`` that reverses each row's real positions and keeps its padding in place.

    Position ``t < n`` of a row with ``n`` real positions maps to ``n - 1 - t``,
    a padded position to itself; the map is its own inverse.
    """
    lengths = mask.sum(1, keepdim=True)  # (B, 1): rows are right-padded
    t = torch.arange(mask.shape[1], device=mask.device)  # (T,)
    return torch.where(t < lengths, lengths - 1 - t, t)  # (B, T)


class MaskedLSTM(nn.Module):
    """Stacked (bi)directional LSTM whose output at a real position ignores the padding after it.

    The forward direction reads positions ``0..t``, so padding never reaches
    a real position. The backward direction reads each row reversed within
    its own length (:func:`reverse_within_lengths`) and its output is
    reversed back, so it starts at the row's last real position rather than
    at the end of the padded array. Each direction of each layer is a
    one-layer :class:`torch.nn.LSTM` over the whole padded batch, which runs
    the fused oneDNN/cuDNN kernels: on CPU a training step is several times
    faster than with packed sequences. Outputs at padded positions are
    meaningless; mask them downstream.

    Parameters
    ----------
    input_size, hidden_size : int
    n_layers : int
    bidirectional : bool
    dropout : float
        Dropout on the input of every layer after the first.
    """

    def __init__(
        self, input_size: int, hidden_size: int, *, n_layers: int, bidirectional: bool, dropout: float
    ) -> None:
        super().__init__()
        directions = 2 if bidirectional else 1
        self.out_features = directions * hidden_size
        self.layers = nn.ModuleList(
            nn.ModuleList(
                nn.LSTM(input_size if i == 0 else self.out_features, hidden_size, batch_first=True)
                for _ in range(directions)
            )
            for i in range(n_layers)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, T, C)``, ``mask`` ``(B, T)`` bool (right-padded rows) -> ``(B, T, out_features)``."""
        index = reverse_within_lengths(mask).unsqueeze(-1)  # (B, T, 1)
        for i, directions in enumerate(self.layers):
            if i:
                x = self.dropout(x)
            outputs = [directions[0](x)[0]]  # (B, T, H)
            if len(directions) == 2:
                backward, _ = directions[1](x.gather(1, index.expand_as(x)))  # (B, T, H), rows reversed
                outputs.append(backward.gather(1, index.expand_as(backward)))  # reversed back
            x = torch.cat(outputs, dim=-1)  # (B, T, directions * H)
        return x


@register("lstm", LSTMConfig)
class LSTMClassifier(nn.Module):
    """One-hot -> [conv stem] -> masked (bi)LSTM -> masked pooling -> head.

    Parameters
    ----------
    config : LSTMConfig
    """

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.one_hot = CodesToOneHot(iupac=config.iupac)
        self.stem = None
        if config.stem_channels:
            self.stem = ConvBlock(
                4, config.stem_channels, kernel_size=config.stem_kernel, pool=config.stem_pool, activation="relu"
            )
        self.lstm = MaskedLSTM(
            config.stem_channels or 4,
            config.hidden_size,
            n_layers=config.n_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
        )
        self.pool = SequencePool(config.pooling, self.lstm.out_features)
        self.head = ClassificationHead(
            self.pool.out_features, hidden=config.head_hidden, n_outputs=config.n_outputs, dropout=config.dropout
        )

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
            On input of the wrong type, shape or dtype.
        """
        check_codes_input(x, model="lstm")
        return self.forward_one_hot(self.one_hot(x), padding_mask(x))  # (B, 4, L), (B, L) -> (B, n_outputs)

    def forward_one_hot(self, one_hot: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits of a float one-hot input (what gradient attributions differentiate).

        Parameters
        ----------
        one_hot : torch.Tensor, shape ``(B, 4, L)``, floating
            Channels A, C, G, T (``self.one_hot(codes)`` gives it).
        mask : torch.Tensor, shape ``(B, L)``, dtype bool
            True at real positions, False at padding (right-padded rows).

        Returns
        -------
        torch.Tensor, shape ``(B, n_outputs)``, float
            ``forward(codes) == forward_one_hot(self.one_hot(codes), codes != PAD)``.
        """
        h = one_hot
        if self.stem is not None:
            h, mask = self.stem(h, mask)  # (B, C, L'), (B, L')
        out = self.lstm(h.transpose(1, 2), mask)  # (B, L', C) -> (B, L', D)
        return self.head(self.pool(out, mask))  # (B, n_outputs)
