"""Sequences as uint8 codes: the compact form datasets hold and loaders ship.

Data contract
-------------
codes : numpy.ndarray, shape ``(N, L)``, dtype ``uint8``
    One byte per base with the codes of :mod:`bioseq.alphabet`
    (A, C, G, T, N = 0..4, other IUPAC letters 5..14). Rows shorter than ``L``
    are right-padded with ``PAD`` (15).
lengths : numpy.ndarray, shape ``(N,)``, dtype ``int64``
    The number of real bases in each row; ``codes[i, lengths[i]:] == PAD``.

One-hot encoding, k-mer tokens and model inputs are all computed from these
arrays (see :mod:`bioseq.encode.onehot` and :mod:`bioseq.encode.kmer`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from bioseq.alphabet import ASCII_TO_CODE_BYTES, CODE_TO_ASCII, INVALID, PAD, invalid_letter_fix
from bioseq.errors import InputError

__all__ = ["encode", "encode_one", "decode", "decode_one", "pad_codes", "check_codes", "as_codes", "fit_width"]


def encode_one(sequence: str | bytes, *, name: str | None = None) -> np.ndarray:
    """Encode one sequence to codes.

    Parameters
    ----------
    sequence : str or bytes
        Nucleotide letters (IUPAC, any case; ``U`` reads as ``T``).
    name : str, optional
        Record name, used in the error message.

    Returns
    -------
    numpy.ndarray, shape ``(L,)``, dtype uint8

    Raises
    ------
    InputError
        When the sequence holds a character that is not a nucleotide letter.

    Examples
    --------
    >>> encode_one("ACGTNr").tolist()
    [0, 1, 2, 3, 4, 5]
    """
    raw = _to_bytes(sequence, name)
    codes = np.frombuffer(raw.translate(ASCII_TO_CODE_BYTES), dtype=np.uint8)
    if codes.size and codes.max() == INVALID:
        _raise_invalid(raw, codes, name)
    return codes.copy()


def _to_bytes(sequence: str | bytes, name: str | None) -> bytes:
    if isinstance(sequence, str):
        try:
            return sequence.encode("ascii")
        except UnicodeEncodeError as exc:
            char = sequence[exc.start]
            raise InputError(
                f"character {char!r} at position {exc.start} (0-based) is not a nucleotide letter",
                record=name,
                fix=invalid_letter_fix(char),
            ) from None
    if isinstance(sequence, (bytes, bytearray, memoryview)):
        return bytes(sequence)
    raise InputError(f"a sequence must be a str or bytes, got {type(sequence).__name__}", record=name)


def _raise_invalid(raw: bytes, codes: np.ndarray, name: str | None, index: int | None = None) -> None:
    pos = int(np.flatnonzero(codes == INVALID)[0])
    char = chr(raw[pos])
    if name is None and index is not None:
        name = f"#{index}"
    raise InputError(
        f"character {char!r} at position {pos} (0-based) is not a nucleotide letter",
        record=name,
        fix=invalid_letter_fix(char),
    )


def encode(
    sequences: Iterable[str | bytes],
    *,
    length: int | None = None,
    names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Encode sequences of any lengths to a padded code array.

    Parameters
    ----------
    sequences : iterable of str or bytes
        Nucleotide sequences.
    length : int, optional
        Width ``L`` of the output. Default: the longest sequence. Sequences
        longer than ``length`` raise an error rather than being cut.
    names : sequence of str, optional
        Record names for error messages.

    Returns
    -------
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        Right-padded with ``PAD``.
    lengths : numpy.ndarray, shape ``(N,)``, dtype int64

    Raises
    ------
    InputError
        On a non-nucleotide character or a sequence longer than ``length``.

    Examples
    --------
    >>> codes, lengths = encode(["ACG", "T"])
    >>> codes.tolist(), lengths.tolist()
    ([[0, 1, 2], [3, 15, 15]], [3, 1])
    """
    if isinstance(sequences, (str, bytes)):
        raise InputError(
            "encode() takes a list of sequences, got a single string",
            fix="Wrap it in a list ([sequence]) or use encode_one()",
        )
    raws = [_to_bytes(s, None if names is None else names[i]) for i, s in enumerate(sequences)]
    lengths = np.fromiter((len(r) for r in raws), dtype=np.int64, count=len(raws))
    width = int(lengths.max(initial=0)) if length is None else int(length)
    if length is not None and lengths.size and lengths.max() > width:
        i = int(np.argmax(lengths > width))
        raise InputError(
            f"sequence {i} is {lengths[i]} bases long, longer than length={width}",
            record=None if names is None else names[i],
            fix="Raise length, or trim or window the sequences first",
        )
    if lengths.size and (lengths == width).all():
        flat = np.frombuffer(b"".join(raws).translate(ASCII_TO_CODE_BYTES), dtype=np.uint8)
        codes = flat.reshape(len(raws), width).copy()
    else:
        codes = np.full((len(raws), width), PAD, dtype=np.uint8)
        for i, raw in enumerate(raws):
            codes[i, : len(raw)] = np.frombuffer(raw.translate(ASCII_TO_CODE_BYTES), np.uint8)
    if codes.size and (codes == INVALID).any():
        i = int(np.flatnonzero((codes == INVALID).any(axis=1))[0])
        row = codes[i, : lengths[i]]
        _raise_invalid(raws[i], row, None if names is None else names[i], index=i)
    return codes, lengths


def decode_one(codes: np.ndarray) -> str:
    """Decode a 1-D code array back to an upper-case string (PAD is dropped).

    Examples
    --------
    >>> decode_one(encode_one("acgtn"))
    'ACGTN'
    """
    codes = np.asarray(codes)
    check_codes(codes)
    codes = codes[codes != PAD]
    return CODE_TO_ASCII[codes].tobytes().decode("ascii")


