"""Dilated residual CNN that scores every base (SpliceAI-class), with valid convolutions.

Data contract
-------------
Codes ``(B, L)`` uint8 or int64 (:mod:`bioseq.alphabet`; ``PAD`` reads as an
unknown base, an all-zero one-hot column) -> logits ``(B, L - context,
n_outputs)`` float, channels last, ``L > context``. Output position ``j``
scores input position ``flank + j`` (0-based), ``flank = context // 2``.

Architecture
------------
One-hot ``(B, 4, L)`` -> 1x1 conv to ``channels`` -> residual blocks, each
two rounds of (BatchNorm, ReLU, dilated convolution of width ``kernel``) with
dropout between them. The convolutions are *valid* (unpadded): a block with
dilation ``d`` shortens the sequence by ``(kernel - 1) * d`` on each side and
its skip path is cropped to match. So an output depends only on the input
within its receptive field, ``sum((kernel - 1) * d)`` bases on each side,
never on bases farther away or on where a window starts: predicting a long sequence
equals predicting any sub-window with the same flank (in eval mode, up to
float rounding). What remains of the flank beyond the receptive field is
cropped, then BatchNorm, ReLU and a 1x1 conv give the logits.

The trunk holds features as ``(B, C, 1, L)`` in channels-last memory (each
position's channels side by side) and convolves with ``(1, kernel)``
:class:`torch.nn.Conv2d` kernels: on CPU oneDNN runs these 1.5-2x faster than
channels-first :class:`torch.nn.Conv1d` of the same weights, and the logits
come out already channels last (the final transpose is a view).

Without explicit ``dilations``, :func:`derive_dilations` spends the flank on
stages of four blocks whose dilation grows fourfold (1, 4, 16, ...), the
last stage stretched to fill what is left: with ``kernel = 11`` that is
four blocks of dilation 1 for context 80, plus four of 4 for context 400,
plus four of 20 for context 2,000.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from bioseq.errors import InputError
from bioseq.models.layers import CodesToOneHot, check_codes_input, check_minimum
from bioseq.models.per_position import check_context, check_input_width
from bioseq.models.registry import (
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_LENGTH,
    MAX_WIDTH,
    ModelConfig,
    check_maximum,
    register,
)

__all__ = [
    "PerBaseCNNConfig",
    "PerBaseCNN",
    "ResidualBlock",
    "derive_dilations",
    "receptive_field",
    "STAGE_BLOCKS",
    "STAGE_GROWTH",
]

STAGE_BLOCKS = 4
"""Residual blocks per stage of the derived dilation schedule."""
STAGE_GROWTH = 4
"""How much each stage's dilation grows over the one before."""


