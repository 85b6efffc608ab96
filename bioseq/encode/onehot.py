"""One-hot encoding of code arrays, in numpy (loaders) and torch (models).

Data contract
-------------
Input: codes ``(N, L)`` or ``(L,)`` uint8 with the codes of
:mod:`bioseq.alphabet` (A, C, G, T, N = 0..4, other IUPAC letters 5..14,
``PAD`` = 15 after the end of shorter rows). Strings are accepted and encoded
with :func:`bioseq.codes.encode`.

Output: ``(N, 4, L)`` (or ``(4, L)``), channels A, C, G, T in that order,
positions 0-based along the last axis. dtype float32, float16 or uint8
(torch also bfloat16).

Ambiguous codes (N and the other IUPAC letters) follow the ``iupac`` policy:

``"zeros"``
    an all-zero column (the default; the only policy uint8 can hold exactly).
``"uniform"``
    0.25 in each channel, for N and every other ambiguous letter.
``"fractional"``
    the share of each base the letter stands for
    (:data:`bioseq.alphabet.BASE_FRACTIONS`): R = 0.5 A + 0.5 G,
    B = 1/3 C, G, T each, N = 0.25 each.

``PAD`` is always an all-zero column.
"""

from __future__ import annotations

import numpy as np
import torch

from bioseq.alphabet import BASE_FRACTIONS, CODE_TO_ASCII, PAD, N
from bioseq.codes import as_codes
from bioseq.errors import InputError

__all__ = ["IUPAC_POLICIES", "one_hot", "one_hot_torch", "decode_one_hot"]

IUPAC_POLICIES = ("zeros", "uniform", "fractional")
_NUMPY_DTYPES = (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.uint8))
_TORCH_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.uint8)
_CHANNELS = np.arange(4, dtype=np.uint8)[None, :, None]  # (1, 4, 1): the code of each channel
_CHANNELS.flags.writeable = False


def _table(iupac: str) -> np.ndarray:
    """float32[16, 4]: the column each code becomes under a policy."""
    if iupac == "fractional":
        return BASE_FRACTIONS
    table = np.zeros((16, 4), dtype=np.float32)
    table[:4] = np.eye(4, dtype=np.float32)
    if iupac == "uniform":
        table[N:PAD] = 0.25
    return table


def _check_policy(iupac: object, is_binary: bool, dtype_name: str) -> None:
    if iupac not in IUPAC_POLICIES:
        raise InputError(f"iupac must be one of {', '.join(map(repr, IUPAC_POLICIES))}, got {iupac!r}")
    if is_binary and iupac != "zeros":
        raise InputError(
            f"dtype {dtype_name} cannot hold the fractions of iupac={iupac!r}",
            fix="Use iupac='zeros' with uint8, or a float dtype (float32, float16)",
        )


