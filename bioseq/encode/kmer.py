"""K-mer windows and k-mer tokens for sequence language models.

Data contract
-------------
Input: codes ``(N, L)`` uint8 (codes of :mod:`bioseq.alphabet`, rows
right-padded with ``PAD``) with optional ``lengths`` ``(N,)``, or strings
(encoded with :func:`bioseq.codes.encode`).

Windows: window ``t`` of a row covers positions ``[t * stride, t * stride + k)``
(0-based, half-open). A width ``L`` gives ``T = (L - k) // stride + 1``
windows (0 when ``L < k``); windows never run past the end of the array, so
with ``stride > 1`` the last ``(L - k) % stride`` positions start no window.

K-mer rank: the position of the k-mer in lexicographic A < C < G < T order
(``AA..A`` = 0, ``TT..T`` = ``4**k - 1``), i.e. the k-mer read as a base-4
number with the first base most significant.

Token ids (:class:`KmerTokenizer`): int64; 0..4 are the special tokens
``[PAD] [UNK] [CLS] [SEP] [MASK]`` and ``5 + rank`` is a k-mer. A window that
runs into padding is ``[PAD]``; a window holding N or another IUPAC code is
``[UNK]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from bioseq.alphabet import PAD
from bioseq.checks import is_integer
from bioseq.codes import as_codes, check_codes, decode_one
from bioseq.errors import InputError

__all__ = ["AMBIGUOUS", "PADDING", "KmerTokenizer", "kmer_index", "n_windows"]

AMBIGUOUS = 1
"""Status bit: the window holds N or another IUPAC code."""
PADDING = 2
"""Status bit: the window runs into padding (a PAD code, or past ``lengths``)."""

MAX_K = 8
_CHUNK_POSITIONS = 1 << 18  # rows per chunk * L: keeps temporaries in cache


def n_windows(length: int, *, k: int, stride: int = 1) -> int:
    """Number of windows ``T`` of width ``k`` and step ``stride`` in ``length`` positions.

    Examples
    --------
    >>> n_windows(10, k=3), n_windows(10, k=3, stride=3), n_windows(2, k=3)
    (8, 3, 0)
    """
    return 0 if length < k else (length - k) // stride + 1


def _check_k_stride(k: object, stride: object) -> None:
    if not is_integer(k) or not 1 <= k <= MAX_K:
        raise InputError(
            f"k must be an integer from 1 to {MAX_K}, got {k!r}", fix="4**k ids must fit the vocabulary; use k <= 8"
        )
    if not is_integer(stride) or stride < 1:
        raise InputError(
            f"stride must be a positive integer, got {stride!r}",
            fix="Use stride=1 for overlapping k-mers or stride=k for non-overlapping ones",
        )


def _check_lengths(lengths: np.ndarray | None, n: int, width: int) -> np.ndarray | None:
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.shape != (n,) or not np.issubdtype(lengths.dtype, np.integer):
        raise InputError(
            f"lengths must be an integer array of shape ({n},), got {lengths.dtype} {lengths.shape}",
            fix="Pass the lengths returned by bioseq.encode.encode()",
        )
    if n and (lengths.min() < 0 or lengths.max() > width):
        raise InputError(
            f"lengths must lie in 0..{width} (the width of codes), got {lengths.min()}..{lengths.max()}",
            fix="Pass the lengths returned with these codes",
        )
    return lengths.astype(np.int64, copy=False)


def _join(first: np.ndarray, second: np.ndarray, width: int, total: int) -> np.ndarray:
    """``first`` (earlier bases) shifted left past ``width`` bases of ``second``."""
    # multiply/add rather than shift/or: numpy vectorises them for uint8
    out = np.multiply(first, 4**width, dtype=np.uint8 if total <= 4 else np.uint16)
    out += second
    return out


def _combine(flat: np.ndarray, k: int, *, rank: bool) -> np.ndarray:
    """Combine each ``k`` consecutive values of a flat array by doubling.

    Element ``i`` of the result (length ``flat.size - k + 1``) combines
    ``flat[i:i + k]``: as a base-4 number (first value most significant) when
    ``rank``, else as a bitwise OR. Spans of 1, 2, 4 and 8 values are built
    from the half-size spans, then ``k`` is assembled from its binary digits.
    """
    spans = {1: flat}
    width = 1
    while 2 * width <= k:
        half = spans[width]
        n = half.size - width
        if rank:
            spans[2 * width] = _join(half[:n], half[width:], width, 2 * width)
        else:
            spans[2 * width] = half[:n] | half[width:]
        width *= 2
    size = flat.size - k + 1
    acc, done = None, 0
    for part in (8, 4, 2, 1):
        if k & part:
            piece = spans[part][done : done + size]
            if acc is None:
                acc = piece
            elif rank:
                acc = _join(acc, piece, part, done + part)
            else:
                acc = acc | piece
            done += part
    return acc


def _index_chunks(
    codes: np.ndarray, k: int, stride: int, lengths: np.ndarray | None
) -> Iterator[tuple[slice, np.ndarray, np.ndarray | None]]:
    """Yield ``(rows, rank, status)`` for blocks of rows as ``(rows, T)`` views.

    ``status`` is None for a block whose windows are all usable.
    """
    n, width = codes.shape
    t1 = n_windows(width, k=k)
    if t1 == 0 or n == 0:
        return
    step = max(1, _CHUNK_POSITIONS // width)
    for start in range(0, n, step):
        block = np.ascontiguousarray(codes[start : start + step])
        rows = block.shape[0]
        flat = block.reshape(-1)
        rank = _windows_view(_combine(flat & 3, k, rank=True), rows, width, t1, stride)
        status = None
        if flat.max() > 3:
            # AMBIGUOUS (1) for N/IUPAC codes, PADDING (2) for PAD codes (PAD > 3 too)
            flags = (flat > 3).view(np.uint8) + (flat == PAD).view(np.uint8)
            status = _windows_view(_combine(flags, k, rank=False), rows, width, t1, stride)
        if lengths is not None:
            ends = np.arange(rank.shape[1]) * stride + k  # (T,)
            past = (ends[None, :] > lengths[start : start + rows, None]).view(np.uint8)  # (rows, T)
            status = past * np.uint8(PADDING) if status is None else status | past * np.uint8(PADDING)
        yield slice(start, start + rows), rank, status


def _windows_view(values: np.ndarray, rows: int, width: int, t1: int, stride: int) -> np.ndarray:
    """View a flat per-start array as ``(rows, T)``, dropping windows that cross rows."""
    item = values.itemsize
    view = np.lib.stride_tricks.as_strided(values, shape=(rows, t1), strides=(width * item, item), writeable=False)
    return view[:, ::stride]


def kmer_index(
    codes: np.ndarray, *, k: int, stride: int = 1, lengths: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Rank of every k-mer window and whether the window is usable.

    Parameters
    ----------
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        Codes of :mod:`bioseq.alphabet`, right-padded with ``PAD``.
    k : int
        Window width, 1..8.
    stride : int, default 1
        Step between window starts; window ``t`` covers ``[t * stride, t * stride + k)``.
    lengths : numpy.ndarray, shape ``(N,)``, optional
        Real lengths; windows ending past them count as padding. Default: only
        PAD codes mark padding.

    Returns
    -------
    rank : numpy.ndarray, shape ``(N, T)``, dtype uint8 (k <= 4) or uint16
        Lexicographic rank of the k-mer; meaningless where ``status != 0``.
    status : numpy.ndarray, shape ``(N, T)``, dtype uint8
        0 for a window of A/C/G/T only; bit :data:`AMBIGUOUS` is set when it
        holds N or another IUPAC code, bit :data:`PADDING` when it runs into
        padding (a PAD code or past ``lengths``).

    Raises
    ------
    InputError
        On codes that are not a 2-D uint8 code array, a bad ``k``/``stride``,
        or lengths of the wrong shape or range.

    Examples
    --------
    >>> from bioseq.codes import encode
    >>> codes, _ = encode(["ACGTN", "TT"])
    >>> rank, status = kmer_index(codes, k=2)
    >>> rank[0, :3].tolist(), status.tolist()   # AC = 0*4+1, CG = 1*4+2, GT = 2*4+3
    ([1, 6, 11], [[0, 0, 0, 1], [0, 2, 2, 2]])
    """
    check_codes(codes)
    if codes.ndim != 2:
        raise InputError(f"codes must be 2-D (N, L), got shape {codes.shape}")
    _check_k_stride(k, stride)
    lengths = _check_lengths(lengths, codes.shape[0], codes.shape[1])
    t = n_windows(codes.shape[1], k=k, stride=stride)
    rank = np.zeros((codes.shape[0], t), dtype=np.uint8 if k <= 4 else np.uint16)
    status = np.zeros((codes.shape[0], t), dtype=np.uint8)
    for rows, block_rank, block_status in _index_chunks(codes, k, stride, lengths):
        rank[rows] = block_rank
        if block_status is not None:
            status[rows] = block_status
    return rank, status


