"""GC content of code arrays.

Input: codes ``(N, L)`` or ``(L,)`` uint8 as in :mod:`bioseq.codes`.
GC content is the fraction of G or C among the unambiguous bases (A, C, G, T);
``S`` counts as G/C, ``W`` as A/T, and every other ambiguous code and padding
is left out of both numerator and denominator.
"""

from __future__ import annotations

import numpy as np

from bioseq.alphabet import PAD, A, C, G, S, T, W
from bioseq.codes import check_codes

__all__ = ["gc_content", "n_fraction"]

_GC = np.zeros(16, dtype=np.uint8)
_GC[[C, G, S]] = 1
_KNOWN = np.zeros(16, dtype=np.uint8)
_KNOWN[[A, C, G, T, S, W]] = 1


def gc_content(codes: np.ndarray) -> np.ndarray | float:
    """Fraction of G+C among bases whose strength is known.

    Parameters
    ----------
    codes : numpy.ndarray, shape ``(N, L)`` or ``(L,)``, dtype uint8

    Returns
    -------
    numpy.ndarray of shape ``(N,)``, float64, or a float for 1-D input
        NaN where a sequence has no A/C/G/T/S/W base at all.

    Examples
    --------
    >>> from bioseq.codes import encode_one
    >>> gc_content(encode_one("GGCANN"))
    0.75
    """
    check_codes(codes)
    gc = _GC[codes].sum(axis=-1, dtype=np.int64)
    known = _KNOWN[codes].sum(axis=-1, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = gc / known
    return float(frac) if np.ndim(frac) == 0 else frac


def n_fraction(codes: np.ndarray) -> np.ndarray | float:
    """Fraction of ambiguous bases (any code from N to V) among non-padding positions.

    Returns
    -------
    numpy.ndarray of shape ``(N,)``, float64, or a float for 1-D input
    """
    check_codes(codes)
    real = (codes != PAD).sum(axis=-1, dtype=np.int64)
    amb = ((codes >= 4) & (codes != PAD)).sum(axis=-1, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = amb / real
    return float(frac) if np.ndim(frac) == 0 else frac