def _check_out(out: object, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype:
        got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        raise InputError(
            f"out must be a {dtype} array of shape {shape}, got {got}",
            fix="Allocate it with numpy.empty(shape, dtype) for the result's shape and dtype",
        )
    if not out.flags.writeable:
        raise InputError("out is read-only", fix="Pass a writeable buffer")
    return out


def _binary_into(codes: np.ndarray, out: np.ndarray) -> None:
    """``out[n, c, l] = codes[n, l] == c`` for channels 0..3, in one ufunc pass.

    Comparing uint8 codes is vectorised by numpy and writes each output byte
    once; writing a uint8 result through a bool view avoids any cast. (A
    ``table[codes]`` lookup is several times slower: numpy converts the
    indices to intp first.)
    """
    if out.dtype == np.uint8:
        np.equal(codes[:, None, :], _CHANNELS, out=out.view(np.bool_))
    else:
        np.equal(codes[:, None, :], _CHANNELS, out=out, casting="unsafe")


def one_hot(
    codes: np.ndarray | str | list[str],
    *,
    dtype: type | np.dtype = np.float32,
    iupac: str = "zeros",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """One-hot encode codes to ``(N, 4, L)``, channels A, C, G, T.

    Parameters
    ----------
    codes : numpy.ndarray, shape ``(N, L)`` or ``(L,)``, dtype uint8; or str or list of str
        Codes of :mod:`bioseq.alphabet` (PAD after the end of shorter rows).
    dtype : numpy dtype, default float32
        float32, float16 or uint8.
    iupac : {"zeros", "uniform", "fractional"}, default "zeros"
        What an ambiguous code becomes (see the module docstring); PAD is
        always all zeros.
    out : numpy.ndarray, optional
        A buffer of the result's shape and dtype to write into (a loader can
        reuse one per batch instead of allocating).

    Returns
    -------
    numpy.ndarray, shape ``(N, 4, L)`` (``(4, L)`` for 1-D input), dtype ``dtype``
        ``out`` when given.

    Raises
    ------
    InputError
        On invalid codes, an unknown dtype or policy, uint8 with a fractional
        policy, or an ``out`` of the wrong shape or dtype.

    Examples
    --------
    >>> one_hot("ACGTN", dtype=np.uint8)
    array([[1, 0, 0, 0, 0],
           [0, 1, 0, 0, 0],
           [0, 0, 1, 0, 0],
           [0, 0, 0, 1, 0]], dtype=uint8)
    >>> one_hot("R", iupac="fractional")[:, 0].tolist()   # R = A or G
    [0.5, 0.0, 0.5, 0.0]
    """
    rows, _, single = as_codes(codes)
    codes = rows[0] if single else rows
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise InputError(f"dtype {dtype!r} is not a numpy dtype", fix="Use float32, float16 or uint8") from None
    if dtype not in _NUMPY_DTYPES:
        raise InputError(f"dtype must be float32, float16 or uint8, got {dtype}")
    _check_policy(iupac, dtype == np.uint8, str(dtype))
    rows = codes[None, :] if codes.ndim == 1 else codes  # (N, L)
    shape = codes.shape[:-1] + (4, codes.shape[-1])
    result = np.empty(shape, dtype=dtype) if out is None else _check_out(out, shape, dtype)
    target = result[None] if codes.ndim == 1 else result  # (N, 4, L)
    _binary_into(rows, target)
    if iupac != "zeros":
        ambiguous = (rows >= N) & (rows != PAD)
        if ambiguous.any():
            i, j = np.nonzero(ambiguous)
            target[i, :, j] = _table(iupac).astype(dtype)[rows[i, j]]  # (k, 4)
    return result


def one_hot_torch(
    codes: torch.Tensor, *, dtype: torch.dtype = torch.float32, iupac: str = "zeros", check: bool = True
) -> torch.Tensor:
    """One-hot encode a code tensor on its own device, e.g. inside a model.

    Same values as :func:`one_hot` (one-hot "at the last moment, on the
    model's device": loaders ship compact uint8 codes).

    Parameters
    ----------
    codes : torch.Tensor, shape ``(B, L)`` or ``(L,)``, dtype uint8 or int64
        Codes of :mod:`bioseq.alphabet`.
    dtype : torch.dtype, default torch.float32
        float32, float16, bfloat16 or uint8.
    iupac : {"zeros", "uniform", "fractional"}, default "zeros"
    check : bool, default True
        Check that every value is a code 0..15. This reads the values back:
        on a GPU the call waits for the device. Models pass ``False`` on
        every batch, because their input was checked once where it entered
        (:meth:`bioseq.bundle.Bundle.check_codes`,
        :func:`bioseq.codes.check_codes`). Unchecked values outside 0..15
        are not caught: they become all-zero columns, or an indexing error
        from torch (on CUDA, a device-side assert).

    Returns
    -------
    torch.Tensor, shape ``(B, 4, L)`` (``(4, L)`` for 1-D input), dtype ``dtype``
        Contiguous, on ``codes.device``.

    Raises
    ------
    InputError
        On a non-tensor, a dtype other than uint8/int64, codes outside 0..15
        (with ``check``), an unknown dtype or policy, or uint8 with a
        fractional policy.
    """
    if not isinstance(codes, torch.Tensor) or codes.dtype not in (torch.uint8, torch.int64):
        got = f"a {codes.dtype} tensor" if isinstance(codes, torch.Tensor) else type(codes).__name__
        raise InputError(
            f"codes must be a uint8 or int64 torch tensor, got {got}",
            fix="Convert numpy codes with torch.from_numpy(codes)",
        )
    if codes.ndim not in (1, 2):
        raise InputError(f"codes must be 1-D (L,) or 2-D (B, L), got shape {tuple(codes.shape)}")
    if dtype not in _TORCH_DTYPES:
        raise InputError(f"dtype must be one of {', '.join(map(str, _TORCH_DTYPES))}, got {dtype}")
    _check_policy(iupac, dtype == torch.uint8, str(dtype))
    if check and codes.numel():
        low, high = torch.aminmax(codes)
        if int(low) < 0 or int(high) > PAD:
            raise InputError(
                f"codes hold values {int(low)}..{int(high)}, but valid codes are 0..{PAD}",
                fix="Build them with bioseq.encode.encode()",
            )
    if iupac == "zeros":  # a comparison is several times faster than a gather on CPU
        channels = torch.arange(4, dtype=codes.dtype, device=codes.device).view(4, 1)  # (4, 1)
        return (codes.unsqueeze(-2) == channels).to(dtype)  # (B, 1, L) == (4, 1) -> (B, 4, L)
    table = torch.tensor(_table(iupac), device=codes.device).to(dtype)  # (16, 4)
    return table[codes.long()].movedim(-1, -2).contiguous()  # (B, L, 4) -> (B, 4, L)


def decode_one_hot(
    x: np.ndarray | torch.Tensor,
    *,
    lengths: np.ndarray | None = None,
    threshold: float = 0.5,
    as_strings: bool = False,
) -> np.ndarray | list[str] | str:
    """Turn one-hot columns (or per-base scores) back into codes or strings.

    Each column becomes the base of its largest channel if that value is above
    ``threshold``, else ``N``: an all-zero column, a uniform or fractional
    IUPAC column (0.25 or 0.5 at most) and a low-confidence score column all
    decode to ``N``. Columns at and past ``lengths[i]`` (0-based) decode to
    ``PAD``. So ``decode_one_hot(one_hot(c), lengths=lengths)`` returns ``c``
    for codes of A, C, G, T, N and PAD.

    Parameters
    ----------
    x : numpy.ndarray or torch.Tensor, shape ``(N, 4, L)`` or ``(4, L)``
        Channels A, C, G, T; any real dtype.
    lengths : numpy.ndarray, shape ``(N,)`` (or int for 2-D ``x``), optional
        Real lengths; default: every column is a base.
    threshold : float, default 0.5
        A column's largest value must exceed it to count as a base.
    as_strings : bool, default False
        Return strings (PAD dropped) instead of codes.

    Returns
    -------
    numpy.ndarray ``(N, L)`` or ``(L,)`` uint8 codes, or list of str / str

    Raises
    ------
    InputError
        On an array without 4 channels on axis -2 or lengths out of range.
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float32).numpy()
    x = np.asarray(x)
    if x.ndim not in (2, 3) or x.shape[-2] != 4:
        raise InputError(f"one-hot input must have shape (N, 4, L) or (4, L), got {x.shape}")
    batch = x[None] if x.ndim == 2 else x  # (N, 4, L)
    codes = np.argmax(batch, axis=1).astype(np.uint8)  # (N, L)
    codes[np.max(batch, axis=1) <= threshold] = N
    if lengths is not None:
        n, width = codes.shape
        lengths = np.atleast_1d(np.asarray(lengths))
        if lengths.shape != (n,) or (n and (lengths.min() < 0 or lengths.max() > width)):
            raise InputError(f"lengths must be {n} values in 0..{width}, got {lengths.tolist()}")
        codes[np.arange(width)[None, :] >= lengths[:, None]] = PAD
    if as_strings:
        rows = [CODE_TO_ASCII[row[row != PAD]].tobytes().decode("ascii") for row in codes]
        return rows[0] if x.ndim == 2 else rows
    return codes[0] if x.ndim == 2 else codes