class KmerTokenizer:
    """Turn sequences into k-mer token ids (DNABERT-style vocabulary).

    The vocabulary is the special tokens :attr:`SPECIALS` (ids 0..4) followed
    by all ``4**k`` k-mers in lexicographic ACGT order (ids ``5 + rank``).
    Windows are 0-based, half-open: window ``t`` covers
    ``[t * stride, t * stride + k)``.

    Parameters
    ----------
    k : int, default 6
        K-mer width, 1..8.
    stride : int, default 1
        Step between windows: 1 for overlapping k-mers, ``k`` for
        non-overlapping ones; any positive step works.
    add_cls : bool, default False
        Put a ``[CLS]`` token before the windows of every sequence.

    Raises
    ------
    InputError
        On ``k`` outside 1..8 or a stride below 1.

    Examples
    --------
    >>> tok = KmerTokenizer(k=3)
    >>> tok.encode("ACGTA").tolist()          # ACG, CGT, GTA
    [11, 32, 49]
    >>> tok.decode(tok.encode(["ACGTA"]))
    ['ACGTA']
    """

    SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
    pad_id, unk_id, cls_id, sep_id, mask_id = range(5)

    def __init__(self, *, k: int = 6, stride: int = 1, add_cls: bool = False) -> None:
        _check_k_stride(k, stride)
        self.k = int(k)
        self.stride = int(stride)
        self.add_cls = bool(add_cls)

    def __repr__(self) -> str:
        return f"KmerTokenizer(k={self.k}, stride={self.stride}, add_cls={self.add_cls})"

    @property
    def vocab_size(self) -> int:
        """Number of ids: 5 special tokens + ``4**k`` k-mers."""
        return len(self.SPECIALS) + 4**self.k

    def n_tokens(self, length: int) -> int:
        """Tokens per row for a code array of width ``length`` (windows, plus 1 with CLS)."""
        return n_windows(length, k=self.k, stride=self.stride) + self.add_cls

    def token_to_id(self, token: str) -> int:
        """Id of a special token or an upper-case k-mer of length ``k``.

        Raises
        ------
        InputError
            When ``token`` is neither.
        """
        if token in self.SPECIALS:
            return self.SPECIALS.index(token)
        if len(token) != self.k or any(b not in "ACGT" for b in token):
            raise InputError(
                f"{token!r} is not a special token or a {self.k}-mer of A, C, G, T",
                fix=f"Use one of {', '.join(self.SPECIALS)} or an upper-case {self.k}-mer",
            )
        rank = 0
        for base in token:
            rank = 4 * rank + "ACGT".index(base)
        return len(self.SPECIALS) + rank

    def id_to_token(self, token_id: int) -> str:
        """Token string of an id.

        Raises
        ------
        InputError
            When ``token_id`` is outside ``0 .. vocab_size - 1``.
        """
        if not 0 <= token_id < self.vocab_size:
            raise InputError(f"token id {token_id} is outside 0..{self.vocab_size - 1}")
        if token_id < len(self.SPECIALS):
            return self.SPECIALS[token_id]
        rank = token_id - len(self.SPECIALS)
        return "".join("ACGT"[(rank >> 2 * (self.k - 1 - j)) & 3] for j in range(self.k))

    def encode(self, sequences: object, lengths: np.ndarray | None = None) -> np.ndarray:
        """Token ids of every window.

        Parameters
        ----------
        sequences : str, list of str, or numpy.ndarray ``(N, L)`` or ``(L,)`` uint8
            Strings (any case, IUPAC letters allowed) or codes right-padded with PAD.
        lengths : numpy.ndarray, shape ``(N,)``, optional
            Real lengths of a 2-D code array; windows ending past them are
            ``[PAD]``. Default: windows over a PAD code are ``[PAD]``.

        Returns
        -------
        numpy.ndarray, shape ``(N, T)`` (``(T,)`` for one sequence), dtype int64
            ``T = n_tokens(L)``; rows of strings are padded to the longest one.

        Raises
        ------
        InputError
            On a non-nucleotide letter, bad codes, or lengths with a string input.
        """
        codes, derived, single = as_codes(sequences)
        if lengths is not None and (derived is not None or single):
            raise InputError(
                "lengths can only be given with a 2-D code array", fix="Drop lengths: they are taken from the strings"
            )
        lengths = _check_lengths(lengths, codes.shape[0], codes.shape[1])
        ids = self._ids(codes, lengths)
        return ids[0] if single else ids

    def _ids(self, codes: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
        n_special = len(self.SPECIALS)
        ids = np.empty((codes.shape[0], self.n_tokens(codes.shape[1])), dtype=np.int64)
        if self.add_cls:
            ids[:, 0] = self.cls_id
        body = ids[:, int(self.add_cls) :]
        for rows, rank, status in _index_chunks(codes, self.k, self.stride, lengths):
            out = body[rows]
            out[...] = rank
            out += n_special
            if status is not None:
                out[status != 0] = self.unk_id
                out[(status & PADDING) != 0] = self.pad_id
        return ids

    def decode(self, ids: np.ndarray) -> list[str] | str:
        """Rebuild sequences from token ids.

        Every k-mer token writes its bases at its window's positions;
        positions that only ``[UNK]`` or ``[MASK]`` windows cover, or that no
        window covers (``stride > k``), become ``N``. ``[CLS]`` and ``[SEP]``
        are skipped and ``[PAD]`` tokens end the sequence. With ``stride > 1``
        the bases after the last window are not in the ids and are not rebuilt.

        Parameters
        ----------
        ids : numpy.ndarray, shape ``(N, T)`` or ``(T,)``, integer

        Returns
        -------
        list of str (one str for 1-D ids)

        Raises
        ------
        InputError
            On ids outside the vocabulary or of the wrong shape.
        """
        ids = np.asarray(ids)
        if ids.ndim not in (1, 2) or not np.issubdtype(ids.dtype, np.integer):
            raise InputError(f"ids must be a 1-D or 2-D integer array, got {ids.dtype} {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise InputError(
                f"ids must lie in 0..{self.vocab_size - 1}, got {ids.min()}..{ids.max()}",
                fix=f"Decode with the tokenizer that encoded them ({self!r})",
            )
        rows = [self._decode_row(row) for row in np.atleast_2d(ids)]
        return rows[0] if ids.ndim == 1 else rows

    def _decode_row(self, row: np.ndarray) -> str:
        n_special = len(self.SPECIALS)
        row = row[(row != self.cls_id) & (row != self.sep_id)]
        pads = np.flatnonzero(row == self.pad_id)
        row = row[: pads[0]] if pads.size else row
        if row.size == 0:
            return ""
        codes = np.full((row.size - 1) * self.stride + self.k, 4, dtype=np.uint8)  # N
        known = np.flatnonzero(row >= n_special)
        rank = row[known] - n_special
        starts = known * self.stride
        for j in range(self.k):
            codes[starts + j] = (rank >> 2 * (self.k - 1 - j)) & 3
        return decode_one(codes)
