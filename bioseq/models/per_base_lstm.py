"""Bidirectional LSTM that scores every base: conv stem, biLSTM, per-position linear head.

Data contract
-------------
Codes ``(B, L)`` uint8 or int64 (:mod:`bioseq.alphabet`; ``PAD`` reads as an
unknown base) -> logits ``(B, L - context, n_outputs)`` float, channels last,
``L > context``. Output position ``j`` scores input position ``flank + j``
(0-based), ``flank = context // 2``.

One-hot ``(B, 4, L)`` -> a same-padded :class:`~bioseq.models.layers.ConvBlock`
(no pooling: one step per base) -> a stacked bidirectional
:class:`torch.nn.LSTM` over all ``L`` positions -> dropout and a linear head
at each position -> ``flank`` positions cropped from each side. Unlike the
valid-convolution CNN (:mod:`bioseq.models.per_base_cnn`), each output may
depend on the whole input; the flank is the context the model is trained to
rely on.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import nn

from bioseq.models.layers import CodesToOneHot, ConvBlock, check_codes_input, check_minimum, padding_mask
from bioseq.models.per_position import check_context, check_input_width
from bioseq.models.registry import MAX_KERNEL, MAX_LAYERS, MAX_WIDTH, ModelConfig, check_maximum, register

__all__ = ["PerBaseLSTMConfig", "PerBaseLSTM"]


@dataclasses.dataclass(kw_only=True)
class PerBaseLSTMConfig(ModelConfig):
    """Options of the per-base LSTM (and :class:`~bioseq.models.registry.ModelConfig`'s).

    Parameters
    ----------
    n_outputs : int, default 3
        Classes scored at each position; at least 2.
    dropout : float, default 0.1
        Dropout between LSTM layers and before the head.
    context : int, default 400
        Total input context cropped from the output (even; ``context // 2`` per side).
    stem_channels : int, default 32
        Output channels of the conv stem.
    stem_kernel : int, default 11
        Width of the stem's convolution.
    hidden_size : int, default 64
        LSTM state size per direction.
    n_layers : int, default 2
        Stacked bidirectional LSTM layers.
    iupac : {"zeros", "uniform", "fractional"}, default "zeros"
        One-hot of N and the other ambiguous codes (:mod:`bioseq.encode.onehot`).

    Raises
    ------
    InputError
        On an odd or negative ``context``, fewer than 2 outputs, or a size
        out of its bounds (:mod:`bioseq.models.registry`).
    """

    n_outputs: int = 3
    context: int = 400
    stem_channels: int = 32
    stem_kernel: int = 11
    hidden_size: int = 64
    n_layers: int = 2
    iupac: Literal["zeros", "uniform", "fractional"] = "zeros"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_context("per_base_lstm", self.context, self.n_outputs)
        sizes = {"stem_channels": self.stem_channels, "hidden_size": self.hidden_size}
        check_minimum("per_base_lstm", 1, stem_kernel=self.stem_kernel, n_layers=self.n_layers, **sizes)
        check_maximum("per_base_lstm", MAX_WIDTH, **sizes)
        check_maximum("per_base_lstm", MAX_KERNEL, stem_kernel=self.stem_kernel)
        check_maximum("per_base_lstm", MAX_LAYERS, n_layers=self.n_layers)


@register("per_base_lstm", PerBaseLSTMConfig)
class PerBaseLSTM(nn.Module):
    """One-hot -> conv stem -> biLSTM -> per-position linear head -> crop ``flank`` per side.

    Parameters
    ----------
    config : PerBaseLSTMConfig
    """

    def __init__(self, config: PerBaseLSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.one_hot = CodesToOneHot(iupac=config.iupac)
        self.stem = ConvBlock(4, config.stem_channels, kernel_size=config.stem_kernel, activation="relu")
        self.lstm = nn.LSTM(
            config.stem_channels,
            config.hidden_size,
            num_layers=config.n_layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.dropout if config.n_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(2 * config.hidden_size, config.n_outputs)

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
        check_codes_input(x, model="per_base_lstm")
        check_input_width("per_base_lstm", x.shape[1], self.config.context)
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
        h, _ = self.stem(one_hot, mask)  # (B, 4, L) -> (B, C, L)
        h, _ = self.lstm(h.transpose(1, 2))  # (B, L, C) -> (B, L, 2H)
        h = h[:, flank : h.shape[1] - flank]  # (B, L - context, 2H)
        return self.head(self.dropout(h))  # (B, L - context, n_outputs)
