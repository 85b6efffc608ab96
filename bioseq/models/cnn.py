"""Convolutional baseline classifier (DeepBind/Basset style).

Data contract: ``(B, L)`` uint8 or int64 base codes (rows right-padded with
``PAD`` = 15, positions 0-based) -> ``(B, n_outputs)`` logits; see
:mod:`bioseq.models.registry`.

Codes are one-hot encoded on their device and passed through a stack of
:class:`~bioseq.models.layers.ConvBlock` (Conv1d, BatchNorm, ReLU, max
pooling, dropout), then pooled over the real positions (global max, or max
and mean) and classified. Padded positions are zeroed before every
convolution and left out of every pooling, so the logits of a sequence do not
depend on the padding after it or on the rest of the batch (in eval mode).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import nn

from bioseq.errors import InputError
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

__all__ = ["CNNConfig", "CNNClassifier"]


@dataclasses.dataclass(kw_only=True)
class CNNConfig(ModelConfig):
    """Options of the CNN classifier (and :class:`~bioseq.models.registry.ModelConfig`'s).

    The four tuples give one value per conv layer and must have the same length.

    Parameters
    ----------
    channels : tuple of int, default (64, 128, 128)
        Output channels of each conv layer.
    kernel_sizes : tuple of int, default (15, 9, 5)
        Convolution widths (the first one is the motif width).
    dilations : tuple of int, default (1, 1, 1)
        Convolution dilations.
    pools : tuple of int, default (2, 2, 1)
        Max-pooling width after each layer (1 = none).
    pooling : {"max", "meanmax"}, default "meanmax"
        Global pooling over real positions: max, or mean and max concatenated.
    head_hidden : int, default 64
        Hidden size of the classification head.
    iupac : {"zeros", "uniform", "fractional"}, default "zeros"
        One-hot of N and the other ambiguous codes (:mod:`bioseq.encode.onehot`).

    Raises
    ------
    InputError
        On tuples of different lengths, no layer, or a size that is not
        positive or above its bound (:mod:`bioseq.models.registry`:
        ``MAX_LAYERS`` layers, ``MAX_WIDTH`` channels and ``head_hidden``,
        ``MAX_KERNEL``, ``MAX_LENGTH`` for dilations, pools and each layer's
        span ``(kernel - 1) * dilation + 1``).
    """

    channels: tuple[int, ...] = (64, 128, 128)
    kernel_sizes: tuple[int, ...] = (15, 9, 5)
    dilations: tuple[int, ...] = (1, 1, 1)
    pools: tuple[int, ...] = (2, 2, 1)
    pooling: Literal["max", "meanmax"] = "meanmax"
    head_hidden: int = 64
    iupac: Literal["zeros", "uniform", "fractional"] = "zeros"

    def __post_init__(self) -> None:
        super().__post_init__()
        layers = {
            "channels": self.channels,
            "kernel_sizes": self.kernel_sizes,
            "dilations": self.dilations,
            "pools": self.pools,
        }
        sizes = {name: len(value) for name, value in layers.items()}
        if len(set(sizes.values())) != 1 or not self.channels:
            listed = ", ".join(f"{name} {n}" for name, n in sizes.items())
            raise InputError(
                f"model 'cnn' needs one value per conv layer (at least one) in channels, "
                f"kernel_sizes, dilations and pools, got {listed}",
                fix="Give the four lists the same length",
            )
        check_minimum("cnn", 1, head_hidden=self.head_hidden, **layers)
        if len(self.channels) > MAX_LAYERS:
            raise InputError(
                f"model 'cnn' may have at most {MAX_LAYERS} conv layers, got {len(self.channels)}",
                fix="Give shorter channels, kernel_sizes, dilations and pools lists",
            )
        check_maximum("cnn", MAX_WIDTH, channels=self.channels, head_hidden=self.head_hidden)
        check_maximum("cnn", MAX_KERNEL, kernel_sizes=self.kernel_sizes)
        check_maximum("cnn", MAX_LENGTH, dilations=self.dilations, pools=self.pools)
        spans = [(k - 1) * d + 1 for k, d in zip(self.kernel_sizes, self.dilations)]
        if max(spans) > MAX_LENGTH:
            raise InputError(
                f"model 'cnn' conv layer {spans.index(max(spans))} spans {max(spans)} bases "
                f"((kernel_size - 1) * dilation + 1), more than {MAX_LENGTH}",
                fix="Use a smaller kernel size or dilation",
            )


@register("cnn", CNNConfig)
class CNNClassifier(nn.Module):
    """One-hot -> conv blocks -> global masked pooling -> head.

    Parameters
    ----------
    config : CNNConfig
    """

    def __init__(self, config: CNNConfig) -> None:
        super().__init__()
        self.config = config
        self.one_hot = CodesToOneHot(iupac=config.iupac)
        widths = (4,) + config.channels
        self.blocks = nn.ModuleList(
            ConvBlock(widths[i], widths[i + 1], kernel_size=kernel, dilation=dilation, pool=pool, activation="relu")
            for i, (kernel, dilation, pool) in enumerate(zip(config.kernel_sizes, config.dilations, config.pools))
        )
        self.dropout = nn.Dropout(config.dropout)
        self.pool = SequencePool(config.pooling, config.channels[-1])
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
        check_codes_input(x, model="cnn")
        return self.forward_one_hot(self.one_hot(x), padding_mask(x))  # (B, 4, L), (B, L) -> (B, n_outputs)

    def forward_one_hot(self, one_hot: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits of a float one-hot input (what gradient attributions differentiate).

        Parameters
        ----------
        one_hot : torch.Tensor, shape ``(B, 4, L)``, floating
            Channels A, C, G, T (``self.one_hot(codes)`` gives it; any real
            values are accepted).
        mask : torch.Tensor, shape ``(B, L)``, dtype bool
            True at real positions, False at padding (right-padded rows).

        Returns
        -------
        torch.Tensor, shape ``(B, n_outputs)``, float
            ``forward(codes) == forward_one_hot(self.one_hot(codes), codes != PAD)``.
        """
        h = one_hot
        for block in self.blocks:
            h, mask = block(h, mask)  # (B, C, L'), (B, L')
            h = self.dropout(h)
        return self.head(self.pool(h.transpose(1, 2), mask))  # (B, C, L') -> (B, L', C) -> (B, n_outputs)
