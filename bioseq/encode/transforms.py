"""Sequence transforms: reverse complement and dinucleotide shuffle.

Data contract
-------------
Both functions take and return the same form:

str
    IUPAC letters, any case (the case of each letter is kept).
codes ``(L,)`` or ``(N, L)`` uint8
    Codes of :mod:`bioseq.alphabet`, rows right-padded with ``PAD``; padding
    stays at the right end (the real part of each row, positions
    ``[0, length)``, 0-based half-open, is what gets transformed).
one-hot ``(N, 4, L)`` or ``(4, L)`` (reverse complement only)
    numpy (any dtype except a 2-D uint8 array, which reads as codes; pass a
    single uint8 one-hot as ``(1, 4, L)``) or torch; channels A, C, G, T.
"""

from __future__ import annotations

import numpy as np
import torch

from bioseq.alphabet import COMPLEMENT, LETTERS, PAD
from bioseq.checks import positive_integer
from bioseq.codes import check_codes, encode_one
from bioseq.errors import InputError

__all__ = ["reverse_complement", "dinucleotide_shuffle"]

_COMPLEMENT_TEXT = str.maketrans(
    LETTERS + LETTERS.lower() + "Uu",
    "".join(LETTERS[c] for c in COMPLEMENT[: len(LETTERS)])
    + "".join(LETTERS[c] for c in COMPLEMENT[: len(LETTERS)]).lower()
    + "Aa",
)


def _lengths_of(codes: np.ndarray, lengths: object) -> np.ndarray:
    """Real length of each row of ``(N, L)`` codes: given, or up to the PAD codes."""
    n, width = codes.shape
    if lengths is None:
        found = (codes != PAD).sum(axis=1)  # (N,)
        inner = (codes == PAD) & (np.arange(width)[None, :] < found[:, None])  # PAD before a base
        if inner.any():
            raise InputError(
                f"row {int(np.flatnonzero(inner.any(axis=1))[0])} has PAD before its last base",
                fix="Pad only at the right end (bioseq.encode.encode does), or pass lengths",
            )
        return found
    lengths = np.asarray(lengths)
    if lengths.shape != (n,) or not np.issubdtype(lengths.dtype, np.integer):
        raise InputError(f"lengths must be an integer array of shape ({n},), got {lengths.dtype} {lengths.shape}")
    if n and (lengths.min() < 0 or lengths.max() > width):
        raise InputError(f"lengths must lie in 0..{width}, got {lengths.min()}..{lengths.max()}")
    return lengths.astype(np.int64)


