"""Building blocks shared by bioseq's sequence classifiers.

Data contract
-------------
Models read ``(B, L)`` base codes, uint8 or int64 (codes of
:mod:`bioseq.alphabet`; rows right-padded with ``PAD`` = 15). Positions are
0-based along the last axis; a position is *real* where its code is not
``PAD``. The blocks here turn codes into features on the codes' device and
keep a ``(B, L)`` bool mask (True = real position) beside them so that the
result at a real position never depends on how much padding follows it:

- :func:`check_codes_input` and :func:`padding_mask`: the model's input check
  (type, shape and dtype, read from the tensor's metadata) and its mask.
- :class:`CodesToOneHot`: codes ``(B, L)`` -> one-hot ``(B, 4, L)`` in the
  model's floating dtype.
- :class:`KmerEmbedding`: codes ``(B, L)`` -> k-mer token ids ``(B, T)`` (the
  ids of :class:`bioseq.encode.kmer.KmerTokenizer`) -> vectors ``(B, T, D)``.
- :class:`ConvBlock`: Conv1d + BatchNorm + activation + optional max pooling
  on ``(B, C, L)`` features with their mask; the conv stem of the LSTM and
  Transformer and the layer of the CNN.
- :class:`ClassificationHead`: pooled ``(B, D)`` features -> ``(B, n_outputs)``
  logits.

The blocks never read values back from the device (that would make every
batch wait for the GPU), so code values are checked once where they enter:
by :meth:`bioseq.bundle.Bundle.check_codes` before prediction, by
:func:`bioseq.codes.encode` (which makes only valid codes) for training
data. A value outside 0..15 that gets past them is not caught here.

Pooling lives in :mod:`bioseq.models.pooling`, positional encodings in
:mod:`bioseq.models.positional`.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from bioseq.alphabet import PAD
from bioseq.encode.kmer import KmerTokenizer, n_windows
from bioseq.encode.onehot import one_hot_torch
from bioseq.errors import InputError

__all__ = [
    "check_codes_input",
    "padding_mask",
    "check_minimum",
    "CodesToOneHot",
    "KmerEmbedding",
    "ConvBlock",
    "ClassificationHead",
]

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}
_ONE_HOT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)  # what one_hot_torch makes directly


def check_codes_input(x: object, *, model: str) -> None:
    """Check a model input is a ``(B, L)`` uint8 or int64 tensor with at least one column.

    Only the tensor's metadata is read, so the check costs nothing on a GPU;
    the values (codes 0..15) are checked once where they enter, not per batch
    (see the module docstring).

    Parameters
    ----------
    x : torch.Tensor, shape ``(B, L)``, dtype uint8 or int64
        Base codes of :mod:`bioseq.alphabet`, rows right-padded with ``PAD``.
    model : str
        The model's name, for the message.

    Raises
    ------
    InputError
        On a non-tensor, a tensor that is not 2-D, another dtype, or a width
        of 0.
    """
    fix = "Encode sequences with bioseq.encode.encode() and pass torch.from_numpy(codes)"
    if not isinstance(x, torch.Tensor):
        raise InputError(f"model {model!r} takes a torch tensor of base codes, got {type(x).__name__}", fix=fix)
    if x.dim() != 2 or x.dtype not in (torch.uint8, torch.int64):
        raise InputError(
            f"model {model!r} takes (B, L) uint8 or int64 base codes, got a {x.dtype} tensor of shape {tuple(x.shape)}",
            fix=fix,
        )
    if x.shape[1] == 0:
        raise InputError(
            f"model {model!r} got a batch of width 0 (no positions)", fix="Drop empty sequences before scoring them"
        )


def padding_mask(codes: torch.Tensor) -> torch.Tensor:
    """Which positions hold a base (True) rather than ``PAD`` (False).

    Parameters
    ----------
    codes : torch.Tensor, shape ``(B, L)``, dtype uint8 or int64

    Returns
    -------
    torch.Tensor, shape ``(B, L)``, dtype bool
        On ``codes.device``.
    """
    return codes != PAD


def check_minimum(model: str, minimum: int, **values: int | float | tuple) -> None:
    """Check config values (every element of tuple values) are ``>= minimum``.

    Raises
    ------
    InputError
        Naming the model, the option and the value.
    """
    for name, value in values.items():
        items = value if isinstance(value, tuple) else (value,)
        if any(v < minimum for v in items):
            raise InputError(f"model {model!r} option {name!r} must be >= {minimum}, got {value!r}")


class CodesToOneHot(nn.Module):
    """Codes ``(B, L)`` -> one-hot ``(B, 4, L)`` (channels A, C, G, T) in the model's dtype.

    Wraps :func:`bioseq.encode.onehot.one_hot_torch`. The output dtype follows
    the module's floating dtype (``model.half()``, ``model.to(torch.bfloat16)``
    change it), tracked with an empty non-persistent buffer. ``PAD`` is an
    all-zero column.

    Parameters
    ----------
    iupac : {"zeros", "uniform", "fractional"}, default "zeros"
        What N and the other ambiguous codes become (see
        :mod:`bioseq.encode.onehot`).

    Raises
    ------
    InputError
        On an unknown policy (at construction). ``forward`` does not check
        the code values (see the module docstring).
    """

    def __init__(self, *, iupac: Literal["zeros", "uniform", "fractional"] = "zeros") -> None:
        super().__init__()
        one_hot_torch(torch.zeros(0, dtype=torch.uint8), iupac=iupac)  # rejects an unknown policy now
        self.iupac = iupac
        self.register_buffer("dtype_probe", torch.zeros(0), persistent=False)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        dtype = self.dtype_probe.dtype
        if dtype in _ONE_HOT_DTYPES:
            return one_hot_torch(codes, dtype=dtype, iupac=self.iupac, check=False)  # (B, 4, L)
        return one_hot_torch(codes, iupac=self.iupac, check=False).to(dtype)  # (B, 4, L), e.g. float64

    def extra_repr(self) -> str:
        return f"iupac={self.iupac!r}"


class KmerEmbedding(nn.Module):
    """Tokenise codes into k-mer ids on their device, then embed them.

    Window ``t`` covers positions ``[t * stride, t * stride + k)`` (0-based,
    half-open); its id is the one :class:`bioseq.encode.kmer.KmerTokenizer`
    gives: ``5 + rank`` for a k-mer of A, C, G, T (rank in lexicographic ACGT
    order), ``[UNK]`` = 1 when it holds N or another IUPAC code, ``[PAD]`` = 0
    when it reaches into padding. The ``[PAD]`` vector is zero and stays so.

    Parameters
    ----------
    k : int
        K-mer width, 1..8.
    stride : int
        Step between windows (1 = overlapping k-mers).
    dim : int
        Embedding size ``D``.

    Raises
    ------
    InputError
        On a bad ``k``, ``stride`` or ``dim``.
    """

    def __init__(self, *, k: int, stride: int, dim: int) -> None:
        super().__init__()
        tokenizer = KmerTokenizer(k=k, stride=stride)  # checks k and stride
        check_minimum("KmerEmbedding", 1, dim=dim)
        self.k, self.stride = tokenizer.k, tokenizer.stride
        self.embedding = nn.Embedding(tokenizer.vocab_size, dim, padding_idx=tokenizer.pad_id)
        self.register_buffer("powers", 4 ** torch.arange(self.k - 1, -1, -1), persistent=False)  # (k,)

    def tokenize(self, codes: torch.Tensor) -> torch.Tensor:
        """Token ids of every window.

        Parameters
        ----------
        codes : torch.Tensor, shape ``(B, L)``, dtype uint8 or int64
            Base codes, rows right-padded with ``PAD``.

        Returns
        -------
        torch.Tensor, shape ``(B, T)``, dtype int64
            ``T = (L - k) // stride + 1`` (0 when ``L < k``); on ``codes.device``.
        """
        t = n_windows(codes.shape[1], k=self.k, stride=self.stride)
        if t == 0:
            return codes.new_zeros((codes.shape[0], 0), dtype=torch.int64)
        windows = codes.long().unfold(1, self.k, self.stride)  # (B, T, k)
        ids = ((windows & 3) * self.powers).sum(-1) + len(KmerTokenizer.SPECIALS)  # (B, T): 5 + rank
        ids = ids.masked_fill((windows > 3).any(-1), KmerTokenizer.unk_id)  # N, IUPAC (and PAD)
        ids = ids.masked_fill((windows == PAD).any(-1), KmerTokenizer.pad_id)  # PAD wins over UNK
        return ids

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Vectors of token ids ``(B, T)`` int64 -> ``(B, T, D)`` (ids made elsewhere, e.g. by KmerTokenizer)."""
        return self.embedding(ids)  # (B, T, D)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.embed(self.tokenize(codes))  # (B, T, D)