def derive_dilations(flank: int, kernel: int) -> tuple[int, ...]:
    """The dilation of each residual block whose receptive field covers as much of ``flank`` as it can.

    Stages of :data:`STAGE_BLOCKS` blocks follow, with dilations 1, 4, 16,
    ... (:data:`STAGE_GROWTH`), while one more stage still fits after the
    current one; the last stage takes the largest dilation that fits what
    is left. Blocks of dilation 1 lead, covering the remainder the stages
    leave (less than ``STAGE_BLOCKS * (kernel - 1)``).

    Parameters
    ----------
    flank : int
        Context bases on each side (``>= 0``).
    kernel : int
        Convolution width (odd, ``>= 1``); a block with dilation ``d``
        reaches ``(kernel - 1) * d`` bases on each side.

    Returns
    -------
    tuple of int
        Dilations ``d_i`` with ``(kernel - 1) * sum(d_i) <= flank``; empty
        when no block fits (``flank < kernel - 1``, or ``kernel == 1``).
    """
    step = kernel - 1  # per side, per unit of dilation, for one block of two convolutions of half-width step / 2
    if step == 0:
        return ()
    stage = STAGE_BLOCKS * step
    remaining, dilation, stages = flank, 1, []
    while remaining >= stage * dilation:
        if remaining >= stage * dilation * (1 + STAGE_GROWTH):  # the next stage would still fit
            stages += [dilation] * STAGE_BLOCKS
            remaining -= stage * dilation
            dilation *= STAGE_GROWTH
        else:  # the last stage: stretched over what is left
            last = remaining // stage
            stages += [last] * STAGE_BLOCKS
            remaining -= stage * last
            break
    return (1,) * (remaining // step) + tuple(stages)


def receptive_field(kernel: int, dilations: tuple[int, ...]) -> int:
    """Input bases on each side that one output position reads: ``(kernel - 1) * sum(dilations)``."""
    return (kernel - 1) * sum(dilations)


@dataclasses.dataclass(kw_only=True)
class PerBaseCNNConfig(ModelConfig):
    """Options of the per-base CNN (and :class:`~bioseq.models.registry.ModelConfig`'s).

    Parameters
    ----------
    n_outputs : int, default 3
        Classes scored at each position (e.g. neither, acceptor, donor); at least 2.
    dropout : float, default 0.1
        Dropout between the two convolutions of each block.
    context : int, default 400
        Total input context cropped from the output (even; ``context // 2``
        bases per side), SpliceAI's 80 / 400 / 2,000 / 10,000 or any.
    channels : int, default 32
        Width of the residual trunk.
    kernel : int, default 11
        Convolution width (odd).
    dilations : tuple of int or None, default None
        One dilation per residual block; None derives them from ``context``
        and ``kernel`` (:func:`derive_dilations`). After checking, the config
        holds the dilations it uses, so a bundle records them.
    iupac : {"zeros", "uniform", "fractional"}, default "zeros"
        One-hot of N and the other ambiguous codes (:mod:`bioseq.encode.onehot`).

    Raises
    ------
    InputError
        On an odd or negative ``context``, an even ``kernel``, fewer than 2
        outputs, a size out of its bounds (:mod:`bioseq.models.registry`), or
        dilations whose receptive field ``(kernel - 1) * sum(dilations)``
        exceeds the flank.
    """

    n_outputs: int = 3
    context: int = 400
    channels: int = 32
    kernel: int = 11
    dilations: tuple[int, ...] | None = None
    iupac: Literal["zeros", "uniform", "fractional"] = "zeros"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_context("per_base_cnn", self.context, self.n_outputs)
        check_minimum("per_base_cnn", 1, channels=self.channels, kernel=self.kernel)
        check_maximum("per_base_cnn", MAX_WIDTH, channels=self.channels)
        check_maximum("per_base_cnn", MAX_KERNEL, kernel=self.kernel)
        if self.kernel % 2 == 0:
            raise InputError(
                f"model 'per_base_cnn' option 'kernel' must be odd (a centred window), got {self.kernel}",
                fix=f"Use {self.kernel + 1} or {self.kernel - 1}",
            )
        flank = self.context // 2
        if self.dilations is None:
            self.dilations = derive_dilations(flank, self.kernel)
            return
        check_minimum("per_base_cnn", 1, dilations=self.dilations)
        check_maximum("per_base_cnn", MAX_LENGTH, dilations=self.dilations)
        if len(self.dilations) > MAX_LAYERS:
            raise InputError(
                f"model 'per_base_cnn' may have at most {MAX_LAYERS} residual blocks, got {len(self.dilations)}",
                fix="Give a shorter dilations list",
            )
        reach = receptive_field(self.kernel, self.dilations)
        if reach > flank:
            raise InputError(
                f"model 'per_base_cnn' dilations {list(self.dilations)} with kernel {self.kernel} read "
                f"{reach} bases on each side ((kernel - 1) * sum(dilations)), more than the flank of "
                f"{flank} (context {self.context} / 2)",
                fix="Use smaller dilations, a larger context, or leave dilations unset to derive them",
            )


class ResidualBlock(nn.Module):
    """``x[..., s:-s] + conv(relu(bn(dropout(conv(relu(bn(x)))))))`` with valid dilated convolutions.

    Features ``(B, C, 1, L)`` -> ``(B, C, 1, L - 2 * s)``, ``s = (kernel - 1) * dilation``
    (channels-last memory is kept).

    Parameters
    ----------
    channels, kernel, dilation : int
    dropout : float
    """

    def __init__(self, channels: int, *, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, channels, (1, kernel), dilation=(1, dilation))
        self.norm2 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, (1, kernel), dilation=(1, dilation))
        self.act = nn.ReLU()  # after norm1
        self.act2 = nn.ReLU()  # after norm2: one module per use, not in place, so that DeepLIFT hooks can see each
        self.dropout = nn.Dropout(dropout)
        self.shrink = (kernel - 1) * dilation  # per side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            y = self.conv1(self.act(self.norm1(x)))  # (B, C, 1, L - s)
            y = self.norm2(self.dropout(y))
        else:  # norm2 folded into conv1 (dropout is the identity): one pass over the features fewer
            y = self._conv1_norm2(self.act(self.norm1(x)))
        y = self.conv2(self.act2(y))  # (B, C, 1, L - 2s)
        return x[..., self.shrink : x.shape[3] - self.shrink] + y  # (B, C, 1, L - 2s)

    def _conv1_norm2(self, x: torch.Tensor) -> torch.Tensor:
        """``norm2(conv1(x))`` with the running statistics, as one convolution."""
        norm = self.norm2
        scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)  # (C,)
        weight = self.conv1.weight * scale[:, None, None, None]
        bias = (self.conv1.bias - norm.running_mean) * scale + norm.bias
        return F.conv2d(x, weight, bias, dilation=self.conv1.dilation)