def _reversed_index(lengths: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Gather index ``(N, L)`` reversing ``[0, length)`` of each row, and the mask of that part."""
    pos = np.arange(width)[None, :]  # (1, L)
    inside = pos < lengths[:, None]  # (N, L)
    return np.where(inside, lengths[:, None] - 1 - pos, pos), inside


def _rc_text(seq: str) -> str:
    encode_one(seq)  # raises on a non-nucleotide letter, with its position
    return seq.translate(_COMPLEMENT_TEXT)[::-1]


def _rc_codes(codes: np.ndarray, lengths: object) -> np.ndarray:
    check_codes(codes)
    if codes.ndim == 1:
        lengths = None if lengths is None else np.atleast_1d(lengths)
        return _rc_codes(codes[None, :], lengths)[0]
    lengths = _lengths_of(codes, lengths)
    if (lengths == codes.shape[1]).all():
        return COMPLEMENT[codes[:, ::-1]]
    index, inside = _reversed_index(lengths, codes.shape[1])
    return np.where(inside, COMPLEMENT[np.take_along_axis(codes, index, axis=1)], codes)


def _rc_one_hot(x: np.ndarray | torch.Tensor, lengths: object) -> np.ndarray | torch.Tensor:
    if x.ndim not in (2, 3) or x.shape[-2] != 4:
        raise InputError(f"one-hot input must have shape (N, 4, L) or (4, L), got {tuple(x.shape)}")
    if x.ndim == 2:
        lengths = None if lengths is None else np.atleast_1d(lengths)
        return _rc_one_hot(x[None], lengths)[0]
    n, _, width = x.shape
    is_torch = isinstance(x, torch.Tensor)
    if lengths is None:
        return torch.flip(x, dims=(1, 2)) if is_torch else x[:, ::-1, ::-1].copy()
    lengths = _lengths_of(np.zeros((n, width), dtype=np.uint8), lengths)
    index, inside = _reversed_index(lengths, width)
    if is_torch:
        index = torch.from_numpy(index).to(x.device)[:, None, :].expand(n, 4, width)  # (N, 4, L)
        inside = torch.from_numpy(inside).to(x.device)[:, None, :]  # (N, 1, L)
        return torch.where(inside, torch.gather(torch.flip(x, dims=(1,)), 2, index), x)
    flipped = np.take_along_axis(x[:, ::-1, :], index[:, None, :], axis=2)  # (N, 4, L)
    return np.where(inside[:, None, :], flipped, x)


def reverse_complement(x: str | np.ndarray | torch.Tensor, lengths: np.ndarray | None = None):
    """Reverse complement a string, a code array or a one-hot array.

    Parameters
    ----------
    x : str, numpy.ndarray or torch.Tensor
        A string (IUPAC-aware, case kept, ``U`` complements to ``A``); uint8
        codes ``(L,)`` or ``(N, L)``; or one-hot ``(N, 4, L)`` / ``(4, L)``
        (numpy or torch, channels A, C, G, T). A 2-D uint8 numpy array is read
        as codes.
    lengths : numpy.ndarray, shape ``(N,)`` (or int for one sequence), optional
        Real lengths: positions ``[0, length)`` are reverse complemented and
        the positions after them (the padding) are returned unchanged, so
        padding stays at the right end. Default for codes: everything before
        the PAD codes; for one-hot: the whole width.

    Returns
    -------
    Same type and shape as ``x``.

    Raises
    ------
    InputError
        On a non-nucleotide letter, invalid codes, PAD before the last base
        of a row, lengths out of range, or an array of another shape.

    Examples
    --------
    >>> reverse_complement("ACGTN"), reverse_complement("RYKMacg")
    ('NACGT', 'cgtKMRY')
    >>> from bioseq.codes import encode
    >>> codes, lengths = encode(["AC", "GGT"])
    >>> reverse_complement(codes).tolist()   # PAD (15) stays at the right
    [[2, 3, 15], [0, 1, 1]]
    """
    if isinstance(x, str):
        if lengths is not None:
            raise InputError("lengths cannot be given with a string", fix="Drop lengths")
        return _rc_text(x)
    if isinstance(x, torch.Tensor):
        return _rc_one_hot(x, lengths)
    if isinstance(x, np.ndarray):
        if x.dtype == np.uint8 and x.ndim in (1, 2):
            return _rc_codes(x, lengths)
        return _rc_one_hot(x, lengths)
    raise InputError(f"expected a string, a numpy array or a torch tensor, got {type(x).__name__}")


def _rng(seed: object) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise InputError(f"seed must be None, an integer or a numpy Generator, got {seed!r}") from None


def _shuffle_one(seq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random sequence with the dinucleotide counts of ``seq``.

    Altschul & Erickson (1985) via a random Eulerian path (Kandel et al. 1996):
    the letters are vertices and each adjacent pair an edge. Wilson's
    loop-erased random walk picks a uniformly random spanning tree directed to
    the last letter; each letter's tree edge is used last and its other
    out-edges in random order, then the walk from the first letter spells
    the result. First and last letters are kept.
    """
    if seq.size <= 2:
        return seq.copy()
    n_symbols = int(seq.max()) + 1
    last = int(seq[-1])
    pick = [rng.permutation(seq[1:][seq[:-1] == v]) for v in range(n_symbols)]  # out-edge targets
    in_tree = [False] * n_symbols
    in_tree[last] = True
    chosen = [-1] * n_symbols  # index into pick[v] of v's tree edge
    for start in range(n_symbols):
        v = start
        while not in_tree[v] and pick[v].size:
            chosen[v] = int(rng.integers(pick[v].size))
            v = int(pick[v][chosen[v]])
        v = start
        while not in_tree[v] and pick[v].size:
            in_tree[v] = True
            v = int(pick[v][chosen[v]])
    order = []
    for v in range(n_symbols):
        out = list(pick[v])
        if v != last and out:
            out.append(out.pop(chosen[v]))
        order.append(out[::-1])  # popped from the end
    result = np.empty_like(seq)
    result[0] = v = int(seq[0])
    for i in range(1, seq.size):
        v = order[v].pop()
        result[i] = v
    return result


def dinucleotide_shuffle(x: str | np.ndarray, *, n: int = 1, seed: object = None):
    """Shuffle sequences keeping their dinucleotide counts exactly.

    Every letter (A, C, G, T, N and each other IUPAC code, and the case of a
    string) is its own symbol; the first and last letters are kept. Rows of
    a 2-D code array are shuffled one by one over their real length (PAD
    stays at the right end).

    Parameters
    ----------
    x : str or numpy.ndarray ``(L,)`` / ``(N, L)`` uint8
    n : int, default 1
        Number of shuffles per sequence.
    seed : None, int or numpy.random.Generator
        The same seed gives the same shuffles.

    Returns
    -------
    With ``n == 1`` the same form as ``x``; with ``n > 1`` a list of ``n``
    strings, or codes with a leading axis of ``n`` (``(n, L)`` / ``(n, N, L)``).

    Raises
    ------
    InputError
        On a non-nucleotide letter, invalid codes, PAD before the last base,
        or ``n < 1``.

    Examples
    --------
    >>> s = dinucleotide_shuffle("ACGTTGCAAGCT", seed=1)
    >>> sorted(s[i:i + 2] for i in range(11)) == sorted("ACGTTGCAAGCT"[i:i + 2] for i in range(11))
    True
    """
    n = positive_integer(n, "n")
    rng = _rng(seed)
    if isinstance(x, str):
        encode_one(x)  # raises on a non-nucleotide letter
        symbols = np.frombuffer(x.encode("latin-1"), dtype=np.uint8)
        alphabet, seq = np.unique(symbols, return_inverse=True)
        seq = seq.astype(np.uint8)
        texts = [alphabet[_shuffle_one(seq, rng)].tobytes().decode("latin-1") for _ in range(n)]
        return texts[0] if n == 1 else texts
    if not isinstance(x, np.ndarray):
        raise InputError(f"expected a string or a uint8 code array, got {type(x).__name__}")
    check_codes(x)
    if x.ndim not in (1, 2):
        raise InputError(f"codes must be 1-D (L,) or 2-D (N, L), got shape {x.shape}")
    rows = x[None, :] if x.ndim == 1 else x
    lengths = _lengths_of(rows, None)
    out = np.full((n,) + rows.shape, PAD, dtype=np.uint8)
    for j in range(n):
        for i, length in enumerate(lengths.tolist()):
            out[j, i, :length] = _shuffle_one(rows[i, :length], rng)
    out = out[:, 0] if x.ndim == 1 else out
    return out[0] if n == 1 else out