class ConvBlock(nn.Module):
    """Conv1d ("same" padding) + BatchNorm + activation + optional masked max pooling.

    Padded positions are zeroed (multiplied by the mask) before the
    convolution and after the block, so a real position sees exactly the
    zeros that the convolution's own padding would give: its output does not
    depend on how much padding follows. Max pooling (kernel = stride = ``pool``, partial last window
    kept) ignores padded positions; a pooled position is real when its
    window holds a real one. In training mode BatchNorm's batch statistics
    include the (zeroed) padded positions.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int
    dilation : int, default 1
    pool : int, default 1
        Max-pooling width; 1 = no pooling.
    activation : {"relu", "gelu"}, default "relu"
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_size: int,
        dilation: int = 1,
        pool: int = 1,
        activation: Literal["relu", "gelu"] = "relu",
    ) -> None:
        super().__init__()
        check_minimum(
            "ConvBlock",
            1,
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=kernel_size,
            dilation=dilation,
            pool=pool,
        )
        if activation not in _ACTIVATIONS:
            raise InputError(f"activation must be 'relu' or 'gelu', got {activation!r}")
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding="same", dilation=dilation)
        self.norm = nn.BatchNorm1d(out_channels)
        self.act = _ACTIVATIONS[activation]()
        self.pool = pool
        self.non_negative = activation == "relu"

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(B, C_in, L)`` and ``mask`` ``(B, L)`` bool -> ``(B, C_out, L')``, ``(B, L')``.

        ``L' = ceil(L / pool)``.
        """
        keep = mask.unsqueeze(1)  # (B, 1, L)
        x = self.act(self.norm(self.conv(x * keep))) * keep  # (B, C, L); a multiply is 4x faster than masked_fill
        if self.pool == 1:
            return x, mask
        if not self.non_negative:  # GELU can be negative: padding must not win the max
            x = torch.where(keep, x, float("-inf"))
        x = F.max_pool1d(x, self.pool, ceil_mode=True)  # (B, C, L'); after ReLU a zero never beats a real value
        keep = F.max_pool1d(keep.to(x.dtype), self.pool, ceil_mode=True) > 0  # (B, 1, L'): any real position
        if not self.non_negative:
            x = torch.where(keep, x, 0.0)  # all-padding windows: -inf -> 0
        return x, keep.squeeze(1)


class ClassificationHead(nn.Sequential):
    """Pooled features ``(B, in_features)`` -> logits ``(B, n_outputs)``.

    Dropout, Linear, GELU, Dropout, Linear.
    """

    def __init__(self, in_features: int, *, hidden: int, n_outputs: int, dropout: float) -> None:
        check_minimum("ClassificationHead", 1, in_features=in_features, hidden=hidden, n_outputs=n_outputs)
        super().__init__(
            nn.Dropout(dropout),
            nn.Linear(in_features, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_outputs),
        )