def decode(codes: np.ndarray, lengths: np.ndarray | None = None) -> list[str]:
    """Decode a ``(N, L)`` code array to strings.

    Parameters
    ----------
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
    lengths : numpy.ndarray, shape ``(N,)``, optional
        Real lengths; default: everything up to the padding.

    Returns
    -------
    list of str
        Upper-case sequences; ``decode(*encode(s)) == [x.upper() for x in s]``.
    """
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise InputError(f"codes must be 2-D (N, L), got shape {codes.shape}")
    check_codes(codes)
    text = CODE_TO_ASCII[codes].tobytes().decode("ascii")
    width = codes.shape[1]
    rows = [text[i * width : (i + 1) * width] for i in range(codes.shape[0])]
    if lengths is None:
        return [r.rstrip("-") for r in rows]
    lengths = np.asarray(lengths)
    if lengths.shape != (codes.shape[0],) or (lengths < 0).any() or (lengths > width).any():
        raise InputError(
            f"lengths must be {codes.shape[0]} integers from 0 to {width}, got {lengths.tolist()[:5]}"
            + ("..." if lengths.size > 5 else ""),
        )
    return [r[:n] for r, n in zip(rows, lengths.tolist())]


def pad_codes(rows: Sequence[np.ndarray], *, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stack 1-D code arrays of different lengths into a padded ``(N, L)`` array.

    Returns
    -------
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
    lengths : numpy.ndarray, shape ``(N,)``, dtype int64
    """
    for row in rows:
        check_codes(row)
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    width = int(lengths.max(initial=0)) if length is None else int(length)
    if lengths.size and lengths.max() > width:
        raise InputError(f"a sequence of {lengths.max()} bases does not fit length={width}")
    out = np.full((len(rows), width), PAD, dtype=np.uint8)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out, lengths


def check_codes(codes: np.ndarray) -> None:
    """Raise :class:`InputError` unless ``codes`` is a uint8 array of valid codes."""
    if not isinstance(codes, np.ndarray) or codes.dtype != np.uint8:
        raise InputError(
            f"codes must be a numpy uint8 array, got {type(codes).__name__}"
            + (f" of {codes.dtype}" if isinstance(codes, np.ndarray) else ""),
            fix="Build them with bioseq.encode.encode()",
        )
    if codes.size and codes.max() > PAD:
        raise InputError(
            f"codes hold the value {int(codes.max())}, but valid codes are 0..{PAD}",
            fix="Build them with bioseq.encode.encode()",
        )


def as_codes(sequences: object) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Accept the sequence inputs every encoder takes and return 2-D codes.

    Parameters
    ----------
    sequences : str, bytes, list of str, or numpy.ndarray of uint8 codes
        One sequence, a list of sequences, or codes of shape ``(L,)`` or
        ``(N, L)``.

    Returns
    -------
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        A view of the input where it already was codes.
    lengths : numpy.ndarray of shape ``(N,)`` int64, or None
        Real lengths when strings of different lengths were encoded here;
        ``None`` for code input (padding is then found from ``PAD``).
    single : bool
        True when the input was one sequence (a string or a 1-D array), so the
        caller can drop the leading axis again.

    Raises
    ------
    InputError
        For anything else: other dtypes, 3-D arrays, lists of non-strings,
        invalid letters or codes.
    """
    if isinstance(sequences, (str, bytes)):
        return encode_one(sequences)[None, :], None, True
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        check_codes(sequences)
        if sequences.ndim not in (1, 2):
            raise InputError(f"codes must be 1-D (L,) or 2-D (N, L), got shape {sequences.shape}")
        single = sequences.ndim == 1
        return (sequences[None, :] if single else sequences), None, single
    try:
        items = list(sequences)
    except TypeError:
        raise InputError(
            f"expected a string, a list of strings or a uint8 code array, got {type(sequences).__name__}",
            fix="Encode sequences with bioseq.encode.encode() first",
        ) from None
    bad = next((type(s).__name__ for s in items if not isinstance(s, (str, bytes))), None)
    if bad is not None:
        raise InputError(
            f"a list of sequences must hold only strings, found a {bad}",
            fix="Pass codes as one (N, L) uint8 array instead of a list of arrays",
        )
    codes, lengths = encode(items)
    return codes, lengths, False


def fit_width(codes: np.ndarray, length: int | None, names: list[str]) -> np.ndarray:
    """Right-pad (or cut the padding of) ``codes`` to a fixed-width model's ``length``.

    Parameters
    ----------
    codes : numpy.ndarray, shape ``(n, W)``, dtype uint8
    length : int or None
        The model's fixed input width; None returns ``codes`` as they are.
    names : list of str
        Record names, for the error.

    Returns
    -------
    numpy.ndarray, shape ``(n, length)``, dtype uint8

    Raises
    ------
    InputError
        When a sequence is longer than ``length`` (naming the record).
    """
    if length is None or codes.shape[1] == length:
        return codes
    real = codes != PAD
    lengths = np.where(real.any(axis=1), codes.shape[1] - np.argmax(real[:, ::-1], axis=1), 0)
    if lengths.size and lengths.max() > length:
        i = int(np.argmax(lengths > length))
        raise InputError(
            f"the sequence is {int(lengths[i])} bases long, but the model reads exactly {length}",
            record=names[i],
            fix=f"Trim or window the sequences to {length} bases",
        )
    fitted = np.full((codes.shape[0], length), PAD, dtype=np.uint8)
    keep = min(length, codes.shape[1])
    fitted[:, :keep] = codes[:, :keep]
    return fitted