@register("per_base_cnn", PerBaseCNNConfig)
class PerBaseCNN(nn.Module):
    """One-hot -> 1x1 stem -> valid dilated residual blocks -> crop -> BN, ReLU, 1x1 head.

    Parameters
    ----------
    config : PerBaseCNNConfig
    """

    def __init__(self, config: PerBaseCNNConfig) -> None:
        super().__init__()
        self.config = config
        self.one_hot = CodesToOneHot(iupac=config.iupac)
        self.stem = nn.Conv2d(4, config.channels, 1)
        self.blocks = nn.Sequential(
            *(
                ResidualBlock(config.channels, kernel=config.kernel, dilation=d, dropout=config.dropout)
                for d in config.dilations
            )
        )
        self.receptive_field = receptive_field(config.kernel, config.dilations)
        self.crop = config.context // 2 - self.receptive_field  # per side, after the blocks
        self.norm = nn.BatchNorm2d(config.channels)
        self.act = nn.ReLU()  # not in place: DeepLIFT hooks read its input
        self.head = nn.Conv2d(config.channels, config.n_outputs, 1)

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
            On input of the wrong type, shape or dtype, or not wider than ``context``
            (read from the tensor's shape: no device sync).
        """
        check_codes_input(x, model="per_base_cnn")
        check_input_width("per_base_cnn", x.shape[1], self.config.context)
        return self.forward_one_hot(self.one_hot(x), None)  # (B, 4, L) -> (B, L - context, n_outputs)

    def forward_one_hot(self, one_hot: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Logits of every central position of a float one-hot input (what gradient attributions differentiate).

        Parameters
        ----------
        one_hot : torch.Tensor, shape ``(B, 4, L)``, floating
            Channels A, C, G, T (``self.one_hot(codes)`` gives it), ``L > context``.
        mask : torch.Tensor, shape ``(B, L)``, dtype bool
            True at real positions, False at padding. Not read: padding is an unknown
            base here (an all-zero column), as in :meth:`forward`; may be None.

        Returns
        -------
        torch.Tensor, shape ``(B, L - context, n_outputs)``, float
            ``forward(codes) == forward_one_hot(self.one_hot(codes), codes != PAD)``.
        """
        h = one_hot.unsqueeze(2).contiguous(memory_format=torch.channels_last)  # (B, 4, 1, L)
        h = self.blocks(self.stem(h))  # (B, C, 1, L) -> (B, C, 1, L - 2 * receptive_field)
        h = h[..., self.crop : h.shape[3] - self.crop]  # (B, C, 1, L - context)
        h = self.head(self.act(self.norm(h)))  # (B, n_outputs, 1, L - context), channels last
        return h.squeeze(2).transpose(1, 2)  # (B, L - context, n_outputs)

    def substitution_logits(
        self, codes: torch.Tensor, rows: torch.Tensor, at: torch.Tensor, bases: torch.Tensor, *, side: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of reference inputs and of one-base substitutions in them, recomputing only what a change reaches.

        Substitution ``i`` writes base ``bases[i]`` at position ``at[i]`` of
        input ``rows[i]`` and reads the ``2 * side + 1`` bases centred there,
        ``codes[rows[i], at[i] - side : at[i] + side + 1]``. An output depends
        only on its receptive field, so each block recomputes only the
        positions within reach of the substitution (at most ``2 * s + 1``
        after a cumulative shrink ``s``) and copies the rest from the
        reference's features. Equals :meth:`forward` on the edited windows up
        to float rounding, at about a third of its cost at context 400. Use in
        eval mode.

        Parameters
        ----------
        codes : torch.Tensor, shape ``(K, L)``, dtype uint8 or int64
            Reference inputs, ``L > context``.
        rows : torch.Tensor, shape ``(S,)``, dtype int64
            The input each substitution edits.
        at : torch.Tensor, shape ``(S,)``, dtype int64
            0-based position in that input, ``side <= at[i] < L - side``.
        bases : torch.Tensor, shape ``(S,)``, dtype uint8 or int64
            The new base codes (:mod:`bioseq.alphabet`).
        side : int
            Bases on each side of a substitution that its window reads, ``2 * side + 1 > context``.

        Returns
        -------
        reference : torch.Tensor, shape ``(K, L - context, n_outputs)``, float
            ``forward(codes)``.
        substituted : torch.Tensor, shape ``(S, 2 * side + 1 - context, n_outputs)``, float
            ``forward`` of each edited window.

        Raises
        ------
        InputError
            On codes or a window that the model cannot read, or a position too close to an input end.
        """
        check_codes_input(codes, model="per_base_cnn")
        check_input_width("per_base_cnn", codes.shape[1], self.config.context)
        check_input_width("per_base_cnn", 2 * side + 1, self.config.context)
        if at.numel() and (int(at.min()) < side or int(at.max()) >= codes.shape[1] - side):
            raise InputError(
                f"substitutions must lie at least {side} bases inside the inputs ({codes.shape[1]} wide)",
                fix="Widen the reference inputs around the substitutions",
            )
        h = self.stem(self.one_hot(codes).unsqueeze(2).contiguous(memory_format=torch.channels_last))  # (K, C, 1, L)
        alt = self.stem(self.one_hot(bases.reshape(-1, 1)).unsqueeze(2))  # (S, C, 1, 1): position at, stem output
        reach, shrunk = 0, 0  # alt holds positions [at - reach, at + reach]; h starts at input position shrunk
        for block in self.blocks:
            r = block.shrink
            new_reach = min(reach + r, side - shrunk - r)  # within reach, and inside the window's valid outputs
            slab = _gather(h, rows, at - shrunk - new_reach - r, 2 * (new_reach + r) + 1)  # (S, C, 1, W)
            offset = new_reach + r - reach
            slab[..., offset : offset + 2 * reach + 1] = alt
            alt, h = block(slab), block(h)
            reach, shrunk = new_reach, shrunk + r
        half = side - self.config.context // 2  # output positions of a window on each side of its centre
        feat = _gather(h, rows, at - shrunk - half, 2 * half + 1)  # (S, C, 1, 2 * half + 1)
        if reach <= half:
            feat[..., half - reach : half + reach + 1] = alt
        else:
            feat = alt[..., reach - half : reach + half + 1]
        h = h[..., self.crop : h.shape[3] - self.crop]
        reference = self.head(self.act(self.norm(h))).squeeze(2).transpose(1, 2)  # (K, L - context, n_outputs)
        substituted = self.head(self.act(self.norm(feat))).squeeze(2).transpose(1, 2)
        return reference, substituted


def _gather(features: torch.Tensor, rows: torch.Tensor, starts: torch.Tensor, width: int) -> torch.Tensor:
    """``features[rows[i], :, :, starts[i] : starts[i] + width]``: ``(S, C, 1, width)``, channels last."""
    index = starts[:, None] + torch.arange(width, device=starts.device)  # (S, width)
    picked = features.squeeze(2).transpose(1, 2)[rows[:, None], index]  # (S, width, C)
    return picked.transpose(1, 2).unsqueeze(2).contiguous(memory_format=torch.channels_last)
