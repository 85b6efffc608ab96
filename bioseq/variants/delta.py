"""Splice delta scores of a variant from per-position predictions, in SpliceAI's layout.

A per-position splice model gives, for every base of a window, the
probability that it is an acceptor or a donor. A variant's effect is the
change of those probabilities around it: for each of acceptor and donor, the
largest gain (``DS_AG``, ``DS_DG``) and the largest loss (``DS_AL``, ``DS_DL``)
within ``distance`` bases, and where they happen (``DP_*``, in bases from the
variant's first base, negative upstream on the genome's + strand). These are
the scores and the ``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL``
layout SpliceAI reports, so filters written for SpliceAI output read them.

Coordinates
-----------
All arrays are in the genome's + orientation (predictions made on the reverse
complement for a minus-strand gene are flipped back by the caller). With
``d = distance``, ``R = len(REF)`` and ``A = len(ALT)``, the reference window
covers ``[pos - d, pos + R + d)`` (0-based, half-open: ``2d + R`` positions,
the allele at ``[d, d + R)``) and the alternative window ``2d + A`` positions,
the allele at ``[d, d + A)``. Positions outside the allele pair one to one.
Inside it:

- the first ``min(R, A)`` positions pair one to one;
- an insertion (``A > R``) folds the inserted positions ``[d + R - 1, d + A)``
  of the alternative into the allele's last reference position, keeping the
  largest probability of each class (a site created anywhere in the insertion
  counts once, at the allele);
- a deletion (``R > A``) gives the deleted reference positions
  ``[d + A, d + R)`` a probability of 0 in the alternative (a site there is lost).

Positions of the scores are offsets from ``pos`` on the reference window:
``DP = index - d``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from bioseq.checks import is_integer
from bioseq.errors import InputError

__all__ = ["DeltaScores", "delta_scores", "align_alternative", "INFO_FORMAT", "info_header"]

INFO_FORMAT = "ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL"
"""The fields of one entry of the INFO value, in SpliceAI's order."""


def info_header(key: str = "BIOSEQ", *, model: str = "") -> str:
    """The ``##INFO`` header line of the scores (one entry per ALT allele and gene, comma-separated).

    Examples
    --------
    >>> info_header()[:39]
    '##INFO=<ID=BIOSEQ,Number=.,Type=String,'
    """
    source = f" from {model}" if model else ""
    return (
        f'##INFO=<ID={key},Number=.,Type=String,Description="Splice delta scores{source} (bioseq). '
        f'Format: {INFO_FORMAT}">'
    )


@dataclasses.dataclass(frozen=True)
class DeltaScores:
    """The four delta scores (0..1) of one variant and their positions (bases from the variant).

    Attributes
    ----------
    acceptor_gain, acceptor_loss, donor_gain, donor_loss : float
    acceptor_gain_at, acceptor_loss_at, donor_gain_at, donor_loss_at : int
    """

    acceptor_gain: float
    acceptor_loss: float
    donor_gain: float
    donor_loss: float
    acceptor_gain_at: int
    acceptor_loss_at: int
    donor_gain_at: int
    donor_loss_at: int

    @property
    def maximum(self) -> float:
        """The largest of the four scores (SpliceAI's usual single number per variant)."""
        return max(self.acceptor_gain, self.acceptor_loss, self.donor_gain, self.donor_loss)

    def info(self, allele: str, symbol: str = "") -> str:
        """One entry of the INFO value: ``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL``.

        Scores have two decimals, as SpliceAI writes them.

        Examples
        --------
        >>> DeltaScores(0.5, 0.0, 0.01, 0.987, 3, -1, 0, -2).info("A", "G1")
        'A|G1|0.50|0.00|0.01|0.99|3|-1|0|-2'
        """
        scores = (self.acceptor_gain, self.acceptor_loss, self.donor_gain, self.donor_loss)
        places = (self.acceptor_gain_at, self.acceptor_loss_at, self.donor_gain_at, self.donor_loss_at)
        return "|".join([allele, symbol, *(f"{score:.2f}" for score in scores), *map(str, places)])


def align_alternative(alt: np.ndarray, *, distance: int, ref_length: int, alt_length: int) -> np.ndarray:
    """The alternative window's probabilities on the reference window's positions (see the module docstring).

    Parameters
    ----------
    alt : numpy.ndarray, shape ``(2 * distance + alt_length, C)``
    distance : int
    ref_length, alt_length : int
        ``len(REF)`` and ``len(ALT)``, both >= 1.

    Returns
    -------
    numpy.ndarray, shape ``(2 * distance + ref_length, C)``, the dtype of ``alt``
    """
    d, r, a = distance, ref_length, alt_length
    if a == r:
        return alt
    if a > r:  # fold the inserted positions into the allele's last reference position
        folded = alt[d + r - 1 : d + a].max(axis=0, keepdims=True)
        return np.concatenate([alt[: d + r - 1], folded, alt[d + a :]])
    gap = np.zeros((r - a, alt.shape[1]), dtype=alt.dtype)  # deleted positions: no site
    return np.concatenate([alt[: d + a], gap, alt[d + a :]])


def delta_scores(
    ref: np.ndarray, alt: np.ndarray, *, distance: int, ref_length: int, alt_length: int, acceptor: int, donor: int
) -> DeltaScores:
    """Delta scores of one variant from per-position class probabilities of its two windows.

    Parameters
    ----------
    ref : numpy.ndarray, shape ``(2 * distance + ref_length, C)``, float
        Probabilities on the reference window, + orientation.
    alt : numpy.ndarray, shape ``(2 * distance + alt_length, C)``, float
        Probabilities on the alternative window.
    distance : int
        Bases scored on each side of the allele (SpliceAI's default is 50), >= 0.
    ref_length, alt_length : int
        ``len(REF)`` and ``len(ALT)``, >= 1.
    acceptor, donor : int
        The columns of the acceptor and donor classes.

    Returns
    -------
    DeltaScores
        Gains are ``max(alt - ref)`` and losses ``max(ref - alt)`` over the
        window, clipped at 0; a tie goes to the position nearest the window's
        start. Positions are offsets from the variant's first base.

    Raises
    ------
    InputError
        On windows whose shapes do not fit ``distance`` and the allele lengths,
        or class columns out of range.

    Examples
    --------
    A SNV that moves an acceptor one base downstream:

    >>> ref = np.zeros((5, 3)); ref[2, 1] = 0.9
    >>> alt = np.zeros((5, 3)); alt[3, 1] = 0.8
    >>> s = delta_scores(ref, alt, distance=2, ref_length=1, alt_length=1, acceptor=1, donor=2)
    >>> (round(s.acceptor_gain, 2), s.acceptor_gain_at, round(s.acceptor_loss, 2), s.acceptor_loss_at)
    (0.8, 1, 0.9, 0)
    """
    for name, value, low in (("distance", distance, 0), ("ref_length", ref_length, 1), ("alt_length", alt_length, 1)):
        if not is_integer(value) or value < low:
            raise InputError(f"{name} must be an integer >= {low}, got {value!r}")
    ref, alt = np.asarray(ref), np.asarray(alt)
    want = {"ref": (2 * distance + ref_length, ref), "alt": (2 * distance + alt_length, alt)}
    for name, (rows, array) in want.items():
        if array.ndim != 2 or array.shape[0] != rows:
            raise InputError(
                f"the {name} window has shape {array.shape}, but distance {distance} and alleles of "
                f"{ref_length} and {alt_length} bases need ({rows}, C)",
                fix="Predict 2 * distance + len(allele) positions centred on the allele",
            )
    if ref.shape[1] != alt.shape[1] or not all(is_integer(c) and 0 <= c < ref.shape[1] for c in (acceptor, donor)):
        raise InputError(
            f"the windows have {ref.shape[1]} and {alt.shape[1]} classes; acceptor={acceptor!r} and "
            f"donor={donor!r} must be columns of both"
        )
    change = (
        align_alternative(alt, distance=distance, ref_length=ref_length, alt_length=alt_length).astype(np.float64) - ref
    )  # (2d + R, C)
    values, places = [], []
    for column in (acceptor, donor):
        gain, loss = change[:, column], -change[:, column]
        for series in (gain, loss):
            best = int(np.argmax(series))
            values.append(float(series[best]) if series[best] > 0 else 0.0)
            places.append(best - distance)
    return DeltaScores(*values[:4], *places[:4])
